"""One linkage notice (联动快速办理通知) as a small state machine.

A dispatch that calls for it makes a notice for the unit: queued in the
outbox, then tried rung by rung down the unit's ladder (staff, office,
leader…, `ladder_plan`) until someone presses a key. `1` accepts: the case
is signed for the unit in the name of the person reached. `9` declines
("not ours"): a return is requested. Anything else — no answer, busy, an
answer with no key (a voicemail), a hang-up before a key — is a try not
reached; after the last rung the notice is unreached and the supervisors
are alerted. A case that moves on by other means (signed through the API,
re-dispatched, closed) cancels a notice not yet accepted.

`MOVES` is every state change there is; anything else (an end told twice,
a late event) changes nothing. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class NoticeState(StrEnum):
    QUEUED = "queued"  # in the outbox: waiting for its time (`next_try_at`) and a free line
    CALLING = "calling"  # a try is under way
    ACCEPTED = "accepted"  # key 1: signed for the unit
    DECLINED = "declined"  # key 9: a return requested
    UNREACHED = "unreached"  # every rung tried, nobody pressed a key: alerted
    CANCELLED = "cancelled"  # the case moved on before anyone accepted


class TryResult(StrEnum):
    ACCEPTED = "accepted"  # key 1
    DECLINED = "declined"  # key 9
    NO_KEY = "no_key"  # answered, the message said, no key (a voicemail, a silence)
    HUNG_UP = "hung_up"  # answered and hung up before a key
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # congestion, no such number, the line unavailable
    LOST = "lost"  # the try's end is not known (Asterisk or the server restarted)
    CALLED_OFF = "called_off"  # hung up by the server: the case moved on while it rang


REACHED = frozenset({TryResult.ACCEPTED, TryResult.DECLINED})
OPEN = frozenset({NoticeState.QUEUED, NoticeState.CALLING})

# (from, to) pairs: every change there is.
MOVES = frozenset(
    {
        (NoticeState.QUEUED, NoticeState.CALLING),
        (NoticeState.CALLING, NoticeState.QUEUED),  # not reached: the next rung
        (NoticeState.CALLING, NoticeState.ACCEPTED),
        (NoticeState.CALLING, NoticeState.DECLINED),
        (NoticeState.CALLING, NoticeState.UNREACHED),
        (NoticeState.QUEUED, NoticeState.CANCELLED),
        (NoticeState.CALLING, NoticeState.CANCELLED),
    }
)


@dataclass(frozen=True)
class Notice:
    notice_id: int
    case_number: str
    unit: str  # the unit's code (units.csv)
    dispatch_seq: int  # the timeline entry that asked for it: one notice per dispatch
    urgent: bool  # urgent ones are dialled first
    rungs: int  # tries on the ladder (ladder_plan's length when it was made)
    created_at: datetime
    state: NoticeState = NoticeState.QUEUED
    tries: int = 0  # tries started
    next_try_at: datetime | None = None  # None: at once
    reached: str | None = None  # who pressed the key (the roster's name)
    updated_at: datetime | None = None
    # A co-unit (协办单位) of the dispatch: told to go too; its key 1
    # acknowledges (only the lead unit signs) and its 9 is a line on the case.
    co_unit: bool = False

    @property
    def open(self) -> bool:
        return self.state in OPEN


@dataclass(frozen=True)
class Try:
    """One call of a notice: rung `number` of its ladder."""

    notice_id: int
    number: int  # 1-based
    contact: str  # staff, office, leader, duty
    name: str  # the person, from the roster
    phone: str  # the number (or the unit's PBX line) as the roster says it
    dial: str  # what Asterisk dials (PJSIP/unit-04, PJSIP/139…@trunk-12345)
    trunk: str  # the line it takes ("line" for a unit's own PBX line)
    started_at: datetime
    ended_at: datetime | None = None
    result: TryResult | None = None
    reason: str | None = None  # for a decline: the reason key's text, or "recording"
    recording: str | None = None  # for a decline: the spoken reason's file
    call_id: str | None = None  # the call Asterisk made for it (its first channel's id)


def _move(notice: Notice, to: NoticeState, at: datetime, **changes: object) -> Notice:
    if (notice.state, to) not in MOVES:
        raise ValueError(f"notice {notice.notice_id}: {notice.state} → {to} is not a move")
    return replace(notice, state=to, updated_at=at, **changes)  # type: ignore[arg-type]


def started(notice: Notice, at: datetime) -> Notice | None:
    """Its next try is being dialled; None if it is not queued."""
    if notice.state is not NoticeState.QUEUED or notice.tries >= notice.rungs:
        return None
    return _move(notice, NoticeState.CALLING, at, tries=notice.tries + 1, next_try_at=None)


def ended(
    notice: Notice,
    try_number: int,
    result: TryResult,
    at: datetime,
    gap: timedelta,
    reached: str | None = None,
) -> Notice | None:
    """The try under way ended with `result`. An end of an earlier try, or
    one told again, changes nothing (None)."""
    if notice.state is not NoticeState.CALLING or try_number != notice.tries:
        return None
    if result is TryResult.ACCEPTED:
        return _move(notice, NoticeState.ACCEPTED, at, reached=reached)
    if result is TryResult.DECLINED:
        return _move(notice, NoticeState.DECLINED, at, reached=reached)
    if notice.tries >= notice.rungs:
        return _move(notice, NoticeState.UNREACHED, at)
    return _move(notice, NoticeState.QUEUED, at, next_try_at=at + gap)


def cancelled(notice: Notice, at: datetime) -> Notice | None:
    """The case moved on; None if the notice is over already."""
    if not notice.open:
        return None
    return _move(notice, NoticeState.CANCELLED, at)


def due(notice: Notice, now: datetime) -> bool:
    return notice.state is NoticeState.QUEUED and (
        notice.next_try_at is None or notice.next_try_at <= now
    )
