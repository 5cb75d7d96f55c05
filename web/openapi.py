"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of this API, assembled
from the web's own paths (health, this document, the live feed) and each
feature's part (telephony/openapi.py, transfer/openapi.py, records/openapi.py,
records/supervision/openapi.py), which start-up gathers (startup/openapi.py).

Built from the code where the code declares things (case command bodies from
`records.core.payloads`, roles and states from `records.core.lifecycle`,
enums from their StrEnums) and written down where it does not (response
shapes, beside each feature's handlers). tests/component/test_openapi.py checks
that every route the app registers is documented and vice versa, and fuzzes
the running app against the document with schemathesis.

The document itself needs a token, any role: every API call is authenticated
(only /api/v1/health is public), and the document tells who may do what.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ami_client import LinkState
from common.vocabulary import TOKEN_ROLES
from web.auth import require
from web.json_out import json_response
from web.openapi_blocks import (
    BOOLEAN,
    ERROR,
    INTEGER,
    STRING,
    TIME,
    Schema,
    empty_means_absent,
    enum_of,
    error_responses,
    nullable,
    obj,
    operation,
    ref,
    response,
)

PATH = "/api/v1/openapi.json"


@dataclass(frozen=True)
class ApiPart:
    """One feature's share of the document: its path items and its schemas."""

    paths: dict[str, dict[str, Any]]
    schemas: dict[str, Schema] = field(default_factory=dict)


# The finished document, as start-up assembled it (startup/openapi.py).
DOCUMENT: web.AppKey[dict[str, Any]] = web.AppKey("openapi_document")

DESCRIPTION = f"""\
liandong links the county's 110 police desk and the 12345 hotline beside Asterisk:
calls and their legs, transfers and three-way calls between the desks and member
units, and cases (工单) from the first call to the archive.

**Authentication.** Every call but `GET /api/v1/health` needs
`Authorization: Bearer <token>` (tokens come from `liandong token create`); this
document too, for any role ({", ".join(TOKEN_ROLES)}). Without a valid token the
answer is 401. A role that may not do something gets 403. Units and supervisors
see caller numbers masked.

**Errors** are always `{{"error": {{"code", "message", "details"}}}}`.
"""


def _own_paths() -> dict[str, dict[str, Any]]:
    return {
        "/api/v1/health": {
            "get": operation(
                "health",
                "Is the server well (AMI link, database)?",
                tag="health",
                ok={
                    "200": response("All well.", ref("Health")),
                    "503": response("Degraded: see which part.", ref("Health")),
                },
                description="Public: no token needed (monitoring probes).",
                public=True,
            )
        },
        PATH: {
            "get": operation(
                "openapi",
                "This document",
                tag="meta",
                ok={"200": response("OpenAPI 3.1.", {"type": "object"})},
                description="Roles: all.",
            )
        },
        "/api/v1/live": {
            "get": operation(
                "live",
                "WebSocket: leg, call, transfer and case events as they happen",
                tag="live",
                ok={"101": response("Switching to the WebSocket protocol.")},
                errors=(400, 403),
                description="Roles: all; units get their own cases' events only. A "
                "WebSocket upgrade (400 if the request is not one); a browser's `Origin` "
                "must be this host or allowed by LIANDONG_ALLOWED_ORIGINS (else 403). "
                'Messages are JSON `{"type", "data"}`, the first `hello`.',
            )
        },
    }


WEB_SCHEMAS: dict[str, Schema] = {
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


def assemble(parts: Iterable[ApiPart]) -> dict[str, Any]:
    """The whole document: the web's own paths and schemas, then each part's."""
    paths = copy.deepcopy(_own_paths())  # pieces share constants; they are changed below
    schemas = dict(WEB_SCHEMAS)
    for part in parts:
        for path, item in copy.deepcopy(part.paths).items():
            paths.setdefault(path, {}).update(item)
        schemas |= part.schemas
    empty_means_absent(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "liandong", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"signIn": []}],
        "tags": [{"name": name} for name in _tags(paths)],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `liandong token create`",
                },
                "signIn": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "ld_session",
                    "description": "a person's sign-in (POST /api/v1/session); every change "
                    "made with it also needs the X-CSRF-Token header",
                },
            },
            "schemas": schemas,
            "responses": error_responses(),
        },
    }


def _tags(paths: dict[str, dict[str, Any]]) -> list[str]:
    ops = [op for item in paths.values() for op in item.values() if isinstance(op, dict)]
    return sorted({str(tag) for op in ops for tag in op.get("tags", ())})


async def openapi_json(request: web.Request) -> web.Response:
    require(request, *TOKEN_ROLES)
    return json_response(request.app[DOCUMENT])
