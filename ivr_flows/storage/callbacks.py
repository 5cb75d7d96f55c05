"""Saving callbacks. Unlike the waits (saved in the background), a callback
is saved before the caller is told it is booked, and each change before it
is acted on: a callback the server promised is never only in memory."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.engine import WRITE_TRANSACTION
from database.rows import item_of, row_of
from ivr_flows.core.callbacks import OPEN_STATES, Callback
from ivr_flows.storage.tables import CallbackRecord


class CallbackStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def add(self, cb: Callback) -> Callback:
        """Save a new callback; it comes back with its id."""
        async with self.sessions() as session:
            await session.connection(execution_options=WRITE_TRANSACTION)
            row = _row(cb)
            row.id = None  # type: ignore[assignment]  # the database numbers it
            session.add(row)
            await session.commit()
            return replace(cb, callback_id=row.id)

    async def save(self, cb: Callback) -> None:
        async with self.sessions() as session:
            await session.connection(execution_options=WRITE_TRANSACTION)
            await session.merge(_row(cb))
            await session.commit()

    async def open_ones(self) -> list[Callback]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(CallbackRecord)
                .where(CallbackRecord.state.in_(OPEN_STATES))
                .order_by(CallbackRecord.id)
            )
            return [_callback(r) for r in rows]

    async def of_call(self, call_id: str) -> list[Callback]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(CallbackRecord)
                .where(CallbackRecord.call_id == call_id)
                .order_by(CallbackRecord.id)
            )
            return [_callback(r) for r in rows]


_IDS = {"callback_id": "id"}
_NOT_KEPT = ("dial_call_id",)  # the call ringing now: its case link is made while it rings


def _row(cb: Callback) -> CallbackRecord:
    return row_of(CallbackRecord, cb, _IDS, _NOT_KEPT)


def _callback(row: CallbackRecord) -> Callback:
    return item_of(Callback, row, _IDS, _NOT_KEPT)
