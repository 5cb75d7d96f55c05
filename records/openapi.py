"""The case API in OpenAPI: request bodies generated from what the server
validates them with (`records.core.payloads.FIELDS` and `CREATE_FIELDS`),
who may give which command from where (`records.core.lifecycle`), and the
case as records/shapes.py shapes it.

The server has one route for the moves, `POST /api/v1/cases/{number}/{command}`,
but the document has one path per command (`/api/v1/cases/{number}/classify`,
...). A single path with a `command` enum would need a body schema that depends
on a path parameter, which OpenAPI cannot say: a `oneOf` of thirty bodies
validates `{"note": "x"}` against many of them, so `oneOf` fails (and `anyOf`
lets a classify body through to sign). One path per command gives each its
exact, closed body schema and its own roles in the description, and client
generators get one method per command.
"""

from __future__ import annotations

from typing import Any

from common.vocabulary import DESK_ROLES, Desk, Role
from county.case_words import DemandType, Route, UnitType, Urgency
from records.core.callback_notes import CALLBACK_ENTRY, ON_TIMELINE, CallbackOutcome
from records.core.case_file import Extension
from records.core.follow_up_notes import FOLLOW_UP_ENTRY
from records.core.lifecycle import GIVEN, ROLES, TRANSITIONS, CaseState, Command
from records.core.menu_notes import MENU_ENTRY, OPEN_ENTRY
from records.core.notice_notes import NOTICE_ENTRY
from records.core.payloads import CREATE_FIELDS, FIELDS, MAX_ATTACHMENTS, MAX_TEXT, Field
from records.http import SUGGESTION_QUERY
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

UNIT_CODE = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}
# Required text must hold something besides white space (the server strips it).
_SOMETHING = {"pattern": "\\S"}
_ATTACHMENT = obj(
    {"name": {**STRING, **_SOMETHING}, "url": {**STRING, **_SOMETHING}},
    description="an attachment: both members non-blank strings, nothing else",
)


def kind_schema(field: Field) -> Schema:
    """The JSON Schema of a value of the field's `kind` (payloads._CHECKERS)."""
    kind = field.kind
    if kind == "text":
        return {**STRING, "maxLength": MAX_TEXT, **(_SOMETHING if field.required else {})}
    if kind == "enum":
        assert field.enum is not None
        return enum_of(field.enum)
    simple: dict[str, Schema] = {
        "unit": UNIT_CODE,
        "units": {"type": "array", "items": UNIT_CODE, "uniqueItems": True},
        "rating": {**INTEGER, "minimum": 1, "maximum": 5},
        "days": {**INTEGER, "minimum": 1, "maximum": 60},
        "time": TIME,
        "attachments": {"type": "array", "items": _ATTACHMENT, "maxItems": MAX_ATTACHMENTS},
        "flag": BOOLEAN,
    }
    if kind not in simple:
        raise ValueError(f"field {field.name}: no JSON Schema for kind {kind!r}")
    return dict(simple[kind])


def field_schema(field: Field) -> Schema:
    """A body member's schema, with its description."""
    schema = kind_schema(field)
    if not field.required:
        schema = not_given_as_null_or_empty(schema)
    if field.description:
        schema["description"] = field.description
    return schema


def field_param(field: Field) -> Schema:
    """A query parameter validated like a body member (`?name=` is not given)."""
    schema = kind_schema(field)
    return {
        "name": field.name,
        "in": "query",
        "required": field.required,
        "schema": schema,
        "allowEmptyValue": not field.required,
        **({"description": field.description} if field.description else {}),
    }


def not_given_as_null_or_empty(schema: Schema) -> Schema:
    """The server takes null and "" for an optional field as not given
    (`payloads.validate_fields`), so web forms may send their empty fields."""
    if schema["type"] == "string" and "pattern" not in schema and "format" not in schema:
        return {
            **schema,
            "type": ["string", "null"],
            **({"enum": [*schema["enum"], "", None]} if "enum" in schema else {}),
        }
    return {"anyOf": [schema, {"enum": ["", None]}]}


