"""queue_waits, operator_periods, menu_steps: the desks' queues and the
voice menus ([ivr])

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types as they were at this revision.
_UTC = sa.DateTime(timezone=True)
_OUTCOMES = ("waiting", "answered", "abandoned", "left")
_STATES = ("logged_out", "idle", "ringing", "talking", "paused", "wrap_up")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "queue_waits",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("uniqueid", sa.String(), nullable=False),
        sa.Column("desk", sa.String(length=8), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("outcome", _enum("wait_outcome", *_OUTCOMES), nullable=False),
        sa.Column("joined_at", _UTC, nullable=False),
        sa.Column("left_at", _UTC, nullable=True),
        sa.Column("answered_at", _UTC, nullable=True),
        sa.Column("operator", sa.String(), nullable=True),
        sa.Column("talk_s", sa.Integer(), nullable=True),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_waits")),
    )
    op.create_index(op.f("ix_queue_waits_call_id"), "queue_waits", ["call_id"])
    op.create_index("ix_queue_waits_desk_joined", "queue_waits", ["desk", "joined_at"])
    op.create_table(
        "operator_periods",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(), nullable=False),
        sa.Column("desk", sa.String(length=8), nullable=False),
        sa.Column("state", _enum("operator_state", *_STATES), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("ended_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_periods")),
    )
    op.create_index(
        "ix_operator_periods_phone_started", "operator_periods", ["phone", "started_at"]
    )
    op.create_table(
        "menu_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("uniqueid", sa.String(), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("menu", sa.String(length=32), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("mark", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_menu_steps")),
    )
    op.create_index(op.f("ix_menu_steps_call_id"), "menu_steps", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_menu_steps_call_id"), table_name="menu_steps")
    op.drop_table("menu_steps")
    op.drop_index("ix_operator_periods_phone_started", table_name="operator_periods")
    op.drop_table("operator_periods")
    op.drop_index("ix_queue_waits_desk_joined", table_name="queue_waits")
    op.drop_index(op.f("ix_queue_waits_call_id"), table_name="queue_waits")
    op.drop_table("queue_waits")
