"""Query parameters of the API: one reader per kind, each answering a bad value
with a 400 that names the parameter."""

from __future__ import annotations

from datetime import datetime

from common.instants import BadInstant, parse_instant
from web.errors import BadRequest

MAX_LIMIT = 1000


def parse_bool(raw: str | None, name: str) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name}: expected true or false, got {raw!r}", {"field": name})


def parse_time(raw: str | None, name: str) -> datetime | None:
    """A query parameter's time in UTC (common.instants: the one reader of times)."""
    if not raw:
        return None
    try:
        return parse_instant(raw, plus_as_space=True)
    except BadInstant as exc:
        raise BadRequest(f"{name}: {exc}", {"field": name}) from None


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return 100
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"limit: not a number: {raw!r}", {"field": "limit"}) from None
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit: must be 1..{MAX_LIMIT}", {"field": "limit"})
    return value
