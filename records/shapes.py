"""JSON shape of a case, masked whole (summary, calls, timeline) for the roles
that must not see who called (common/masking.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from common.instants import iso
from common.principal import Principal
from county.case_words import DemandType
from records.core.case_file import Actor
from records.core.lifecycle import CaseState, Command
from records.core.menu_notes import entry_name, menu_summary
from records.service.cases import CaseView
from records.service.moves import ladder_deadlines, moves_now
from records.storage.tables import CaseEvent, CaseRecord
from telephony.service.lookup import Call
from telephony.shapes import call_json


def case_json(
    view: CaseView, principal: Principal, calls: list[Call], now: datetime
) -> dict[str, Any]:
    """The case with its calls (each with its legs) and its timeline; `allowed`
    as of `now` (the service's clock)."""
    out = _summary(view.record, principal, now)
    known = {call.id: call_json(call, full_numbers=True) for call in calls}
    # A call not (yet) in the call records is still listed, by its id.
    out["calls"] = [known.get(call_id, {"id": call_id}) for call_id in view.call_ids]
    out["merged_cases"] = view.merged
    out["timeline"] = [timeline_entry_json(e) for e in view.events]
    # What the caller chose in the voice menu: a hint for the desk, which still classifies.
    out["menu"] = menu_summary(e.data for e in view.events)
    return principal.shown(out, anonymous=view.record.anonymous)


def case_summary(record: CaseRecord, principal: Principal, now: datetime) -> dict[str, Any]:
    """The case without its calls and timeline (the case list), masked."""
    return principal.shown(_summary(record, principal, now), anonymous=record.anonymous)


def _summary(record: CaseRecord, principal: Principal, now: datetime) -> dict[str, Any]:
    state = CaseState(record.state)
    demand = DemandType(record.demand_type) if record.demand_type else None
    return {
        "number": record.number,
        "state": state.value,
        "state_label": state.label,
        "desk": record.desk.value,
        "source": record.source,
        "police_ticket": record.police_ticket,
        "caller": {
            "name": record.caller_name,
            "number": record.caller_number,
            "anonymous": record.anonymous,
            "no_follow_up": record.no_follow_up,
        },
        "location": {"address": record.address, "township": record.township},
        "demand_type": demand.value if demand else None,
        "demand_label": demand.label if demand else None,
        "category": record.category,
        "urgency": record.urgency.value,
        "description": record.description,
        "route": {
            "suggested": record.suggested_route.value if record.suggested_route else None,
            "reason": record.suggestion_reason,
            "decided": record.route.value if record.route else None,
        },
        "lead_unit": record.lead_unit,
        "co_units": list(record.co_units or ()),
        "extension": record.extension,
        "merged_into": record.merged_into,
        "due": {
            "sign_for": iso(record.due_sign),
            "arrive": iso(record.due_arrive),
            "feedback": iso(record.due_feedback),
            "close": iso(record.due_close),
        },
        "times": {
            "created": iso(record.created_at),
            "dispatched": iso(record.dispatched_at),
            "signed": iso(record.signed_at),
            "arrived": iso(record.arrived_at),
            "fed_back": iso(record.fed_back_at),
            "replied": iso(record.replied_at),
            "closed": iso(record.closed_at),
            "updated": iso(record.updated_at),
        },
        "reply": record.reply,
        "satisfaction": record.satisfaction,
        **your_moves(record, principal, now),
    }


def your_moves(record: CaseRecord, principal: Principal, now: datetime) -> dict[str, Any]:
    """What this principal may do to the case now (`allowed`: the table, their
    role, the case's situation — its desk, its units, a pending extension),
    and for a ladder step the deadlines it may name (`ladder_deadlines`)."""
    actor = Actor(principal.name, principal.role, principal.unit)
    allowed = moves_now(record, actor, now)
    return {
        "allowed": [c.value for c in allowed],
        "ladder_deadlines": ladder_deadlines(record, allowed, now),
    }


def timeline_entry_json(event: CaseEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": iso(event.at),
        "command": entry_name(event.command, event.seq, event.data),
        "from": event.from_state.value if event.from_state else None,
        "to": event.to_state.value,
        "actor": event.actor,
        "role": event.role.value,
        "unit": event.unit,
        "data": event.data,
    }


def illegal_details(allowed: list[Command]) -> dict[str, Any]:
    return {"allowed": [c.value for c in allowed]}
