"""OpenAPI building blocks and the response shapes of calls, transfers, units
and health, written down from the code that produces them (telephony/shapes.py,
transfer/shapes.py, startup/health.py, records/http.py).

Response objects are closed (`additionalProperties: false`): a field added in
the code and not here fails tests/component/test_openapi.py, so the document
cannot drift from the wire.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from ami_client import LinkState
from common.vocabulary import Desk
from records.core.vocabulary import Route, UnitType
from telephony.core.events import Direction, LegRole
from transfer.core.states import By, Reason, TransferMode, TransferState

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
STRINGS: Schema = {"type": "array", "items": STRING}
# A transfer target exactly as transfer.core.target.parse_target takes it.
TARGET_PATTERN = "^(110|12345|unit:[0-9]{1,6}|unit:[A-Za-z0-9_-]{1,32})$"


def ref(name: str, kind: str = "schemas") -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or null (OpenAPI 3.1: JSON Schema type lists)."""
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def enum_of(values: type[StrEnum] | Iterable[str], description: str = "") -> Schema:
    schema: Schema = {"type": "string", "enum": [str(v) for v in values]}
    if description:
        schema["description"] = description
    return schema


def obj(properties: dict[str, Schema], *, optional: Iterable[str] = (), **extra: Any) -> Schema:
    """A closed object: every property required unless named in `optional`."""
    skip = set(optional)
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in skip],
        "additionalProperties": False,
        **extra,
    }


def json_content(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def response(description: str, schema: Schema | None = None) -> Schema:
    out: Schema = {"description": description}
    if schema is not None:
        out["content"] = json_content(schema)
    return out


def operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    ok: dict[str, Schema],
    errors: Iterable[int] = (),
    parameters: Iterable[Schema] = (),
    body: Schema | None = None,
    description: str = "",
    public: bool = False,
) -> Schema:
    """One operation; every one but the public ones also answers 401."""
    statuses = sorted({*errors, *(() if public else (401,))})
    out: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": {**ok, **{str(s): ref(ERRORS[s][0], "responses") for s in statuses}},
    }
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = list(parameters)
    if body is not None:
        out["requestBody"] = body
    if public:
        out["security"] = []
    return out


def path_param(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": STRING,
        "description": description,
    }


def query_param(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def empty_means_absent(paths: dict[str, dict[str, Any]]) -> None:
    """Mark flag, number and time query parameters `allowEmptyValue`: the
    parsers every handler uses for them (telephony/http.py) take `?name=` as
    not given."""
    for item in paths.values():
        for op in item.values():
            for param in op.get("parameters", ()) if isinstance(op, dict) else ():
                schema = param.get("schema", {})
                parsed = schema.get("type") in ("boolean", "integer")
                if param.get("in") == "query" and (parsed or schema.get("format") == "date-time"):
                    param["allowEmptyValue"] = True


# ------------------------------------------------------------------ errors

ERROR = obj(
    {
        "error": obj(
            {
                "code": {**STRING, "description": "stable, machine-readable (snake_case)"},
                "message": {**STRING, "description": "for people; may change"},
                "details": {
                    "type": "object",
                    "description": 'e.g. {"field": "limit"} or {"allowed": [...]}',
                },
            }
        )
    },
    description="Every error: web/errors.py",
)

# status → (component name, description)
ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "A parameter or the body is malformed; `details.field` names it."),
    401: ("Unauthorized", "No `Authorization: Bearer <token>` header, or an unknown token."),
    403: ("Forbidden", "This role (or this user's desk phone / unit) may not do this."),
    404: ("NotFound", "No such resource."),
    409: ("Conflict", "The resource is not in a state that allows this now."),
    503: ("Unavailable", "Asterisk is not reachable, or the resource is being reconciled."),
}


def error_responses() -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for status, (name, description) in ERRORS.items():
        response: Schema = {"description": description, "content": json_content(ref("Error"))}
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {"required": True, "schema": {"const": "Bearer"}}
            }
        out[name] = response
    return out


# ------------------------------------------------------------------ calls

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
        },
        optional=("cases", "case_candidates"),
        description="`cases` and `case_candidates` are left out for unit tokens.",
    ),
    "CallList": obj({"calls": {"type": "array", "items": ref("Call")}}),
}

