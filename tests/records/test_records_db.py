"""Engine settings, health ping and the UTC column type on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from records_testkit import aiosqlite_threads_finished
from sqlalchemy import insert, select, text
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from database.engine import async_url, create_engine, ping
from telephony.storage.tables import Call


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_connection_settings(db_url: str) -> None:
    engine = create_engine(db_url, sqlite_busy_timeout_ms=1234)
    try:
        async with engine.connect() as connection:
            values = [
                (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            ]
    finally:
        await engine.dispose()
    assert values == ["wal", 1, 1234, 1]  # synchronous 1 = NORMAL


async def test_ping(engine: AsyncEngine) -> None:
    await ping(engine)


async def test_ping_raises_when_unreachable() -> None:
    engine = create_engine("sqlite:////nonexistent-dir/liandong.db")
    try:
        with pytest.raises(OperationalError):
            await ping(engine)
    finally:
        await engine.dispose()
        await aiosqlite_threads_finished()


def test_urls_get_async_drivers() -> None:
    assert str(async_url("sqlite:///var/x.db")) == "sqlite+aiosqlite:///var/x.db"
    assert str(async_url("postgresql://u@h/db")) == "postgresql+asyncpg://u@h/db"
    assert str(async_url("postgres://u@h/db")) == "postgresql+asyncpg://u@h/db"
    with pytest.raises(ValueError, match="unsupported database"):
        create_engine("mysql://u@h/db")


async def test_times_come_back_aware_utc_in_milliseconds(engine: AsyncEngine) -> None:
    beijing = timezone(timedelta(hours=8))
    started = datetime(2025, 3, 1, 10, 0, 0, 123_987, tzinfo=beijing)
    async with engine.begin() as connection:
        await connection.execute(insert(Call).values(id="t", started_at=started))
    async with engine.connect() as connection:
        stored = (await connection.execute(select(Call.started_at))).scalar_one()
    assert stored == datetime(2025, 3, 1, 2, 0, 0, 123_000, tzinfo=UTC)
    assert stored.tzinfo is UTC


async def test_naive_times_are_refused(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        with pytest.raises(StatementError) as caught:
            await connection.execute(insert(Call).values(id="n", started_at=datetime(2025, 3, 1)))
    assert isinstance(caught.value.orig, ValueError)
