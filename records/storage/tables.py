"""Tables of cases, their append-only timelines, the calls they own, the
per-year case numbers, and the member-unit roster with its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from common.vocabulary import Desk, Role
from county.case_words import DemandType, Route, UnitType, Urgency
from database.base import Base, BigId, str_enum
from database.types import UtcDateTime
from records.core.lifecycle import CaseState, Command


class CaseRecord(Base):
    """One case as it stands now; how it got here is in `case_events`."""

    __tablename__ = "cases"

    number: Mapped[str] = mapped_column(String, primary_key=True)  # "2026-000123"
    # Optimistic lock: a move is written only if nobody moved the case meanwhile.
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[CaseState] = mapped_column(str_enum(CaseState, "case_state", 24), index=True)
    desk: Mapped[Desk] = mapped_column(str_enum(Desk, "desk"))
    source: Mapped[str] = mapped_column(String)  # "call" | "api"
    police_ticket: Mapped[str | None] = mapped_column(String)
    caller_name: Mapped[str | None] = mapped_column(String)
    caller_number: Mapped[str | None] = mapped_column(String, index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The caller asked not to be called back (拒绝回访): no follow-up call.
    no_follow_up: Mapped[bool] = mapped_column(Boolean, server_default=false())
    address: Mapped[str | None] = mapped_column(String)
    township: Mapped[str | None] = mapped_column(String)
    demand_type: Mapped[DemandType | None] = mapped_column(str_enum(DemandType, "demand_type"))
    category: Mapped[str | None] = mapped_column(String, index=True)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "urgency"))
    description: Mapped[str | None] = mapped_column(String)
    suggested_route: Mapped[Route | None] = mapped_column(str_enum(Route, "suggested_route"))
    suggestion_reason: Mapped[str | None] = mapped_column(String)
    route: Mapped[Route | None] = mapped_column(str_enum(Route, "route"))
    lead_unit: Mapped[str | None] = mapped_column(String, index=True)
    co_units: Mapped[list[str]] = mapped_column(JSON)
    extension: Mapped[str | None] = mapped_column(String)  # case_file.Extension
    extension_days: Mapped[int | None] = mapped_column(Integer)
    handover: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # case_file.Handover
    merged_into: Mapped[str | None] = mapped_column(String, index=True)
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the e-reply
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    due_sign: Mapped[datetime | None] = mapped_column(UtcDateTime())
    due_arrive: Mapped[datetime | None] = mapped_column(UtcDateTime())
    due_feedback: Mapped[datetime | None] = mapped_column(UtcDateTime())
    due_close: Mapped[datetime | None] = mapped_column(UtcDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    fed_back_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    # The supervisor ladder's steps already taken for the current deadlines.
    ladder: Mapped[dict[str, Any]] = mapped_column(JSON)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own form
    __table_args__ = (
        # The ladder and the supervision views ask "which cases are open?".
        Index(
            "ix_cases_open",
            "due_close",
            sqlite_where=closed_at.is_(None),
            postgresql_where=closed_at.is_(None),
        ),
    )


class CaseEvent(Base):
    """One timeline entry (`case_file.TimelineEntry`); never updated or deleted."""

    __tablename__ = "case_events"

    case_number: Mapped[str] = mapped_column(ForeignKey("cases.number"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    command: Mapped[Command | None] = mapped_column(str_enum(Command, "command", 24))
    from_state: Mapped[CaseState | None] = mapped_column(str_enum(CaseState, "from_state", 24))
    to_state: Mapped[CaseState] = mapped_column(str_enum(CaseState, "to_state", 24))
    actor: Mapped[str] = mapped_column(String)
    role: Mapped[Role] = mapped_column(str_enum(Role, "actor_role"))
    unit: Mapped[str | None] = mapped_column(String)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    # Supervision counts events of some kinds in a period (hand-overs, returns,
    # reminders): without this, a year's statistics walk every timeline row.
    __table_args__ = (Index("ix_case_events_command_at", "command", "at"),)


class CaseCall(Base):
    """A call that belongs to a case (a case may have many calls)."""

    __tablename__ = "case_calls"

    case_number: Mapped[str] = mapped_column(ForeignKey("cases.number"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String, primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseCounter(Base):
    """The last case number given out in a year."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class UnitRecord(Base):
    """A member unit as the roster described it from `valid_from` until
    `valid_to` (None: still so). A reload that changes a unit closes its row
    and opens a new one, so "who was on duty when" stays answerable."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String, index=True)
    name: Mapped[str] = mapped_column(String)
    type: Mapped[UnitType] = mapped_column(str_enum(UnitType, "unit_type"))
    township: Mapped[str | None] = mapped_column(String)
    leader: Mapped[str] = mapped_column(String)
    leader_phone: Mapped[str] = mapped_column(String)
    office: Mapped[str] = mapped_column(String)
    office_phone: Mapped[str] = mapped_column(String)
    staff: Mapped[str] = mapped_column(String)
    staff_phone: Mapped[str] = mapped_column(String)
    duty_phone: Mapped[str | None] = mapped_column(String)
    line: Mapped[str | None] = mapped_column(String)  # the PBX line unit-NN, if it has one
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())
