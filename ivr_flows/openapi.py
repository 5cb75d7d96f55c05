"""The desks in OpenAPI: the paths of ivr_flows/http.py and the shapes of
ivr_flows/shapes.py, written down from the code that produces them."""

from __future__ import annotations

from typing import Any

from ivr_flows.core.callbacks import CallbackState
from ivr_flows.core.desk_actions import MEMBER_ACTIONS
from ivr_flows.core.desk_figures import MAX_PERIOD_DAYS as MAX_DAYS
from ivr_flows.core.operators import OperatorState
from ivr_flows.core.waits import WaitOutcome
from web.openapi_blocks import (
    BOOLEAN,
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
    query_param,
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

_CALLBACK = {
    "id": INTEGER,
    "call_id": {**STRING, "description": "the call the caller hung up to be called back"},
    "desk": STRING,
    "state": enum_of(CallbackState),
    "position_kept": {**INTEGER, "description": "the place in line held for the caller"},
    "asked_at": TIME,
    "attempts": {**INTEGER, "description": "times the caller's number was dialled"},
    "next_try_at": nullable(TIME),
    "operator": nullable(STRING),
    "last_status": nullable(
        {**STRING, "description": "Dial's status of the last attempt (ANSWER, BUSY, …)"}
    ),
    "updated_at": nullable(TIME),
}

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
                        "callbacks": {"type": "array", "items": ref("WaitingCallback")},
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
            "action": enum_of(MEMBER_ACTIONS),
            "reason": nullable(STRING),
            "state": nullable(ref("Operator")),
        }
    ),
    "PauseRequest": obj({"reason": STRING}),
    "Callback": obj(_CALLBACK),
    "WaitingCallback": obj({**_CALLBACK, "caller_number": STRING}),
    "MenuStep": obj(
        {
            "call_id": STRING,
            "at": TIME,
            "menu": STRING,
            "node": STRING,
            "key": nullable({**STRING, "description": "null: the node was entered"}),
            "mark": nullable(
                {
                    **STRING,
                    "description": (
                        "hint=<code>, emergency, case_found, case_not_found, "
                        "case_unavailable, callback or callback_unavailable"
                    ),
                }
            ),
        }
    ),
}


# ------------------------------------------------------------------ supervision figures

_SECONDS = nullable({**NUMBER, "description": "seconds, one decimal; null: nothing to measure"})
_RATE = nullable({**NUMBER, "description": "0…1; null when no offer was decided"})
_MET = nullable({**BOOLEAN, "description": "null when no offer was decided"})
_FIGURES = {
    "offered": {**INTEGER, "description": "callers put in the line (an overflow's return: one)"},
    "answered": INTEGER,
    "answered_within_target": {**INTEGER, "description": "answered within answer_within_s"},
    "abandoned": {**INTEGER, "description": "hung up in line"},
    "left": {**INTEGER, "description": "went on elsewhere (backup post, transfer given back)"},
    "waiting": {**INTEGER, "description": "still in line: not in the rates or wait times"},
    "called_back": {
        **INTEGER,
        "description": "left the line to be called back: not in the rates or wait times",
    },
    "average_wait_s": _SECONDS,
    "longest_wait_s": _SECONDS,
    "average_answer_s": _SECONDS,
    "connection_rate": _RATE,
    "service_level": _RATE,
    "connection_rate_met": _MET,
    "service_level_met": _MET,
}
_OFFERED_BY_VIA = {
    "type": "object",
    "additionalProperties": INTEGER,
    "description": "offers by how the caller came: citizen, menu, emergency, transfer, desk",
}
_OPERATOR_FIGURES = {
    "phone": nullable({**STRING, "description": "null in the total"}),
    "desk": nullable(STRING),
    "answered": INTEGER,
    "talk_s": {**INTEGER, "description": "talk time of the answered queue calls"},
    "average_talk_s": _SECONDS,
    "logged_in_s": NUMBER,
    "idle_s": NUMBER,
    "ringing_s": NUMBER,
    "talking_s": {**NUMBER, "description": "on any call (queue, transfer, unit)"},
    "paused_s": {**NUMBER, "description": "paused for any reason, the automatic wrap-up too"},
    "pauses": {
        "type": "array",
        "items": obj({"reason": STRING, "seconds": NUMBER}),
        "description": "every reason of pause_reasons, in its order",
    },
}
FIGURE_SCHEMAS: dict[str, Schema] = {
    "DeskFigures": obj(
        {
            "from": TIME,
            "to": TIME,
            "desk": nullable(STRING),
            "targets": obj(
                {
                    "answer_within_s": INTEGER,
                    "connection_rate": NUMBER,
                    "service_level": NUMBER,
                }
            ),
            "desks": {
                "type": "array",
                "items": obj(
                    {
                        "desk": STRING,
                        "total": obj({**_FIGURES, "offered_by_via": _OFFERED_BY_VIA}),
                        "hours": {
                            "type": "array",
                            "items": obj({"start": TIME, "end": TIME, **_FIGURES}),
                        },
                    }
                ),
            },
        }
    ),
    "OperatorFigures": obj(_OPERATOR_FIGURES),
    "OperatorFiguresList": obj(
        {
            "from": TIME,
            "to": TIME,
            "desk": nullable(STRING),
            "pause_reasons": STRINGS,
            "operators": {"type": "array", "items": ref("OperatorFigures")},
            "total": ref("OperatorFigures"),
        }
    ),
}
DESK_SCHEMAS.update(FIGURE_SCHEMAS)

