"""GET /api/v1/calls and /api/v1/calls/{id}: calls with their legs."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from common.principal import Principal
from common.vocabulary import TOKEN_ROLES
from telephony.service.ingest import Ingest
from telephony.shapes import call_json
from telephony.storage.repository import CallRepository
from telephony.storage.tables import Call
from web.app_state import SESSIONS
from web.auth import require
from web.errors import BadRequest, Forbidden, NotFound
from web.json_out import json_response
from web.query import parse_bool, parse_limit, parse_time

INGEST: web.AppKey[Ingest] = web.AppKey("ingest")
_CALLER_NUMBER = re.compile(r"\+?[0-9]{1,32}")

# What a call's page adds about the call from the other features (its cases,
# from records/http.py), given at start-up: telephony does not know cases.
CallExtras = Callable[[web.Request, Call, Principal], Awaitable[dict[str, Any]]]
CALL_EXTRAS: web.AppKey[CallExtras] = web.AppKey("call_extras")
# Which of these calls belong to an anonymous case (records/http.py): their
# callers' names read 匿名 for the masked roles, as in the case itself.
AnonymousCalls = Callable[[web.Request, list[str]], Awaitable[frozenset[str]]]
ANONYMOUS_CALLS: web.AppKey[AnonymousCalls] = web.AppKey("anonymous_calls")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/calls", list_calls)
    app.router.add_get("/api/v1/calls/{call_id}", get_call)


async def list_calls(request: web.Request) -> web.Response:
    principal = require(request, *TOKEN_ROLES)
    query = request.query
    active = parse_bool(query.get("active"), "active")
    since = parse_time(query.get("since"), "since")
    caller = caller_number(query.get("caller_number"), principal)
    limit = parse_limit(query.get("limit"))
    async with request.app[SESSIONS]() as session:
        calls = await CallRepository(session).list_calls(
            active=active, since=since, caller_number=caller, limit=limit
        )
    hidden = await anonymous_for(request, principal, [c.id for c in calls])
    full = principal.sees_full_numbers
    listed = [call_json(c, full_numbers=full, anonymous=c.id in hidden) for c in calls]
    return json_response({"calls": listed})


def caller_number(text: str | None, principal: Principal) -> str | None:
    """The number to look calls up by, as the network gives it: digits, maybe
    a leading +; spaces and dashes typed between them are dropped. Only the
    roles that read full numbers may search by one (a masked role would learn
    the number by guessing)."""
    if not text:
        return None
    if not principal.sees_full_numbers:
        raise Forbidden("your role may not search by caller number")
    number = text.strip().replace(" ", "").replace("-", "")
    if not _CALLER_NUMBER.fullmatch(number):
        raise BadRequest(
            "caller_number: digits, an optional leading +, at most 32 characters",
            {"field": "caller_number"},
        )
    return number


async def get_call(request: web.Request) -> web.Response:
    principal = require(request, *TOKEN_ROLES)
    call_id = request.match_info["call_id"]
    async with request.app[SESSIONS]() as session:
        call = await CallRepository(session).get_call(call_id)
    if call is None:
        raise NotFound(f"no call {call_id!r}")
    anonymous = bool(await anonymous_for(request, principal, [call.id]))
    body = call_json(
        call, full_numbers=principal.sees_full_numbers, with_bridges=True, anonymous=anonymous
    )
    body |= await request.app[CALL_EXTRAS](request, call, principal)
    return json_response(body)


async def anonymous_for(
    request: web.Request, principal: Principal, call_ids: list[str]
) -> frozenset[str]:
    """Only the masked roles have names hidden: the desks read who called."""
    if principal.sees_full_numbers:
        return frozenset()
    return await request.app[ANONYMOUS_CALLS](request, call_ids)
