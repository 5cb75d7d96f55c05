"""OpenAPI 3.1 path items of the supervision views (`records.supervision.http`),
for the generator that merges them into /api/v1/openapi.json. Schemas are
inline (no components), so `PATHS` can be merged as it is."""

from __future__ import annotations

from typing import Any

from common.vocabulary import Desk
from county.case_words import Urgency
from records.core.lifecycle import CaseState

Schema = dict[str, Any]


def nullable(kind: str, **extra: Any) -> Schema:
    return {"type": [kind, "null"], **extra}


def obj(properties: dict[str, Schema], description: str = "") -> Schema:
    schema: Schema = {"type": "object", "required": list(properties), "properties": properties}
    return schema | ({"description": description} if description else {})


INT: Schema = {"type": "integer", "minimum": 0}
TEXT: Schema = {"type": "string"}
TIME: Schema = {"type": "string", "format": "date-time", "description": "UTC, e.g. …T01:00:00.000Z"}
NULL_TIME = nullable("string", format="date-time")
RATE = nullable("number", minimum=0, description="0…1; null when there is nothing to divide by")
MINUTES = nullable("number", description="minutes, one decimal; null when overdue/none")
DEADLINE_NAMES = ("sign_for", "arrive", "feedback", "close")
LADDER: Schema = obj({"remind": INT, "notice": INT, "bulletin": INT}, "提醒 / 催办 / 通报 counts")

DEADLINE = obj(
    {"due": TIME, "done_at": NULL_TIME, "overdue": {"type": "boolean"}, "overdue_minutes": MINUTES}
)
OPEN_CASE = obj(
    {
        "number": TEXT,
        "state": {"enum": [s.value for s in CaseState]},
        "state_label": TEXT,
        "desk": {"enum": [d.value for d in Desk]},
        "category": nullable("string"),
        "category_name": nullable("string"),
        "urgency": {"enum": [u.value for u in Urgency]},
        "township": nullable("string"),
        "township_name": nullable("string"),
        "lead_unit": nullable("string"),
        "lead_unit_name": nullable("string"),
        "created_at": TIME,
        "dispatched_at": NULL_TIME,
        "overdue": {"type": "boolean", "description": "a deadline on the unit's clock has passed"},
        "overdue_minutes": MINUTES,
        "deadlines": {
            "type": "object",
            "description": "only the deadlines the case has (sign_for, arrive, feedback, close)",
            "properties": {name: DEADLINE for name in DEADLINE_NAMES},
            "additionalProperties": False,
        },
        "notice": nullable(
            "string",
            enum=["queued", "calling", "accepted", "declined", "unreached", "cancelled", None],
            description="the state of the case's latest linkage notice; unreached: nobody "
            "at the unit pressed a key on any call (an alert); null: none was made",
        ),
        "ladder": LADDER
        | {
            "properties": {
                **LADDER["properties"],
                "steps": {
                    "type": "array",
                    "items": obj(
                        {
                            "command": {"enum": ["remind", "notice", "bulletin"]},
                            "deadline": nullable("string"),
                            "at": TIME,
                        }
                    ),
                },
            },
            "required": [*LADDER["required"], "steps"],
        },
    },
    "an open case; never the caller's number or name",
)
SPREAD = obj({"count": INT, "median_minutes": MINUTES, "p90_minutes": MINUTES})
UNIT_ROW = obj(
    {
        "unit": nullable("string", description="unit code; null in the total"),
        "unit_name": nullable("string"),
        "dispatched": INT,
        "closed": INT,
        "open": INT,
        "closed_on_time": INT,
        "on_time_rate": RATE,
        "durations": obj({name: SPREAD for name in DEADLINE_NAMES}, "from dispatched_at"),
        "returns": INT,
        "reminders": {**INT, "description": "remind + notice + bulletin"},
        "ladder": LADDER,
        "re_handles": INT,
        "extensions": INT,
        "satisfaction": obj(
            {
                "rated": INT,
                "mean": nullable("number", description="1 very satisfied … 5 very dissatisfied"),
                "satisfied": {**INT, "description": "rated 1 or 2"},
                "satisfied_rate": RATE,
                "by_call": {
                    **INT,
                    "description": "ratings keyed in on a follow-up call (回访电话)",
                },
                "by_hand": {**INT, "description": "ratings an operator recorded"},
            }
        ),
        "notices": obj(
            {"made": INT, "accepted": INT, "declined": INT, "unreached": INT},
            "linkage notices to the unit made in [from, to); unreached: nobody pressed a key "
            "on any call of the ladder, counted against the unit",
        ),
    },
    "cases whose latest dispatch lies in [from, to), by their lead unit",
)
COUNTS: dict[str, Schema] = {"handovers": INT, "sent_back": INT, "rate": RATE}
CATEGORY_ROW = obj({"category": nullable("string"), "category_name": nullable("string"), **COUNTS})
PERIOD: dict[str, Schema] = {"from": TIME, "to": TIME}

