"""Shared helpers for the transfer tests: times, requests, and transfers brought
to a given (mode, state) by the events that really lead there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from common.vocabulary import Desk
from transfer.core.events import (
    CallerHungUp,
    CancelRequested,
    CompleteRequested,
    Event,
    OperatorLeft,
    Reconciled,
    Requested,
    RingTimeout,
    TargetAnswered,
    TargetFailed,
    TargetHungUp,
    TargetRinging,
)
from transfer.core.machine import Step, Transfer
from transfer.core.states import By, FailReason, Finding, Reason, TransferMode, TransferState
from transfer.core.states import TransferMode as M
from transfer.core.states import TransferState as S
from transfer.core.target import Target

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TARGET = Target(desk=Desk.D12345)
TIMEOUT = 20
TARGET_LEG = "liandong-1767600000.9"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def request(
    mode: TransferMode, *, by: By = By.KEY, transfer_id: str = "tr-1", call_id: str = "call-1"
) -> Requested:
    return Requested(
        transfer_id=transfer_id,
        call_id=call_id,
        caller_uniqueid="liandong-1767600000.1",
        operator_uniqueid="liandong-1767600000.2",
        mode=mode,
        target=TARGET,
        ring_timeout_s=TIMEOUT,
        by=by,
        at=T0,
    )


# One sample event of each kind, by the short names the matrices use.
def sample(short: str, t: float) -> Event:
    when = at(t)
    events: dict[str, Event] = {
        "TR": TargetRinging(when),
        "TA": TargetAnswered(when, TARGET_LEG),
        "TF": TargetFailed(when, FailReason.BUSY),
        "RT": RingTimeout(when),
        "CO": CompleteRequested(when, By.KEY),
        "CA": CancelRequested(when, By.KEY),
        "CH": CallerHungUp(when),
        "TH": TargetHungUp(when),
        "OL": OperatorLeft(when),
        "RC": Reconciled(when, Finding.TARGET_RINGING),
    }
    return events[short]


SHORT = ("TR", "TA", "TF", "RT", "CO", "CA", "CH", "TH", "OL", "RC")

# Events that bring a new transfer of a mode to a state.
_TO_ANSWER = ["TR", "TA"]
PATHS: dict[tuple[TransferMode, TransferState], list[str]] = {}
for _mode in TransferMode:
    PATHS[_mode, S.REQUESTED] = []
    PATHS[_mode, S.RINGING] = ["TR"]
    PATHS[_mode, S.FAILED] = ["TR", "TF"]
    PATHS[_mode, S.ABANDONED] = ["TR", "CH"]
PATHS[M.BLIND, S.COMPLETED] = _TO_ANSWER
for _mode in (M.ATTENDED, M.CONFERENCE):
    PATHS[_mode, S.ANSWERED] = _TO_ANSWER
    PATHS[_mode, S.COMPLETED] = [*_TO_ANSWER, "OL"]
    PATHS[_mode, S.CANCELLED] = ["TR", "CA"]


def reach(mode: TransferMode, state: TransferState, *, by: By = By.KEY) -> Transfer:
    """A transfer in (mode, state): by its real path, or restored when none leads
    there (a blind transfer never rests answered and cannot be cancelled)."""
    path = PATHS.get((mode, state))
    if path is None:
        first = Step(T0, None, S.REQUESTED, "Requested", Reason.REQUESTED, mode, by)
        there = Step(at(1), S.REQUESTED, state, "Restored", Reason.CONFIRMED, mode)
        return Transfer.restore(request(mode, by=by), [first, there], TARGET_LEG)
    transfer, _ = Transfer.start(request(mode, by=by))
    for n, short in enumerate(path, start=1):
        transfer.handle(sample(short, n))
    assert (transfer.mode, transfer.state) == (mode, state)
    return transfer