def body_schema(fields: tuple[Field, ...], title: str) -> Schema:
    return {
        "title": title,
        "type": "object",
        "properties": {f.name: field_schema(f) for f in fields},
        "required": [f.name for f in fields if f.required],
        "additionalProperties": False,
        "description": 'Unknown members are refused (400); an optional member that is null or ""'
        " is not given.",
    }


def body_name(command: Command) -> str:
    return "".join(part.title() for part in command.value.split("_")) + "Body"


# ------------------------------------------------------------------ responses

_EVENT = obj(
    {
        "seq": INTEGER,
        "at": TIME,
        "command": {
            **enum_of(
                [OPEN_ENTRY, *Command, MENU_ENTRY, CALLBACK_ENTRY, NOTICE_ENTRY, FOLLOW_UP_ENTRY]
            ),
            "description": "the command that made the entry; `open` for the first, `menu` for "
            "what the caller did in a voice menu (data.menu), `callback` for a callback's "
            "booking and outcome (data.callback), `notice` for a call of a linkage notice to "
            "the unit, or the alert that nobody was reached (data.notice), `follow_up_call` "
            "for a follow-up call not answered (data.follow_up_call)",
        },
        "from": nullable(enum_of(CaseState)),
        "to": enum_of(CaseState),
        "actor": STRING,
        "role": enum_of(Role),
        "unit": nullable(STRING),
        "data": {
            "type": "object",
            "description": "what the command carried, normalised. A `callback` entry: `note` "
            "(the line to read), `call` (the call the caller hung up) and `callback`: {`id`, "
            "`note_id` (callback:outcome:attempt, recorded once), `outcome` ("
            + ", ".join(f"`{o.value}`" for o in CallbackOutcome if o in ON_TIMELINE)
            + "), `at`, `desk`, `state`, `position_kept`, `attempts`, `last_status` (Dial's "
            "status), `operator` (the phone), `next_try_at`, `dial_call` (the call that dialled "
            "the caller, linked to the case)}; never the caller's number. A `notice` entry: "
            "`note`, `call` (the notice's call, linked to the case) and `notice`: {`id`, "
            "`note_id`, `unit`, `try` (0 for the alert), `contact` (staff, office, leader, "
            "duty), `name`, `result` (accepted, declined, no_key, hung_up, busy, no_answer, "
            "failed, lost; null for the alert), `unreached`, `at`}. A `follow_up_call` entry: "
            "`note`, `call` and `follow_up_call`: {`id`, `note_id`, `try`, `result` (no_key, "
            "hung_up, busy, no_answer, failed, lost), `next_at` (null: no more tries), `at`}",
        },
    }
)
_MAYBE_TIME = nullable(TIME)
_CASE: dict[str, Schema] = {
    "number": {**STRING, "description": 'e.g. "2026-000123"'},
    "state": enum_of(CaseState),
    "state_label": STRING,
    "desk": enum_of(Desk),
    "source": enum_of(["call", "api"]),
    "police_ticket": nullable(STRING),
    "caller": obj(
        {
            "name": nullable({**STRING, "description": '"匿名" for masked roles if anonymous'}),
            "number": nullable({**STRING, "description": "masked for units and supervisors"}),
            "anonymous": BOOLEAN,
            "no_follow_up": {**BOOLEAN, "description": "asked not to be called back (拒绝回访)"},
        }
    ),
    "location": obj({"address": nullable(STRING), "township": nullable(STRING)}),
    "demand_type": nullable(enum_of(DemandType)),
    "demand_label": nullable(STRING),
    "category": nullable(STRING),
    "urgency": enum_of(Urgency),
    "description": nullable(STRING),
    "route": obj(
        {
            "suggested": nullable(enum_of(Route)),
            "reason": nullable(STRING),
            "decided": nullable(enum_of(Route)),
        }
    ),
    "lead_unit": nullable(STRING),
    "co_units": STRINGS,
    "extension": nullable(enum_of(Extension)),
    "merged_into": nullable(STRING),
    "due": obj({name: _MAYBE_TIME for name in ("sign_for", "arrive", "feedback", "close")}),
    "times": obj(
        {
            "created": TIME,
            **{
                name: _MAYBE_TIME
                for name in ("dispatched", "signed", "arrived", "fed_back", "replied", "closed")
            },
            "updated": TIME,
        }
    ),
    "reply": nullable({"type": "object", "description": "the e-reply (电子交办单)"}),
    "satisfaction": nullable({**INTEGER, "minimum": 1, "maximum": 5}),
    "allowed": {
        "type": "array",
        "items": enum_of(Command),
        "description": "the commands you may give now: your role, the desk holding the case, "
        "lead or co-unit, a pending extension (exactly what would go through)",
    },
    "ladder_deadlines": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": STRING},
        "description": "for each of remind / notice / bulletin in `allowed`, the deadlines "
        "(sign_for, arrive, feedback, close) it may name now: 提醒 a clock still running, "
        "催办 and 通报 one that has run out",
    },
}

