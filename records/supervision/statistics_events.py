"""The statements behind `statistics.unit_statistics` and
`statistics.wrong_transfers`: what they read, and what the database counts.

Each starts from an index: a period's cases from `ix_cases_dispatched_at`, a
period's hand-overs and send-backs from `ix_case_events_command_at`. The
counted events of a period's cases are joined to them (a join, not
`IN (subquery)`): PostgreSQL finds the events through
`ix_case_events_command_at` and hashes the cases; SQLite walks the period's
cases and each one's timeline by primary key (see `counted_events`).

Events are counted in the database (GROUP BY), so only the counts cross to
Python. What an event needs from earlier in its timeline (the latest dispatch
or `classify` before it) is a correlated subquery on the timeline's primary
key, asked only for the events that need it. Single JSON keys are read in SQL
through SQLAlchemy's JSON paths (`->>`/`#>>` on PostgreSQL, `JSON_EXTRACT` on
SQLite): for the strings and nulls stored there both give what `dict.get`
gives in Python, and no whole `data` value is fetched or decoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, String, case, func, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from common.vocabulary import Role
from records.core.lifecycle import Command
from records.storage.tables import CaseEvent, CaseRecord

C, E = CaseRecord, CaseEvent
LADDER = (Command.REMIND, Command.NOTICE, Command.BULLETIN)
DISPATCHES = (Command.DISPATCH, Command.REDISPATCH)
REFERS = (Command.REFER_TO_110, Command.REFER_TO_12345)
# Counted against the unit that led the case when they happened.
COUNTED = (Command.REQUEST_RETURN, Command.REOPEN, Command.REQUEST_EXTENSION, *LADDER)


async def without_jit(session: AsyncSession) -> None:
    """On PostgreSQL, no JIT compilation for the rest of the transaction. The
    look-backs below are estimated at ~12 per event, so over a year a plan
    costs 0.5–0.9 M and PostgreSQL JIT-compiles and optimises it: 0.9 s of
    compiling for a statement that then runs in 0.2 s."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))


def case_rows(start: datetime, end: datetime, done: Sequence[Any]) -> Select[Any]:
    """One row per case dispatched in [start, end): lead unit, state (its
    value), rating, dispatched_at, due_close, then the `done` columns.

    Core columns, not the ORM's: the rows skip the ORM's result processing.
    Timestamps come as the driver gives them (naive UTC on SQLite, aware on
    PostgreSQL), without `UtcDateTime`'s conversion of each value: durations
    and comparisons within a row do not need it."""
    cases = CaseRecord.__table__.c
    times = [cases[column.key] for column in (C.dispatched_at, C.due_close, *done)]
    plain_times = [type_coerce(column, DateTime()) for column in times]
    state = type_coerce(cases.state, String)
    query = select(cases.lead_unit, state, cases.satisfaction, *plain_times)
    return query.where(cases.dispatched_at >= start, cases.dispatched_at < end)


def counted_events(start: datetime, end: datetime, dialect: str) -> Select[Any]:
    """(unit, command, count) of the COUNTED events, at any time, of the cases
    dispatched in [start, end). The unit is the event's own, else the lead
    unit of the case's latest dispatch before the event (None before any)."""
    dispatch = aliased(CaseEvent)
    lead_then = (
        select(dispatch.data["lead_unit"].as_string())
        .where(dispatch.case_number == E.case_number, dispatch.seq < E.seq)
        .where(dispatch.command.in_(DISPATCHES))
        .order_by(dispatch.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    unit = case((E.unit != "", E.unit), else_=lead_then)  # `unit or lead`: NULL and '' alike
    counted: Any = E.command.in_(COUNTED)
    if dialect == "sqlite":
        # Without statistics SQLite would start from ix_case_events_command_at,
        # i.e. from every counted event ever made (0.13 s even for a day, and
        # growing with the years kept); `command || ''` is no index's column,
        # so it starts from the period's cases (ix_cases_dispatched_at) instead.
        command = type_coerce(E.command, String).concat("")
        counted = command.in_([value.value for value in COUNTED])
    events = select(unit, E.command).join_from(E, C, C.number == E.case_number)
    return count_rows(events.where(C.dispatched_at >= start, C.dispatched_at < end, counted))


def ratings_by_source(start: datetime, end: datetime) -> Select[Any]:
    """(lead unit, made by the server's follow-up call?, count) of the
    ratings (`follow_up`) given to the cases dispatched in [start, end): the
    server's calls act as role `system`, an operator typing one in as theirs."""
    by_call = case((E.role == Role.SYSTEM, 1), else_=0)
    events = select(C.lead_unit, by_call).join_from(E, C, C.number == E.case_number)
    period = (C.dispatched_at >= start, C.dispatched_at < end)
    return count_rows(events.where(*period, E.command == Command.FOLLOW_UP))


def handovers(start: datetime, end: datetime) -> Select[Any]:
    """(actor, command, category then, count) of the hand-overs made in
    [start, end). The category then: what the hand-over recorded; for entries
    from before it did, that of the latest `classify` before the hand-over; if
    the case has no `classify` at all, the case's category; else NULL."""
    classify = aliased(CaseEvent)
    of_case = (classify.case_number == E.case_number, classify.command == Command.CLASSIFY)
    latest_before = (
        select(classify.data["category"].as_string())
        .where(*of_case, classify.seq < E.seq)
        .order_by(classify.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    # Not EXISTS: PostgreSQL would hash that over every `classify` ever made.
    first = select(classify.seq).where(*of_case).order_by(classify.seq).limit(1)
    earlier = case((first.scalar_subquery().is_(None), C.category), else_=latest_before)
    category = func.coalesce(E.data["category"].as_string(), earlier)
    refers = select(E.actor, E.command, category).join_from(E, C, C.number == E.case_number)
    return count_rows(refers.where(E.at >= start, E.at < end, E.command.in_(REFERS)))


def send_backs(start: datetime, end: datetime) -> Select[Any]:
    """(by, from_desk, category, count) of the send-backs made in [start, end),
    as their `wrong_transfer` names the hand-over (NULL for a missing key)."""
    named = (E.data[("wrong_transfer", key)].as_string() for key in ("by", "from_desk", "category"))
    sent_back = select(*named).where(E.at >= start, E.at < end, E.command == Command.SEND_BACK)
    return count_rows(sent_back)


def count_rows(query: Select[Any]) -> Select[Any]:
    """`query`'s distinct rows, each with how often it occurs. Grouped over a
    subquery: PostgreSQL would not match an expression with bound parameters
    in GROUP BY to the same expression in the select list."""
    rows = query.subquery()
    return select(*rows.c, func.count()).group_by(*rows.c)
