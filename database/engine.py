"""Engines and sessions. Nothing here runs at import time: the server builds
one engine from its settings and passes it down."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from database.sqlite_close import mend_aiosqlite_close

# Execution option asking for a write transaction up front. On SQLite that is
# BEGIN IMMEDIATE: the write lock is taken (or waited for) at the start instead
# of failing half way when a read transaction tries to become a write one.
WRITE_TRANSACTION: Final[dict[str, Any]] = {"liandong_sqlite_begin": "BEGIN IMMEDIATE"}

_ASYNC_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


# What a LIANDONG_DB_URL may name: the drivers above, bare or with their async driver.
SUPPORTED_DRIVERS: Final = frozenset({*_ASYNC_DRIVERS, *_ASYNC_DRIVERS.values()})


class BadDatabaseUrl(ValueError):
    """The URL cannot name a database liandong can use; the message never shows a password."""


def checked_url(url: str | URL) -> URL:
    """The URL with its async driver, if it names a usable database; BadDatabaseUrl if not."""
    try:
        parsed = make_url(url)
        port = parsed.port
    except (ValueError, ArgumentError):  # a bad port is a bare ValueError
        # Not echoed: an unparsable URL may still carry a password.
        raise BadDatabaseUrl(
            "not a database URL (e.g. sqlite+aiosqlite:///var/liandong.db or "
            "postgresql+asyncpg://liandong@127.0.0.1:5432/liandong)"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise BadDatabaseUrl(
            f"{shown}: unsupported database {parsed.drivername!r} "
            "(use sqlite+aiosqlite or postgresql+asyncpg)"
        )
    if port is not None and not 0 < port < 65536:
        raise BadDatabaseUrl(f"{shown}: port {port} is outside 1..65535")
    if parsed.get_backend_name() == "sqlite" and not parsed.database:
        raise BadDatabaseUrl(f"{shown}: no file named (sqlite+aiosqlite:///path/to/file.db)")
    return async_url(parsed)


def async_url(url: str | URL) -> URL:
    """The URL with its async driver filled in (`sqlite:///x` → `sqlite+aiosqlite:///x`)."""
    parsed = make_url(url)
    drivername = _ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=drivername)


def create_engine(url: str | URL, *, sqlite_busy_timeout_ms: int = 5000) -> AsyncEngine:
    """An async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg).

    Statement parameters are hidden from error messages: they carry caller
    numbers and names, which must not end up in logs.
    """
    parsed = checked_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        mend_aiosqlite_close()
        engine = _create_async_engine(parsed, hide_parameters=True)
        _install_sqlite_hooks(engine, sqlite_busy_timeout_ms)
        return engine
    if backend == "postgresql":
        # pre_ping: a connection killed while idle in the pool (server restart,
        # pg_terminate_backend) is replaced at checkout instead of failing a batch.
        # force_custom_plan: asyncpg prepares every statement, and after five
        # runs PostgreSQL may switch a prepared statement to a generic plan; for
        # the supervision views over a year that was a nested loop 5x slower
        # (benchmarks/cases/RESULTS.md). Planning our statements is cheap.
        return _create_async_engine(
            parsed,
            hide_parameters=True,
            pool_pre_ping=True,
            connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
        )
    raise ValueError(f"unsupported database {parsed.drivername!r}: use sqlite or postgresql")


def _install_sqlite_hooks(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take BEGIN away from the sqlite3 module (it skips BEGIN before SELECT),
        # and emit it ourselves in _on_begin so transactions are real ones.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        begin = connection.get_execution_options().get("liandong_sqlite_begin", "BEGIN")
        connection.exec_driver_sql(begin)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after commit without a
    # lazy refresh, which async sessions cannot do implicitly.
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Round trip to the database; raises if it is unreachable."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
