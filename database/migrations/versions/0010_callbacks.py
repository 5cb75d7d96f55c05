"""callbacks: callers who hung up keeping their place in a desk's queue ([ivr])

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types as they were at this revision.
_UTC = sa.DateTime(timezone=True)
_STATES = ("waiting", "dialling", "retry", "connected", "failed")


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("desk", sa.String(length=8), nullable=False),
        sa.Column("caller_number", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("asked_at", _UTC, nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                *_STATES,
                name="callback_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", _UTC, nullable=True),
        sa.Column("operator", sa.String(), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("updated_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_call_id"), "callbacks", ["call_id"])
    op.create_index("ix_callbacks_state", "callbacks", ["state"])


def downgrade() -> None:
    op.drop_index("ix_callbacks_state", table_name="callbacks")
    op.drop_index(op.f("ix_callbacks_call_id"), table_name="callbacks")
    op.drop_table("callbacks")
