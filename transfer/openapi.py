"""Transfers in OpenAPI: the paths of transfer/http.py and the shapes of
transfer/shapes.py, written down from the code that produces them."""

from __future__ import annotations

from typing import Any

from transfer.core.states import By, Reason, TransferMode, TransferState
from web.openapi_blocks import (
    BOOLEAN,
    CALL_ID,
    INTEGER,
    LIMIT,
    SINCE,
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

# A transfer target exactly as transfer.core.target.parse_target takes it.
TARGET_PATTERN = "^(110|12345|unit:[0-9]{1,6}|unit:[A-Za-z0-9_-]{1,32})$"
TRANSFER_ID = path_param("transfer_id", "the transfer")
ACTORS = "Roles: operator_110, operator_12345 (their own calls only), supervisor, admin."

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


def paths() -> dict[str, dict[str, Any]]:
    return {
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
