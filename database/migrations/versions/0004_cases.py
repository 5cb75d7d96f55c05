"""cases, their timelines and calls, case numbers, the unit roster; api_tokens.unit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the value lists as they were at this revision: a migration
# must not change meaning when the models change later.
_STATES = (
    "received",
    "classified",
    "police_handling",
    "dispatched",
    "signed",
    "on_scene",
    "fed_back",
    "replied",
    "reviewed",
    "closed",
    "archived",
    "return_requested",
    "reopened",
    "merged",
    "cancelled",
)
_DEMANDS = (
    "enquiry",
    "help",
    "complaint",
    "report",
    "suggestion",
    "police_report",
    "police_help",
    "police_complaint",
)
_URGENCIES = ("normal", "urgent")
_ROUTES = ("police", "hotline", "answer", "excluded", "ambiguous")
_UNIT_TYPES = ("township", "department", "other")
_COMMANDS = (
    "classify",
    "refer_to_110",
    "accept_police",
    "refer_to_12345",
    "police_feedback",
    "send_back",
    "police_close",
    "dispatch",
    "sign",
    "arrive",
    "feed_back",
    "reply",
    "approve_reply",
    "reject_reply",
    "close",
    "answer_directly",
    "request_return",
    "redispatch",
    "reject_return",
    "request_extension",
    "approve_extension",
    "refuse_extension",
    "follow_up",
    "reopen",
    "archive",
    "merge",
    "cancel",
    "remind",
    "notice",
    "bulletin",
)
_ROLES = ("operator_110", "operator_12345", "unit", "supervisor", "admin", "system")


def _enum(name: str, values: tuple[str, ...], length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def upgrade() -> None:
    op.create_table(
        "case_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_case_counters")),
    )
    op.create_table(
        "cases",
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            _enum("case_state", _STATES, 24),
            nullable=False,
        ),
        sa.Column(
            "desk",
            _enum("desk", ("110", "12345"), 16),
            nullable=False,
        ),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("police_ticket", sa.String(), nullable=True),
        sa.Column("caller_name", sa.String(), nullable=True),
        sa.Column("caller_number", sa.String(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("address", sa.String(), nullable=True),
        sa.Column("township", sa.String(), nullable=True),
        sa.Column(
            "demand_type",
            _enum("demand_type", _DEMANDS, 16),
            nullable=True,
        ),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column(
            "urgency",
            _enum("urgency", _URGENCIES, 16),
            nullable=False,
        ),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column(
            "suggested_route",
            _enum("suggested_route", _ROUTES, 16),
            nullable=True,
        ),
        sa.Column("suggestion_reason", sa.String(), nullable=True),
        sa.Column(
            "route",
            _enum("route", _ROUTES, 16),
            nullable=True,
        ),
        sa.Column("lead_unit", sa.String(), nullable=True),
        sa.Column("co_units", sa.JSON(), nullable=False),
        sa.Column("extension", sa.String(), nullable=True),
        sa.Column("extension_days", sa.Integer(), nullable=True),
        sa.Column("handover", sa.JSON(), nullable=True),
        sa.Column("merged_into", sa.String(), nullable=True),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_sign", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_arrive", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_feedback", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_close", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fed_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ladder", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_caller_number"), ["caller_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_lead_unit"), ["lead_unit"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_merged_into"), ["merged_into"], unique=False)
        batch_op.create_index(
            "ix_cases_open",
            ["due_close"],
            unique=False,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_cases_state"), ["state"], unique=False)

    op.create_table(
        "units",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column(
            "type",
            _enum("unit_type", _UNIT_TYPES, 16),
            nullable=False,
        ),
        sa.Column("township", sa.String(), nullable=True),
        sa.Column("leader", sa.String(), nullable=False),
        sa.Column("leader_phone", sa.String(), nullable=False),
        sa.Column("office", sa.String(), nullable=False),
        sa.Column("office_phone", sa.String(), nullable=False),
        sa.Column("staff", sa.String(), nullable=False),
        sa.Column("staff_phone", sa.String(), nullable=False),
        sa.Column("duty_phone", sa.String(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_code"), ["code"], unique=False)

    op.create_table(
        "case_calls",
        sa.Column("case_number", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_number"], ["cases.number"], name=op.f("fk_case_calls_case_number_cases")
        ),
        sa.PrimaryKeyConstraint("case_number", "call_id", name=op.f("pk_case_calls")),
    )
    with op.batch_alter_table("case_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_calls_call_id"), ["call_id"], unique=False)

    op.create_table(
        "case_events",
        sa.Column("case_number", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "command",
            _enum("command", _COMMANDS, 24),
            nullable=True,
        ),
        sa.Column(
            "from_state",
            _enum("from_state", _STATES, 24),
            nullable=True,
        ),
        sa.Column(
            "to_state",
            _enum("to_state", _STATES, 24),
            nullable=False,
        ),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column(
            "role",
            _enum("actor_role", _ROLES, 16),
            nullable=False,
        ),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_number"], ["cases.number"], name=op.f("fk_case_events_case_number_cases")
        ),
        sa.PrimaryKeyConstraint("case_number", "seq", name=op.f("pk_case_events")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_at"), ["at"], unique=False)

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("unit")

    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_at"))

    op.drop_table("case_events")
    with op.batch_alter_table("case_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_calls_call_id"))

    op.drop_table("case_calls")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_code"))

    op.drop_table("units")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_state"))
        batch_op.drop_index(
            "ix_cases_open",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_cases_merged_into"))
        batch_op.drop_index(batch_op.f("ix_cases_lead_unit"))
        batch_op.drop_index(batch_op.f("ix_cases_created_at"))
        batch_op.drop_index(batch_op.f("ix_cases_closed_at"))
        batch_op.drop_index(batch_op.f("ix_cases_category"))
        batch_op.drop_index(batch_op.f("ix_cases_caller_number"))

    op.drop_table("cases")
    op.drop_table("case_counters")
