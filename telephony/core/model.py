"""The call model: AMI events in, domain events out. No asyncio, no I/O, no clock.

Legs are keyed by Uniqueid, calls by Linkedid (see `telephony.core.calls` for how
calls merge when Asterisk rewrites a Linkedid, `telephony.core.legs` for the rules
a leg follows). Plumbing channels (Local, ConfBridge announcers …) are not
legs: no person is on them.

Every leg that starts ends exactly once, every call that starts ends (or is
merged into another) exactly once, and nothing is emitted about a leg or call
that is not open. Replayed or duplicated events change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ami_client.message import AmiMessage
from telephony.core import events as ev
from telephony.core.causes import cause_text
from telephony.core.headers import (
    STATE_DOWN,
    STATE_UP,
    caller_of,
    event_time,
    parse_duration,
    parse_int,
)
from telephony.core.legs import LegBook
from telephony.core.roles import EndpointRules, is_plumbing
from telephony.core.state import Call, Ending, KnownLeg, Leg

__all__ = ["CallModel", "Ending", "KnownLeg"]

_Handler = Callable[[Leg, AmiMessage, datetime], list[ev.DomainEvent]]

# FullyBooted's Uptime is whole seconds: Asterisk started up to this much
# earlier than the time computed from it.
UPTIME_RESOLUTION = timedelta(seconds=1)


class CallModel:
    def __init__(self, rules: EndpointRules | None = None) -> None:
        self.rules = rules or EndpointRules()
        self._book = LegBook(self.rules)
        # Events about a leg the model knows (Newchannel is handled apart).
        self._handlers: dict[str, _Handler] = {
            "Newstate": self._on_newstate,
            "NewCallerid": self._on_caller_changed,
            "Rename": self._on_rename,
            "DialBegin": self._on_dial_begin,
            "Hangup": self._on_hangup,
            "BridgeEnter": self._on_bridge_enter,
            "BridgeLeave": self._on_bridge_leave,
            # Nothing of their own: identity and Linkedid are followed in handle().
            "NewConnectedLine": _nothing,
            "DialEnd": _nothing,
        }

    @property
    def legs(self) -> dict[str, Leg]:
        """The open legs by Uniqueid."""
        return self._book.legs

    @property
    def calls(self) -> dict[str, Call]:
        """The open calls by id."""
        return self._book.calls

    # ------------------------------------------------------------ public

    def handle(self, msg: AmiMessage, now: datetime) -> list[ev.DomainEvent]:
        """Apply one AMI event. `now` is used only when the event has no Timestamp."""
        name = msg.event or ""
        if is_plumbing(msg.get("Channel") or ""):
            return []
        if name == "Newchannel":
            return self._on_newchannel(msg, event_time(msg, now))
        handler = self._handlers.get(name)
        leg = self.legs.get(msg.get("Uniqueid") or "")
        if handler is None or leg is None:
            return []  # not ours, or about a leg we do not know (any more)
        at = event_time(msg, now)
        leg.last_seen = max(leg.last_seen or at, at)
        out = self._book.follow_linkedid(leg, msg.get("Linkedid"), at)
        out += self._book.follow_call_variable(leg, msg, at)
        out += self._book.learn_identity(leg, msg, at)
        return out + handler(leg, msg, at)

    def live_uniqueids(self) -> set[str]:
        return set(self.legs)

    def differences(self, live: list[AmiMessage]) -> set[str]:
        """Uniqueids on which the model and Asterisk's channel list disagree:
        legs Asterisk no longer has, and channels the model does not know."""
        listed = {
            uniqueid
            for item in live
            if (uniqueid := item.get("Uniqueid")) and not is_plumbing(item.get("Channel") or "")
        }
        return (set(self.legs) - listed) | (listed - set(self.legs))

    def answers_unseen(self, live: list[AmiMessage]) -> set[str]:
        """Uniqueids Asterisk lists as Up that the model has not seen answer:
        their answer times are for CEL to tell (`sync`'s `answers`)."""
        return {
            uniqueid
            for item in live
            if (uniqueid := item.get("Uniqueid"))
            and item.get("ChannelState") == STATE_UP
            and not is_plumbing(item.get("Channel") or "")
            and not ((leg := self.legs.get(uniqueid)) is not None and leg.answered)
        }

    def restore(self, known: list[KnownLeg]) -> None:
        """Load legs the database still has open (after a restart), before sync()."""
        for k in known:
            self._book.restore(k)

    def sync(
        self,
        live: list[AmiMessage],
        now: datetime,
        endings: Mapping[str, Ending] | None = None,
        *,
        settled: set[str] | None = None,
        answers: Mapping[str, datetime] | None = None,
        blind_since: datetime | None = None,
        asterisk_started: datetime | None = None,
    ) -> list[ev.DomainEvent]:
        """Reconcile with Asterisk's channel list (CoreShowChannel events).

        Live channels we did not know are picked up (oldest first, so a call
        starts with its oldest leg). Legs Asterisk no longer has are closed as
        reconciled, with their real end from `endings` (CEL) when known, in
        the order they ended, so a call ends when its last leg did.

        `settled`, when given, limits picking up and closing to those uniqueids
        (a periodic audit on a live link acts only on differences that
        outlasted one audit interval, never on events still in flight).

        What nobody saw is recorded as a bound and marked so (`at_bound`): an
        answer CEL (`answers`) has no time for, an end it has no row for. The
        bounds come from `blind_since` (the AMI link drop: legs were alive until
        then as far as anyone knows; None when liandong itself was not running)
        and `asterisk_started` (a restarted Asterisk has none of the old legs).
        """
        endings = endings or {}
        answers = answers or {}
        seen = _Sight(now, blind_since, asterisk_started)
        items: dict[str, AmiMessage] = {}
        for item in live:
            uniqueid = item.get("Uniqueid")
            if uniqueid and not is_plumbing(item.get("Channel") or ""):
                items.setdefault(uniqueid, item)
        for leg in self.legs.values():
            if leg.dialled_by not in items:
                leg.dialled_by = None  # its caller is gone: no ringback to give
        out: list[ev.DomainEvent] = []
        unknown: list[tuple[datetime, AmiMessage]] = []
        for uniqueid, item in items.items():
            known = self.legs.get(uniqueid)
            if known is None:
                if settled is None or uniqueid in settled:
                    unknown.append((now - parse_duration(item.get("Duration")), item))
                continue
            if settled is not None:
                continue  # an audit only closes and picks up; events keep the rest current
            out += self._book.follow_linkedid(known, item.get("Linkedid"), now)
            out += self._book.learn_identity(known, item, now)
            answered = answers.get(uniqueid)
            out += self._catch_up(known, item, now, answered or seen.alive_until(known))
            known.last_seen = now
        for started, item in sorted(unknown, key=lambda pair: pair[0]):
            # Picked up: it started while nobody watched, so did its answer.
            out += self._pick_up(item, started, now, answers.get(item["Uniqueid"]))
        vanished = []
        for uniqueid in set(self.legs) - set(items):
            if settled is not None and uniqueid not in settled:
                continue
            ending = endings.get(uniqueid)
            at = ending.at if ending else seen.end_bound(self.legs[uniqueid])
            vanished.append((at, uniqueid, ending))
        for at, uniqueid, ending in sorted(vanished, key=lambda v: (v[0], v[1])):
            # No CEL row: no cause either. None says "unknown"; nothing is made up.
            cause = ending.cause if ending else None
            out += self._book.end(
                uniqueid, at, cause, cause_text(cause), reconciled=True, bound=ending is None
            )
        return out

    # ------------------------------------------------------------ reconciliation

    def _pick_up(
        self, item: AmiMessage, started: datetime, now: datetime, answered: datetime | None
    ) -> list[ev.DomainEvent]:
        """A live channel we never saw start (it began while the link was down)."""
        # A channel a Dial created runs the AppDial pseudo-application (and one
        # still being originated has no dialplan context yet): Asterisk called out.
        outbound = item.get("Application") == "AppDial" or not item.get("Context")
        direction = ev.Direction.OUTBOUND if outbound else ev.Direction.INBOUND
        out = self._book.start(item, started, direction)
        leg = self.legs[item["Uniqueid"]]
        out += self._catch_up(leg, item, now, answered or _Bound(started))
        leg.last_seen = now
        return out

    def _catch_up(
        self, leg: Leg, item: AmiMessage, now: datetime, answered: datetime | _Bound
    ) -> list[ev.DomainEvent]:
        """What a CoreShowChannel item says of the leg now: its state and bridge.
        `answered`: when it answered if it is Up now (CEL's time, or a bound)."""
        state = item.get("ChannelState")
        if state == STATE_UP and not leg.answered:
            bound = isinstance(answered, _Bound)
            at = answered.at if isinstance(answered, _Bound) else answered
            out = self._book.apply_state(leg, state, at, bound=bound)
        else:
            out = self._book.apply_state(leg, state, now)
        return out + self._book.only_in(leg, item.get("BridgeId") or None, now)

    # ------------------------------------------------------------ handlers

    def _on_newchannel(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        uniqueid = msg.get("Uniqueid")
        if not uniqueid or self._book.has_ended(uniqueid):
            return []  # a late duplicate of a leg that has ended already
        leg = self.legs.get(uniqueid)
        if leg is not None:  # seen already (e.g. picked up by a sync): idempotent
            return self._book.learn_identity(leg, msg, at)
        state = msg.get("ChannelState")
        direction = ev.Direction.OUTBOUND if state == STATE_DOWN else ev.Direction.INBOUND
        out = self._book.start(msg, at, direction)
        return out + self._book.apply_state(self.legs[uniqueid], state, at)

    def _on_newstate(self, leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        return self._book.apply_state(leg, msg.get("ChannelState"), at)

    def _on_caller_changed(self, leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        number, name = caller_of(msg)
        if (number, name) == (leg.caller_number, leg.caller_name):
            return []
        leg.caller_number, leg.caller_name = number, name
        return [self._book.updated(leg, at)]

    def _on_rename(self, leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        new_name = msg.get("Newname")
        if not new_name or new_name == leg.channel:
            return []
        leg.channel = new_name
        return [self._book.updated(leg, at)]

    def _on_dial_begin(self, leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        dest = self.legs.get(msg.get("DestUniqueid") or "")
        return [] if dest is None else self._book.dialled(dest, leg, at)

    def _on_hangup(self, leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        cause = parse_int(msg.get("Cause"))
        text = msg.get("Cause-txt") or cause_text(cause)
        return self._book.end(leg.uniqueid, at, cause, text, reconciled=False)

    def _on_bridge_enter(self, leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        bridge = msg.get("BridgeUniqueid")
        return self._book.join(leg, bridge, at) if bridge else []

    def _on_bridge_leave(self, leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        bridge = msg.get("BridgeUniqueid")
        return self._book.leave(leg, bridge, at) if bridge else []


def _nothing(leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
    return []


@dataclass(frozen=True, slots=True)
class _Bound:
    """A time nobody saw, only the earliest it can have been."""

    at: datetime


class _Sight:
    """What a reconciliation knows of the time nobody watched Asterisk's events."""

    def __init__(
        self, now: datetime, blind_since: datetime | None, asterisk_started: datetime | None
    ) -> None:
        self.now = now
        self.blind_since = blind_since
        self.asterisk_started = asterisk_started

    def alive_until(self, leg: Leg) -> _Bound:
        """The last moment the leg is known to have been as the model has it:
        the link drop, or its own last sign of life; the reconciliation itself
        when neither is known (liandong was not running)."""
        known = [t for t in (self.blind_since, _last_sign(leg)) if t is not None]
        return _Bound(min(max(known), self.now) if known else self.now)

    def end_bound(self, leg: Leg) -> datetime:
        """The earliest sure time for the end of a leg that vanished unseen:
        alive until the link drop as far as anyone knows. With no drop seen
        (liandong was not running), the earliest moment it is sure to have been
        gone: Asterisk's restart if the leg belonged to the Asterisk before it,
        else now."""
        if self.blind_since is not None:
            return self.alive_until(leg).at
        started, last = self.asterisk_started, _last_sign(leg)
        if (
            started is not None
            and last is not None
            and last < started - UPTIME_RESOLUTION
            and started < self.now
        ):
            return started
        return self.now


def _last_sign(leg: Leg) -> datetime | None:
    # Its ringing counts too: another leg's event can have told it.
    signs = [t for t in (leg.last_seen, leg.ringing_at, leg.answered_at) if t is not None]
    return max(signs) if signs else None
