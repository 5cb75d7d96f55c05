"""Saving the notices. A notice is saved before it is dialled and each try
before its Originate is sent: after a restart the outbox is read back whole,
and a try the server started is known even if its end was missed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.engine import WRITE_TRANSACTION
from database.rows import item_of, row_of
from notify.core.notices import OPEN, Notice, NoticeState, Try
from notify.storage.tables import NoticeRecord, NoticeTryRecord


class NoticeStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def add(self, notice: Notice) -> Notice | None:
        """Save a new notice; it comes back with its id. None if this
        dispatch of the case has its notice already (told twice, or again
        after a restart)."""
        try:
            async with self.sessions() as session:
                await session.connection(execution_options=WRITE_TRANSACTION)
                row = _row(notice)
                row.id = None  # type: ignore[assignment]  # the database numbers it
                session.add(row)
                await session.commit()
                return replace(notice, notice_id=row.id)
        except IntegrityError:
            return None

    async def save(self, notice: Notice, tried: Try | None = None) -> None:
        """The notice's change and the try it is about, in one transaction."""
        async with self.sessions() as session:
            await session.connection(execution_options=WRITE_TRANSACTION)
            await session.merge(_row(notice))
            if tried is not None:
                await session.merge(_try_row(tried))
            await session.commit()

    async def open_ones(self) -> list[Notice]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(NoticeRecord).where(NoticeRecord.state.in_(OPEN)).order_by(NoticeRecord.id)
            )
            return [_notice(r) for r in rows]

    async def of_case(self, number: str) -> list[tuple[Notice, list[Try]]]:
        async with self.sessions() as session:
            notices = [
                _notice(r)
                for r in await session.scalars(
                    select(NoticeRecord)
                    .where(NoticeRecord.case_number == number)
                    .order_by(NoticeRecord.id)
                )
            ]
            tries = await self._tries(session, [n.notice_id for n in notices])
        return [(n, tries.get(n.notice_id, [])) for n in notices]

    async def one(self, notice_id: int) -> tuple[Notice, list[Try]] | None:
        async with self.sessions() as session:
            row = await session.get(NoticeRecord, notice_id)
            if row is None:
                return None
            tries = await self._tries(session, [notice_id])
        return _notice(row), tries.get(notice_id, [])

    async def tries_of(self, notice_ids: list[int]) -> dict[int, list[Try]]:
        async with self.sessions() as session:
            return await self._tries(session, notice_ids)

    @staticmethod
    async def _tries(session: AsyncSession, notice_ids: list[int]) -> dict[int, list[Try]]:
        out: dict[int, list[Try]] = {}
        if not notice_ids:
            return out
        rows = await session.scalars(
            select(NoticeTryRecord)
            .where(NoticeTryRecord.notice_id.in_(notice_ids))
            .order_by(NoticeTryRecord.notice_id, NoticeTryRecord.number)
        )
        for row in rows:
            out.setdefault(row.notice_id, []).append(_try(row))
        return out

    async def unit_figures(self, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
        """Per unit, the notices made in [start, end): made, and how many of
        them are accepted, declined, unreached."""
        query = (
            select(NoticeRecord.unit, NoticeRecord.state, func.count())
            .where(NoticeRecord.created_at >= start, NoticeRecord.created_at < end)
            .group_by(NoticeRecord.unit, NoticeRecord.state)
        )
        out: dict[str, dict[str, int]] = {}
        async with self.sessions() as session:
            for unit, state, count in await session.execute(query):
                figures = out.setdefault(unit, {"made": 0})
                figures["made"] += count
                figures[NoticeState(state).value] = count
        return out

    async def latest_states(self, numbers: list[str]) -> dict[str, str]:
        """Each case's latest notice to its lead unit: its state (cases
        without one left out)."""
        out: dict[str, str] = {}
        async with self.sessions() as session:
            for start in range(0, len(numbers), 500):  # bounded IN lists
                rows = await session.execute(
                    select(NoticeRecord.case_number, NoticeRecord.state)
                    .where(
                        NoticeRecord.case_number.in_(numbers[start : start + 500]),
                        NoticeRecord.co_unit.is_(False),  # the lead unit's, which signs
                    )
                    .order_by(NoticeRecord.id)
                )
                for number, state in rows:
                    out[number] = NoticeState(state).value
        return out

    async def has_notice(self, number: str, dispatch_seq: int, unit: str) -> bool:
        async with self.sessions() as session:
            found = await session.scalar(
                select(NoticeRecord.id).where(
                    NoticeRecord.case_number == number,
                    NoticeRecord.dispatch_seq == dispatch_seq,
                    NoticeRecord.unit == unit,
                )
            )
            return found is not None


_IDS = {"notice_id": "id"}


def _row(n: Notice) -> NoticeRecord:
    return row_of(NoticeRecord, n, _IDS)


def _notice(r: NoticeRecord) -> Notice:
    return item_of(Notice, r, _IDS)


def _try_row(t: Try) -> NoticeTryRecord:
    return row_of(NoticeTryRecord, t)


def _try(r: NoticeTryRecord) -> Try:
    return item_of(Try, r)
