"""The desk figures' queries on SQLite and PostgreSQL: the waits of a period
with the rest of their calls (an overflow's return after `to`), the operator
periods that overlap it, written as the desks' store writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr_flows.core.desk_figures import desk_tables, offers
from ivr_flows.core.operators import Operator, OperatorState
from ivr_flows.core.waits import Wait, WaitOutcome
from ivr_flows.storage.repository import DeskRepository

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 0, 0, tzinfo=TZ).astimezone(UTC)
END = START + timedelta(days=1)


def wait(
    uid: str,
    joined: datetime,
    outcome: WaitOutcome,
    after_s: float,
    *,
    n: int = 1,
    desk: str = "110",
) -> Wait:
    end = joined + timedelta(seconds=after_s)
    answered = outcome is WaitOutcome.ANSWERED
    return Wait(
        wait_id=f"{uid}#{n}",
        uniqueid=uid,
        call_id=f"call-{uid}",
        desk=desk,
        via="citizen",
        priority=0,
        position=1,
        caller_number="13912345678",  # never stored: the call says who called
        joined_at=joined,
        outcome=outcome,
        left_at=end,
        answered_at=end if answered else None,
        operator="op110-1" if answered else None,
        talk_s=42 if answered else None,
    )


async def save(sessions: async_sessionmaker[AsyncSession], *waits: Wait) -> None:
    async with sessions() as session, session.begin():
        repo = DeskRepository(session)
        for w in waits:
            await repo.save_wait(w)


async def test_the_waits_of_a_period_come_with_the_rest_of_their_calls(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    last_minute = END - timedelta(seconds=20)
    await save(
        sessions,
        wait("in", START + timedelta(hours=9), WaitOutcome.ANSWERED, 8),
        # Overflowed at the period's last minute; back in line after `to`, answered.
        wait("edge", last_minute, WaitOutcome.LEFT, 30),
        wait("edge", last_minute + timedelta(seconds=50), WaitOutcome.ANSWERED, 5, n=2),
        wait("other-desk", START + timedelta(hours=10), WaitOutcome.ABANDONED, 9, desk="12345"),
        wait("before", START - timedelta(seconds=1), WaitOutcome.ANSWERED, 1),
        wait("at-end", END, WaitOutcome.ANSWERED, 1),
    )
    async with sessions() as session:
        repo = DeskRepository(session)
        every = await repo.waits_for_figures(START, END)
        at_110 = await repo.waits_for_figures(START, END, "110")
    assert [w.wait_id for w in every] == ["in#1", "other-desk#1", "edge#1", "edge#2"]
    assert [w.wait_id for w in at_110] == ["in#1", "edge#1", "edge#2"]
    first = every[0]
    assert first.joined_at == START + timedelta(hours=9) and first.joined_at.tzinfo is not None
    assert first.talk_s == 42 and first.caller_number is None
    [table] = desk_tables(offers(at_110), ["110"], START, END, TZ, 15)
    total = table.total
    assert (total.offered, total.answered, total.left, total.answered_in_time) == (2, 2, 0, 1)
    assert table.hours[-1].figures.longest_wait_s == 55


async def test_the_operator_periods_that_overlap_a_period(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    steps = [
        ("op110-1", OperatorState.IDLE, "", START - timedelta(hours=2)),
        ("op110-1", OperatorState.PAUSED, "小休", START),  # the idle one ends at `from`
        ("op110-1", OperatorState.IDLE, "", START + timedelta(minutes=15)),
        ("op12345-1", OperatorState.PAUSED, "培训", START + timedelta(hours=1)),  # still open
    ]
    for phone, st, reason, since in steps:
        desk = "110" if phone.startswith("op110") else "12345"
        async with sessions() as session, session.begin():
            op = Operator(phone, desk, st, since, reason, logged_in=True)
            await DeskRepository(session).enter_state(op)
    async with sessions() as session:
        repo = DeskRepository(session)
        periods = await repo.periods_between(START, END)
        later = await repo.periods_between(END, END + timedelta(days=1), "12345")
    assert [(p.phone, p.state, p.reason) for p in periods] == [
        ("op110-1", OperatorState.PAUSED, "小休"),
        ("op110-1", OperatorState.IDLE, ""),
        ("op12345-1", OperatorState.PAUSED, "培训"),
    ]
    assert periods[0].ended_at == START + timedelta(minutes=15) and periods[2].ended_at is None
    assert [p.phone for p in later] == ["op12345-1"]  # open: it overlaps every later period
