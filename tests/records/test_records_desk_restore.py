"""What a restarted server reads of the desks' records, on both backends:
the waits still open and the recent ones, and the time of the last record
(from which Asterisk's queue_log is read)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr_flows.core.operators import Operator, OperatorState
from ivr_flows.core.waits import Wait, WaitOutcome
from ivr_flows.storage.repository import DeskRepository

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def wait(uid: str, joined_s: int, outcome: WaitOutcome, left_s: int | None = None) -> Wait:
    return Wait(
        wait_id=f"{uid}#1",
        uniqueid=uid,
        call_id=uid,
        desk="110",
        via="citizen",
        priority=0,
        position=1,
        caller_number=None,
        joined_at=T0 + timedelta(seconds=joined_s),
        outcome=outcome,
        left_at=None if left_s is None else T0 + timedelta(seconds=left_s),
    )


async def test_open_and_recent_waits_and_the_last_record(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        assert await DeskRepository(session).last_record_at() is None
    async with sessions() as session, session.begin():
        repo = DeskRepository(session)
        await repo.save_wait(wait("old-open", -7200, WaitOutcome.WAITING))
        await repo.save_wait(wait("old-done", -7200, WaitOutcome.ABANDONED, -7100))
        await repo.save_wait(wait("recent", -60, WaitOutcome.LEFT, 90))
        op = Operator("op110-1", "110", OperatorState.PAUSED, T0 + timedelta(seconds=30), "小休")
        await repo.enter_state(op)
    async with sessions() as session:
        repo = DeskRepository(session)
        assert await repo.last_record_at() == T0 + timedelta(seconds=90)
        waits = await repo.recent_waits(T0 - timedelta(hours=1))
    assert [(w.uniqueid, w.outcome) for w in waits] == [
        ("old-open", WaitOutcome.WAITING),
        ("recent", WaitOutcome.LEFT),
    ]
