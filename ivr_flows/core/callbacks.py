"""Callbacks instead of waiting: a caller who hung up keeping their place.

A callback holds the caller's place with a stand-in call in the desk's queue
(a Local channel the server originates at the caller's position). When an
operator takes the stand-in, the operator hears whom they are calling and
the caller's number is dialled (`LdCallbackDial`, then `LdCallbackDialEnd`
with Dial's status). Not reached: tried again after the desk's retry gap, at
the head of the line, until the attempts are spent. The table below is every
move there is; anything else is ignored (a duplicate or late event).
`case_note` says what a change means to the case of the caller's call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ivr_flows.core.desk_rules import Callback as CallbackRule
from records.core.callback_notes import CallbackNote, CallbackOutcome


class CallbackState(StrEnum):
    WAITING = "waiting"  # the stand-in holds the caller's place in line
    DIALLING = "dialling"  # an operator took it: the caller's phone rings
    RETRY = "retry"  # not reached; in line again at `next_try_at`
    CONNECTED = "connected"  # the caller answered: operator and caller talk
    FAILED = "failed"  # not reached on any attempt
    # The caller was told it was not booked (the server answered too late)
    # and waits on in line: a booking made all the same is taken back.
    WITHDRAWN = "withdrawn"


# A stand-in lost before an operator took it is placed again after this
# (not at once: a stand-in Asterisk keeps dropping must not spin).
STAND_IN_RETRY = timedelta(seconds=5)

OPEN_STATES = frozenset({CallbackState.WAITING, CallbackState.DIALLING, CallbackState.RETRY})


@dataclass(frozen=True)
class Callback:
    callback_id: int
    call_id: str  # the call the caller hung up
    desk: str
    caller_number: str
    position: int  # the place in line they kept
    asked_at: datetime
    state: CallbackState = CallbackState.WAITING
    attempts: int = 0  # times the caller's number was dialled
    next_try_at: datetime | None = None
    operator: str | None = None
    last_status: str | None = None  # Dial's status of the last attempt
    updated_at: datetime | None = None
    # The call dialling the caller now (LdCallbackDial's Linkedid), for the
    # case it joins; not saved (the link is made while it rings).
    dial_call_id: str | None = None

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES


def dialling(
    cb: Callback, operator: str | None, at: datetime, call_id: str | None = None
) -> Callback | None:
    """An operator took the stand-in; the caller is being dialled (on `call_id`)."""
    if cb.state is not CallbackState.WAITING:
        return None
    return replace(
        cb, state=CallbackState.DIALLING, operator=operator, updated_at=at, dial_call_id=call_id
    )


def dial_ended(
    cb: Callback, status: str, at: datetime, rule: CallbackRule, attempt: int | None = None
) -> Callback | None:
    """The caller's phone answered or not (Dial's DIALSTATUS). From waiting
    too: the dial's start was missed (the link was down) but its end is known.
    CANCEL (the operator left before the caller's phone answered) is no
    attempt at the caller: back at the head of the line at once. `attempt`
    (the stand-in's, when known) must be the one under way: an end told
    again for an earlier attempt changes nothing."""
    if cb.state not in (CallbackState.DIALLING, CallbackState.WAITING):
        return None
    if attempt is not None and attempt != cb.attempts + 1:
        return None
    if status == "CANCEL":
        return replace(
            cb,
            state=CallbackState.RETRY,
            next_try_at=at,
            position=1,
            operator=None,
            last_status=status,
            updated_at=at,
        )
    attempts = cb.attempts + 1
    if status == "ANSWER":
        return replace(
            cb, state=CallbackState.CONNECTED, attempts=attempts, last_status=status, updated_at=at
        )
    if attempts >= rule.attempts:
        return replace(
            cb, state=CallbackState.FAILED, attempts=attempts, last_status=status, updated_at=at
        )
    return replace(
        cb,
        state=CallbackState.RETRY,
        attempts=attempts,
        last_status=status,
        next_try_at=at + timedelta(seconds=rule.retry_gap_s),
        position=1,  # they kept their place once: the head of the line now
        operator=None,
        updated_at=at,
    )


def stand_in_lost(cb: Callback, at: datetime, rule: CallbackRule) -> Callback | None:
    """The stand-in call ended with no dial-end said (Asterisk restarted, the
    channel was hung up): a waiting callback goes back in line shortly; one
    that was dialling counts as an attempt not reached."""
    if cb.state is CallbackState.WAITING:
        return replace(
            cb, state=CallbackState.RETRY, next_try_at=at + STAND_IN_RETRY, updated_at=at
        )
    if cb.state is CallbackState.DIALLING:
        return dial_ended(cb, "LOST", at, rule)
    return None


def withdrawn(cb: Callback, at: datetime) -> Callback | None:
    """The caller heard "not booked" and is back in line: the booking, if it
    was never tried on the caller's phone, is taken back (its stand-in is
    hung up). One tried already stands: the caller was not in line then."""
    if not cb.open or cb.attempts > 0:
        return None
    return replace(cb, state=CallbackState.WITHDRAWN, next_try_at=None, updated_at=at)


def due(cb: Callback, now: datetime) -> bool:
    """Its stand-in should be (re)placed in line now."""
    return cb.state is CallbackState.RETRY and (cb.next_try_at is None or cb.next_try_at <= now)


def requeued(cb: Callback, at: datetime) -> Callback:
    return replace(
        cb, state=CallbackState.WAITING, next_try_at=None, updated_at=at, dial_call_id=None
    )


def can_offer(caller_number: str | None) -> bool:
    """Anonymous callers are not offered a callback: there is no number to call."""
    if not caller_number:
        return False
    digits = caller_number.lstrip("+")
    return digits.isdigit() and 3 <= len(digits) <= 20


def case_note(cb: Callback) -> CallbackNote | None:
    """What a saved change of the callback means to its call's case: booked
    (waiting, never dialled: the place it kept), its call dialling, connected,
    an attempt not reached (in line again), failed, withdrawn; None for the rest (a
    stand-in back in line: nothing new for the case). The same change told
    twice makes the same note (`note_id`): the case records it once."""
    outcome: CallbackOutcome | None = None
    if cb.state is CallbackState.WAITING and cb.attempts == 0:
        outcome = CallbackOutcome.BOOKED
    elif cb.state is CallbackState.DIALLING:
        outcome = CallbackOutcome.DIALLING
    elif cb.state is CallbackState.CONNECTED:
        outcome = CallbackOutcome.CONNECTED
    elif cb.state is CallbackState.RETRY and cb.attempts > 0 and cb.last_status is not None:
        outcome = CallbackOutcome.NOT_REACHED
    elif cb.state is CallbackState.FAILED:
        outcome = CallbackOutcome.FAILED
    elif cb.state is CallbackState.WITHDRAWN:
        outcome = CallbackOutcome.WITHDRAWN
    if outcome is None:
        return None
    booked = outcome is CallbackOutcome.BOOKED
    return CallbackNote(
        callback_id=cb.callback_id,
        call_id=cb.call_id,
        at=cb.asked_at if booked else (cb.updated_at or cb.asked_at),
        desk=cb.desk,
        outcome=outcome,
        state=cb.state.value,
        position=cb.position,
        attempts=cb.attempts,
        last_status=cb.last_status,
        operator=cb.operator,
        next_try_at=cb.next_try_at if outcome is CallbackOutcome.NOT_REACHED else None,
        dial_call_id=cb.dial_call_id,
    )
