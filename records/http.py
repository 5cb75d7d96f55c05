"""The case API: open, list, read and move cases; the roster.

POST /api/v1/cases                        open a case (desks)
GET  /api/v1/cases                        list (units: their own only)
GET  /api/v1/cases/{number}               one case with its calls and timeline
GET  /api/v1/cases/{number}/suggestion    what the routing catalogue suggests
POST /api/v1/cases/{number}/{command}     a lifecycle move (classify, dispatch, sign, ...)
POST /api/v1/calls/{call_id}/case         attach a call to an open case
GET  /api/v1/units                        the member-unit roster
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from common.principal import Principal
from common.vocabulary import DESK_ROLES, TOKEN_ROLES, Desk, Role
from county.case_words import DemandType
from county.roster import Unit
from records.core.case_file import Actor, IllegalMove, NotPermitted, Refused
from records.core.lifecycle import GIVEN, OPEN_STATES, CaseState, Command
from records.core.payloads import Field, InvalidField, phone_number, validate_fields
from records.service.call_link import CaseCalls
from records.service.cases import CaseChanged, CaseNotFound, CaseService, CaseView
from records.shapes import case_json, case_summary, illegal_details
from records.storage.repository import CaseFilter, CaseRepository
from records.storage.roster_history import roster_at
from records.storage.tables import CaseRecord, UnitRecord
from telephony.service.lookup import Call, get_call
from web.app_state import RULES, SESSIONS
from web.auth import require
from web.errors import BadRequest, Conflict, Forbidden, NotFound
from web.json_in import json_object
from web.json_out import json_response
from web.query import parse_bool, parse_limit, parse_time

CASES: web.AppKey[CaseService] = web.AppKey("cases")
CASE_CALLS: web.AppKey[CaseCalls] = web.AppKey("case_calls")


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.name, principal.role, principal.unit)


async def create_case(request: web.Request) -> web.Response:
    principal = require(request, *DESK_ROLES, Role.ADMIN)
    body = await json_object(request)
    with case_errors():
        view = await request.app[CASES].open_case(actor_of(principal), body)
    return json_response(await full_case(request, view, principal), status=201)


async def list_cases(request: web.Request) -> web.Response:
    principal = require(request, *TOKEN_ROLES)
    query = request.query
    state = query.get("state")
    if state is not None and state not in CaseState.__members__.values():
        raise BadRequest(f"state: one of {', '.join(CaseState)}", {"field": "state"})
    desk = query.get("desk")
    if desk is not None and desk not in Desk.__members__.values():
        raise BadRequest("desk: 110 or 12345", {"field": "desk"})
    caller = query.get("caller_number")
    if caller and not principal.sees_full_numbers:
        raise Forbidden("your role may not search by caller number")
    if caller:
        with case_errors():
            caller = phone_number(caller)  # as numbers are stored: "139 1234 5678" finds it
    unit = query.get("unit")
    if principal.role is Role.UNIT:
        unit = principal.unit  # a unit sees its own cases, whatever it asks for
    where = CaseFilter(
        state=CaseState(state) if state else None,
        open_only=bool(parse_bool(query.get("open"), "open")),
        unit=unit,
        desk=Desk(desk) if desk else None,
        caller_number=caller or None,
        since=parse_time(query.get("since"), "since"),
        limit=parse_limit(query.get("limit")),
    )
    records = await request.app[CASES].find(where)
    now = request.app[CASES].clock()
    return json_response({"cases": [case_summary(r, principal, now) for r in records]})


async def get_case(request: web.Request) -> web.Response:
    principal = require(request, *TOKEN_ROLES)
    view = await visible_case(request, principal)
    return json_response(await full_case(request, view, principal))


async def get_suggestion(request: web.Request) -> web.Response:
    principal = require(request, *DESK_ROLES, Role.SUPERVISOR, Role.ADMIN)
    view = await visible_case(request, principal)
    with case_errors():
        draft = validate_fields(SUGGESTION_QUERY, dict(request.query), "a suggestion")
        suggestion = request.app[CASES].suggestion_for(view.record, draft)
    return json_response(suggestion)


# What the operator has typed so far may stand in for what the case holds.
SUGGESTION_QUERY = (
    Field("text", "text", description="the matter in the caller's words"),
    Field("demand_type", "enum", enum=DemandType),
    Field("category", "text"),
    Field("township", "unit"),
)


async def move_case(request: web.Request) -> web.Response:
    principal = require(request, *TOKEN_ROLES)
    raw = request.match_info["command"]
    command = Command(raw) if raw in GIVEN else None
    if command is None:  # recorded entries (absorb, link_call) are nobody's to give
        raise NotFound(f"no case command {raw!r} (commands: {', '.join(GIVEN)})")
    with case_errors():  # the case row alone: the move reads the rest itself
        check_visible(await request.app[CASES].record(request.match_info["number"]), principal)
    body = await json_object(request)
    with case_errors():
        view, _entry = await request.app[CASES].act(
            request.match_info["number"], command, actor_of(principal), body
        )
    return json_response(await full_case(request, view, principal))


async def attach_call(request: web.Request) -> web.Response:
    principal = require(request, *DESK_ROLES, Role.ADMIN)
    body = await json_object(request)
    number = body.get("case")
    if not isinstance(number, str) or not number:
        raise BadRequest("case: the case number to attach the call to", {"field": "case"})
    service = request.app[CASES]
    call_id = request.match_info["call_id"]
    async with request.app[SESSIONS]() as session:
        call = await get_call(session, call_id)
    if call is None:
        raise NotFound(f"no call {call_id!r}")
    with case_errors():
        view = await service.view(number)
        if CaseState(view.record.state) not in OPEN_STATES:
            raise Conflict(
                f"case {number} is {view.record.state.value}; attach calls to open cases "
                "(a closed case is re-opened first)"
            )
        await service.attach_call(number, call.id, actor_of(principal))  # a merged id: its survivor
        view = await service.view(number)
    return json_response(await full_case(request, view, principal))


async def list_units(request: web.Request) -> web.Response:
    """The roster now, or as it stood at `?at=` (from the roster history)."""
    require(request, *TOKEN_ROLES)
    at = parse_time(request.query.get("at"), "at")
    if at is None:
        units = [unit_json(u) for u in request.app[RULES].roster.units.values()]
    else:
        async with request.app[SESSIONS]() as session:
            units = [unit_json(row) for row in await roster_at(session, at)]
    return json_response({"units": units})


def unit_json(unit: Unit | UnitRecord) -> dict[str, Any]:
    def phones(value: tuple[str, ...] | str | None) -> list[str]:
        if isinstance(value, str):
            return value.split("、")
        return list(value or ())

    return {
        "code": unit.code,
        "name": unit.name,
        "type": unit.type.value,
        "township": unit.township,
        "leader": {"name": unit.leader, "phones": phones(unit.leader_phone)},
        "office": {"name": unit.office, "phones": phones(unit.office_phone)},
        "staff": {"name": unit.staff, "phones": phones(unit.staff_phone)},
        "duty_phones": phones(unit.duty_phone),
        "line": unit.line,  # its phone on the PBX: transfer to "unit:<code>" rings it
    }


async def visible_case(request: web.Request, principal: Principal) -> CaseView:
    with case_errors():
        view = await request.app[CASES].view(request.match_info["number"])
    check_visible(view.record, principal)
    return view


def check_visible(record: CaseRecord, principal: Principal) -> None:
    """A unit sees the cases it leads or co-handles, and no other."""
    if principal.role is not Role.UNIT:
        return
    if principal.unit != record.lead_unit and principal.unit not in (record.co_units or ()):
        raise Forbidden(f"case {record.number} is not assigned to your unit")


async def full_case(request: web.Request, view: CaseView, principal: Principal) -> dict[str, Any]:
    """The case JSON with its calls and their legs read from the call records."""
    async with request.app[SESSIONS]() as session:
        calls = [call for i in view.call_ids if (call := await get_call(session, i)) is not None]
    return case_json(view, principal, calls, request.app[CASES].clock())


@contextlib.contextmanager
def case_errors() -> Iterator[None]:
    """Service exceptions as API errors."""
    try:
        yield
    except InvalidField as exc:
        raise BadRequest(str(exc), {"field": exc.field}) from None
    except IllegalMove as exc:
        raise Conflict(str(exc), illegal_details(exc.allowed)) from None
    except NotPermitted as exc:
        raise Forbidden(str(exc)) from None
    except Refused as exc:
        raise Conflict(str(exc), illegal_details(exc.allowed)) from None
    except CaseChanged as exc:
        raise Conflict(str(exc)) from None
    except CaseNotFound as exc:
        raise NotFound(str(exc)) from None


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/cases", create_case)
    app.router.add_get("/api/v1/cases", list_cases)
    app.router.add_get("/api/v1/cases/{number}", get_case)
    app.router.add_get("/api/v1/cases/{number}/suggestion", get_suggestion)
    # Not …/suggestion: a POST there is a 405 with Allow (it is read-only);
    # any other unknown command gets a 404 that lists the commands.
    app.router.add_post("/api/v1/cases/{number}/{command:(?!suggestion$)[^/]+}", move_case)
    app.router.add_post("/api/v1/calls/{call_id}/case", attach_call)
    app.router.add_get("/api/v1/units", list_units)


async def anonymous_calls(request: web.Request, call_ids: list[str]) -> frozenset[str]:
    async with request.app[SESSIONS]() as session:
        return await CaseRepository(session).anonymous_calls(call_ids)


async def cases_of_call(request: web.Request, call: Call, principal: Principal) -> dict[str, Any]:
    """The case(s) a call belongs to; for the desks also the open cases of the
    same caller number, the candidates to merge a repeat call into (并单)."""
    if principal.role is Role.UNIT:
        return {}  # which case a call belongs to is the desks' and supervisors' to see
    async with request.app[SESSIONS]() as session:
        repo = CaseRepository(session)
        numbers = await repo.cases_of_call(call.id)
        candidates = []
        if call.caller_number and principal.role in (*DESK_ROLES, Role.ADMIN):
            where = CaseFilter(open_only=True, caller_number=call.caller_number, limit=20)
            candidates = [r.number for r in await repo.find(where) if r.number not in numbers]
    return {"cases": numbers, "case_candidates": candidates}
