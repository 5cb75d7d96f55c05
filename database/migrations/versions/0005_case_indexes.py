"""indexes for the supervision views: case_events (command, at), cases.dispatched_at

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_case_events_command_at", "case_events", ["command", "at"])
    op.create_index(op.f("ix_cases_dispatched_at"), "cases", ["dispatched_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_dispatched_at"), table_name="cases")
    op.drop_index("ix_case_events_command_at", table_name="case_events")
