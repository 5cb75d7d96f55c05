"""The desks in JSON: operators, waiting callers and waits (API and live feed).
Caller numbers are under `caller_number`, so the one masking policy
(common/masking.py) applies to them wherever they go."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from common.instants import iso
from ivr_flows.core.callbacks import Callback
from ivr_flows.core.desk_events import MenuStep
from ivr_flows.core.operators import Operator, OperatorState
from ivr_flows.core.waits import Wait


def operator_json(op: Operator) -> dict[str, Any]:
    return {
        "phone": op.phone,
        "desk": op.desk,
        "state": op.state.value,
        "reason": op.reason or None,
        "since": iso(op.since),
        "wrap_up_until": iso(op.wrap_up_until) if op.state is OperatorState.WRAP_UP else None,
    }


def wait_json(wait: Wait, now: datetime, *, with_caller: bool = True) -> dict[str, Any]:
    body = {
        "id": wait.wait_id,
        "call_id": wait.call_id,
        "desk": wait.desk,
        "via": wait.via,
        "priority": wait.priority,
        "position_on_joining": wait.position,
        "caller_number": wait.caller_number,
        "outcome": wait.outcome.value,
        "joined_at": iso(wait.joined_at),
        "left_at": iso(wait.left_at),
        "answered_at": iso(wait.answered_at),
        "waited_s": round(wait.waited_until(now), 1),
        "operator": wait.operator,
        "talk_s": wait.talk_s,
        "ended_by": wait.ended_by,
    }
    if not with_caller:
        del body["caller_number"]
    return body


def line_json(line: list[Wait], now: datetime) -> list[dict[str, Any]]:
    """The callers waiting at a desk, in the order they will be served."""
    return [{**wait_json(w, now), "position": i} for i, w in enumerate(line, start=1)]


def step_json(step: MenuStep) -> dict[str, Any]:
    return {
        "call_id": step.call_id,
        "at": iso(step.at),
        "menu": step.menu,
        "node": step.node,
        "key": step.key or None,
        "mark": step.mark or None,
    }


def callback_json(cb: Callback) -> dict[str, Any]:
    return {
        "id": cb.callback_id,
        "call_id": cb.call_id,
        "desk": cb.desk,
        "caller_number": cb.caller_number,
        "state": cb.state.value,
        "position_kept": cb.position,
        "asked_at": iso(cb.asked_at),
        "attempts": cb.attempts,
        "next_try_at": iso(cb.next_try_at),
        "operator": cb.operator,
        "last_status": cb.last_status,
        "updated_at": iso(cb.updated_at),
    }
