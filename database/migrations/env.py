"""Alembic environment for the records schema.

Two ways in: database.migrate hands over an open connection in
`config.attributes["connection"]` (the server and the tests); the alembic
command line gives a URL with `-x url=...` or LIANDONG_DB_URL.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from database.engine import create_engine
from database.types import UtcDateTime
from startup import schema

config = context.config
# Every feature's tables: gathered at the top (startup/schema.py), since the
# database package itself knows no feature.
target_metadata = schema.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("LIANDONG_DB_URL")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or set LIANDONG_DB_URL")
    return url


def _render_item(kind: str, obj: Any, _autogen: Any) -> str | bool:
    # New revisions get the plain column type, not our TypeDecorator, so that
    # a migration keeps meaning the same thing when database/types.py changes.
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        # SQLite cannot ALTER most things; batch operations rebuild the table
        # there and are plain ALTERs on PostgreSQL, so a revision generated on
        # either database runs on both.
        render_as_batch=True,
        compare_type=True,
    )


def _run_with(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_with)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


given: Connection | None = config.attributes.get("connection")
if given is not None:
    _run_with(given)
elif context.is_offline_mode():
    _run_offline()
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(_run_from_url(_url()))