_EDGE: Schema = {
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
        {"type": "string", "enum": [""]},
    ]
}
_PERIOD_PARAMS = [
    query_param(
        "from",
        _EDGE,
        "start (inclusive): ISO 8601 with an offset, or a date (00:00 county time); "
        "default: the 1st of this month, 00:00 county time",
    ),
    query_param(
        "to",
        _EDGE,
        f"end (exclusive), after `from` and at most {MAX_DAYS} days after it; "
        "default: the 1st of next month, 00:00 county time",
    ),
    query_param("desk", enum_of(("110", "12345", "")), "one desk (default: both)"),
    query_param("format", enum_of(("json", "csv")), "json (default) or csv"),
]
_CSV_NOTE = (
    "With format=csv: UTF-8 with a BOM, Chinese column headers, county time, rates in "
    "percent, durations in seconds; sent as an attachment."
)


def _figures(schema: str) -> dict[str, Schema]:
    return {
        "200": {
            "description": "the figures",
            "content": {
                **json_content(ref(schema)),
                "text/csv": {"schema": STRING},
            },
            "headers": {
                "Content-Disposition": {
                    "description": 'CSV only: attachment; filename="….csv"',
                    "schema": STRING,
                }
            },
        }
    }


def figure_paths() -> dict[str, dict[str, Any]]:
    return {
        "/api/v1/supervision/desks": {
            "get": operation(
                "supervisionDeskFigures",
                "Each desk's figures per county hour and over the period",
                tag="supervision",
                ok=_figures("DeskFigures"),
                errors=(400, 403),
                parameters=_PERIOD_PARAMS,
                description=(
                    "Per desk, every county hour of [from, to) and the total: offered, "
                    "answered, answered within the target time, abandoned, left, average "
                    "and longest wait, average answer, connection rate (answered / decided "
                    "offers) and service level (answered in time / decided offers), and "
                    "whether the county's targets are met. An offer is a caller put in the "
                    "line, counted in the hour it joined; a caller put back after an "
                    "overflow is the same offer. Roles: supervisor, admin; operator_110 and "
                    f"operator_12345 read their own desk only, whatever `desk` says. {_CSV_NOTE}"
                ),
            )
        },
        "/api/v1/supervision/operators": {
            "get": operation(
                "supervisionOperatorFigures",
                "Each operator phone's answered calls, talk time and pauses",
                tag="supervision",
                ok=_figures("OperatorFiguresList"),
                errors=(400, 403),
                parameters=_PERIOD_PARAMS,
                description=(
                    "Per desk phone over [from, to): queue calls answered (of the offers "
                    "that joined in the period: they add up to the desks' answered), their "
                    "talk time, time logged in, idle, ringing, on a call, and paused by "
                    "reason (the automatic wrap-up as 自动话后整理). States are clipped to "
                    f"the period. Roles: supervisor, admin. {_CSV_NOTE}"
                ),
            )
        },
    }


_ASKED = response("Asked of Asterisk; the state follows.", ref("OperatorAction"))


def paths() -> dict[str, dict[str, Any]]:
    return {
        **figure_paths(),
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
                errors=(400, 403, 404, 409, 503),
                parameters=[
                    path_param("phone", "the desk phone (PJSIP endpoint)"),
                    {
                        **path_param("action", "login, logout, pause or ready"),
                        "schema": enum_of(MEMBER_ACTIONS),
                    },
                ],
                body={"required": False, "content": json_content(ref("PauseRequest"))},
                description=f"{ROLES} pause needs a body with one of the desks' pause reasons.",
            )
        },
    }
