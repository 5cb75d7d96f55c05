"""notices and notice_tries: linkage notices to member units and every call
made for them ([notify])

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types as they were at this revision.
_UTC = sa.DateTime(timezone=True)
_STATES = ("queued", "calling", "accepted", "declined", "unreached", "cancelled")
_RESULTS = ("accepted", "declined", "no_key", "hung_up", "busy", "no_answer", "failed", "lost")


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_number", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("dispatch_seq", sa.Integer(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("rungs", sa.Integer(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("state", _enum("notice_state", _STATES), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_try_at", _UTC, nullable=True),
        sa.Column("reached", sa.String(), nullable=True),
        sa.Column("updated_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint(
            "case_number",
            "dispatch_seq",
            "unit",
            name=op.f("uq_notices_case_number_dispatch_seq_unit"),
        ),
    )
    op.create_index(op.f("ix_notices_case_number"), "notices", ["case_number"])
    op.create_index("ix_notices_state", "notices", ["state"])
    op.create_table(
        "notice_tries",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("contact", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("phone", sa.String(), nullable=False),
        sa.Column("dial", sa.String(), nullable=False),
        sa.Column("trunk", sa.String(), nullable=False),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("ended_at", _UTC, nullable=True),
        sa.Column("result", _enum("notice_try_result", _RESULTS), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("recording", sa.String(), nullable=True),
        sa.Column("call_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("notice_id", "number", name=op.f("pk_notice_tries")),
    )
    op.create_index(op.f("ix_notice_tries_call_id"), "notice_tries", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notice_tries_call_id"), table_name="notice_tries")
    op.drop_table("notice_tries")
    op.drop_index("ix_notices_state", table_name="notices")
    op.drop_index(op.f("ix_notices_case_number"), table_name="notices")
    op.drop_table("notices")