CASE_SCHEMAS: dict[str, Schema] = {
    "CaseSummary": obj(_CASE),
    "Case": obj(
        {
            **_CASE,
            "calls": {
                "type": "array",
                "items": {"oneOf": [ref("Call"), obj({"id": STRING})]},
                "description": "with their legs; by id alone if not in the call records (yet)",
            },
            "merged_cases": {**STRINGS, "description": "cases merged into this one"},
            "timeline": {"type": "array", "items": _EVENT},
            "menu": nullable(
                obj(
                    {
                        "hint": nullable(STRING),
                        "hint_label": nullable(STRING),
                        "emergency": BOOLEAN,
                    },
                    description="what the caller did in the voice menu (null: no call of the "
                    "case walked one): `hint` the demand type they chose, latest first "
                    "(the flow's hint code, `hint_label` its name) — a hint for the desk, not a "
                    "classification; `emergency` whether they pressed the emergency key",
                )
            ),
        }
    ),
    "CaseList": obj({"cases": {"type": "array", "items": ref("CaseSummary")}}),
    "NewCase": body_schema(CREATE_FIELDS, "a new case"),
    "AttachCall": {
        "type": "object",
        "properties": {"case": {**STRING, "minLength": 1, "description": "the case number"}},
        "required": ["case"],
        "description": "Other members are ignored.",
    },
    **{body_name(c): body_schema(FIELDS[c], c.value) for c in GIVEN},
}

# ------------------------------------------------------------------ paths

TAG = "cases"
# Free text in a query string meets aiohttp's limit before the validator's:
# a request line over 8190 bytes is refused by the HTTP parser, in plain text
# (a character may take 12 bytes URL-encoded, so 700 of them are enough).
LONG_QUERY_400 = {
    "description": "A parameter is malformed (`details.field` names it); or, as text/plain "
    "from the HTTP server itself, the request line is longer than 8190 bytes.",
    "content": {
        **json_content(ref("Error")),
        "text/plain": {"schema": STRING},
    },
}
NUMBER = path_param("number", 'the case number, e.g. "2026-000123"')
_CASE_OK = {"200": response("The case as it is now.", ref("Case"))}


def roles(*names: str) -> str:
    return "Roles: " + ", ".join(names) + "."


def command_description(command: Command) -> str:
    moves = ", ".join(
        f"{a.value}→{b.value}" if a != b else f"{a.value} (stays)"
        for a, b in TRANSITIONS[command].items()
    )
    who = sorted(r.value for r in ROLES[command] if r is not Role.SYSTEM)
    desk_rules = (
        "The desk holding the case and the unit it is assigned to are checked too (403); "
        "a state the table refuses is 409 with `details.allowed`."
    )
    return (
        f"From state: {moves}. {roles(*who) if who else 'Only the server gives it.'} {desk_rules}"
    )


