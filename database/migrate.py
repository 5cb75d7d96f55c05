"""Run the Alembic migrations from code: the server at start, the tests per database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from database.engine import WRITE_TRANSACTION, create_engine

_HERE = Path(__file__).resolve().parent
_MIGRATION_LOCK_ID = 0x6C69616E  # "lian": any constant the other users of this database avoid


def alembic_config() -> Config:
    """The records Alembic config, independent of the working directory."""
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (default: the newest).

    Safe against other processes doing the same; not to be run twice at once
    in one process (Alembic keeps its running context in a module global).
    """
    await _run(url, lambda config: command.upgrade(config, revision))


async def downgrade(url: str, revision: str) -> None:
    await _run(url, lambda config: command.downgrade(config, revision))


async def _run(url: str, step: Callable[[Config], None]) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            # Two servers starting together: the second waits for the first to
            # commit, then finds the schema current. SQLite: the write lock
            # taken by BEGIN IMMEDIATE; PostgreSQL: an advisory lock.
            await connection.execution_options(**WRITE_TRANSACTION)

            def run(sync_connection: Connection) -> None:
                if sync_connection.dialect.name == "postgresql":
                    sync_connection.exec_driver_sql(
                        f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"
                    )
                config = alembic_config()
                # env.py uses this connection rather than opening its own.
                config.attributes["connection"] = sync_connection
                step(config)

            await connection.run_sync(run)
            await connection.commit()
    finally:
        await engine.dispose()
