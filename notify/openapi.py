"""The linkage notices in OpenAPI: the paths of notify/http.py and the shapes
of notify/shapes.py, written down from the code that produces them."""

from __future__ import annotations

from typing import Any

from notify.core.follow_ups import CallResult, FollowUpState
from notify.core.notices import NoticeState, TryResult
from web.openapi_blocks import (
    BOOLEAN,
    INTEGER,
    STRING,
    TIME,
    Schema,
    enum_of,
    nullable,
    obj,
    operation,
    path_param,
    query_param,
    ref,
    response,
)

ROLES = "Every role; a unit only the notices it was called with."

_CALL = obj(
    {
        "number": {**INTEGER, "description": "the try's place on the ladder, from 1"},
        "contact": {**STRING, "description": "staff, office, leader or duty"},
        "name": {**STRING, "description": "the person (or office) the roster names"},
        "phone": {**STRING, "description": "as the roster writes it, or unit-NN (its PBX line)"},
        "dial": {**STRING, "description": "what Asterisk dialled"},
        "started_at": TIME,
        "ended_at": nullable(TIME),
        "result": nullable(enum_of(TryResult)),
        "reason": nullable({**STRING, "description": "a decline's reason key"}),
        "recording": nullable(
            {**STRING, "description": "a spoken reason, as Asterisk named it (see …/recording)"}
        ),
        "call": nullable({**STRING, "description": "the call's id in the call records"}),
    }
)
_NOTICE = {
    "id": INTEGER,
    "case": STRING,
    "unit": {**STRING, "description": "the unit's code (units.csv)"},
    "co_unit": {**BOOLEAN, "description": "a co-unit: its key 1 acknowledges, only the lead signs"},
    "state": enum_of(NoticeState),
    "urgent": BOOLEAN,
    "tries": {**INTEGER, "description": "calls made so far"},
    "rungs": {**INTEGER, "description": "calls the ladder allows"},
    "next_try_at": nullable(TIME),
    "reached": nullable({**STRING, "description": "who pressed the key"}),
    "created_at": TIME,
    "updated_at": nullable(TIME),
    "try": {**nullable(ref("NoticeCall")), "description": "the call under way, or the last"},
    "calls": {"type": "array", "items": ref("NoticeCall"), "description": "every call, in order"},
}

_FOLLOW_UP = obj(
    {
        "id": INTEGER,
        "case": STRING,
        "state": enum_of(FollowUpState),
        "due_at": {**TIME, "description": "the next call's time, within the calling hours"},
        "tries": INTEGER,
        "last_result": nullable(enum_of(CallResult)),
        "rating": nullable({**INTEGER, "description": "1 very satisfied … 5 very dissatisfied"}),
        "recording": nullable({**STRING, "description": "the citizen's spoken comment (file)"}),
        "created_at": TIME,
        "updated_at": nullable(TIME),
    }
)

NOTICE_SCHEMAS: dict[str, Schema] = {
    "FollowUp": _FOLLOW_UP,
    "FollowUps": obj({"follow_ups": {"type": "array", "items": ref("FollowUp")}}),
    "NoticeCall": _CALL,
    "Notice": obj(_NOTICE),
    "Notices": obj({"notices": {"type": "array", "items": ref("Notice")}}),
}


_WAV = {
    "description": "The recording as Asterisk made it (8 kHz WAV); never cached.",
    "content": {"audio/wav": {"schema": {**STRING, "format": "binary"}}},
}


def paths() -> dict[str, dict[str, Any]]:
    return {
        "/api/v1/notices": {
            "get": operation(
                "listNotices",
                "The linkage notices waiting or on the phone now, or every notice of a case",
                tag="notices",
                ok={"200": response("Oldest first.", ref("Notices"))},
                errors=(400, 404),
                parameters=[
                    query_param(
                        "case", STRING, 'a case number, e.g. "2026-000123": its notices, all'
                    )
                ],
                description=ROLES + " 404: no such case.",
            )
        },
        "/api/v1/notices/{id}/calls/{try}/recording": {
            "get": operation(
                "getNoticeRecording",
                "A unit's spoken reason for declining a notice (key 9, then speech)",
                tag="notices",
                ok={"200": _WAV},
                errors=(404,),
                parameters=[
                    path_param("id", "the notice's id"),
                    path_param("try", "the call's number on the ladder, from 1"),
                ],
                description=ROLES + " 404: no such notice or call, no recording on that call, "
                "or its file is gone from the recordings' folder (LIANDONG_NOTICE_RECORDINGS_DIR).",
            )
        },
        "/api/v1/follow-ups/{id}/recording": {
            "get": operation(
                "getFollowUpRecording",
                "The citizen's spoken comment after a follow-up rating",
                tag="notices",
                ok={"200": _WAV},
                errors=(403, 404),
                parameters=[path_param("id", "the follow-up's id")],
                description="Roles: operator_110, operator_12345, supervisor, admin. "
                "404: no such follow-up, no comment recorded, or its file is gone.",
            )
        },
        "/api/v1/follow-ups": {
            "get": operation(
                "listFollowUps",
                "The follow-up calls (回访) waiting or on the phone now, or every one of a case",
                tag="notices",
                ok={"200": response("Soonest first.", ref("FollowUps"))},
                errors=(400, 403, 404),
                parameters=[query_param("case", STRING, "a case number: its follow-ups, all")],
                description="Roles: operator_110, operator_12345, supervisor, admin. "
                "404: no such case.",
            )
        },
    }
