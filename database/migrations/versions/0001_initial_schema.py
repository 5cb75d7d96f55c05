"""initial schema: calls, legs, bridge memberships, API tokens

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types as they were at this revision: a migration must
# not change meaning when the models change later.
_UTC = sa.DateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _trunk() -> sa.Enum:
    return _enum("trunk", "110", "12345")


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("trunk", _trunk(), nullable=True),
        sa.Column("caller_number", sa.String(), nullable=True),
        sa.Column("caller_name", sa.String(), nullable=True),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("answered_at", _UTC, nullable=True),
        sa.Column("ended_at", _UTC, nullable=True),
        sa.Column("merged_into", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_into"], ["calls.id"], name=op.f("fk_calls_merged_into_calls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    op.create_index(op.f("ix_calls_merged_into"), "calls", ["merged_into"])
    op.create_index(op.f("ix_calls_started_at"), "calls", ["started_at"])

    op.create_table(
        "legs",
        sa.Column("uniqueid", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("endpoint", sa.String(), nullable=True),
        sa.Column(
            "role",
            _enum("leg_role", "citizen", "operator_110", "operator_12345", "unit", "unknown"),
            nullable=False,
        ),
        sa.Column("direction", _enum("direction", "inbound", "outbound"), nullable=False),
        sa.Column("trunk", _trunk(), nullable=True),
        sa.Column("caller_number", sa.String(), nullable=True),
        sa.Column("caller_name", sa.String(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("ringing_at", _UTC, nullable=True),
        sa.Column("answered_at", _UTC, nullable=True),
        sa.Column("ended_at", _UTC, nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("hangup_cause_text", sa.String(), nullable=True),
        sa.Column("reconciled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_legs_call_id_calls")),
        sa.PrimaryKeyConstraint("uniqueid", name=op.f("pk_legs")),
    )
    op.create_index(op.f("ix_legs_call_id"), "legs", ["call_id"])
    op.create_index(
        "ix_legs_open",
        "legs",
        ["created_at"],
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )

    op.create_table(
        "bridge_memberships",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bridge_id", sa.String(), nullable=False),
        sa.Column("uniqueid", sa.String(), nullable=False),
        sa.Column("joined_at", _UTC, nullable=False),
        sa.Column("left_at", _UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["uniqueid"], ["legs.uniqueid"], name=op.f("fk_bridge_memberships_uniqueid_legs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bridge_memberships")),
        sa.UniqueConstraint(
            "bridge_id",
            "uniqueid",
            "joined_at",
            name=op.f("uq_bridge_memberships_bridge_id_uniqueid_joined_at"),
        ),
    )
    op.create_index(op.f("ix_bridge_memberships_uniqueid"), "bridge_memberships", ["uniqueid"])

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column(
            "role",
            _enum("token_role", "admin", "operator_110", "operator_12345", "supervisor", "unit"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("revoked_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_bridge_memberships_uniqueid"), table_name="bridge_memberships")
    op.drop_table("bridge_memberships")
    op.drop_index("ix_legs_open", table_name="legs")
    op.drop_index(op.f("ix_legs_call_id"), table_name="legs")
    op.drop_table("legs")
    op.drop_index(op.f("ix_calls_started_at"), table_name="calls")
    op.drop_index(op.f("ix_calls_merged_into"), table_name="calls")
    op.drop_table("calls")
