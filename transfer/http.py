"""The transfer API: start a transfer or a three-way call on a call, complete
or cancel it, read transfers. Same service and rules as the phone keys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ami_client import AmiError
from common.principal import Principal
from common.vocabulary import DESK_ROLES, Role
from county.roster import Roster
from transfer.core.errors import BadTarget, IllegalTransition, TransferRunning
from transfer.core.machine import Transfer
from transfer.core.parties import NotOnACall
from transfer.core.states import TransferMode
from transfer.core.target import UNIT_PREFIX, parse_target
from transfer.service import TransferService
from transfer.shapes import transfer_json
from web.app_state import RULES
from web.auth import require
from web.errors import BadRequest, Conflict, Forbidden, NotFound, Unavailable
from web.json_in import json_object
from web.json_out import json_response
from web.query import parse_limit, parse_time

TRANSFERS: web.AppKey[TransferService] = web.AppKey("transfers")

ACTORS = (*DESK_ROLES, Role.ADMIN, Role.SUPERVISOR)  # may act on transfers
MODES = {"blind": TransferMode.BLIND, "attended": TransferMode.ATTENDED}


async def start_transfer(request: web.Request) -> web.Response:
    principal = require(request, *ACTORS)
    body = await json_object(request)
    raw = body.get("mode", "blind")
    mode = MODES.get(raw) if isinstance(raw, str) else None
    if mode is None:
        raise BadRequest('mode: "blind" or "attended"', {"field": "mode"})
    return await _start(request, principal, body, mode)


async def start_conference(request: web.Request) -> web.Response:
    principal = require(request, *ACTORS)
    return await _start(request, principal, await json_object(request), TransferMode.CONFERENCE)


async def _start(
    request: web.Request, principal: Principal, body: dict[str, Any], mode: TransferMode
) -> web.Response:
    service = request.app[TRANSFERS]
    call_id = request.match_info["call_id"]
    to = body.get("to")
    if not isinstance(to, str):
        raise BadRequest('to: "110", "12345" or "unit:<code>"', {"field": "to"})
    try:
        target = parse_target(_unit_line(request, to))
    except BadTarget as exc:
        raise BadRequest(f"to: {exc}", {"field": "to"}) from None
    operator = _operator_leg(service, principal, call_id)
    try:
        transfer = await service.request(call_id, operator, mode, target)
    except TransferRunning as exc:
        raise Conflict(str(exc), {"transfer_id": exc.transfer_id}) from None
    except BadTarget as exc:  # the roster changed since the check above
        raise BadRequest(f"to: {exc}", {"field": "to"}) from None
    except NotOnACall as exc:
        raise Conflict(str(exc)) from None
    except AmiError as exc:
        raise Unavailable(f"Asterisk is not reachable: {exc}") from None
    return json_response(transfer_json(transfer), status=201)


def _operator_leg(service: TransferService, principal: Principal, call_id: str) -> str:
    if not service.is_live_call(call_id):
        raise NotFound(f"no live call {call_id!r}")
    if principal.role in DESK_ROLES:
        if principal.phone is None:
            raise Forbidden("this operator token is not bound to a desk phone")
        leg = service.operator_leg(call_id, principal.phone)
        if leg is None:
            raise Forbidden(f"your phone {principal.phone} is not on call {call_id}")
        return leg
    leg = service.operator_leg(call_id, None)
    if leg is None:
        raise Conflict(f"call {call_id} has no single operator talking with the caller")
    return leg


async def complete_transfer(request: web.Request) -> web.Response:
    return await _step(request, TransferService.complete)


async def cancel_transfer(request: web.Request) -> web.Response:
    return await _step(request, TransferService.cancel)


async def _step(
    request: web.Request, step: Callable[[TransferService, Transfer], Awaitable[None]]
) -> web.Response:
    service, transfer = await _acting_on(request)
    try:
        await step(service, transfer)
    except IllegalTransition as exc:
        raise Conflict(str(exc), {"allowed": list(exc.allowed)}) from None
    return json_response(transfer_json(transfer))


async def _acting_on(request: web.Request) -> tuple[TransferService, Transfer]:
    principal = require(request, *ACTORS)
    service = request.app[TRANSFERS]
    transfer = await _find(service, request.match_info["transfer_id"])
    if service.awaiting_reconciliation(transfer):
        # Read back from the records after a restart, not yet checked against
        # Asterisk: acting on it now would move a copy, not the call.
        raise Unavailable(f"transfer {transfer.id} is being reconciled with Asterisk; retry")
    if principal.role in DESK_ROLES:
        phone = service.operator_phone(transfer.id)
        if principal.phone is None or principal.phone != phone:
            raise Forbidden(f"transfer {transfer.id} is not yours to act on")
    return service, transfer


async def get_transfer(request: web.Request) -> web.Response:
    require(request, *ACTORS)
    transfer = await _find(request.app[TRANSFERS], request.match_info["transfer_id"])
    return json_response(transfer_json(transfer))


async def list_transfers(request: web.Request) -> web.Response:
    require(request, *ACTORS)
    since = parse_time(request.query.get("since"), "since")
    limit = parse_limit(request.query.get("limit"))
    transfers = await request.app[TRANSFERS].list_since(since, limit)
    return json_response({"transfers": [transfer_json(t) for t in transfers]})


def _unit_line(request: web.Request, to: str) -> str:
    """`unit:<roster code>` (unit:water) as the unit's PBX line (unit:01); a
    line given as digits must be one of the roster's; the desks pass as they are."""
    code = to.removeprefix(UNIT_PREFIX)
    if code == to or not code:
        return to
    roster = request.app[RULES].roster
    if code.isascii() and code.isdigit():
        if len(code) > 6 or roster.on_line(code) is not None:
            return to  # too long: parse_target says what a line looks like
        raise BadRequest(f"to: no unit is on PBX line {code}; {_reachable(roster)}", _to(roster))
    unit = roster.get(code)
    if unit is None:
        raise BadRequest(f"to: no unit {code!r} in the roster; {_reachable(roster)}", _to(roster))
    if unit.line is None:
        raise BadRequest(
            f"to: unit {code} ({unit.name}) has no phone line on the PBX "
            "(the line column of units.csv); call its duty phone",
            {"field": "to"},
        )
    return UNIT_PREFIX + unit.line


def _reachable(roster: Roster) -> str:
    lines = [f"{u.code} ({u.line})" for u in roster.units.values() if u.line is not None]
    return "units with a line: " + (", ".join(lines) or "none")


def _to(roster: Roster) -> dict[str, Any]:
    """The error's details: the field, and the roster codes that can be rung."""
    return {"field": "to", "units": [u.code for u in roster.units.values() if u.line is not None]}


async def _find(service: TransferService, transfer_id: str) -> Transfer:
    transfer = await service.find(transfer_id)
    if transfer is None:
        raise NotFound(f"no transfer {transfer_id!r}")
    return transfer


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/calls/{call_id}/transfer", start_transfer)
    app.router.add_post("/api/v1/calls/{call_id}/conference", start_conference)
    app.router.add_post("/api/v1/transfers/{transfer_id}/complete", complete_transfer)
    app.router.add_post("/api/v1/transfers/{transfer_id}/cancel", cancel_transfer)
    app.router.add_get("/api/v1/transfers/{transfer_id}", get_transfer)
    app.router.add_get("/api/v1/transfers", list_transfers)
