"""What the desks' queues say on the AMI, as typed events.

app_queue's events (class `agent`) and the dialplan's own (`LdQueueEnter`,
`LdDeskEmpty`, `LdDeskOverflow`) become the small facts the waiting-caller
book and the operator board act on. Queues are named `desk-<desk>`; members
are desk phones, `PJSIP/<phone>`. Events of other queues are not ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ami_client.message import AmiMessage
from telephony.core.headers import event_time

QUEUE_PREFIX = "desk-"
MEMBER_PREFIX = "PJSIP/"


@dataclass(frozen=True)
class CallerEntered:
    """The dialplan is about to queue this channel (LdQueueEnter): how it came."""

    at: datetime
    uniqueid: str
    desk: str
    via: str
    priority: int


@dataclass(frozen=True)
class CallerJoined:
    at: datetime
    uniqueid: str
    call_id: str
    desk: str
    position: int
    caller_number: str | None


@dataclass(frozen=True)
class CallerAbandoned:
    at: datetime
    uniqueid: str
    desk: str
    hold_s: int | None


@dataclass(frozen=True)
class CallerLeft:
    at: datetime
    uniqueid: str
    desk: str
    # How, when known (queue_log's EXIT* events): timeout, key, empty,
    # withdraw, restart (Asterisk restarted under the caller).
    how: str | None = None


@dataclass(frozen=True)
class OperatorConnected:
    at: datetime
    uniqueid: str  # the caller's
    desk: str
    phone: str
    hold_s: int | None


@dataclass(frozen=True)
class OperatorCompleted:
    at: datetime
    uniqueid: str  # the caller's; "" when Asterisk left it out (the phone's last call then)
    desk: str
    phone: str
    talk_s: int | None
    ended_by: str | None  # caller, agent, transfer


@dataclass(frozen=True)
class MemberChanged:
    """A member's log-in, pause or device state as Asterisk has it now."""

    at: datetime
    desk: str
    phone: str
    logged_in: bool
    paused: bool
    reason: str  # empty when not paused
    device: str  # Asterisk's device state: NOT_INUSE, INUSE, RINGING, …
    paused_since: datetime | None = None  # QueueStatus's LastPause, when known


@dataclass(frozen=True)
class DeskUnstaffed:
    """A caller joined a desk with nobody logged in (LdDeskEmpty)."""

    at: datetime
    uniqueid: str
    desk: str


@dataclass(frozen=True)
class DeskOverflowed:
    at: datetime
    uniqueid: str
    desk: str
    to: str


@dataclass(frozen=True)
class CallerWentOn:
    """The dialplan went on with a channel after its queue gave up on it (a
    transfer's ring time over: LdXferDialEnd; the callback offer:
    LdCallbackOffer): it had not hung up."""

    at: datetime
    uniqueid: str


@dataclass(frozen=True)
class MenuStep:
    """A caller entered a menu node (`key` empty) or pressed a key in it
    (UserEvent LdIvr from the dialplan's ivr-mark)."""

    at: datetime
    uniqueid: str
    call_id: str
    menu: str
    node: str
    key: str
    mark: str  # hint=<code>, emergency, or empty


DeskEvent = (
    CallerEntered
    | CallerJoined
    | CallerAbandoned
    | CallerLeft
    | OperatorConnected
    | OperatorCompleted
    | MemberChanged
    | DeskUnstaffed
    | DeskOverflowed
    | CallerWentOn
    | MenuStep
)

# app_queue's member Status (AST_DEVICE_*) → a device state name.
DEVICE_STATES = {
    "0": "UNKNOWN",
    "1": "NOT_INUSE",
    "2": "INUSE",
    "3": "BUSY",
    "4": "INVALID",
    "5": "UNAVAILABLE",
    "6": "RINGING",
    "7": "RINGINUSE",
    "8": "ONHOLD",
}


def desk_of_queue(queue: str | None) -> str | None:
    if not queue or not queue.startswith(QUEUE_PREFIX):
        return None
    return queue[len(QUEUE_PREFIX) :] or None


def phone_of(interface: str | None) -> str | None:
    if not interface or not interface.startswith(MEMBER_PREFIX):
        return None
    return interface[len(MEMBER_PREFIX) :] or None


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def member_changed(
    msg: AmiMessage, at: datetime, *, logged_in: bool = True
) -> MemberChanged | None:
    """A QueueMember* event or a QueueStatus `QueueMember` entry (its interface
    is `Interface` in events and `Location` in the status list)."""
    desk = desk_of_queue(msg.get("Queue"))
    phone = phone_of(msg.get("Interface") or msg.get("Location"))
    if desk is None or phone is None:
        return None
    paused = msg.get("Paused") == "1"
    return MemberChanged(
        at,
        desk,
        phone,
        logged_in=logged_in,
        paused=paused,
        reason=(msg.get("PausedReason") or "") if paused else "",
        device=DEVICE_STATES.get(msg.get("Status") or "", "UNKNOWN"),
        paused_since=_epoch(msg.get("LastPause")) if paused else None,
    )


