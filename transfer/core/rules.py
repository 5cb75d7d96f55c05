"""The transition table: for each (mode, state), the events taken and what each does.

A handler is pure: from the mode, the state and the event it returns a `Move`
(the steps to record, the commands to give, who acted, the mode from now on).
`transfer.core.machine.Transfer` looks the table up and applies the move, in one place.

"Operator present" is the mode: blind means the transferring operator's leg is
gone (dropped at the request, or they left before the target answered, which
turns an attended transfer or a conference into a blind one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from transfer.core import commands as c
from transfer.core.events import (
    EVENT_TYPES,
    OBSERVATIONS,
    CallerHungUp,
    CancelRequested,
    CompleteRequested,
    Event,
    OperatorLeft,
    Reconciled,
    RingTimeout,
    TargetAnswered,
    TargetFailed,
    TargetHungUp,
    TargetRinging,
)
from transfer.core.states import TERMINAL, By, Finding, Reason, TransferMode, reason_for
from transfer.core.states import TransferState as S

BLIND, ATTENDED, CONFERENCE = TransferMode.BLIND, TransferMode.ATTENDED, TransferMode.CONFERENCE


@dataclass(frozen=True, slots=True)
class Move:
    steps: tuple[tuple[S, Reason], ...]  # one step each, in order (to state, why)
    commands: tuple[c.Command, ...] = ()
    by: By | None = None
    mode: TransferMode | None = None  # the transfer goes on in this mode
    target_uniqueid: str | None = None  # learned


Handler = Callable[[TransferMode, S, Event], Move]
_E = TypeVar("_E", bound=Event)


def _as(event: Event, kind: type[_E]) -> _E:
    if not isinstance(event, kind):  # only a wrong table row can get here
        raise TypeError(f"{kind.__name__} expected, got {event.name}")
    return event


def _give_back(mode: TransferMode) -> tuple[c.Command, ...]:
    """The caller back with the transferring operator."""
    if mode is BLIND:
        return (c.RecallOperator(),)
    if mode is ATTENDED:
        return (c.ReturnCallerToOperator(),)
    return ()  # conference: the caller never left the operator's room


def _fail(mode: TransferMode, reason: Reason, *, hang_up_target: bool) -> Move:
    drop: tuple[c.Command, ...] = (c.HangupTargetLeg(),) if hang_up_target else ()
    return Move(((S.FAILED, reason),), (*drop, *_give_back(mode), c.NotifyOperator(reason)))


def _answered(mode: TransferMode, uniqueid: str | None) -> Move:
    step = (S.ANSWERED, Reason.TARGET_ANSWERED)
    if mode is BLIND:  # nobody to consult: hand over at once
        handed = (S.COMPLETED, Reason.HANDED_OVER)
        return Move((step, handed), (c.BridgeCallerWithTarget(),), target_uniqueid=uniqueid)
    if mode is ATTENDED:
        return Move((step,), (c.ConnectOperatorWithTarget(),), target_uniqueid=uniqueid)
    return Move((step,), (c.AddTargetToConference(),), target_uniqueid=uniqueid)


# ---------------------------------------------------------------- handlers


def ring(mode: TransferMode, state: S, event: Event) -> Move:
    return Move(((S.RINGING, Reason.TARGET_RINGING),))


def answer(mode: TransferMode, state: S, event: Event) -> Move:
    return _answered(mode, _as(event, TargetAnswered).target_uniqueid)


def target_failed(mode: TransferMode, state: S, event: Event) -> Move:
    return _fail(mode, reason_for(_as(event, TargetFailed).reason), hang_up_target=False)


def ring_timeout(mode: TransferMode, state: S, event: Event) -> Move:
    return _fail(mode, Reason.NO_ANSWER, hang_up_target=True)


def complete(mode: TransferMode, state: S, event: Event) -> Move:
    """The operator hands over: *2 again, the API, hanging up, leaving the room."""
    by = By.HANGUP if isinstance(event, OperatorLeft) else _as(event, CompleteRequested).by
    drop: tuple[c.Command, ...] = () if by is By.HANGUP else (c.HangupOperatorLeg(),)
    if state is S.ANSWERED and mode is ATTENDED:
        return Move(((S.COMPLETED, Reason.HANDED_OVER),), (c.BridgeCallerWithTarget(), *drop), by)
    if state is S.ANSWERED:  # conference: the other desk stays with the caller
        return Move(((S.COMPLETED, Reason.OPERATOR_LEFT),), drop, by)
    # Before the answer the hand-over goes on as blind; out of a room, the caller waits on hold.
    hold: tuple[c.Command, ...] = (c.HoldCaller(),) if mode is CONFERENCE else ()
    return Move(((state, Reason.BECAME_BLIND),), (*hold, *drop), by, mode=BLIND)


def cancel(mode: TransferMode, state: S, event: Event) -> Move:
    back: tuple[c.Command, ...] = (c.ReturnCallerToOperator(),) if mode is ATTENDED else ()
    by = _as(event, CancelRequested).by
    return Move(((S.CANCELLED, Reason.CANCELLED),), (c.HangupTargetLeg(), *back), by)


def caller_gone(mode: TransferMode, state: S, event: Event) -> Move:
    ringing = state is not S.ANSWERED
    out: list[c.Command] = [c.HangupTargetLeg()] if ringing else []
    if mode is not BLIND:
        out.append(c.NotifyOperator(Reason.CALLER_HUNG_UP))
    if mode is CONFERENCE and ringing:  # the operator would be alone in the room
        out.append(c.EndConference())
    return Move(((S.ABANDONED, Reason.CALLER_HUNG_UP),), tuple(out))


def target_gone(mode: TransferMode, state: S, event: Event) -> Move:
    if state is not S.ANSWERED:  # it hung up instead of answering
        return _fail(mode, Reason.TARGET_HUNG_UP, hang_up_target=False)
    if mode is ATTENDED:  # during the consultation: back to the caller
        notify = c.NotifyOperator(Reason.TARGET_HUNG_UP)
        return Move(((S.CANCELLED, Reason.TARGET_HUNG_UP),), (c.ReturnCallerToOperator(), notify))
    return Move(((S.COMPLETED, Reason.TARGET_LEFT),))  # conference: the operator stays


def reconcile(mode: TransferMode, state: S, event: Event) -> Move:
    found = _as(event, Reconciled)
    finding, before_answer = found.finding, state is not S.ANSWERED
    if finding is Finding.CALLER_GONE:
        return caller_gone(mode, state, event)
    if finding is Finding.PBX_RESTARTED:  # nothing is left to act on
        return Move(((S.FAILED, Reason.PBX_RESTARTED),), (c.NotifyOperator(Reason.PBX_RESTARTED),))
    if finding is Finding.CALLER_AT_DESK:  # the caller is looked after: no give-back
        reason = Reason.RETURNED_TO_DESK
        return Move(((S.FAILED, reason),), (c.NotifyOperator(reason),))
    if finding is Finding.TARGET_WITH_CALLER:
        return Move(((S.COMPLETED, Reason.HANDED_OVER),), target_uniqueid=found.target_uniqueid)
    if finding is Finding.TARGET_RINGING and before_answer:
        why = Reason.TARGET_RINGING if state is S.REQUESTED else Reason.CONFIRMED
        return Move(((S.RINGING, why),))  # the shell re-arms its timer for ring_deadline
    if finding is Finding.TARGET_UP and before_answer:
        return _answered(mode, found.target_uniqueid)
    if finding is Finding.TARGET_UP:
        return Move(((state, Reason.CONFIRMED),), target_uniqueid=found.target_uniqueid)
    if finding is Finding.TARGET_GONE and not before_answer:
        return target_gone(mode, state, event)
    # Nothing rings any more, or a ringing target the record cannot explain.
    return _fail(mode, Reason.LOST, hang_up_target=finding is Finding.TARGET_RINGING)


# ---------------------------------------------------------------- the table

_BEFORE_ANSWER_BLIND: dict[type[Event], Handler] = {
    TargetAnswered: answer,
    TargetFailed: target_failed,
    RingTimeout: ring_timeout,
    CallerHungUp: caller_gone,
    TargetHungUp: target_gone,
    Reconciled: reconcile,
}
_BEFORE_ANSWER_WITH_OPERATOR: dict[type[Event], Handler] = {
    TargetAnswered: answer,
    TargetFailed: target_failed,
    RingTimeout: ring_timeout,
    CompleteRequested: complete,
    CancelRequested: cancel,
    CallerHungUp: caller_gone,
    TargetHungUp: target_gone,
    OperatorLeft: complete,
    Reconciled: reconcile,
}
_ANSWERED_WITH_OPERATOR: dict[type[Event], Handler] = {
    CompleteRequested: complete,
    CancelRequested: cancel,
    CallerHungUp: caller_gone,
    TargetHungUp: target_gone,
    OperatorLeft: complete,
    Reconciled: reconcile,
}
RULES: dict[tuple[TransferMode, S], dict[type[Event], Handler]] = {
    (BLIND, S.REQUESTED): {TargetRinging: ring, **_BEFORE_ANSWER_BLIND},
    (BLIND, S.RINGING): _BEFORE_ANSWER_BLIND,
    # (BLIND, ANSWERED): none, a blind transfer completes on the answer.
    (ATTENDED, S.REQUESTED): {TargetRinging: ring, **_BEFORE_ANSWER_WITH_OPERATOR},
    (ATTENDED, S.RINGING): _BEFORE_ANSWER_WITH_OPERATOR,
    (ATTENDED, S.ANSWERED): _ANSWERED_WITH_OPERATOR,
    (CONFERENCE, S.REQUESTED): {TargetRinging: ring, **_BEFORE_ANSWER_WITH_OPERATOR},
    (CONFERENCE, S.RINGING): _BEFORE_ANSWER_WITH_OPERATOR,
    (CONFERENCE, S.ANSWERED): _ANSWERED_WITH_OPERATOR,
}

# Duplicates and stragglers the shell may drop (`Transfer.is_late`); never in RULES.
_AFTER_ANSWER = frozenset({TargetRinging, TargetAnswered, RingTimeout})
LATE: dict[tuple[TransferMode, S], frozenset[type[Event]]] = {
    (BLIND, S.REQUESTED): frozenset({OperatorLeft}),  # the leg we dropped ending
    (BLIND, S.RINGING): frozenset({TargetRinging, OperatorLeft}),
    (ATTENDED, S.RINGING): frozenset({TargetRinging}),
    (CONFERENCE, S.RINGING): frozenset({TargetRinging}),
    (ATTENDED, S.ANSWERED): _AFTER_ANSWER,
    (CONFERENCE, S.ANSWERED): _AFTER_ANSWER,
}


def rule(mode: TransferMode, state: S, kind: type[Event]) -> Handler | None:
    return RULES.get((mode, state), {}).get(kind)


def allowed(mode: TransferMode, state: S) -> tuple[str, ...]:
    row = RULES.get((mode, state), {})
    return tuple(kind.__name__ for kind in EVENT_TYPES if kind in row)


def is_late(mode: TransferMode, state: S, kind: type[Event]) -> bool:
    if state in TERMINAL:  # after the end, reports from Asterisk and timers are stragglers
        return kind in OBSERVATIONS
    return kind in LATE.get((mode, state), frozenset())
