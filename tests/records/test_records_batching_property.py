"""Property: however events are cut into batches, the rows come out the same as
committing them one at a time, and the same as the pure rules applied to the
whole sequence in memory."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records_testkit import (
    apply_in_batches,
    at,
    leg_started,
    replayed_in_memory,
    snapshot,
    typed_rows,
    write_in_batches,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common.vocabulary import Desk
from telephony.core.events import (
    CallAnswered,
    CallEnded,
    CallMerged,
    CallStarted,
    Direction,
    DomainEvent,
    LegAnswered,
    LegEnded,
    LegJoinedBridge,
    LegLeftBridge,
    LegRinging,
    LegRole,
    LegStarted,
    LegUpdated,
)

# Each example commits dozens of transactions; these counts keep the whole
# records suite under 30 s while still finding merge-chain bugs (checked by
# breaking telephony.storage.batch on purpose).
PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BEIJING = timezone(timedelta(hours=8))
NAMES = st.sampled_from([None, "张三", "李四", "Zhang San"])


@st.composite
def _story_of_leg(draw: st.DrawFn, uniqueid: str, call_id: str, start: int) -> list[DomainEvent]:
    """One leg's life, in order, with the optional steps a real leg may skip."""
    t = start

    def later() -> datetime:
        nonlocal t
        t += draw(st.integers(0, 400))
        return at(t)

    events: list[DomainEvent] = [
        leg_started(
            uniqueid,
            call_id,
            start,
            role=draw(st.sampled_from(list(LegRole))),
            name=draw(NAMES),
        )
    ]
    if draw(st.booleans()):
        events.append(LegRinging(uniqueid, later()))
    if draw(st.booleans()):
        events.append(LegUpdated(uniqueid, f"PJSIP/{uniqueid}-r", "10", draw(NAMES), later()))
    if draw(st.booleans()):
        events.append(LegAnswered(uniqueid, later()))
        bridge = f"br-{call_id}"
        events.append(LegJoinedBridge(uniqueid, bridge, later()))
        if draw(st.booleans()):
            events.append(LegLeftBridge(uniqueid, bridge, later()))
    ending = draw(st.sampled_from(["hangup", "reconciled", "reconciled then hangup", "none"]))
    if "reconciled" in ending:
        events.append(LegEnded(uniqueid, later(), None, None, reconciled=True))
    if "hangup" in ending:
        events.append(LegEnded(uniqueid, later(), 16, "Normal Clearing"))
    return events


@st.composite
def interleaved_calls(draw: st.DrawFn) -> list[DomainEvent]:
    """A few calls' event sequences (and maybe a merge), randomly interleaved."""
    stories: list[list[DomainEvent]] = []
    call_ids = [f"c{i}" for i in range(draw(st.integers(1, 3)))]
    for n, call_id in enumerate(call_ids):
        start = n * 100
        story: list[DomainEvent] = [CallStarted(call_id, Desk.D110, "110", draw(NAMES), at(start))]
        if draw(st.booleans()):
            story.append(CallAnswered(call_id, at(start + 50)))
        if draw(st.booleans()):
            story.append(CallEnded(call_id, at(start + 5000)))
        stories.append(story)
        for leg in range(draw(st.integers(1, 2))):
            stories.append(draw(_story_of_leg(f"{call_id}.{leg}", call_id, start + leg)))
    if len(call_ids) > 1 and draw(st.booleans()):
        stories.append([CallMerged(call_ids[-1], call_ids[0], at(3000))])
    order = draw(st.permutations([i for i, story in enumerate(stories) for _ in story]))
    cursors = [iter(story) for story in stories]
    return [next(cursors[i]) for i in order]


_TIMES = st.integers(0, 3000).map(lambda n: at(n / 3)) | st.integers(0, 3000).map(
    lambda n: at(n / 3).astimezone(BEIJING)
)
_CALLS = st.sampled_from(["c0", "c1", "c2"])
_LEGS = st.sampled_from(["l0", "l1", "l2", "l3"])
_BRIDGES = st.sampled_from(["b0", "b1"])
_TEXT = st.sampled_from([None, "", "张三", "a\x00b"])

# Anything at all, valid or not, in any order: the property must still hold.
arbitrary_events = st.lists(
    st.one_of(
        st.builds(
            LegStarted,
            uniqueid=_LEGS,
            call_id=_CALLS,
            channel=st.sampled_from(["PJSIP/a", "PJSIP/b"]),
            endpoint=_TEXT,
            role=st.sampled_from(list(LegRole)),
            trunk=st.sampled_from([None, *Desk]),
            direction=st.sampled_from(list(Direction)),
            caller_number=_TEXT,
            caller_name=_TEXT,
            at=_TIMES,
        ),
        st.builds(LegUpdated, _LEGS, st.just("PJSIP/u"), _TEXT, _TEXT, _TIMES),
        st.builds(LegRinging, _LEGS, _TIMES),
        st.builds(LegAnswered, _LEGS, _TIMES),
        st.builds(LegEnded, _LEGS, _TIMES, st.sampled_from([None, 16]), _TEXT, st.booleans()),
        st.builds(CallStarted, _CALLS, st.sampled_from([None, *Desk]), _TEXT, _TEXT, _TIMES),
        st.builds(CallAnswered, _CALLS, _TIMES),
        # Merges touch rows no event names, the hard part: draw them often.
        *[st.builds(CallMerged, _CALLS, _CALLS, _TIMES)] * 4,
        st.builds(CallEnded, _CALLS, _TIMES),
        st.builds(LegJoinedBridge, _LEGS, _BRIDGES, _TIMES),
        st.builds(LegLeftBridge, _LEGS, _BRIDGES, _TIMES),
    ),
    min_size=10,
    max_size=40,
)
batch_sizes = st.lists(st.integers(1, 12), max_size=12)


async def _clear(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in ("bridge_memberships", "legs", "calls"):
            await connection.execute(text(f"DELETE FROM {table}"))


async def _assert_batching_changes_nothing(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    events: list[DomainEvent],
    sizes: list[int],
) -> None:
    await _clear(engine)
    await apply_in_batches(sessions, events, [1] * len(events))
    one_by_one = await snapshot(engine)
    await _clear(engine)
    await write_in_batches(sessions, events, sizes)
    assert await snapshot(engine) == one_by_one
    # And both equal the rules applied in memory with nothing to load.
    assert await typed_rows(engine) == replayed_in_memory(events)


@PROPERTY_SETTINGS
@given(events=interleaved_calls(), sizes=batch_sizes)
async def test_interleaved_calls_in_any_batches(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    events: list[DomainEvent],
    sizes: list[int],
) -> None:
    await _assert_batching_changes_nothing(engine, sessions, events, sizes)


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(events=arbitrary_events, sizes=batch_sizes)
async def test_arbitrary_events_in_any_batches(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    events: list[DomainEvent],
    sizes: list[int],
) -> None:
    await _assert_batching_changes_nothing(engine, sessions, events, sizes)
