"""callbacks.state: withdrawn, a booking taken back because the caller was
told it was not booked (the server answered too late) and waited on in line

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as 0010 created them (a migration never follows the live enum).
_BEFORE: tuple[str, ...] = importlib.import_module(
    "database.migrations.versions.0010_callbacks"
)._STATES
_AFTER = (*_BEFORE, "withdrawn")


def _state(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="callback_state", native_enum=False, create_constraint=True, length=16
    )


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.alter_column(
            "state", existing_type=_state(_BEFORE), type_=_state(_AFTER), existing_nullable=False
        )


def downgrade() -> None:
    # A withdrawn callback was closed without a call, as a failed one is.
    op.execute("UPDATE callbacks SET state = 'failed' WHERE state = 'withdrawn'")
    with op.batch_alter_table("callbacks") as batch:
        batch.alter_column(
            "state", existing_type=_state(_AFTER), type_=_state(_BEFORE), existing_nullable=False
        )