def entry_as_join(msg: AmiMessage, now: datetime) -> CallerJoined | None:
    """A QueueStatus `QueueEntry` (a caller waiting now) as the join it was:
    its `Wait` seconds ago, at its `Position`."""
    desk = desk_of_queue(msg.get("Queue"))
    uid = msg.get("Uniqueid")
    if desk is None or not uid:
        return None
    return CallerJoined(
        now - timedelta(seconds=_int(msg.get("Wait")) or 0),
        uid,
        msg.get("Linkedid") or uid,
        desk,
        _int(msg.get("Position")) or 0,
        msg.get("CallerIDNum"),
    )


def _epoch(value: str | None) -> datetime | None:
    seconds = _int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def desk_event(msg: AmiMessage, now: datetime) -> DeskEvent | None:
    """The desk event an AMI event is, or None if it is none of ours."""
    name = msg.event
    if name == "UserEvent":
        return _user_event(msg, event_time(msg, now))
    if name is None or not (name.startswith("Queue") or name.startswith("Agent")):
        return None
    at = event_time(msg, now)
    if name in ("QueueMemberAdded", "QueueMemberPause", "QueueMemberStatus"):
        return member_changed(msg, at)
    if name == "QueueMemberRemoved":
        return member_changed(msg, at, logged_in=False)
    desk = desk_of_queue(msg.get("Queue"))
    uniqueid = msg.get("Uniqueid")
    if desk is not None and uniqueid is None and name == "AgentComplete":
        # Asterisk sends it without the caller's fields when the caller's
        # channel was gone first (no snapshot left; seen once in 30 callers
        # under load): the operator's phone tells whose wait it ends.
        return _completed(msg, at, desk, "")
    if desk is None or uniqueid is None:
        return None
    if name == "QueueCallerJoin":
        return CallerJoined(
            at,
            uniqueid,
            msg.get("Linkedid") or uniqueid,
            desk,
            _int(msg.get("Position")) or 0,
            msg.get("CallerIDNum"),
        )
    if name == "QueueCallerAbandon":
        return CallerAbandoned(at, uniqueid, desk, _int(msg.get("HoldTime")))
    if name == "QueueCallerLeave":
        return CallerLeft(at, uniqueid, desk)
    phone = phone_of(msg.get("Interface"))
    if phone is None:
        return None
    if name == "AgentConnect":
        return OperatorConnected(at, uniqueid, desk, phone, _int(msg.get("HoldTime")))
    if name == "AgentComplete":
        return _completed(msg, at, desk, uniqueid)
    return None


def _completed(msg: AmiMessage, at: datetime, desk: str, uniqueid: str) -> DeskEvent | None:
    phone = phone_of(msg.get("Interface"))
    if phone is None:
        return None
    return OperatorCompleted(
        at, uniqueid, desk, phone, _int(msg.get("TalkTime")), msg.get("Reason")
    )


def _user_event(msg: AmiMessage, at: datetime) -> DeskEvent | None:
    kind = msg.get("UserEvent")
    uniqueid = msg.get("Uniqueid")
    if kind == "LdIvr" and uniqueid is not None and msg.get("Menu") and msg.get("Node"):
        return MenuStep(
            at,
            uniqueid,
            msg.get("Linkedid") or uniqueid,
            msg.get("Menu") or "",
            msg.get("Node") or "",
            msg.get("Key") or "",
            msg.get("Mark") or "",
        )
    # The queue's time was up and the dialplan goes on with the caller: a
    # transfer's ring time (LdXferDialEnd), the callback offer (LdCallbackOffer).
    if kind in ("LdXferDialEnd", "LdCallbackOffer") and uniqueid is not None:
        return CallerWentOn(at, uniqueid)
    desk = msg.get("Desk")
    if uniqueid is None or not desk:
        return None
    if kind == "LdQueueEnter":
        return CallerEntered(
            # Not "Priority": every channel event already has one (the dialplan's).
            at,
            uniqueid,
            desk,
            msg.get("Via") or "citizen",
            _int(msg.get("QueuePriority")) or 0,
        )
    if kind == "LdDeskEmpty":
        return DeskUnstaffed(at, uniqueid, desk)
    if kind == "LdDeskOverflow":
        return DeskOverflowed(at, uniqueid, desk, msg.get("To") or "")
    return None
