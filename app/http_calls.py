"""GET /api/v1/calls and /api/v1/calls/{id}: calls with their legs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp import web

from app.auth import ALL_ROLES, require
from app.errors import BadRequest, NotFound
from app.jsonout import json_response
from app.keys import SESSIONS
from app.serialize import call_json
from records.repositories import CallRepository

MAX_LIMIT = 1000
# An unescaped '+' in a query string arrives as a space, so '?since=
# 2026-11-29T08:00:00+08:00' (as typed, and as our own error message suggests)
# reads '... 08:00'. The space before a trailing UTC offset can only be its '+'.
_PLUS_AS_SPACE = re.compile(r"(?<=\d) (?=\d{2}(?::?\d{2})?$)")


async def list_calls(request: web.Request) -> web.Response:
    principal = require(request, *ALL_ROLES)
    query = request.query
    active = parse_bool(query.get("active"), "active")
    since = parse_time(query.get("since"), "since")
    limit = parse_limit(query.get("limit"))
    async with request.app[SESSIONS]() as session:
        calls = await CallRepository(session).list_calls(active=active, since=since, limit=limit)
    full = principal.sees_full_numbers
    return json_response({"calls": [call_json(c, full_numbers=full) for c in calls]})


async def get_call(request: web.Request) -> web.Response:
    principal = require(request, *ALL_ROLES)
    call_id = request.match_info["call_id"]
    async with request.app[SESSIONS]() as session:
        call = await CallRepository(session).get_call(call_id)
    if call is None:
        raise NotFound(f"no call {call_id!r}")
    return json_response(
        call_json(call, full_numbers=principal.sees_full_numbers, with_bridges=True)
    )


def parse_bool(raw: str | None, name: str) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name}: expected true or false, got {raw!r}", {"field": name})


def parse_time(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    text = raw.replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = datetime.fromisoformat(_PLUS_AS_SPACE.sub("+", text))
        except ValueError:
            raise BadRequest(f"{name}: not an ISO 8601 time: {raw!r}", {"field": name}) from None
    if value.tzinfo is None:
        raise BadRequest(
            f"{name}: give a time zone (e.g. 2026-11-29T08:00:00+08:00)", {"field": name}
        )
    return value.astimezone(UTC)


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
