"""JSON shapes of calls, legs and domain events; a call is masked whole for
roles that must not see who called (common/masking.py)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any

from common.instants import iso
from common.masking import masked
from telephony.core import events as ev
from telephony.storage.tables import Call, Leg


def call_json(
    call: Call, *, full_numbers: bool, with_bridges: bool = False, anonymous: bool = False
) -> dict[str, Any]:
    """A call with its legs; for the masked roles masked whole (common/masking.py),
    the caller's name too when the call belongs to an anonymous case."""
    out: dict[str, Any] = {
        "id": call.id,
        "trunk": call.trunk.value if call.trunk else None,
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "started_at": iso(call.started_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
        "active": call.ended_at is None,
        "legs": [leg_json(leg, with_bridges=with_bridges) for leg in call.legs],
    }
    return out if full_numbers else masked(out, anonymous=anonymous)


def leg_json(leg: Leg, *, with_bridges: bool = False) -> dict[str, Any]:
    """A leg as it is recorded; call_json masks it with its call."""
    out: dict[str, Any] = {
        "uniqueid": leg.uniqueid,
        "channel": leg.channel,
        "endpoint": leg.endpoint,
        "role": leg.role.value,
        "direction": leg.direction.value,
        "trunk": leg.trunk.value if leg.trunk else None,
        "caller_number": leg.caller_number,
        "caller_name": leg.caller_name,
        "created_at": iso(leg.created_at),
        "ringing_at": iso(leg.ringing_at),
        "answered_at": iso(leg.answered_at),
        "ended_at": iso(leg.ended_at),
        "hangup_cause": leg.hangup_cause,
        "hangup_cause_text": leg.hangup_cause_text,
        "reconciled": leg.reconciled,
        "answered_at_bound": leg.answered_at_bound,
        "ended_at_bound": leg.ended_at_bound,
    }
    if with_bridges:
        out["bridges"] = [
            {"bridge_id": b.bridge_id, "joined_at": iso(b.joined_at), "left_at": iso(b.left_at)}
            for b in leg.bridges
        ]
    return out


EVENT_TYPES: dict[type[Any], str] = {
    ev.LegStarted: "leg.started",
    ev.LegUpdated: "leg.updated",
    ev.LegRinging: "leg.ringing",
    ev.LegAnswered: "leg.answered",
    ev.LegEnded: "leg.ended",
    ev.CallStarted: "call.started",
    ev.CallAnswered: "call.answered",
    ev.CallMerged: "call.merged",
    ev.CallEnded: "call.ended",
    ev.LegJoinedBridge: "leg.joined_bridge",
    ev.LegLeftBridge: "leg.left_bridge",
}


def event_json(event: ev.DomainEvent) -> dict[str, Any]:
    data = {f.name: _plain(getattr(event, f.name)) for f in dataclasses.fields(event)}
    return {"type": EVENT_TYPES[type(event)], "data": data}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Enum):
        return value.value
    return value