ERROR = obj(
    {
        "error": obj(
            {"code": TEXT, "message": TEXT, "details": {"type": "object"}},
            "details.field names the bad query parameter",
        )
    }
)
CSV_NOTE = (
    "With format=csv: UTF-8 with a BOM, Chinese column headers, times in county time "
    "(Asia/Shanghai), rates in percent; sent as an attachment."
)


def parameter(name: str, description: str, schema: Schema) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


# A time, a date (county midnight), or empty for the default.
PERIOD_EDGE: Schema = {
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
        {"type": "string", "enum": [""]},
    ]
}
FORMAT = parameter("format", "json (default) or csv", {"enum": ["json", "csv"], "default": "json"})
FROM = parameter(
    "from",
    "start of the period (inclusive), ISO 8601 with an offset, or a date "
    "(YYYY-MM-DD: 00:00 county time); default: the 1st of this month, 00:00 county time",
    PERIOD_EDGE,
)
TO = parameter(
    "to",
    "end of the period (exclusive), after `from`; a time or a date as `from`; "
    "default: the 1st of next month, 00:00 county time",
    PERIOD_EDGE,
)


def operation(
    summary: str, description: str, operation_id: str, parameters: list[Schema], body: Schema
) -> dict[str, Any]:
    def error(text: str) -> Schema:
        return {"description": text, "content": {"application/json": {"schema": ERROR}}}

    return {
        "get": {
            "tags": ["supervision"],
            "summary": summary,
            "description": f"{description}\n\n{CSV_NOTE}",
            "operationId": operation_id,
            "security": [{"bearer": []}],
            "parameters": [*parameters, FORMAT],
            "responses": {
                "200": {
                    "description": "the view",
                    "content": {
                        "application/json": {"schema": body},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                    "headers": {
                        "Content-Disposition": {
                            "description": 'CSV only: attachment; filename="….csv"',
                            "schema": TEXT,
                        }
                    },
                },
                "400": error("a query parameter is wrong (details.field names it)"),
                "401": error("no or unknown bearer token"),
                "403": error("the token's role may not see this view"),
            },
        }
    }


PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/supervision/open": operation(
        "Open cases, the most overdue first",
        "Open cases with their deadlines and ladder steps (提醒/催办/通报). A deadline is "
        "overdue while the case is on its unit's clock, past due and not met. Roles: "
        "supervisor, admin, operator_110, operator_12345, unit (a unit sees its own cases "
        "only, whatever `unit` says).",
        "supervisionOpenCases",
        [
            parameter("unit", "lead unit code (roster)", TEXT),
            parameter("overdue", "true: only overdue cases", {"type": "boolean", "default": False}),
        ],
        obj(
            {
                "now": TIME,
                "unit": nullable("string"),
                "overdue_only": {"type": "boolean"},
                "count": INT,
                "cases": {"type": "array", "items": OPEN_CASE},
            }
        ),
    ),
    "/api/v1/supervision/units": operation(
        "Each unit's figures over a period",
        "Per lead unit, for the cases whose latest dispatch lies in [from, to): dispatched, "
        "closed, open, on-time closure rate, durations from dispatch (median; p90 by nearest "
        "rank), returns, reminders, re-handles, extension requests, satisfaction. Every roster "
        "unit has a row. Returns, reminders and re-handles count against the unit that led the "
        "case when they happened. Roles: supervisor, admin.",
        "supervisionUnitStatistics",
        [FROM, TO],
        obj({**PERIOD, "units": {"type": "array", "items": UNIT_ROW}, "total": UNIT_ROW}),
    ),
    "/api/v1/supervision/wrong-transfers": operation(
        "Wrong transfers (错转) between the desks",
        "Hand-overs between 110 and 12345 made in [from, to) and send-backs made in [from, to), "
        "per sending operator and per category (the category the case had when handed over), "
        "worst first. Roles: supervisor, admin.",
        "supervisionWrongTransfers",
        [FROM, TO],
        obj(
            {
                **PERIOD,
                "total": obj(COUNTS),
                "operators": {
                    "type": "array",
                    "items": obj(
                        {
                            "operator": TEXT,
                            "desk": {"enum": [d.value for d in Desk], "description": "sent from"},
                            **COUNTS,
                            "categories": {"type": "array", "items": CATEGORY_ROW},
                        }
                    ),
                },
                "categories": {"type": "array", "items": CATEGORY_ROW},
            }
        ),
    ),
}
