"""What the transfer machine asks the shell to do, named by intent. The shell
knows the transfer's legs (caller, operator, target) and carries each command
out through the AMI, in the order given."""

from __future__ import annotations

from dataclasses import dataclass

from transfer.core.states import Reason
from transfer.core.target import Target


@dataclass(frozen=True, slots=True)
class HoldCaller:
    """Take the caller out of any bridge or room onto hold music."""


@dataclass(frozen=True, slots=True)
class DialTarget:
    target: Target
    timeout_s: int


@dataclass(frozen=True, slots=True)
class ConnectOperatorWithTarget:
    """Attended: the operator talks to the answered target (the consultation)."""


@dataclass(frozen=True, slots=True)
class BridgeCallerWithTarget:
    pass


@dataclass(frozen=True, slots=True)
class ReturnCallerToOperator:
    """Take the caller off hold into a bridge with the operator, whose leg is still up."""


@dataclass(frozen=True, slots=True)
class RecallOperator:
    """The operator's leg is gone: ring them back and bridge the caller with them.
    The caller stays on hold music meanwhile."""


@dataclass(frozen=True, slots=True)
class HangupOperatorLeg:
    pass


@dataclass(frozen=True, slots=True)
class HangupTargetLeg:
    """Ringing or answered, the target leg is ended (cancels a dial still under way)."""


@dataclass(frozen=True, slots=True)
class StartConference:
    """Move the caller and the operator into a new conference room."""


@dataclass(frozen=True, slots=True)
class AddTargetToConference:
    pass


@dataclass(frozen=True, slots=True)
class EndConference:
    """Fewer than two parties remain: end the room, hanging up whoever is left in it."""


@dataclass(frozen=True, slots=True)
class NotifyOperator:
    """Tell the transferring operator (on screen) what happened."""

    reason: Reason


Command = (
    HoldCaller
    | DialTarget
    | ConnectOperatorWithTarget
    | BridgeCallerWithTarget
    | ReturnCallerToOperator
    | RecallOperator
    | HangupOperatorLeg
    | HangupTargetLeg
    | StartConference
    | AddTargetToConference
    | EndConference
    | NotifyOperator
)
