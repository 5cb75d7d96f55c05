"""What the 12345 menu tells a caller about their case, without an operator.

Only cases the calling number opened are ever told: the server looks up the
calling number's cases, and the number typed (or none: the newest open one)
picks among them. A withheld number has no cases. The answer is a list of
prompt ids, spoken in the dialplan (`Playback`), so the words are the
catalogue's and a county can record them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from county.calendar import COUNTY_TZ
from ivr_flows.core import spoken
from records.core.lifecycle import CaseState

YOUR_CASE, CURRENT_STATE, DEADLINE = "case/your_case", "case/current_state", "case/deadline"
CLOSED = frozenset({CaseState.CLOSED, CaseState.ARCHIVED, CaseState.CANCELLED, CaseState.MERGED})


@dataclass(frozen=True)
class CaseSummary:
    number: str  # "2026-000123"
    state: CaseState
    due_close: datetime | None
    created_at: datetime


def find_case(typed: str, cases: list[CaseSummary]) -> CaseSummary | None:
    """The caller's case the typed digits name: the whole number (2026000123),
    or its last digits when only one of the caller's cases ends so; nothing
    typed: the newest open case, else the newest."""
    digits = "".join(c for c in typed if c.isdigit())
    if not digits:
        newest = sorted(cases, key=lambda c: c.created_at, reverse=True)
        open_ = [c for c in newest if c.state not in CLOSED]
        chosen = open_ or newest
        return chosen[0] if chosen else None
    matches = [c for c in cases if c.number.replace("-", "").endswith(digits)]
    exact = [c for c in matches if c.number.replace("-", "") == digits]
    if exact:
        return exact[0]
    return matches[0] if len(matches) == 1 else None


def told(case: CaseSummary) -> list[str]:
    """您的工单 <number digit by digit> 当前状态 <state> [办理时限 <date>]."""
    said = [YOUR_CASE, *spoken.digits_of(case.number.replace("-", ""))]
    said += [CURRENT_STATE, *spoken.case_state(case.state)]
    if case.due_close is not None and case.state not in CLOSED:
        said += [DEADLINE, *spoken.date(case.due_close.astimezone(COUNTY_TZ).date())]
    return said


CASE_STATUS_IDS = frozenset({YOUR_CASE, CURRENT_STATE, DEADLINE})
