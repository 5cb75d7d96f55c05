"""The database refuses writes for a moment (another process holds SQLite's write
lock): the server keeps taking AMI events, says so on health, and writes
everything once the lock is gone."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from database.engine import create_engine
from startup import contexts as lifecycle
from tests.component.conftest import (
    StartLiandong,
    expected_legs,
    leg_view,
    legs_by_id,
    trace,
)

CALL = "liandong-1795930660.0"
BUSY_MS = 50  # the app's SQLite busy timeout here: a locked write fails fast, then retries


@pytest.fixture
def small_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        lifecycle, "create_engine", functools.partial(create_engine, sqlite_busy_timeout_ms=BUSY_MS)
    )


class WriteLock:
    """BEGIN EXCLUSIVE from another connection, as another process would."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)

    async def take(self) -> None:
        await asyncio.to_thread(self._conn.execute, "BEGIN EXCLUSIVE")

    def release(self) -> None:
        self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()


@pytest.fixture
def write_lock(tmp_path: Path) -> Iterator[WriteLock]:
    lock = WriteLock(tmp_path / "t.db")
    yield lock
    lock.close()


@pytest.mark.usefixtures("small_busy_timeout")
async def test_locked_database_delays_writes_and_loses_none(
    start_liandong: StartLiandong, write_lock: WriteLock
) -> None:
    server = await start_liandong()
    events = trace("answered_110")

    # The call starts and is written as usual.
    first, rest = events[:2], events[2:]
    server.push(first)
    await server.call_where(CALL, lambda c: len(c["legs"]) == 2, "first two legs written")

    # Another process takes the write lock; the call goes on meanwhile.
    await write_lock.take()
    server.push(rest)
    await server.applied()

    async def refused() -> dict[str, object] | None:
        _, body = await server.health()
        database = body["database"]
        return body if database["pending_writes"] > 0 and database["last_error"] else None

    health = await server.eventually(refused, "health to report writes held up")
    assert "locked" in health["database"]["last_error"]
    assert health["database"]["ok"] is True  # reachable, just not writable
    assert health["ami"]["state"] == "connected"
    # Reads still work, and show what was written before the lock.
    call = await server.call(CALL)
    assert len(call["legs"]) == 2
    assert call["active"] is True
    assert call["answered_at"] is None

    # The lock goes away: every event lands, in order, nothing lost.
    write_lock.release()
    call = await server.call_where(CALL, lambda c: not c["active"], "call ended")
    assert {uid: leg_view(leg) for uid, leg in legs_by_id(call).items()} == expected_legs(events)
    assert call["caller_name"] == "张三丰"
    assert call["answered_at"] is not None
    assert call["ended_at"] == legs_by_id(call)[CALL]["ended_at"]

    async def caught_up() -> dict[str, object] | None:
        status, body = await server.health()
        return body if status == 200 and body["database"]["pending_writes"] == 0 else None

    health = await server.eventually(caught_up, "the writer to catch up")
    assert health["ok"] is True
