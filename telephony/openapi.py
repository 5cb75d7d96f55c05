"""Calls in OpenAPI: the paths of telephony/http.py and the shapes of
telephony/shapes.py, written down from the code that produces them."""

from __future__ import annotations

from typing import Any

from common.vocabulary import Desk
from telephony.core.events import Direction, LegRole
from web.openapi_blocks import (
    BOOLEAN,
    CALL_ID,
    INTEGER,
    LIMIT,
    STRING,
    STRINGS,
    TIME,
    Schema,
    enum_of,
    nullable,
    obj,
    operation,
    query_param,
    ref,
    response,
)

_LEG: dict[str, Schema] = {
    "uniqueid": STRING,
    "channel": STRING,
    "endpoint": nullable(STRING),
    "role": enum_of(LegRole),
    "direction": enum_of(Direction),
    "trunk": nullable(enum_of(Desk)),
    "caller_number": nullable(
        {
            **STRING,
            "description": "masked for units and supervisors (139******78)",
        }
    ),
    "caller_name": nullable(STRING),
    "created_at": TIME,
    "ringing_at": nullable(TIME),
    "answered_at": nullable(TIME),
    "ended_at": nullable(TIME),
    "hangup_cause": nullable(INTEGER),
    "hangup_cause_text": nullable(STRING),
    "reconciled": BOOLEAN,
    "answered_at_bound": {
        **BOOLEAN,
        "description": "answered_at is the earliest the answer can have been; nobody saw it",
    },
    "ended_at_bound": {
        **BOOLEAN,
        "description": "ended_at is a bound, not the observed end (see README, legs)",
    },
}
_BRIDGE = obj({"bridge_id": STRING, "joined_at": TIME, "left_at": nullable(TIME)})


def _call(leg: str) -> dict[str, Schema]:
    return {
        "id": STRING,
        "trunk": nullable(enum_of(Desk)),
        "caller_number": nullable({**STRING, "description": "masked for units and supervisors"}),
        "caller_name": nullable(STRING),
        "started_at": TIME,
        "answered_at": nullable(TIME),
        "ended_at": nullable(TIME),
        "active": BOOLEAN,
        "legs": {"type": "array", "items": ref(leg)},
    }


CALL_SCHEMAS: dict[str, Schema] = {
    "Leg": obj(_LEG),
    "LegWithBridges": obj({**_LEG, "bridges": {"type": "array", "items": _BRIDGE}}),
    "Call": obj(_call("Leg")),
    "CallDetail": obj(
        {
            **_call("LegWithBridges"),
            "cases": {**STRINGS, "description": "case numbers this call belongs to"},
            "case_candidates": {
                **STRINGS,
                "description": "desks only: open cases of the same caller (并单 candidates)",
            },
            "queue_waits": {
                "type": "array",
                "items": ref("QueueWait"),
                "description": "the call's waits in the desks' queues, oldest first",
            },
            "menu_steps": {
                "type": "array",
                "items": ref("MenuStep"),
                "description": "the nodes entered and keys pressed in voice menus, in order",
            },
            "callbacks": {
                "type": "array",
                "items": ref("Callback"),
                "description": "callbacks the caller asked for on this call instead of waiting",
            },
        },
        optional=("cases", "case_candidates", "queue_waits", "menu_steps", "callbacks"),
        description="`cases` and `case_candidates` are left out for unit tokens.",
    ),
    "CallList": obj({"calls": {"type": "array", "items": ref("Call")}}),
}


def paths() -> dict[str, dict[str, Any]]:
    return {
        "/api/v1/calls": {
            "get": operation(
                "listCalls",
                "Calls with their legs",
                tag="calls",
                ok={"200": response("Newest first.", ref("CallList"))},
                parameters=[
                    query_param("active", BOOLEAN, "only calls still going (or only ended)"),
                    query_param("since", TIME, "started at or after (ISO 8601 with offset)"),
                    query_param(
                        "caller_number",
                        STRING,
                        "only calls from this number (spaces and dashes ignored); "
                        "not for the roles that read masked numbers (403)",
                    ),
                    LIMIT,
                ],
                errors=(400, 403),
                description="Roles: all.",
            )
        },
        "/api/v1/calls/{call_id}": {
            "get": operation(
                "getCall",
                "One call with its legs, bridges and cases",
                tag="calls",
                ok={"200": response("The call.", ref("CallDetail"))},
                errors=(404,),
                parameters=[CALL_ID],
                description="Roles: all.",
            )
        },
    }
