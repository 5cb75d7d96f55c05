"""A callback's story on the case of the call the caller hung up: booked
(the place they kept), connected (which operator), an attempt not reached
(why, which attempt, when the next), failed after the last attempt, or
withdrawn (the caller heard "not booked" and waited on in line).

Why on the case, not only on the call's page: the caller's matter is the
case; a desk reading its received cases must see that the caller is waiting
to be called back, and a supervisor must see how the promise was kept.

The lines carry no caller number (units and supervisors read timelines; the
number is on the case's caller, masked for them). Like the voice menu's
lines (`menu_notes`) these entries carry no command (`command` None, a new
`Command` value would change a CHECK constraint, a schema change); the API
names them `callback`. Each is keyed by the callback, what happened and the
attempt (`note_id`): a change told twice, or again after a restart, is
recorded once. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from county.calendar import COUNTY_TZ
from records.core.keyed_notes import facts

# The name the API gives these entries.
CALLBACK_ENTRY = "callback"


class CallbackOutcome(StrEnum):
    BOOKED = "booked"  # the caller hung up keeping their place
    DIALLING = (
        "dialling"  # an operator took it; the caller's phone rings (no line: the call is linked)
    )
    CONNECTED = "connected"  # the caller answered: operator and caller talk
    NOT_REACHED = "not_reached"  # an attempt not answered; another one comes
    FAILED = "failed"  # not reached on any attempt
    # Taken back: the caller heard "not booked" (the server was too slow) and waited on.
    WITHDRAWN = "withdrawn"


# The outcomes that make a line on the timeline; DIALLING only links its call.
ON_TIMELINE = frozenset(
    {
        CallbackOutcome.BOOKED,
        CallbackOutcome.CONNECTED,
        CallbackOutcome.NOT_REACHED,
        CallbackOutcome.FAILED,
        CallbackOutcome.WITHDRAWN,
    }
)

# Dial's DIALSTATUS (and the server's LOST) as a desk reads it.
DIAL_STATUS = {
    "BUSY": "忙",
    "NOANSWER": "无应答",
    "CONGESTION": "线路拥塞",
    "CHANUNAVAIL": "无法接通",
    "CANCEL": "话务员先挂断",
    "LOST": "呼叫中断",
}


@dataclass(frozen=True)
class CallbackNote:
    callback_id: int
    call_id: str  # the call the caller hung up: its case takes the line
    at: datetime  # when it happened
    desk: str
    outcome: CallbackOutcome
    state: str  # the callback's state after the change (waiting, connected, ...)
    position: int  # the place in line kept
    attempts: int  # the caller's number dialled so many times
    last_status: str | None = None  # Dial's status of the last attempt
    operator: str | None = None  # the operator's phone that took it
    next_try_at: datetime | None = None
    # The call that dialled the caller (the stand-in's): it joins the case.
    dial_call_id: str | None = None

    @property
    def note_id(self) -> str:
        """What makes it once: booked, failed and withdrawn happen once per
        callback, dialling, connected and not reached once per attempt."""
        if self.outcome in (
            CallbackOutcome.BOOKED,
            CallbackOutcome.FAILED,
            CallbackOutcome.WITHDRAWN,
        ):
            return f"{self.callback_id}:{self.outcome}"
        attempt = self.attempts + (1 if self.outcome is CallbackOutcome.DIALLING else 0)
        return f"{self.callback_id}:{self.outcome}:{attempt}"

    @property
    def on_timeline(self) -> bool:
        return self.outcome in ON_TIMELINE


def status_text(status: str | None) -> str:
    return DIAL_STATUS.get(status or "", status or "未知")


def note_text(note: CallbackNote) -> str:
    """The line a desk operator reads on the timeline (Chinese first)."""
    if note.outcome is CallbackOutcome.BOOKED:
        return f"市民选择回拨，保留排队位置（第{note.position}位）"
    if note.outcome is CallbackOutcome.CONNECTED:
        which = "回拨接通" if note.attempts <= 1 else f"第{note.attempts}次回拨接通"
        return f"{which}，话务员 {note.operator}" if note.operator else which
    if note.outcome is CallbackOutcome.NOT_REACHED:
        line = f"回拨未接通（{status_text(note.last_status)}），第{note.attempts}次"
        if note.next_try_at is not None:
            line += f"，下次 {note.next_try_at.astimezone(COUNTY_TZ):%H:%M}"
        return line
    if note.outcome is CallbackOutcome.FAILED:
        return f"回拨 {note.attempts} 次均未接通（最后一次：{status_text(note.last_status)}）"
    if note.outcome is CallbackOutcome.WITHDRAWN:
        return "回拨未能及时登记，已撤销；市民继续排队"
    return f"回拨中，话务员 {note.operator or ''}".rstrip()


def note_data(note: CallbackNote) -> dict[str, Any]:
    """The timeline entry's data: the line to read, the call, and the callback."""
    return {
        "note": note_text(note),
        "call": note.call_id,
        "callback": {
            "id": note.callback_id,
            "note_id": note.note_id,
            "outcome": note.outcome.value,
            "at": note.at,
            "desk": note.desk,
            "state": note.state,
            "position_kept": note.position,
            "attempts": note.attempts,
            "last_status": note.last_status,
            "operator": note.operator,
            "next_try_at": note.next_try_at,
            "dial_call": note.dial_call_id,
        },
    }


def callback_booked(entries: Iterable[dict[str, Any]]) -> bool:
    """Whether a caller of the case took a callback (and it was not taken
    back): they hung up before an operator answered, but their matter waits
    to be called back."""
    booked: set[object] = set()
    withdrawn: set[object] = set()
    for data in entries:
        cb = facts(data, CALLBACK_ENTRY)
        if cb is None:
            continue
        if cb.get("outcome") == CallbackOutcome.BOOKED:
            booked.add(cb.get("id"))
        elif cb.get("outcome") == CallbackOutcome.WITHDRAWN:
            withdrawn.add(cb.get("id"))
    return bool(booked - withdrawn)
