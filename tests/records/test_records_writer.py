"""RecordWriter semantics on a real database: merges, replays, order, edge rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from records_testkit import (
    aiosqlite_threads_finished,
    at,
    leg_started,
    simple_call,
    snapshot,
    wait_until,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common.vocabulary import Desk
from database.engine import create_engine, session_factory
from telephony.core.events import (
    CallAnswered,
    CallEnded,
    CallMerged,
    CallStarted,
    DomainEvent,
    LegAnswered,
    LegEnded,
    LegJoinedBridge,
    LegRole,
    LegUpdated,
)
from telephony.storage.repository import CallRepository
from telephony.storage.tables import Call, Leg
from telephony.storage.writer import RecordWriter


async def _write(
    sessions: async_sessionmaker[AsyncSession], events: list[DomainEvent], **options: float
) -> RecordWriter:
    writer = RecordWriter(sessions, **options)  # type: ignore[arg-type]
    await writer.start()
    for event in events:
        writer.submit(event)
    await writer.flush(timeout=20)
    await writer.stop()
    return writer


async def _call(sessions: async_sessionmaker[AsyncSession], call_id: str) -> Call:
    async with sessions() as session:
        call = await CallRepository(session).get_call(call_id)
    assert call is not None
    return call


async def _leg(sessions: async_sessionmaker[AsyncSession], uniqueid: str) -> Leg:
    async with sessions() as session:
        leg = await session.get(Leg, uniqueid)
    assert leg is not None
    return leg


async def test_merge_moves_legs_and_widens_survivor(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # An operator's consultation call (B) is folded into the citizen's call (A).
    events: list[DomainEvent] = [
        CallStarted("A", Desk.D110, "13800000000", "张三", at(1000)),
        leg_started("A.1", "A", 1000, name="张三"),
        CallStarted("B", None, None, None, at(500)),
        leg_started("B.1", "B", 500, role=LegRole.OPERATOR_110, trunk=None, number="8001"),
        leg_started("B.2", "B", 600, role=LegRole.UNIT, trunk=None, number="6001"),
        CallAnswered("B", at(700)),
        CallAnswered("A", at(2000)),
        CallMerged(merged="B", into="A", at=at(5000)),
        CallEnded("A", at(9000)),
    ]
    await _write(sessions, events)

    survivor = await _call(sessions, "B")  # the old id resolves to the survivor
    assert survivor.id == "A"
    assert survivor.started_at == at(500)
    assert survivor.answered_at == at(700)
    assert survivor.ended_at == at(9000)
    assert (survivor.caller_number, survivor.caller_name) == ("13800000000", "张三")
    assert [leg.uniqueid for leg in survivor.legs] == ["B.1", "B.2", "A.1"]
    assert {leg.call_id for leg in survivor.legs} == {"A"}
    async with sessions() as session:
        merged = await session.get(Call, "B")
        listed = await CallRepository(session).list_calls()
    assert merged is not None and merged.merged_into == "A"
    assert [call.id for call in listed] == ["A"]


async def test_chained_merges_point_at_the_last_survivor(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events: list[DomainEvent] = []
    for call_id, ms in (("A", 0), ("B", 10), ("C", 20)):
        events += [
            CallStarted(call_id, None, None, None, at(ms)),
            leg_started(f"{call_id}.1", call_id, ms),
        ]
    await _write(sessions, [*events, CallMerged("A", "B", at(100))])
    # The second merge comes in a later batch: A's row must follow it too.
    await _write(sessions, [CallMerged("B", "C", at(200))])
    async with sessions() as session:
        rows = {c.id: c.merged_into for c in [await session.get(Call, i) for i in "ABC"] if c}
    assert rows == {"A": "C", "B": "C", "C": None}
    survivor = await _call(sessions, "A")
    assert survivor.id == "C"
    assert [leg.uniqueid for leg in survivor.legs] == ["A.1", "B.1", "C.1"]


async def test_replaying_a_sequence_changes_nothing(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    events = [
        *simple_call("A", 0),
        *simple_call("B", 100),
        CallMerged("B", "A", at(200)),
        LegEnded("A.1", at(70000), None, None, reconciled=True),
    ]
    await _write(sessions, events)
    once = await snapshot(engine)
    await _write(sessions, events)
    assert await snapshot(engine) == once
    await _write(sessions, events, batch_size=1)
    assert await snapshot(engine) == once


async def test_order_is_kept_within_and_across_batches(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events: list[DomainEvent] = [leg_started("L", "C", 0)]
    events += [LegUpdated("L", f"PJSIP/x-{i}", str(i), f"名字{i}", at(i)) for i in range(1, 200)]
    # Small batches and no delay: the updates straddle many transactions.
    writer = await _write(sessions, events, batch_size=7, max_delay=0)
    leg = await _leg(sessions, "L")
    assert (leg.channel, leg.caller_number, leg.caller_name) == ("PJSIP/x-199", "199", "名字199")
    assert writer.stats.committed == len(events)
    # And all in one batch: the last update still wins.
    await _write(sessions, [*events, LegUpdated("L", "PJSIP/y", None, None, at(500))])
    leg = await _leg(sessions, "L")
    assert (leg.channel, leg.caller_number, leg.caller_name) == ("PJSIP/y", None, None)


async def test_leg_for_unknown_call_creates_a_minimal_call(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _write(sessions, [leg_started("L", "NEW", 42)])
    call = await _call(sessions, "NEW")
    assert (call.started_at, call.trunk, call.caller_number) == (at(42), None, None)
    # The call's own CallStarted later fills it in and keeps the earliest start.
    await _write(sessions, [CallStarted("NEW", Desk.D12345, "010", "李四", at(40))])
    call = await _call(sessions, "NEW")
    assert (call.started_at, call.trunk, call.caller_name) == (at(40), Desk.D12345, "李四")


async def test_real_hangup_replaces_a_reconciled_end_but_not_the_reverse(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _write(
        sessions,
        [
            leg_started("R", "C", 0),
            LegEnded("R", at(900), None, None, reconciled=True),
            LegEnded("R", at(500), 16, "Normal Clearing"),  # the real Hangup wins
            LegEnded("R", at(950), None, None, reconciled=True),  # too late, ignored
            leg_started("F", "C", 0),
            LegEnded("F", at(500), 17, "User busy"),
            LegEnded("F", at(600), 16, "Normal Clearing"),  # a duplicate: first end wins
        ],
    )
    real = await _leg(sessions, "R")
    assert (real.ended_at, real.hangup_cause, real.reconciled) == (at(500), 16, False)
    first = await _leg(sessions, "F")
    assert (first.ended_at, first.hangup_cause_text) == (at(500), "User busy")


async def test_a_bound_is_stored_as_one_and_gives_way_to_what_was_seen(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Times nobody saw (AMI link down, no CEL row) are kept marked as bounds; a
    seen time (an AMI event, a CEL row) replaces them, never the reverse."""
    await _write(
        sessions,
        [
            leg_started("B", "C", 0),
            LegAnswered("B", at(300), at_bound=True),
            LegEnded("B", at(900), None, None, reconciled=True, at_bound=True),
            leg_started("S", "C", 0),
            LegAnswered("S", at(300), at_bound=True),
            LegAnswered("S", at(450)),  # seen after all: replaces the earlier bound
            LegAnswered("S", at(200), at_bound=True),  # a bound never replaces it
            LegEnded("S", at(900), None, None, reconciled=True, at_bound=True),
            LegEnded("S", at(950), 16, "Normal Clearing", reconciled=True),  # CEL's row wins
            LegEnded("S", at(600), None, None, reconciled=True, at_bound=True),  # ignored
        ],
    )
    bound = await _leg(sessions, "B")
    assert (bound.answered_at, bound.answered_at_bound) == (at(300), True)
    assert (bound.ended_at, bound.ended_at_bound, bound.hangup_cause) == (at(900), True, None)
    seen = await _leg(sessions, "S")
    assert (seen.answered_at, seen.answered_at_bound) == (at(450), False)
    assert (seen.ended_at, seen.ended_at_bound, seen.hangup_cause) == (at(950), False, 16)


