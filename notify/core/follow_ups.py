"""A follow-up call (回访) as a small state machine, and when it may ring.

When a case is closed, its caller is asked, `after` later and only within the
county's calling hours (and on working days, if the county says so), how
satisfied they are: a key 1 (very satisfied) … 5 (very dissatisfied), and
perhaps a few seconds of comment. The rating goes on the case as a
`follow_up`; a rating the county lists re-opens the case (重办). No answer,
busy, no key: tried again `retry_gap_s` later (within the hours), then "not
reached". An anonymous caller, one who asked not to be called, and a case
without a caller number are never called; a case re-opened (or merged)
before the call calls it off.

`MOVES` is every state change there is. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from county.calendar import COUNTY_TZ, WorkCalendar
from county.outbound import FollowUpRules


class FollowUpState(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time and a free line
    CALLING = "calling"  # the citizen's phone rings, or they are rating
    RATED = "rated"  # a key 1–5 was pressed
    UNREACHED = "unreached"  # every try without a rating
    CANCELLED = "cancelled"  # the case moved on (re-opened, merged) before the call


class CallResult(StrEnum):
    RATED = "rated"
    NO_KEY = "no_key"  # answered, no rating key
    HUNG_UP = "hung_up"  # answered, hung up before a key
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    LOST = "lost"


OPEN = frozenset({FollowUpState.SCHEDULED, FollowUpState.CALLING})
MOVES = frozenset(
    {
        (FollowUpState.SCHEDULED, FollowUpState.CALLING),
        (FollowUpState.CALLING, FollowUpState.SCHEDULED),  # not reached: later
        (FollowUpState.CALLING, FollowUpState.RATED),
        (FollowUpState.CALLING, FollowUpState.UNREACHED),
        (FollowUpState.SCHEDULED, FollowUpState.CANCELLED),
        (FollowUpState.CALLING, FollowUpState.CANCELLED),
    }
)


@dataclass(frozen=True)
class FollowUp:
    follow_up_id: int
    case_number: str
    closed_seq: int  # the timeline entry that closed the case: one follow-up per closing
    caller_number: str
    due_at: datetime  # the next call's time (within the calling hours)
    created_at: datetime
    state: FollowUpState = FollowUpState.SCHEDULED
    tries: int = 0
    last_result: CallResult | None = None
    rating: int | None = None
    recording: str | None = None  # the citizen's spoken comment, if any
    updated_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.state in OPEN


def _move(f: FollowUp, to: FollowUpState, at: datetime, **changes: object) -> FollowUp:
    if (f.state, to) not in MOVES:
        raise ValueError(f"follow-up {f.follow_up_id}: {f.state} → {to} is not a move")
    return replace(f, state=to, updated_at=at, **changes)  # type: ignore[arg-type]


def calling_time(at: datetime, rules: FollowUpRules, calendar: WorkCalendar) -> datetime:
    """The first moment at or after `at` when the county calls citizens:
    within the hours (county time) and, if asked, on a working day."""
    local = at.astimezone(COUNTY_TZ)
    start, end = rules.hours
    for _ in range(400):  # a year of days at the most: a calendar is never all holidays
        day = local.date()
        opens = datetime.combine(day, start, COUNTY_TZ)
        closes = datetime.combine(day, end, COUNTY_TZ)
        workable = not rules.working_days_only or calendar.is_working_day(day)
        if workable and local < closes:
            return max(local, opens).astimezone(at.tzinfo)
        local = datetime.combine(day + timedelta(days=1), start, COUNTY_TZ)
    raise ValueError("no calling day within a year")


def first_due(closed_at: datetime, rules: FollowUpRules, calendar: WorkCalendar) -> datetime:
    return calling_time(closed_at + rules.after, rules, calendar)


def started(f: FollowUp, at: datetime) -> FollowUp | None:
    if f.state is not FollowUpState.SCHEDULED:
        return None
    return _move(f, FollowUpState.CALLING, at, tries=f.tries + 1)


def ended(
    f: FollowUp,
    try_number: int,
    result: CallResult,
    at: datetime,
    rules: FollowUpRules,
    calendar: WorkCalendar,
    *,
    rating: int | None = None,
    recording: str | None = None,
) -> FollowUp | None:
    """The call under way ended. An end of an earlier call, or told twice,
    changes nothing (None)."""
    if f.state is not FollowUpState.CALLING or try_number != f.tries:
        return None
    if result is CallResult.RATED and rating is not None and 1 <= rating <= 5:
        return _move(
            f, FollowUpState.RATED, at, last_result=result, rating=rating, recording=recording
        )
    if result is CallResult.RATED:
        result = CallResult.NO_KEY  # a rating outside 1–5 is no rating
    if f.tries >= rules.tries:
        return _move(f, FollowUpState.UNREACHED, at, last_result=result)
    due = calling_time(at + timedelta(seconds=rules.retry_gap_s), rules, calendar)
    return _move(f, FollowUpState.SCHEDULED, at, last_result=result, due_at=due)


def cancelled(f: FollowUp, at: datetime) -> FollowUp | None:
    return _move(f, FollowUpState.CANCELLED, at) if f.open else None


def due(f: FollowUp, now: datetime) -> bool:
    return f.state is FollowUpState.SCHEDULED and f.due_at <= now
