"""What the transfer machine is told: the request that opens it and the events
that move it, as the server derives them from the AMI, its timers and the API.

Times are timezone-aware datetimes passed in by the caller: the core has no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from transfer.core.states import By, FailReason, Finding, TransferMode
from transfer.core.target import Target


def _check_time(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"transfer times must be timezone-aware, got {at!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Requested:
    """Opens a transfer (`Transfer.start`). Legs are Uniqueids, the call a Linkedid."""

    transfer_id: str
    call_id: str
    caller_uniqueid: str
    operator_uniqueid: str
    mode: TransferMode
    target: Target
    ring_timeout_s: int  # the target must answer within this (settings)
    by: By
    at: datetime

    def __post_init__(self) -> None:
        _check_time(self.at)
        if self.ring_timeout_s <= 0:
            raise ValueError(f"ring_timeout_s must be positive, got {self.ring_timeout_s}")


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime

    def __post_init__(self) -> None:
        _check_time(self.at)

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, slots=True)
class TargetRinging(Event):
    pass


@dataclass(frozen=True, slots=True)
class TargetAnswered(Event):
    target_uniqueid: str


@dataclass(frozen=True, slots=True)
class TargetFailed(Event):
    """The dial ended without an answer (DialEnd status, or the leg's hangup cause)."""

    reason: FailReason


@dataclass(frozen=True, slots=True)
class RingTimeout(Event):
    """The server's own timer, armed for `Transfer.ring_deadline`."""


@dataclass(frozen=True, slots=True)
class CompleteRequested(Event):
    """*2 again, or the API. In a conference: this operator leaves the room."""

    by: By


@dataclass(frozen=True, slots=True)
class CancelRequested(Event):
    """*0, or the API."""

    by: By


@dataclass(frozen=True, slots=True)
class CallerHungUp(Event):
    pass


@dataclass(frozen=True, slots=True)
class TargetHungUp(Event):
    """The target leg ended (or, in a conference, the other desk left the room)."""


@dataclass(frozen=True, slots=True)
class OperatorLeft(Event):
    """The transferring operator's leg ended or left the conference room."""


@dataclass(frozen=True, slots=True)
class Reconciled(Event):
    """What a reconnect or restart found in Asterisk's channels and bridges."""

    finding: Finding
    target_uniqueid: str | None = None


# Every event type, in the order the machine names them (matrices, error messages).
EVENT_TYPES: tuple[type[Event], ...] = (
    TargetRinging,
    TargetAnswered,
    TargetFailed,
    RingTimeout,
    CompleteRequested,
    CancelRequested,
    CallerHungUp,
    TargetHungUp,
    OperatorLeft,
    Reconciled,
)

# Events that report what happened (Asterisk, timers, reconciliation), as opposed
# to what someone asks for. Only these can arrive late and be dropped.
OBSERVATIONS: frozenset[type[Event]] = frozenset(EVENT_TYPES) - {
    CompleteRequested,
    CancelRequested,
}
