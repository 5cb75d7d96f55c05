"""Saving the follow-up calls: made when the case closes (one per closing),
each change saved before it is acted on."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.engine import WRITE_TRANSACTION
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


def _row(f: FollowUp) -> FollowUpRecord:
    return FollowUpRecord(
        id=f.follow_up_id,
        case_number=f.case_number,
        closed_seq=f.closed_seq,
        caller_number=f.caller_number,
        due_at=f.due_at,
        created_at=f.created_at,
        state=f.state,
        tries=f.tries,
        last_result=f.last_result,
        rating=f.rating,
        recording=f.recording,
        updated_at=f.updated_at,
    )


def _follow_up(r: FollowUpRecord) -> FollowUp:
    return FollowUp(
        follow_up_id=r.id,
        case_number=r.case_number,
        closed_seq=r.closed_seq,
        caller_number=r.caller_number,
        due_at=r.due_at,
        created_at=r.created_at,
        state=r.state,
        tries=r.tries,
        last_result=r.last_result,
        rating=r.rating,
        recording=r.recording,
        updated_at=r.updated_at,
    )