async def test_ending_a_leg_closes_its_open_bridge_stays(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _write(
        sessions,
        [
            leg_started("L", "C", 0),
            LegJoinedBridge("L", "br", at(10)),
            LegEnded("L", at(20), 16, None),
        ],
    )
    call = await _call(sessions, "C")
    [stay] = call.legs[0].bridges
    assert stay.left_at == at(20)


async def test_events_for_unknown_legs_are_skipped_and_do_not_block(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = await _write(
        sessions,
        [
            LegAnswered("ghost", at(1)),
            CallEnded("no-such-call", at(2)),
            LegJoinedBridge("ghost", "br", at(3)),
            leg_started("L", "C", 4),
        ],
    )
    assert dataclasses.astuple(writer.stats)[:5] == (0, 4, 0, 0, 3)
    assert (await _leg(sessions, "L")).call_id == "C"


async def test_stop_writes_what_is_left(sessions: async_sessionmaker[AsyncSession]) -> None:
    writer = RecordWriter(sessions, max_delay=10)  # would otherwise wait 10 s to batch
    await writer.start()
    for event in simple_call("S", 0):
        writer.submit(event)
    await writer.stop(timeout=10)
    assert writer.stats.pending == 0
    assert (await _call(sessions, "S")).ended_at == at(60002)


async def test_stop_with_the_database_gone_keeps_events_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/no-such-dir/records.db")
    writer = RecordWriter(session_factory(engine), retry_initial=0.01, retry_max=0.02)
    await writer.start()
    for event in simple_call("X", 0):
        writer.submit(event)
    await wait_until(lambda: writer.stats.retries >= 3)
    await writer.stop(timeout=0.2)
    await engine.dispose()
    await aiosqlite_threads_finished()
    assert writer.stats.pending == len(simple_call("X", 0))
    assert "14 events not written: OperationalError: unable to open database file" in caplog.text
