"""Reading and writing cases. Like the other repositories it takes a session
and never commits: `records.service.cases` owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from common.vocabulary import Desk
from county.calendar import COUNTY_TZ
from county.case_words import Route
from records.core.case_file import CaseFile, Extension, Handover, TimelineEntry
from records.core.lifecycle import OPEN_STATES, CaseState, Command
from records.storage.tables import CaseCall, CaseCounter, CaseEvent, CaseRecord


@dataclass(frozen=True)
class CaseFilter:
    state: CaseState | None = None
    open_only: bool = False
    unit: str | None = None  # lead or co-unit
    desk: Desk | None = None
    caller_number: str | None = None
    since: datetime | None = None
    limit: int = 100


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_number(self, at: datetime) -> str:
        """The next case number of `at`'s year, e.g. "2026-000123"."""
        # The county's year, not UTC's: a call at 00:30 on 1 January Beijing
        # time opens a case of the new year.
        year = at.astimezone(COUNTY_TZ).year
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # One statement both creates the year's counter and bumps it, so two
        # desks opening cases at the same moment never get the same number.
        statement = (
            insert(CaseCounter)
            .values(year=year, last=1)
            .on_conflict_do_update(index_elements=["year"], set_={"last": CaseCounter.last + 1})
            .returning(CaseCounter.last)
        )
        last = (await self._session.execute(statement)).scalar_one()
        return f"{year}-{last:06d}"

    async def get(self, number: str) -> CaseRecord | None:
        return await self._session.get(CaseRecord, number)

    async def events(self, number: str) -> list[CaseEvent]:
        query = select(CaseEvent).where(CaseEvent.case_number == number).order_by(CaseEvent.seq)
        return list((await self._session.scalars(query)).all())

    async def event_count(self, number: str) -> int:
        query = select(func.count()).select_from(CaseEvent).where(CaseEvent.case_number == number)
        return int((await self._session.scalar(query)) or 0)

    async def call_ids(self, number: str) -> list[str]:
        query = (
            select(CaseCall.call_id)
            .where(CaseCall.case_number == number)
            .order_by(CaseCall.linked_at, CaseCall.call_id)
        )
        return list((await self._session.scalars(query)).all())

    async def link_call(self, number: str, call_id: str, at: datetime) -> bool:
        """Link a call to a case; False if it already was."""
        if await self._session.get(CaseCall, (number, call_id)) is not None:
            return False
        self._session.add(CaseCall(case_number=number, call_id=call_id, linked_at=at))
        return True

    async def cases_of_call(self, call_id: str) -> list[str]:
        query = select(CaseCall.case_number).where(CaseCall.call_id == call_id)
        return list((await self._session.scalars(query.order_by(CaseCall.linked_at))).all())

    async def anonymous_calls(self, call_ids: list[str]) -> frozenset[str]:
        """Which of these calls belong to a case whose caller asked for anonymity."""
        query = (
            select(CaseCall.call_id)
            .join(CaseRecord, CaseRecord.number == CaseCall.case_number)
            .where(CaseCall.call_id.in_(call_ids), CaseRecord.anonymous.is_(True))
        )
        return frozenset((await self._session.scalars(query)).all()) if call_ids else frozenset()

    async def merged_into(self, number: str) -> list[str]:
        query = select(CaseRecord.number).where(CaseRecord.merged_into == number)
        return list((await self._session.scalars(query.order_by(CaseRecord.number))).all())

    async def find(self, where: CaseFilter) -> list[CaseRecord]:
        query = select(CaseRecord).order_by(CaseRecord.created_at.desc(), CaseRecord.number.desc())
        if where.state is not None:
            query = query.where(CaseRecord.state == where.state)
        if where.open_only:
            query = query.where(CaseRecord.state.in_(sorted(OPEN_STATES)))
        if where.unit is not None:
            query = query.where(unit_condition(where.unit))
        if where.desk is not None:
            query = query.where(CaseRecord.desk == where.desk)
        if where.caller_number is not None:
            query = query.where(CaseRecord.caller_number == where.caller_number)
        if where.since is not None:
            query = query.where(CaseRecord.created_at >= where.since)
        return list((await self._session.scalars(query.limit(where.limit))).all())

    async def put_there_since(
        self, state: CaseState, commands: Iterable[Command], since: datetime, limit: int
    ) -> list[tuple[str, int]]:
        """The cases now in `state` with one of `commands` made since `since`:
        each with the last such move's seq, oldest case number first."""
        last = (
            select(CaseEvent.case_number, func.max(CaseEvent.seq).label("seq"))
            .where(CaseEvent.command.in_(list(commands)), CaseEvent.at >= since)
            .group_by(CaseEvent.case_number)
            .subquery()
        )
        query = (
            select(last.c.case_number, last.c.seq)
            .join(CaseRecord, CaseRecord.number == last.c.case_number)
            .where(CaseRecord.state == state)
            .order_by(last.c.case_number)
            .limit(limit)
        )
        return [(number, seq) for number, seq in (await self._session.execute(query)).all()]

    def add_event(self, number: str, entry: TimelineEntry) -> None:
        self._session.add(
            CaseEvent(
                case_number=number,
                seq=entry.seq,
                at=entry.at,
                command=entry.command,
                from_state=entry.from_state,
                to_state=entry.to_state,
                actor=entry.actor,
                role=entry.role,
                unit=entry.unit,
                data=jsonable(entry.data),
            )
        )


def unit_condition(unit: str) -> Any:
    """Cases a unit works on: as lead, or as a co-unit (in the JSON list)."""
    escaped = unit.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(
        CaseRecord.lead_unit == unit,
        cast(CaseRecord.co_units, String).like(f'%"{escaped}"%', escape="\\"),
    )


def case_file_of(record: CaseRecord, stored_events: int) -> CaseFile:
    """The lifecycle's view of a stored case."""
    handover = record.handover
    return CaseFile(
        desk=Desk(record.desk),
        state=CaseState(record.state),
        category=record.category,
        lead_unit=record.lead_unit,
        co_units=tuple(record.co_units or ()),
        extension=Extension(record.extension) if record.extension else None,
        handover=Handover(
            Desk(handover["from_desk"]),
            handover["by"],
            handover.get("category"),
            datetime.fromisoformat(handover["at"]),
        )
        if handover
        else None,
        due_close=record.due_close,
        merged_into=record.merged_into,
        route=Route(record.route) if record.route else None,
        signed=record.signed_at is not None,
        seq_start=stored_events,
    )


def store_case_file(record: CaseRecord, case: CaseFile) -> None:
    """Copy what the lifecycle decided back onto the record."""
    record.state = case.state
    record.desk = case.desk
    record.lead_unit = case.lead_unit
    record.co_units = list(case.co_units)
    record.extension = case.extension.value if case.extension else None
    record.merged_into = case.merged_into
    record.route = case.route
    handover = case.handover
    record.handover = (
        {
            "from_desk": handover.from_desk.value,
            "by": handover.by,
            "category": handover.category,
            "at": handover.at.isoformat(),
        }
        if handover
        else None
    )


def jsonable(value: Any) -> Any:
    """Timeline data as JSON: times as ISO strings, enums as their values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):  # as the API writes times: UTC, milliseconds, "Z"
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, str):
        return str(value)  # a StrEnum becomes its plain value
    return value
