"""The database refuses writes for a while: the writer retries, loses nothing,
keeps the order, and the AMI side never waits."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from records_testkit import simple_call, snapshot, wait_until
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from database.engine import create_engine, session_factory
from telephony.core.events import DomainEvent
from telephony.storage.repository import CallRepository
from telephony.storage.writer import RecordWriter

FAST_RETRY = {"retry_initial": 0.01, "retry_max": 0.05, "max_delay": 0.0}


async def _assert_two_calls_complete(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        calls = await CallRepository(session).list_calls()
    assert [call.id for call in calls] == ["B", "A"]
    for call in calls:
        assert call.caller_name == "张三"
        assert call.ended_at is not None
        assert [leg.ended_at is not None for leg in call.legs] == [True, True]


@pytest.fixture
async def reference(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    """The rows the test's events give when written without trouble (then emptied)."""
    writer = RecordWriter(session_factory(engine))
    await writer.start()
    for event in [*simple_call("A", 0), *simple_call("B", 5)]:
        writer.submit(event)
    await writer.stop()
    rows = await snapshot(engine)
    async with engine.begin() as connection:
        for table in ("bridge_memberships", "legs", "calls"):
            await connection.execute(text(f"DELETE FROM {table}"))
    assert (await snapshot(engine))["calls"] == []
    return rows


async def _submit_through_outage(
    writer: RecordWriter, first: list[DomainEvent], rest: list[DomainEvent]
) -> None:
    for event in first:
        writer.submit(event)
    await wait_until(lambda: writer.stats.retries >= 2)
    # Ends of legs whose starts are still stuck in failed batches.
    for event in rest:
        writer.submit(event)
    assert writer.stats.pending == len(first) + len(rest)
    assert writer.stats.committed == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_locked_database_is_retried_and_nothing_lost(
    db_url: str, engine: AsyncEngine, reference: dict[str, list[tuple[object, ...]]]
) -> None:
    writer_engine = create_engine(db_url, sqlite_busy_timeout_ms=20)
    writer = RecordWriter(session_factory(writer_engine), **FAST_RETRY)
    locker = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        await writer.start()
        events = [*simple_call("A", 0), *simple_call("B", 5)]
        await _submit_through_outage(writer, events[:8], events[8:])
        assert writer.stats.last_error is not None
        assert writer.stats.last_error == "OperationalError: database is locked"
        assert writer.stats.consecutive_failures >= 2
        locker.execute("COMMIT")
        await writer.flush(timeout=10)
        assert writer.stats.pending == 0
        assert writer.stats.committed == len(events)
        assert writer.stats.consecutive_failures == 0
        assert writer.stats.retries >= 2
        assert await snapshot(engine) == reference
        await _assert_two_calls_complete(engine)
    finally:
        locker.close()
        await writer.stop(timeout=5)
        await writer_engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_postgres_failing_writes_are_retried_and_nothing_lost(
    engine: AsyncEngine, reference: dict[str, list[tuple[object, ...]]]
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql"
                " AS $$ BEGIN RAISE EXCEPTION 'refused by test trigger'; END $$"
            )
        )
        await connection.execute(
            text("CREATE TRIGGER refuse BEFORE INSERT ON legs EXECUTE FUNCTION test_refuse()")
        )
    writer = RecordWriter(session_factory(engine), **FAST_RETRY)
    try:
        await writer.start()
        events = [*simple_call("A", 0), *simple_call("B", 5)]
        await _submit_through_outage(writer, events[:8], events[8:])
        assert writer.stats.last_error is not None
        assert writer.stats.last_error == "RaiseError [P0001]: refused by test trigger"
        async with engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER refuse ON legs"))
        await writer.flush(timeout=10)
        assert writer.stats.committed == len(events)
        assert await snapshot(engine) == reference
    finally:
        await writer.stop(timeout=5)
        async with engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER IF EXISTS refuse ON legs"))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_postgres_connection_killed_mid_transaction(
    engine: AsyncEngine, reference: dict[str, list[tuple[object, ...]]]
) -> None:
    # The first batch stalls inside its transaction (a trigger sleeping once:
    # sequences ignore rollbacks) long enough to kill its backend right there.
    async with engine.begin() as connection:
        await connection.execute(text("CREATE SEQUENCE test_stall_once"))
        await connection.execute(
            text(
                "CREATE FUNCTION test_stall() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " IF nextval('test_stall_once') = 1 THEN PERFORM pg_sleep(30); END IF;"
                " RETURN NULL; END $$"
            )
        )
        await connection.execute(
            text("CREATE TRIGGER stall AFTER INSERT ON calls EXECUTE FUNCTION test_stall()")
        )
    writer_engine = create_engine(engine.url)
    writer = RecordWriter(session_factory(writer_engine), **FAST_RETRY)
    backends = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND wait_event = ANY(:waits)"
    )
    try:
        await writer.start()
        events = [*simple_call("A", 0), *simple_call("B", 5)]
        for event in events[:8]:
            writer.submit(event)
        async with engine.connect() as admin:
            # Autocommit: pg_stat_activity is frozen for the length of a transaction.
            await admin.execution_options(isolation_level="AUTOCOMMIT")
            stalled: list[int] = []
            async with asyncio.timeout(10):
                while not stalled:
                    rows = await admin.execute(backends, {"waits": ["PgSleep"]})
                    stalled = list(rows.scalars())
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": stalled[0]})
            await wait_until(lambda: writer.stats.committed == 8)
            assert writer.stats.retries >= 1
            assert writer.stats.last_error is not None
            assert "ConnectionDoesNotExistError" in writer.stats.last_error
            # Now kill the writer's idle pooled connections too: pre-ping replaces them.
            rows = await admin.execute(backends, {"waits": ["ClientRead"]})
            for pid in rows.scalars():
                await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for event in events[8:]:
            writer.submit(event)
        await writer.flush(timeout=10)
        assert writer.stats.committed == len(events)
        assert await snapshot(engine) == reference
    finally:
        await writer.stop(timeout=5)
        await writer_engine.dispose()
        async with engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER IF EXISTS stall ON calls"))
            await connection.execute(text("DROP FUNCTION IF EXISTS test_stall()"))
            await connection.execute(text("DROP SEQUENCE IF EXISTS test_stall_once"))
