"""The desks' API: every operator's state and every waiting caller, log-in,
log-out, pause and ready for a desk phone (as its keys do), and the waits of
a call for its page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ami_client import AmiActionFailed, AmiError
from common.principal import Principal
from common.vocabulary import DESK_ROLES, Role
from ivr_flows.core.desk_actions import MEMBER_ACTIONS
from ivr_flows.service.callbacks import CallbackService
from ivr_flows.service.desks import DeskService
from ivr_flows.shapes import callback_json, line_json, operator_json, step_json, wait_json
from ivr_flows.storage.callbacks import CallbackStore
from ivr_flows.storage.repository import DeskRepository
from telephony.service.lookup import Call
from web.app_state import SESSIONS
from web.auth import require
from web.errors import BadRequest, Conflict, Forbidden, NotFound, Unavailable
from web.json_in import json_object
from web.json_out import json_response

DESKS: web.AppKey[DeskService] = web.AppKey("desks")
CALLBACKS: web.AppKey[CallbackService] = web.AppKey("callbacks")

READERS = (*DESK_ROLES, Role.ADMIN, Role.SUPERVISOR)
ACTIONS = MEMBER_ACTIONS


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/desks", list_desks)
    app.router.add_post("/api/v1/operators/{phone}/{action}", operator_action)


async def list_desks(request: web.Request) -> web.Response:
    principal = require(request, *READERS)
    service = request.app[DESKS]
    callbacks = request.app[CALLBACKS]
    now = datetime.now(UTC)
    desks = []
    for desk, rule in service.rules.desks.items():
        line = service.book.waiting(desk)
        desks.append(
            {
                "desk": desk,
                "operators": [operator_json(op) for op in service.board.operators(desk)],
                "logged_in": service.board.logged_in(desk),
                "waiting": line_json(line, now),
                "longest_wait_s": round(max((w.waited_until(now) for w in line), default=0.0), 1),
                "wrap_up_s": rule.wrap_up_s,
                # Callers who hung up keeping their place, to be called back.
                "callbacks": [callback_json(cb) for cb in callbacks.waiting(desk)],
            }
        )
    body = {
        "desks": desks,
        "pause_reasons": list(service.rules.pause_reasons.values()),
        "reconciled_at": service.reconciled_at.isoformat() if service.reconciled_at else None,
    }
    return json_response(principal.shown(body))  # the supervisors read numbers masked


async def operator_action(request: web.Request) -> web.Response:
    principal = require(request, *READERS)
    service = request.app[DESKS]
    phone, action = request.match_info["phone"], request.match_info["action"]
    if action not in ACTIONS:
        raise NotFound(f"no operator action {action!r} (expected {', '.join(ACTIONS)})")
    if service.rules.desk_of(phone) is None:
        raise NotFound(f"{phone!r} is not a desk phone (ivr_flows/desks.yaml)")
    _may_act_for(principal, phone)
    reason = ""
    if action == "pause":
        body = await json_object(request)
        raw = body.get("reason")
        reasons = list(service.rules.pause_reasons.values())
        if raw not in reasons:
            raise BadRequest(f"reason: one of {', '.join(reasons)}", {"field": "reason"})
        reason = str(raw)
    try:
        await service.set_member(phone, action, reason)
    except AmiActionFailed as exc:
        # Asterisk's own word: a phone logged in twice, or paused while logged out.
        raise Conflict(f"Asterisk refused to {action} {phone}: {exc.message}") from None
    except AmiError as exc:
        raise Unavailable(f"Asterisk did not {action} {phone}: {exc}") from None
    op = service.board.get(phone)
    return json_response(
        {
            "phone": phone,
            "action": action,
            "reason": reason or None,
            "state": operator_json(op) if op else None,
        },
        status=202,
    )


def _may_act_for(principal: Principal, phone: str) -> None:
    """An operator acts for their own phone; a supervisor or an admin for any."""
    if principal.role in DESK_ROLES and principal.phone != phone:
        raise Forbidden(f"an operator acts only for their own phone ({principal.phone})")


async def waits_of_call(request: web.Request, call: Call, principal: Principal) -> dict[str, Any]:
    """The call's waits in the desks' queues and its steps in the voice
    menus, for its page; the desks' business, not a member unit's."""
    if principal.role is Role.UNIT:
        return {}
    async with request.app[SESSIONS]() as session:
        repo = DeskRepository(session)
        waits = await repo.waits_of_call(call.id)
        steps = await repo.steps_of_call(call.id)
    callbacks = await CallbackStore(request.app[SESSIONS]).of_call(call.id)
    now = datetime.now(UTC)
    # The call's page says who called: a wait's copy of the number is left out.
    return {
        "queue_waits": [wait_json(w, now, with_caller=False) for w in waits],
        "menu_steps": [step_json(step) for step in steps],
        "callbacks": [
            {k: v for k, v in callback_json(cb).items() if k != "caller_number"} for cb in callbacks
        ],
    }
