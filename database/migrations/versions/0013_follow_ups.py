"""follow-up calls (回访, [notify]): cases.no_follow_up (the caller asked not
to be called back) and follow_ups (one per closing of a case)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types as they were at this revision.
_UTC = sa.DateTime(timezone=True)
_STATES = ("scheduled", "calling", "rated", "unreached", "cancelled")
_RESULTS = ("rated", "no_key", "hung_up", "busy", "no_answer", "failed", "lost")


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch copy of `cases`: on SQLite a batch
    # recreates the table, which the case events' foreign keys refuse once a
    # county has cases ("FOREIGN KEY constraint failed", found upgrading the
    # demo's database).
    op.add_column(
        "cases",
        sa.Column("no_follow_up", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_number", sa.String(), nullable=False),
        sa.Column("closed_seq", sa.Integer(), nullable=False),
        sa.Column("caller_number", sa.String(length=32), nullable=False),
        sa.Column("due_at", _UTC, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("state", _enum("follow_up_state", _STATES), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("last_result", _enum("follow_up_result", _RESULTS), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("recording", sa.String(), nullable=True),
        sa.Column("updated_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint(
            "case_number", "closed_seq", name=op.f("uq_follow_ups_case_number_closed_seq")
        ),
    )
    op.create_index(op.f("ix_follow_ups_case_number"), "follow_ups", ["case_number"])
    op.create_index("ix_follow_ups_state", "follow_ups", ["state"])


def downgrade() -> None:
    op.drop_index("ix_follow_ups_state", table_name="follow_ups")
    op.drop_index(op.f("ix_follow_ups_case_number"), table_name="follow_ups")
    op.drop_table("follow_ups")
    op.drop_column("cases", "no_follow_up")  # SQLite ≥ 3.35 drops a column in place
