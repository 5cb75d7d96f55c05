"""The scratch databases a run uses, and the users of the case API.

SQLite: a file in the run's temporary directory (WAL, as the server runs it).
PostgreSQL: the database named in `--pg-url` (default `ld_bench`), created
at the start of each use through the server's `postgres` database and dropped
(WITH (FORCE)) at its end. An existing database of that name is never touched:
the run stops instead, so a typo cannot drop someone's data.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.engine import URL, make_url

from ami_client.settings import AmiSettings, Secret
from common.vocabulary import Role
from county.case_rules import CaseRules
from database.engine import create_engine, session_factory
from database.migrate import upgrade
from startup.settings import Settings
from web.tokens import TokenRepository

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/ld_bench"


class DatabaseProblem(RuntimeError):
    """PostgreSQL is unreachable, or the scratch database already exists."""


def _admin(url_text: str) -> tuple[URL, str]:
    """The URL, and a DSN for the server's `postgres` database (to create and drop in)."""
    url = make_url(url_text)
    dsn = url.set(drivername="postgresql", database="postgres")
    return url, dsn.render_as_string(hide_password=False)


async def _admin_query(url_text: str, statement: str, *args: Any) -> Any:
    import asyncpg  # type: ignore[import-untyped]

    _, dsn = _admin(url_text)
    try:
        connection = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise DatabaseProblem(f"PostgreSQL unreachable: {type(exc).__name__}: {exc}") from exc
    try:
        return await connection.fetchval(statement, *args)
    finally:
        await connection.close()


async def server_version(url_text: str) -> str:
    return str(await _admin_query(url_text, "SHOW server_version"))


@contextlib.asynccontextmanager
async def postgres_database(url_text: str) -> AsyncIterator[str]:
    """Create the database `url_text` names, yield its asyncpg URL, drop it."""
    url, _ = _admin(url_text)
    name = url.database
    if not name or name in ("postgres", "template0", "template1"):
        raise DatabaseProblem(f"--pg-url must name a scratch database, not {name!r}")
    if await _admin_query(url_text, "SELECT 1 FROM pg_database WHERE datname = $1", name):
        raise DatabaseProblem(
            f"database {name!r} already exists; this benchmark creates and drops its own. "
            f"Drop it (dropdb -h {url.host} -U {url.username} {name}) or name another one"
        )
    await _admin_query(url_text, f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    finally:
        await _admin_query(url_text, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_settings(db_url: str) -> Settings:
    """The server's settings without Asterisk (as tests/component/cases_kit.py
    has them) and without the supervisor ladder's background pass."""
    return Settings(
        db_url=db_url,
        ami=AmiSettings(host="127.0.0.1", port=1, username="x", secret=Secret("x")),
        connect_ami=False,
        http_port=0,
        ladder_interval=0,
    )


# The roles the benchmark's requests are made as; one token per unit as well.
DESK_USERS: dict[str, Role] = {
    "op110": Role.OPERATOR_110,
    "op12345": Role.OPERATOR_12345,
    "supervisor": Role.SUPERVISOR,
    "admin": Role.ADMIN,
}


async def make_users(db_url: str, rules: CaseRules) -> dict[str, str]:
    """Migrate, then issue tokens: the desks, a supervisor, an admin and every
    unit of the roster (keyed by its code); name → plain token."""
    await upgrade(db_url)
    engine = create_engine(db_url)
    users: dict[str, tuple[Role, str | None]] = {
        name: (role, None) for name, role in DESK_USERS.items()
    }
    users |= {code: (Role.UNIT, code) for code in rules.roster.units}
    try:
        async with session_factory(engine)() as session:
            tokens = {}
            for name, (role, unit) in users.items():
                issued = await TokenRepository(session).create(f"压测{name}", role, unit=unit)
                tokens[name] = issued.plain
            await session.commit()
    finally:
        await engine.dispose()
    return tokens
