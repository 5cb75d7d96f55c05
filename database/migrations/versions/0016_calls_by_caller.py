"""calls: an index on (caller_number, started_at), for the screen pop's
"earlier calls of this caller" (GET /api/v1/calls?caller_number=)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_calls_caller_number_started_at", "calls", ["caller_number", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_caller_number_started_at", table_name="calls")
