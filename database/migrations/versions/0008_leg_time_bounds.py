"""legs.answered_at_bound, legs.ended_at_bound: the leg's answer or end time is a
bound, not an observation (nobody saw it: the AMI link was down, CEL has no row)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("legs") as batch:
        for name in ("answered_at_bound", "ended_at_bound"):
            batch.add_column(
                sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)
            )


def downgrade() -> None:
    with op.batch_alter_table("legs") as batch:
        batch.drop_column("ended_at_bound")
        batch.drop_column("answered_at_bound")
