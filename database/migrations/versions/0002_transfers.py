"""transfers and their timeline steps

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types as they were at this revision: a migration must
# not change meaning when the models change later.
_UTC = sa.DateTime(timezone=True)
_MODES = ("blind", "attended", "conference")
_STATES = ("requested", "ringing", "answered", "completed", "cancelled", "failed", "abandoned")
_BY = ("operator_key", "operator_hangup", "api", "phone")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("caller_uniqueid", sa.String(), nullable=False),
        sa.Column("operator_uniqueid", sa.String(), nullable=False),
        sa.Column("target_uniqueid", sa.String(), nullable=True),
        sa.Column("requested_mode", _enum("requested_mode", *_MODES), nullable=False),
        sa.Column("mode", _enum("transfer_mode", *_MODES), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("state", _enum("transfer_state", *_STATES), nullable=False),
        sa.Column("requested_by", _enum("requested_by", *_BY), nullable=False),
        sa.Column("ring_timeout_s", sa.Integer(), nullable=False),
        sa.Column("requested_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("ended_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    op.create_index(op.f("ix_transfers_call_id"), "transfers", ["call_id"])
    op.create_index(op.f("ix_transfers_requested_at"), "transfers", ["requested_at"])
    op.create_index(
        "ix_transfers_running",
        "transfers",
        ["requested_at"],
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )

    op.create_table(
        "transfer_steps",
        sa.Column("transfer_id", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("from_state", _enum("from_state", *_STATES), nullable=True),
        sa.Column("to_state", _enum("to_state", *_STATES), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("mode", _enum("step_mode", *_MODES), nullable=False),
        sa.Column("by", _enum("step_by", *_BY), nullable=True),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["transfers.id"], name=op.f("fk_transfer_steps_transfer_id_transfers")
        ),
        sa.PrimaryKeyConstraint("transfer_id", "seq", name=op.f("pk_transfer_steps")),
    )


def downgrade() -> None:
    op.drop_table("transfer_steps")
    op.drop_index("ix_transfers_running", table_name="transfers")
    op.drop_index(op.f("ix_transfers_requested_at"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_call_id"), table_name="transfers")
    op.drop_table("transfers")
