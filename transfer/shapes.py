"""JSON shape of a transfer and its timeline (API responses and live events)."""

from __future__ import annotations

from typing import Any

from common.instants import iso
from transfer.core.machine import Step, Transfer
from transfer.core.states import Reason


def transfer_json(transfer: Transfer) -> dict[str, Any]:
    request = transfer.request
    return {
        "id": transfer.id,
        "call_id": transfer.call_id,
        "state": transfer.state.value,
        "mode": transfer.mode.value,
        "requested_mode": request.mode.value,
        "target": str(request.target),
        "requested_by": request.by.value,
        "caller_uniqueid": request.caller_uniqueid,
        "operator_uniqueid": request.operator_uniqueid,
        "target_uniqueid": transfer.target_uniqueid,
        "ring_timeout_s": request.ring_timeout_s,
        "requested_at": iso(request.at),
        "ended": transfer.ended,
        "allowed": list(transfer.allowed()),
        "timeline": [step_json(step) for step in transfer.timeline],
    }


def step_json(step: Step) -> dict[str, Any]:
    return {
        "at": iso(step.at),
        "from": step.from_state.value if step.from_state else None,
        "to": step.to_state.value,
        "event": step.event,
        "reason": step.reason.value,
        "mode": step.mode.value,
        "by": step.by.value if step.by else None,
    }


def notice_json(
    transfer: Transfer, reason: Reason, operator_endpoint: str | None
) -> dict[str, Any]:
    """What the transferring operator is told (`NotifyOperator`), on the live bus."""
    return {
        "type": "transfer_notice",
        "data": {
            "transfer_id": transfer.id,
            "call_id": transfer.call_id,
            "reason": reason.value,
            "state": transfer.state.value,
            "operator_phone": operator_endpoint,
        },
    }


def refusal_json(call_id: str, operator_endpoint: str | None, why: Exception) -> dict[str, Any]:
    """A key pressed for a transfer that could not start, and why."""
    return {
        "type": "transfer_refused",
        "data": {"call_id": call_id, "operator_phone": operator_endpoint, "why": str(why)},
    }
