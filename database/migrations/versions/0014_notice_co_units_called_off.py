"""notices.co_unit: a notice to a co-unit (协办单位) of the dispatch, whose key
1 acknowledges rather than signs; notice_tries.result: called_off, a try hung
up by the server because the case was signed (or returned, closed) another
way while the unit's phone rang

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as 0012 created them (a migration never follows the live enum).
_BEFORE: tuple[str, ...] = importlib.import_module(
    "database.migrations.versions.0012_notices"
)._RESULTS
_AFTER = (*_BEFORE, "called_off")


def _result(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="notice_try_result", native_enum=False, create_constraint=True, length=16
    )


def upgrade() -> None:
    # Every notice made before was to the lead unit.
    op.add_column(
        "notices", sa.Column("co_unit", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    with op.batch_alter_table("notice_tries") as batch:
        batch.alter_column(
            "result", existing_type=_result(_BEFORE), type_=_result(_AFTER), existing_nullable=True
        )


def downgrade() -> None:
    # Before 0014 such a try's end was never known to the server: lost.
    op.execute("UPDATE notice_tries SET result = 'lost' WHERE result = 'called_off'")
    with op.batch_alter_table("notice_tries") as batch:
        batch.alter_column(
            "result", existing_type=_result(_AFTER), type_=_result(_BEFORE), existing_nullable=True
        )
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("co_unit")
