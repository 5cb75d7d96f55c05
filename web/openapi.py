"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of this API.

Built from the code where the code declares things (case command bodies from
`records.core.payloads`, roles and states from `records.core.lifecycle`,
enums from their StrEnums) and written down where it does not (response
shapes: web/openapi_blocks.py). tests/component/test_openapi.py checks that
every route the app registers is documented and vice versa, and fuzzes the
running app against the document with schemathesis.

The document itself needs a token, any role: every API call is authenticated
(only /api/v1/health is public), and the document tells who may do what.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from aiohttp import web

from common.vocabulary import TOKEN_ROLES
from records.openapi import CASE_SCHEMAS, case_paths
from records.supervision.openapi import PATHS as SUPERVISION_PATHS
from web.auth import require
from web.json_out import json_response
from web.openapi_blocks import (
    BOOLEAN,
    CALL_SCHEMAS,
    INTEGER,
    OTHER_SCHEMAS,
    TIME,
    TRANSFER_SCHEMAS,
    empty_means_absent,
    error_responses,
    json_content,
    operation,
    path_param,
    query_param,
    ref,
    response,
)

PATH = "/api/v1/openapi.json"
LIMIT = query_param("limit", {**INTEGER, "minimum": 1, "maximum": 1000}, "at most; default 100")
SINCE = query_param("since", TIME, "at or after (ISO 8601 with a UTC offset)")
CALL_ID = path_param("call_id", "the call (Asterisk Linkedid)")
TRANSFER_ID = path_param("transfer_id", "the transfer")
ACTORS = "Roles: operator_110, operator_12345 (their own calls only), supervisor, admin."

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


def _paths() -> dict[str, dict[str, Any]]:
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
        "/api/v1/calls": {
            "get": operation(
                "listCalls",
                "Calls with their legs",
                tag="calls",
                ok={"200": response("Newest first.", ref("CallList"))},
                errors=(400,),
                parameters=[
                    query_param("active", BOOLEAN, "only calls still going (or only ended)"),
                    query_param("since", TIME, "started at or after (ISO 8601 with offset)"),
                    LIMIT,
                ],
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
        "/api/v1/calls/{call_id}/transfer": {
            "post": _start("startTransfer", "Transfer the caller", "TransferRequest")
        },
        "/api/v1/calls/{call_id}/conference": {
            "post": _start("startConference", "Three-way call", "ConferenceRequest")
        },
        "/api/v1/transfers/{transfer_id}/complete": {
            "post": _step("completeTransfer", "Complete a transfer (attended: hand over)")
        },
        "/api/v1/transfers/{transfer_id}/cancel": {
            "post": _step("cancelTransfer", "Cancel a transfer: the caller is back")
        },
        "/api/v1/transfers/{transfer_id}": {
            "get": operation(
                "getTransfer",
                "One transfer with its timeline",
                tag="transfers",
                ok={"200": response("The transfer.", ref("Transfer"))},
                errors=(403, 404),
                parameters=[TRANSFER_ID],
                description="Roles: operator_110, operator_12345, supervisor, admin.",
            )
        },
        "/api/v1/transfers": {
            "get": operation(
                "listTransfers",
                "Transfers, newest first",
                tag="transfers",
                ok={"200": response("Newest first.", ref("TransferList"))},
                errors=(400, 403),
                parameters=[SINCE, LIMIT],
                description="Roles: operator_110, operator_12345, supervisor, admin.",
            )
        },
        **case_paths(),
    }


def _start(operation_id: str, summary: str, body: str) -> dict[str, Any]:
    return operation(
        operation_id,
        summary,
        tag="transfers",
        ok={"201": response("Started: the target is being dialled.", ref("Transfer"))},
        errors=(400, 403, 404, 409, 503),
        parameters=[CALL_ID],
        body={"required": True, "content": json_content(ref(body))},
        description=f"{ACTORS} 404: no live call; 409: a transfer is already running.",
    )


def _step(operation_id: str, summary: str) -> dict[str, Any]:
    return operation(
        operation_id,
        summary,
        tag="transfers",
        ok={"200": response("The transfer after the step.", ref("Transfer"))},
        errors=(403, 404, 409, 503),
        parameters=[TRANSFER_ID],
        description=f"{ACTORS} 409: the transfer's state does not take this step "
        "(`details.allowed`); 503: it is being reconciled after a restart.",
    )


@functools.cache
def _document() -> dict[str, Any]:
    paths = copy.deepcopy(_paths())  # its pieces share constants; they are changed below
    # The supervision views' path items are kept beside their handlers.
    for path, item in copy.deepcopy(SUPERVISION_PATHS).items():
        paths.setdefault(path, {}).update(item)
    empty_means_absent(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "liandong", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": name} for name in _tags(paths)],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `liandong token create`",
                }
            },
            "schemas": {**CALL_SCHEMAS, **TRANSFER_SCHEMAS, **OTHER_SCHEMAS, **CASE_SCHEMAS},
            "responses": error_responses(),
        },
    }


def _tags(paths: dict[str, dict[str, Any]]) -> list[str]:
    ops = [op for item in paths.values() for op in item.values() if isinstance(op, dict)]
    return sorted({str(tag) for op in ops for tag in op.get("tags", ())})


def document() -> dict[str, Any]:
    """The document (a copy: callers may change it)."""
    return copy.deepcopy(_document())


async def openapi_json(request: web.Request) -> web.Response:
    require(request, *TOKEN_ROLES)
    return json_response(_document())