# ------------------------------------------------------------------ transfers

_STEP = obj(
    {
        "at": TIME,
        "from": nullable(enum_of(TransferState)),
        "to": enum_of(TransferState),
        "event": {**STRING, "description": 'the event\'s type name ("Requested" first)'},
        "reason": enum_of(Reason),
        "mode": enum_of(TransferMode),
        "by": nullable(enum_of(By)),
    }
)
TRANSFER_SCHEMAS: dict[str, Schema] = {
    "Transfer": obj(
        {
            "id": STRING,
            "call_id": STRING,
            "state": enum_of(TransferState),
            "mode": enum_of(TransferMode),
            "requested_mode": enum_of(TransferMode),
            "target": {**STRING, "pattern": TARGET_PATTERN},
            "requested_by": enum_of(By),
            "caller_uniqueid": STRING,
            "operator_uniqueid": STRING,
            "target_uniqueid": nullable(STRING),
            "ring_timeout_s": INTEGER,
            "requested_at": TIME,
            "ended": BOOLEAN,
            "allowed": {**STRINGS, "description": "events the transfer takes now"},
            "timeline": {"type": "array", "items": _STEP},
        }
    ),
    "TransferList": obj({"transfers": {"type": "array", "items": ref("Transfer")}}),
    "TransferRequest": {
        "type": "object",
        "properties": {
            "to": {
                **STRING,
                "pattern": TARGET_PATTERN,
                "description": '"110", "12345", "unit:<roster code>" (unit:water) or '
                '"unit:<PBX line>" (unit:01)',
            },
            "mode": {**enum_of(["blind", "attended"]), "default": "blind"},
        },
        "required": ["to"],
        "description": "Other members are ignored.",
    },
    "ConferenceRequest": {
        "type": "object",
        "properties": {"to": {**STRING, "pattern": TARGET_PATTERN}},
        "required": ["to"],
        "description": "Other members are ignored.",
    },
}

# ------------------------------------------------------------------ units, health, routing


def _contact() -> Schema:
    return obj({"name": STRING, "phones": STRINGS})


OTHER_SCHEMAS: dict[str, Schema] = {
    "Unit": obj(
        {
            "code": STRING,
            "name": STRING,
            "township": nullable(STRING),
            "type": enum_of(UnitType),
            "leader": _contact(),
            "office": _contact(),
            "staff": _contact(),
            "duty_phones": STRINGS,
            "line": nullable(
                {**STRING, "description": 'its phone line on the PBX: a transfer to "unit:<code>"'}
            ),
        }
    ),
    "UnitList": obj({"units": {"type": "array", "items": ref("Unit")}}),
    "Suggestion": obj(
        {
            "route": enum_of(Route),
            "reason": {**STRING, "description": "which rule matched, on which word"},
            "rule": {**STRING, "description": 'the matched entry\'s code; "" when none'},
            "category": nullable(STRING),
            "lead_unit": nullable(STRING),
            "co_units": STRINGS,
            "answer": nullable({**STRING, "description": "话术 for an excluded matter"}),
            "transfer_to": nullable(STRING),
            "utility": BOOLEAN,
        }
    ),
    "Health": obj(
        {
            "ok": BOOLEAN,
            "ami": obj(
                {
                    "state": enum_of([*LinkState, "disabled"]),
                    "since": nullable(TIME),
                    "last_error": nullable(STRING),
                    "reconciled_at": nullable(TIME),
                    "reconcile_error": nullable(STRING),
                    "backlog": INTEGER,
                    "events_applied": INTEGER,
                }
            ),
            "asterisk": obj({"uptime_s": nullable(INTEGER)}),
            "cases": obj(
                {
                    "calendar_missing_years": {
                        "type": "array",
                        "items": INTEGER,
                        "description": "years within a year from now without a holiday file "
                        "(case-config/calendar/<year>.yaml): their due dates are provisional",
                    }
                }
            ),
            "database": obj(
                {
                    "ok": BOOLEAN,
                    "error": {**STRING, "description": "the exception type, when not ok"},
                    "pending_writes": INTEGER,
                    "last_error": nullable(STRING),
                    "last_error_at": nullable(TIME),
                },
                optional=("error",),
            ),
        }
    ),
    "Error": ERROR,
}
