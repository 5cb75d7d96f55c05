"""The JSON shapes of the linkage notices, for the API and the live feed."""

from __future__ import annotations

from typing import Any

from common.instants import iso
from notify.core.follow_ups import FollowUp
from notify.core.notices import Notice, Try


def try_json(t: Try) -> dict[str, Any]:
    return {
        "number": t.number,
        "contact": t.contact,
        "name": t.name,
        "phone": t.phone,
        "dial": t.dial,
        "started_at": iso(t.started_at),
        "ended_at": iso(t.ended_at),
        "result": t.result.value if t.result else None,
        "reason": t.reason,
        "recording": t.recording,
        "call": t.call_id,
    }


def notice_json(n: Notice, current: Try | None) -> dict[str, Any]:
    return {
        "id": n.notice_id,
        "case": n.case_number,
        "unit": n.unit,
        "co_unit": n.co_unit,
        "state": n.state.value,
        "urgent": n.urgent,
        "tries": n.tries,
        "rungs": n.rungs,
        "next_try_at": iso(n.next_try_at),
        "reached": n.reached,
        "created_at": iso(n.created_at),
        "updated_at": iso(n.updated_at),
        "try": try_json(current) if current is not None else None,
    }


def follow_up_json(f: FollowUp) -> dict[str, Any]:
    """No caller number: the feed and the API show it to roles that mask it."""
    return {
        "id": f.follow_up_id,
        "case": f.case_number,
        "state": f.state.value,
        "due_at": iso(f.due_at),
        "tries": f.tries,
        "last_result": f.last_result.value if f.last_result else None,
        "rating": f.rating,
        "recording": f.recording,
        "created_at": iso(f.created_at),
        "updated_at": iso(f.updated_at),
    }
