"""GET /api/v1/calls and /api/v1/calls/{id}: calls with their legs."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from common.vocabulary import DESK_ROLES, TOKEN_ROLES, Role
from records.storage.store import CaseFilter, CaseRepository
from telephony.shapes import call_json
from telephony.storage.queries import CallRepository
from telephony.storage.tables import Call
from web.app_state import SESSIONS
from web.auth import Principal, require
from web.errors import NotFound
from web.json_out import json_response
from web.query import parse_bool, parse_limit, parse_time


async def list_calls(request: web.Request) -> web.Response:
    principal = require(request, *TOKEN_ROLES)
    query = request.query
    active = parse_bool(query.get("active"), "active")
    since = parse_time(query.get("since"), "since")
    limit = parse_limit(query.get("limit"))
    async with request.app[SESSIONS]() as session:
        calls = await CallRepository(session).list_calls(active=active, since=since, limit=limit)
    full = principal.sees_full_numbers
    return json_response({"calls": [call_json(c, full_numbers=full) for c in calls]})


async def get_call(request: web.Request) -> web.Response:
    principal = require(request, *TOKEN_ROLES)
    call_id = request.match_info["call_id"]
    async with request.app[SESSIONS]() as session:
        call = await CallRepository(session).get_call(call_id)
    if call is None:
        raise NotFound(f"no call {call_id!r}")
    body = call_json(call, full_numbers=principal.sees_full_numbers, with_bridges=True)
    body |= await cases_of_call(request, call, principal)
    return json_response(body)


async def cases_of_call(request: web.Request, call: Call, principal: Principal) -> dict[str, Any]:
    """The case(s) a call belongs to; for the desks also the open cases of the
    same caller number, the candidates to merge a repeat call into (并单)."""
    async with request.app[SESSIONS]() as session:
        repo = CaseRepository(session)
        numbers = await repo.cases_of_call(call.id)
        candidates = []
        if call.caller_number and principal.role in (*DESK_ROLES, Role.ADMIN):
            where = CaseFilter(open_only=True, caller_number=call.caller_number, limit=20)
            candidates = [r.number for r in await repo.find(where) if r.number not in numbers]
    if principal.role is Role.UNIT:
        return {}  # which case a call belongs to is the desks' and supervisors' to see
    return {"cases": numbers, "case_candidates": candidates}
