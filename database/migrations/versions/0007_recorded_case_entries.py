"""case_events.command: absorb and link_call, the entries recorded on a case
for a case merged into it and a call an operator attached

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as 0004 created them (a migration never follows the live enum).
_BEFORE: tuple[str, ...] = importlib.import_module(
    "database.migrations.versions.0004_cases"
)._COMMANDS
_AFTER = (*_BEFORE, "absorb", "link_call")


def _command(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="command", native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.alter_column(
            "command",
            existing_type=_command(_BEFORE),
            type_=_command(_AFTER),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.alter_column(
            "command",
            existing_type=_command(_AFTER),
            type_=_command(_BEFORE),
            existing_nullable=True,
        )
