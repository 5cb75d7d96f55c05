"""What the call model holds about live legs and calls, and what it is told
from outside (the database's open legs, Asterisk's CEL endings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from common.vocabulary import Desk
from telephony.core import events as ev


@dataclass
class Leg:
    uniqueid: str
    call_id: str
    channel: str
    endpoint: str | None
    role: ev.LegRole
    trunk: Desk | None
    direction: ev.Direction
    caller_number: str | None
    caller_name: str | None
    ringing: bool = False
    answered: bool = False
    dialled_by: str | None = None  # uniqueid of the leg whose Dial created this one
    bridges: set[str] = field(default_factory=set)
    # When it started ringing and was answered, as far as known (None for legs
    # restored from the database or picked up by a reconciliation).
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    # The latest moment the leg is known to have been alive: its last event, or a
    # channel list that had it. The earliest its end can be when nobody saw it.
    last_seen: datetime | None = None


@dataclass
class Call:
    call_id: str
    legs: set[str] = field(default_factory=set)
    answered_legs: int = 0
    answered: bool = False


@dataclass(frozen=True, slots=True)
class KnownLeg:
    """A leg the database believes is live, loaded into the model at start-up."""

    uniqueid: str
    call_id: str
    channel: str
    endpoint: str | None
    role: ev.LegRole
    trunk: Desk | None
    direction: ev.Direction
    answered: bool
    bridges: frozenset[str] = frozenset()  # bridges the database has it in, still open
    last_seen: datetime | None = None  # its latest time the database has, if given


@dataclass(frozen=True, slots=True)
class Ending:
    """What Asterisk's own records (CEL) say about how a vanished leg ended."""

    at: datetime
    cause: int | None
