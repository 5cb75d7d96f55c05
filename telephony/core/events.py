"""Domain events the call model emits. Everything downstream (records, the live
WebSocket, transfers) sees calls only through these.

Times are timezone-aware UTC datetimes taken from the AMI event (`Timestamp`
header) when present, else passed in by the caller: the model never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from common.vocabulary import Desk


class LegRole(StrEnum):
    CITIZEN = "citizen"
    OPERATOR_110 = "operator_110"
    OPERATOR_12345 = "operator_12345"
    UNIT = "unit"
    UNKNOWN = "unknown"


# The desk an operator's channel answers for, and the operators' channel role
# of each desk. A leg's trunk (the number the citizen called) is a `Desk` too.
LEG_ROLE_DESK = {LegRole.OPERATOR_110: Desk.D110, LegRole.OPERATOR_12345: Desk.D12345}
DESK_LEG_ROLE = {desk: role for role, desk in LEG_ROLE_DESK.items()}
OPERATOR_LEG_ROLES = frozenset(LEG_ROLE_DESK)


class Direction(StrEnum):
    INBOUND = "inbound"  # the leg called in to Asterisk (a citizen, or a phone dialling out)
    OUTBOUND = "outbound"  # Asterisk called out on this leg (a desk phone ringing)


@dataclass(frozen=True, slots=True)
class LegStarted:
    uniqueid: str
    call_id: str
    channel: str
    endpoint: str | None
    role: LegRole
    trunk: Desk | None
    direction: Direction
    caller_number: str | None
    caller_name: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class LegUpdated:
    """Caller id, channel name, role or trunk became known or changed.

    Role and trunk are None when unchanged (Asterisk sets the channel variables
    that tell them only after the channel's first event).
    """

    uniqueid: str
    channel: str
    caller_number: str | None
    caller_name: str | None
    at: datetime
    role: LegRole | None = None
    trunk: Desk | None = None


@dataclass(frozen=True, slots=True)
class LegRinging:
    uniqueid: str
    at: datetime


@dataclass(frozen=True, slots=True)
class LegAnswered:
    uniqueid: str
    at: datetime
    # Nobody saw the answer (it came while the AMI link was down and CEL has no
    # ANSWER row): `at` is the earliest it can have been, not when it was.
    at_bound: bool = False


@dataclass(frozen=True, slots=True)
class LegEnded:
    uniqueid: str
    at: datetime
    cause: int | None
    cause_text: str | None
    reconciled: bool = False  # closed by reconciliation, not by a Hangup event
    # Nobody recorded the end (no Hangup seen, no CEL row): `at` is a bound, the
    # last moment liandong knew the leg alive (or the moment it knew it gone).
    at_bound: bool = False


@dataclass(frozen=True, slots=True)
class CallStarted:
    call_id: str
    trunk: Desk | None
    caller_number: str | None
    caller_name: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class CallAnswered:
    call_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CallMerged:
    """Asterisk rewrote a Linkedid: every leg of `merged` now belongs to `into`."""

    merged: str
    into: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CallEnded:
    call_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class LegJoinedBridge:
    uniqueid: str
    bridge_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class LegLeftBridge:
    uniqueid: str
    bridge_id: str
    at: datetime


DomainEvent = (
    LegStarted
    | LegUpdated
    | LegRinging
    | LegAnswered
    | LegEnded
    | CallStarted
    | CallAnswered
    | CallMerged
    | CallEnded
    | LegJoinedBridge
    | LegLeftBridge
)
