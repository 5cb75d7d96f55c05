"""The desks in OpenAPI: the paths of ivr_flows/http.py and the shapes of
ivr_flows/shapes.py, written down from the code that produces them."""

from __future__ import annotations

from typing import Any

from ivr_flows.core.operators import OperatorState
from ivr_flows.core.waits import WaitOutcome
from web.openapi_blocks import (
    INTEGER,
    STRING,
    STRINGS,
    TIME,
    Schema,
    enum_of,
    json_content,
    nullable,
    obj,
    operation,
    path_param,
    ref,
    response,
)

NUMBER: Schema = {"type": "number"}
ROLES = "Roles: operator_110, operator_12345 (their own phone only), supervisor, admin."

_WAIT = {
    "id": STRING,
    "call_id": STRING,
    "desk": STRING,
    "via": {**STRING, "description": "citizen, menu, emergency, transfer or desk"},
    "priority": INTEGER,
    "position_on_joining": INTEGER,
    "outcome": enum_of(WaitOutcome),
    "joined_at": TIME,
    "left_at": nullable(TIME),
    "answered_at": nullable(TIME),
    "waited_s": NUMBER,
    "operator": nullable(STRING),
    "talk_s": nullable(INTEGER),
    "ended_by": {
        **nullable(STRING),
        "description": (
            "answered: who ended the call (caller, agent, transfer); left, when Asterisk's "
            "queue_log told how: timeout, key, empty, withdraw, restart"
        ),
    },
}
_OPERATOR = obj(
    {
        "phone": STRING,
        "desk": STRING,
        "state": enum_of(OperatorState),
        "reason": nullable(STRING),
        "since": nullable(TIME),
        "wrap_up_until": nullable(TIME),
    }
)

DESK_SCHEMAS: dict[str, Schema] = {
    "QueueWait": obj(_WAIT),
    "WaitingCaller": obj({**_WAIT, "caller_number": nullable(STRING), "position": INTEGER}),
    "Operator": _OPERATOR,
    "Desks": obj(
        {
            "desks": {
                "type": "array",
                "items": obj(
                    {
                        "desk": STRING,
                        "operators": {"type": "array", "items": ref("Operator")},
                        "logged_in": INTEGER,
                        "waiting": {"type": "array", "items": ref("WaitingCaller")},
                        "longest_wait_s": NUMBER,
                        "wrap_up_s": INTEGER,
                    }
                ),
            },
            "pause_reasons": STRINGS,
            "reconciled_at": nullable(TIME),
        }
    ),
    "OperatorAction": obj(
        {
            "phone": STRING,
            "action": enum_of(("login", "logout", "pause", "ready")),
            "reason": nullable(STRING),
            "state": nullable(ref("Operator")),
        }
    ),
    "PauseRequest": obj({"reason": STRING}),
    "MenuStep": obj(
        {
            "call_id": STRING,
            "at": TIME,
            "menu": STRING,
            "node": STRING,
            "key": nullable({**STRING, "description": "null: the node was entered"}),
            "mark": nullable({**STRING, "description": "hint=<code> or emergency"}),
        }
    ),
}


_ASKED = response("Asked of Asterisk; the state follows.", ref("OperatorAction"))


def paths() -> dict[str, dict[str, Any]]:
    return {
        "/api/v1/desks": {
            "get": operation(
                "listDesks",
                "Each desk's operators and waiting callers",
                tag="desks",
                ok={"200": response("Now.", ref("Desks"))},
                errors=(403,),
                description="Roles: operator_110, operator_12345, supervisor, admin.",
            )
        },
        "/api/v1/operators/{phone}/{action}": {
            "post": operation(
                "operatorAction",
                "Log a desk phone in or out, pause it with a reason, or make it ready",
                tag="desks",
                ok={
                    "202": response("Asked of Asterisk; the state follows.", ref("OperatorAction"))
                },
                errors=(400, 403, 404, 503),
                parameters=[
                    path_param("phone", "the desk phone (PJSIP endpoint)"),
                    {
                        **path_param("action", "login, logout, pause or ready"),
                        "schema": enum_of(("login", "logout", "pause", "ready")),
                    },
                ],
                body={"required": False, "content": json_content(ref("PauseRequest"))},
                description=f"{ROLES} pause needs a body with one of the desks' pause reasons.",
            )
        },
    }
