"""Database fixtures for the records tests: every test runs on SQLite and on
PostgreSQL, each on a schema built by the Alembic migrations.

PostgreSQL: a fresh database for the run on the server at
LIANDONG_TEST_PG_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres,
which must allow CREATE DATABASE), dropped afterwards. If the server is
unreachable the PostgreSQL variants skip, and the run ends with a line saying
so; with CI=true they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from database.engine import async_url, create_engine, session_factory
from database.migrate import upgrade

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TABLES = (
    "sign_ins",
    "users",
    "queue_waits",
    "operator_periods",
    "menu_steps",
    "case_events",
    "case_calls",
    "cases",
    "case_counters",
    "units",
    "transfer_steps",
    "transfers",
    "bridge_memberships",
    "legs",
    "calls",
    "api_tokens",
    "queue_waits",
    "operator_periods",
    "menu_steps",
)

_PG_SKIPPED = pytest.StashKey[str]()
T = TypeVar("T")


def run_sync(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from a synchronous fixture.

    In a thread of its own, so it never meets the event loop pytest-asyncio
    runs the tests on.
    """

    async def main() -> T:
        return await coro_factory()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _pg_admin_url() -> str:
    return str(async_url(os.environ.get("LIANDONG_TEST_PG_URL", DEFAULT_PG_URL)))


async def _probe(url: str) -> None:
    engine = create_engine(url)
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        connection = await engine.connect()
        # CREATE/DROP DATABASE cannot run inside a transaction.
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(statement))
        await connection.close()
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_admin_url(request: pytest.FixtureRequest) -> str:
    url = _pg_admin_url()
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        run_sync(lambda: _probe(url))
    except Exception as exc:
        reason = f"PostgreSQL not reachable at {shown}: {type(exc).__name__}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the PostgreSQL variants must run)", pytrace=False)
        request.config.stash[_PG_SKIPPED] = reason
        pytest.skip(reason)
    return url


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    reason = config.stash.get(_PG_SKIPPED, None)
    if reason is not None:
        terminalreporter.write_line(f"PostgreSQL variants did NOT run: {reason}")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database, one per backend for the whole run."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('records') / 'records.db'}"
        run_sync(lambda: upgrade(url))
        yield url
        return
    admin = request.getfixturevalue("pg_admin_url")
    name = f"liandong_test_{uuid.uuid4().hex[:12]}"
    run_sync(lambda: _admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        run_sync(lambda: upgrade(url))
        yield url
    finally:
        run_sync(lambda: _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def backend(db_url: str) -> str:
    return make_url(db_url).get_backend_name()


async def clear_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                await connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the module's database, emptied before the test."""
    engine = create_engine(db_url)
    await clear_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)
