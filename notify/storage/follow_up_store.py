"""Saving the follow-up calls: made when the case closes (one per closing),
each change saved before it is acted on."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.engine import WRITE_TRANSACTION
from database.rows import item_of, row_of
from notify.core.follow_ups import OPEN, FollowUp
from notify.storage.tables import FollowUpRecord


class FollowUpStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def add(self, f: FollowUp) -> FollowUp | None:
        """Saved with its id; None if this closing has its follow-up already."""
        try:
            async with self.sessions() as session:
                await session.connection(execution_options=WRITE_TRANSACTION)
                row = _row(f)
                row.id = None  # type: ignore[assignment]  # the database numbers it
                session.add(row)
                await session.commit()
                return replace(f, follow_up_id=row.id)
        except IntegrityError:
            return None

    async def save(self, f: FollowUp) -> None:
        async with self.sessions() as session:
            await session.connection(execution_options=WRITE_TRANSACTION)
            await session.merge(_row(f))
            await session.commit()

    async def open_ones(self) -> list[FollowUp]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(FollowUpRecord)
                .where(FollowUpRecord.state.in_(OPEN))
                .order_by(FollowUpRecord.id)
            )
            return [_follow_up(r) for r in rows]

    async def one(self, follow_up_id: int) -> FollowUp | None:
        async with self.sessions() as session:
            row = await session.get(FollowUpRecord, follow_up_id)
            return _follow_up(row) if row is not None else None

    async def of_case(self, number: str) -> list[FollowUp]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(FollowUpRecord)
                .where(FollowUpRecord.case_number == number)
                .order_by(FollowUpRecord.id)
            )
            return [_follow_up(r) for r in rows]


_IDS = {"follow_up_id": "id"}


def _row(f: FollowUp) -> FollowUpRecord:
    return row_of(FollowUpRecord, f, _IDS)


def _follow_up(r: FollowUpRecord) -> FollowUp:
    return item_of(FollowUp, r, _IDS)
