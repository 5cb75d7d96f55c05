"""The desks' supervision figures in JSON (ivr_flows/figures_http.py): seconds
with one decimal, rates 0…1 with four. No caller numbers: the figures are
counts and times, never a wait's row."""

from __future__ import annotations

from typing import Any

from common.instants import iso
from ivr_flows.core.desk_figures import DeskTable, Figures, OperatorFigures
from ivr_flows.core.desk_rules import Targets
from ivr_flows.core.operators import WRAP_UP_REASON, OperatorState

# A pause with no reason given (a phone's plain pause key, a restart that lost it).
NO_REASON = "未注明"


def rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def targets_json(targets: Targets) -> dict[str, Any]:
    return {
        "answer_within_s": targets.answer_within_s,
        "connection_rate": targets.connection_rate,
        "service_level": targets.service_level,
    }


def figures_json(figures: Figures, targets: Targets) -> dict[str, Any]:
    connection_met, service_met = figures.meets(targets)
    return {
        "offered": figures.offered,
        "answered": figures.answered,
        "answered_within_target": figures.answered_in_time,
        "abandoned": figures.abandoned,
        "left": figures.left,
        "waiting": figures.waiting,
        "called_back": figures.called_back,
        "average_wait_s": rounded(figures.average_wait_s, 1),
        "longest_wait_s": rounded(figures.longest_wait_s, 1),
        "average_answer_s": rounded(figures.average_answer_s, 1),
        "connection_rate": rounded(figures.connection_rate, 4),
        "service_level": rounded(figures.service_level, 4),
        "connection_rate_met": connection_met,
        "service_level_met": service_met,
    }


def desk_table_json(table: DeskTable, targets: Targets) -> dict[str, Any]:
    total = figures_json(table.total, targets)
    return {
        "desk": table.desk,
        "total": {**total, "offered_by_via": dict(sorted(table.total.by_via.items()))},
        "hours": [
            {"start": iso(slot.start), "end": iso(slot.end), **figures_json(slot.figures, targets)}
            for slot in table.hours
        ],
    }


def pause_reasons(configured: list[str], rows: list[OperatorFigures]) -> list[str]:
    """The desks' pause reasons, the automatic wrap-up, then any other
    reason the records hold (a reason since removed from desks.yaml)."""
    known = [*configured, WRAP_UP_REASON]
    seen = {reason or NO_REASON for row in rows for reason in row.pause_s}
    return known + sorted(seen - set(known))


def operator_figures_json(row: OperatorFigures, reasons: list[str]) -> dict[str, Any]:
    pauses: dict[str, float] = {}
    for reason, seconds in row.pause_s.items():
        pauses[reason or NO_REASON] = pauses.get(reason or NO_REASON, 0.0) + seconds
    return {
        "phone": row.phone,
        "desk": row.desk,
        "answered": row.answered,
        "talk_s": row.talk_s,
        "average_talk_s": rounded(row.average_talk_s, 1),
        "logged_in_s": round(row.logged_in_s, 1),
        "idle_s": round(row.state_s.get(OperatorState.IDLE, 0.0), 1),
        "ringing_s": round(row.state_s.get(OperatorState.RINGING, 0.0), 1),
        "talking_s": round(row.state_s.get(OperatorState.TALKING, 0.0), 1),
        "paused_s": round(row.paused_s, 1),
        "pauses": [
            {"reason": reason, "seconds": round(pauses.get(reason, 0.0), 1)} for reason in reasons
        ],
    }
