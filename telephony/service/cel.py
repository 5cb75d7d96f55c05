"""Asterisk's own Channel Event Log, read back to learn how legs ended, and when
they were answered, while our AMI link was down (asterisk-config/cel.conf,
cel_sqlite3_custom.conf).

Read-only. The table has at least: eventtype, eventtime (epoch seconds with
microseconds, cel.conf `dateformat = %s.%6q`), uniqueid, extra (JSON on HANGUP).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from database.sqlite_close import mend_aiosqlite_close
from telephony.core.model import Ending

log = logging.getLogger(__name__)

_ENDINGS = text(
    "SELECT uniqueid, eventtype, eventtime, extra FROM cel "
    "WHERE uniqueid IN :ids AND eventtype IN ('HANGUP', 'CHAN_END')"
).bindparams(bindparam("ids", expanding=True))
_ANSWERS = text(
    "SELECT uniqueid, eventtime FROM cel WHERE uniqueid IN :ids AND eventtype = 'ANSWER'"
).bindparams(bindparam("ids", expanding=True))


class CelReader:
    def __init__(self, url: str) -> None:
        # A plain engine: Asterisk owns this database, we must not change its
        # settings (no WAL switch, no migrations). Point it at a read-only URL.
        mend_aiosqlite_close()
        self._engine: AsyncEngine = create_async_engine(url)

    async def endings(self, uniqueids: Iterable[str]) -> dict[str, Ending]:
        """How each leg ended, for those CEL knows. Errors mean 'unknown', never a crash."""
        rows = await self._read(_ENDINGS, uniqueids, "closing legs without it")
        return endings_from_rows((str(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows)

    async def answers(self, uniqueids: Iterable[str]) -> dict[str, datetime]:
        """When each leg was answered, for those CEL knows (its first ANSWER)."""
        rows = await self._read(_ANSWERS, uniqueids, "their answer times stay bounds")
        return answers_from_rows((str(r[0]), str(r[1])) for r in rows)

    async def _read(
        self, query: TextClause, uniqueids: Iterable[str], otherwise: str
    ) -> Sequence[Any]:
        ids = sorted(set(uniqueids))
        if not ids:
            return []
        try:
            async with self._engine.connect() as conn:
                return (await conn.execute(query, {"ids": ids})).all()
        except SQLAlchemyError as exc:
            log.warning("cannot read Asterisk CEL for %d legs (%s): %s", len(ids), otherwise, exc)
            return []

    async def close(self) -> None:
        await self._engine.dispose()


def endings_from_rows(rows: Iterable[tuple[str, str, str, str | None]]) -> dict[str, Ending]:
    ends: dict[str, datetime] = {}
    causes: dict[str, int | None] = {}
    for uniqueid, eventtype, eventtime, extra in rows:
        at = _epoch(eventtime)
        if at is None:
            continue
        if eventtype == "HANGUP":
            causes[uniqueid] = _cause(extra)
            ends.setdefault(uniqueid, at)
        elif eventtype == "CHAN_END":
            ends[uniqueid] = at  # the channel's very end wins over the hangup request
    return {uid: Ending(at=at, cause=causes.get(uid)) for uid, at in ends.items()}


def answers_from_rows(rows: Iterable[tuple[str, str]]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for uniqueid, eventtime in rows:
        at = _epoch(eventtime)
        if at is not None and (uniqueid not in out or at < out[uniqueid]):
            out[uniqueid] = at
    return out


def _epoch(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _cause(extra: str | None) -> int | None:
    try:
        cause = json.loads(extra or "{}").get("hangupcause")
    except (ValueError, AttributeError):
        return None
    return cause if isinstance(cause, int) else None