def command_path(command: Command) -> Schema:
    fields = FIELDS[command]
    body = {
        "required": any(f.required for f in fields),
        "content": json_content(ref(body_name(command))),
    }
    return operation(
        "case" + body_name(command).removesuffix("Body"),
        f"Case command: {command.value}",
        tag=TAG,
        ok=_CASE_OK,
        errors=(400, 403, 404, 409),
        parameters=[NUMBER],
        body=body,
        description=command_description(command),
    )


def case_paths() -> dict[str, dict[str, Any]]:
    return {
        "/api/v1/cases": {
            "post": operation(
                "openCase",
                "Open a case",
                tag=TAG,
                ok={"201": response("The new case.", ref("Case"))},
                errors=(400, 403),
                body={"required": False, "content": json_content(ref("NewCase"))},
                description=f"{roles(*DESK_ROLES, 'admin')} An operator's desk is the default; "
                "an admin names `desk`.",
            ),
            "get": operation(
                "listCases",
                "List cases",
                tag=TAG,
                ok={"200": response("Newest first.", ref("CaseList"))},
                errors=(400, 403),
                parameters=[
                    query_param("state", enum_of(CaseState), "only cases in this state"),
                    query_param("open", BOOLEAN, "only open cases"),
                    query_param("unit", STRING, "lead or co-operating unit (units: always own)"),
                    query_param("desk", enum_of(Desk), "the desk holding the case"),
                    query_param("caller_number", STRING, "desks and admins only (else 403)"),
                    query_param("since", TIME, "created at or after (ISO 8601 with offset)"),
                    query_param("limit", {**INTEGER, "minimum": 1, "maximum": 1000}, "default 100"),
                ],
                description="Roles: all; a unit sees only its own cases.",
            ),
        },
        "/api/v1/cases/{number}": {
            "get": operation(
                "getCase",
                "One case with its calls and timeline",
                tag=TAG,
                ok=_CASE_OK,
                errors=(403, 404),
                parameters=[NUMBER],
                description="Roles: all; a unit only a case assigned to it.",
            )
        },
        "/api/v1/cases/{number}/suggestion": {
            "get": operation(
                "getCaseSuggestion",
                "What the routing catalogue suggests",
                tag=TAG,
                ok={
                    "200": response("The suggestion.", ref("Suggestion")),
                    "400": LONG_QUERY_400,
                },
                errors=(403, 404),
                parameters=[NUMBER, *(field_param(f) for f in SUGGESTION_QUERY)],
                description=f"{roles(*DESK_ROLES, 'supervisor', 'admin')} What the operator has "
                "typed so far stands in for what the case holds; other query parameters "
                "are refused (400).",
            )
        },
        **{f"/api/v1/cases/{{number}}/{c.value}": {"post": command_path(c)} for c in GIVEN},
        "/api/v1/calls/{call_id}/case": {
            "post": operation(
                "attachCall",
                "Attach a call to an open case",
                tag=TAG,
                ok=_CASE_OK,
                errors=(400, 403, 404, 409),
                parameters=[path_param("call_id", "the call (Asterisk Linkedid)")],
                body={"required": True, "content": json_content(ref("AttachCall"))},
                description=roles(*DESK_ROLES, "admin"),
            )
        },
        "/api/v1/units": {
            "get": operation(
                "listUnits",
                "The member-unit roster",
                tag="units",
                ok={"200": response("Every unit, in roster order.", ref("UnitList"))},
                errors=(400,),
                parameters=[query_param("at", TIME, "the roster as it stood then (history)")],
                description="Roles: all.",
            )
        },
    }


# ------------------------------------------------------------------ units, routing


def _contact() -> Schema:
    return obj({"name": STRING, "phones": STRINGS})


UNIT_SCHEMAS: dict[str, Schema] = {
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
}
