"""Event builders and database snapshots shared by the records tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common.vocabulary import Desk
from database.engine import WRITE_TRANSACTION
from telephony.core.events import (
    CallAnswered,
    CallEnded,
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
)
from telephony.storage.apply import Batch, apply_all
from telephony.storage.batch import write_batch
from telephony.storage.tables import BridgeMembership, Call, Leg

T0 = datetime(2025, 3, 1, 2, 0, 0, tzinfo=UTC)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def leg_started(
    uniqueid: str,
    call_id: str,
    ms: float,
    *,
    role: LegRole = LegRole.CITIZEN,
    direction: Direction = Direction.INBOUND,
    trunk: Desk | None = Desk.D110,
    number: str | None = "13800000000",
    name: str | None = None,
    endpoint: str | None = None,
) -> LegStarted:
    return LegStarted(
        uniqueid=uniqueid,
        call_id=call_id,
        channel=f"PJSIP/{endpoint or 'trunk'}-{uniqueid}",
        endpoint=endpoint,
        role=role,
        trunk=trunk,
        direction=direction,
        caller_number=number,
        caller_name=name,
        at=at(ms),
    )


def simple_call(call_id: str, start_ms: float, *, name: str = "张三") -> list[DomainEvent]:
    """A citizen calls 110, an operator answers, both in one bridge, citizen hangs up."""
    citizen, operator, bridge = f"{call_id}.1", f"{call_id}.2", f"br-{call_id}"
    return [
        CallStarted(call_id, Desk.D110, "13800000000", name, at(start_ms)),
        leg_started(citizen, call_id, start_ms, name=name),
        leg_started(
            operator,
            call_id,
            start_ms + 10,
            role=LegRole.OPERATOR_110,
            direction=Direction.OUTBOUND,
            trunk=None,
            number="8001",
            name="接警员",
            endpoint="desk110-1",
        ),
        LegRinging(operator, at(start_ms + 20)),
        LegAnswered(operator, at(start_ms + 3000)),
        LegAnswered(citizen, at(start_ms + 3001)),
        CallAnswered(call_id, at(start_ms + 3001)),
        LegJoinedBridge(citizen, bridge, at(start_ms + 3002)),
        LegJoinedBridge(operator, bridge, at(start_ms + 3002)),
        LegLeftBridge(citizen, bridge, at(start_ms + 60000)),
        LegLeftBridge(operator, bridge, at(start_ms + 60000)),
        LegEnded(citizen, at(start_ms + 60001), 16, "Normal Clearing"),
        LegEnded(operator, at(start_ms + 60002), 16, "Normal Clearing"),
        CallEnded(call_id, at(start_ms + 60002)),
    ]


_SNAPSHOT_QUERIES = {
    "calls": "SELECT * FROM calls ORDER BY id",
    "legs": "SELECT * FROM legs ORDER BY uniqueid",
    "bridge_memberships": (
        "SELECT bridge_id, uniqueid, joined_at, left_at FROM bridge_memberships"
        " ORDER BY uniqueid, bridge_id, joined_at"
    ),
}


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every call record row, as stored (raw driver values, no type processing)."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as connection:
        for table, query in _SNAPSHOT_QUERIES.items():
            rows = await connection.execute(text(query))
            result[table] = [tuple(row) for row in rows]
    return result


async def write_in_batches(
    sessions: async_sessionmaker[AsyncSession],
    events: Sequence[DomainEvent],
    sizes: Iterable[int],
) -> None:
    """Commit `events` in consecutive batches of the given sizes (rest in one)."""
    batches = _cut(events, sizes)
    for batch in batches:
        async with sessions() as session, session.begin():
            await session.connection(execution_options=WRITE_TRANSACTION)
            await write_batch(session, batch)


async def apply_in_batches(
    sessions: async_sessionmaker[AsyncSession],
    events: Sequence[DomainEvent],
    sizes: Iterable[int],
) -> None:
    """Like write_in_batches, but all batches in one transaction.

    Each batch still reads what the previous ones wrote, so the rows come out
    the same; it only saves the commits, which is what makes property tests slow.
    """
    async with sessions() as session, session.begin():
        await session.connection(execution_options=WRITE_TRANSACTION)
        for batch in _cut(events, sizes):
            await write_batch(session, batch)


def _cut(events: Sequence[DomainEvent], sizes: Iterable[int]) -> list[Sequence[DomainEvent]]:
    batches: list[Sequence[DomainEvent]] = []
    start = 0
    for size in sizes:
        if start >= len(events):
            break
        batches.append(events[start : start + size])
        start += size
    if start < len(events):
        batches.append(events[start:])
    return batches


async def wait_until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Poll `predicate` until true or time out.

    Tests only: writer stats have no change notification, and need none.
    """
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def typed_rows(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every call record row as the column types read it (aware UTC, enums)."""
    queries = {
        "calls": select(Call.__table__),
        "legs": select(Leg.__table__),
        "bridge_memberships": select(
            BridgeMembership.bridge_id,
            BridgeMembership.uniqueid,
            BridgeMembership.joined_at,
            BridgeMembership.left_at,
        ),
    }
    result: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as connection:
        for name, query in queries.items():
            rows = await connection.execute(query)
            result[name] = sorted((dict(row._mapping) for row in rows), key=repr)
    return result


def replayed_in_memory(events: Sequence[DomainEvent]) -> dict[str, list[dict[str, Any]]]:
    """The rows the events give from an empty database, by the pure rules alone.

    Starting from nothing, every row lives in memory, so this is sequential
    application with no loading involved: the reference for the database.
    """
    batch = Batch([], [], [])
    apply_all(batch, events)
    return {
        "calls": sorted((dict(row) for row in batch.changed_calls()), key=repr),
        "legs": sorted((dict(row) for row in batch.changed_legs()), key=repr),
        "bridge_memberships": sorted((dict(row) for row in batch.changed_memberships()), key=repr),
    }


async def aiosqlite_threads_finished() -> None:
    """Wait for aiosqlite's worker threads to end.

    After a failed connect aiosqlite stops its thread without awaiting it; if
    the test's loop closes first, the thread dies with "Event loop is closed".
    """
    await wait_until(
        lambda: not any("_connection_worker_thread" in t.name for t in threading.enumerate())
    )
