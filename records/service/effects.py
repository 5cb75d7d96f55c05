"""What a move changes on the case record beyond the lifecycle's own fields:
classification, due times, the e-reply, satisfaction, the supervisor ladder.

The timeline entry gets what was computed here (due times, the routing
suggestion), so the timeline alone tells why the case looks as it does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from common.vocabulary import Desk
from county.case_rules import CaseRules
from county.case_words import DemandType, Urgency
from county.time_limits import Duration, extend
from records.core.case_file import TimelineEntry
from records.core.lifecycle import Command
from records.storage.tables import CaseRecord

C = Command
_CLASSIFIED_FIELDS = (
    "demand_type",
    "category",
    "urgency",
    "township",
    "address",
    "description",
    "no_follow_up",
)


def apply_effects(
    record: CaseRecord, entry: TimelineEntry, data: dict[str, Any], rules: CaseRules
) -> None:
    command, at = entry.command, entry.at
    if "police_ticket" in data:
        record.police_ticket = data["police_ticket"]
    if command is C.CLASSIFY:
        _classify(record, entry, data, rules)
    elif command in (C.DISPATCH, C.REDISPATCH):
        _start_clocks(record, entry, at, rules)
    elif command is C.SIGN:
        record.signed_at = at
    elif command is C.ARRIVE:
        record.arrived_at = record.arrived_at or at
    elif command is C.FEED_BACK:
        record.fed_back_at = record.fed_back_at or at
    elif command is C.REPLY:
        record.replied_at = at
        record.fed_back_at = record.fed_back_at or at
        record.reply = _reply(data, at)
    elif command is C.REJECT_REPLY:
        record.replied_at = None
    elif command in (C.CLOSE, C.ANSWER_DIRECTLY, C.POLICE_CLOSE):
        record.closed_at = at
    elif command is C.FOLLOW_UP:
        record.satisfaction = data["satisfaction"]
    elif command is C.REQUEST_EXTENSION:
        record.extension_days = data["days"]
    elif command is C.APPROVE_EXTENSION:
        _extend(record, entry, rules)
    elif command is C.REOPEN:
        # The old reply and rating stay in the timeline; the case owes new ones.
        record.closed_at = None
        record.reply = None
        record.satisfaction = None
    elif command in (C.REFER_TO_110, C.REFER_TO_12345) and data.get("urgency"):
        # Only the server sends it (the voice menu's emergency key): the API's
        # referral carries a note alone (payloads.FIELDS).
        record.urgency = Urgency(data["urgency"])
    elif command in (C.REMIND, C.NOTICE, C.BULLETIN):
        record.ladder = {**record.ladder, f"{data['deadline']}:{command.value}": at.isoformat()}


def _classify(
    record: CaseRecord, entry: TimelineEntry, data: dict[str, Any], rules: CaseRules
) -> None:
    for name in _CLASSIFIED_FIELDS:
        if name in data:
            setattr(record, name, data[name])
    text = " ".join(filter(None, (record.description, record.address)))
    # The catalogue's own reading of the words, not of the category the
    # operator picked: the two are kept side by side for review.
    suggestion = rules.routing.suggest(
        desk=Desk(record.desk),
        text=text,
        demand_type=DemandType(data["demand_type"]),
        township=record.township,
    )
    record.route = data["route"]
    record.suggested_route = suggestion.route
    record.suggestion_reason = suggestion.reason
    entry.data["suggestion"] = {
        "route": suggestion.route.value,
        "reason": suggestion.reason,
        "rule": suggestion.rule,
        "category": suggestion.category,
        "lead_unit": suggestion.lead_unit,
    }
    same_category = suggestion.category is None or suggestion.category == record.category
    entry.data["followed_suggestion"] = suggestion.route == data["route"] and same_category


def _start_clocks(record: CaseRecord, entry: TimelineEntry, at: datetime, rules: CaseRules) -> None:
    """Clocks start at dispatch (not at sign-for); a re-dispatch restarts them."""
    demand = record.demand_type or DemandType.HELP
    urgency = record.urgency or Urgency.NORMAL
    due = rules.time_limits.deadlines(
        demand, urgency, rules.is_utility(record.category), at, rules.calendar
    )
    record.dispatched_at = at
    record.due_sign, record.due_close = due.sign_for, due.close
    record.due_arrive, record.due_feedback = due.arrive, due.feedback
    record.signed_at = record.arrived_at = record.fed_back_at = record.replied_at = None
    record.extension_days = None
    record.ladder = {}
    entry.data["due"] = {
        "sign_for": due.sign_for,
        "arrive": due.arrive,
        "feedback": due.feedback,
        "close": due.close,
    }


def _extend(record: CaseRecord, entry: TimelineEntry, rules: CaseRules) -> None:
    if record.due_close is None or not record.extension_days:
        return
    record.due_close = extend(
        record.due_close, Duration(record.extension_days, "wd"), rules.calendar
    )
    record.ladder = {k: v for k, v in record.ladder.items() if not k.startswith("close:")}
    entry.data["due_close"] = record.due_close


def _reply(data: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The e-reply (电子交办单回复) as archived."""
    finished = data.get("finished_at", at)
    return {
        "measures": data["measures"],
        "result": data["result"],
        "handler": data["handler"],
        "finished_at": finished.isoformat(),
        "attachments": data.get("attachments", []),
        "replied_at": at.isoformat(),
    }
