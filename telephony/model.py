"""The call model: AMI events in, domain events out. No asyncio, no I/O, no clock.

Legs are keyed by Uniqueid, calls by Linkedid (see `telephony.calls` for how
calls merge when Asterisk rewrites a Linkedid, `telephony.legs` for the rules
a leg follows). Plumbing channels (Local, ConfBridge announcers …) are not
legs: no person is on them.

Every leg that starts ends exactly once, every call that starts ends (or is
merged into another) exactly once, and nothing is emitted about a leg or call
that is not open. Replayed or duplicated events change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ami_client.message import AmiMessage
from telephony import events as ev
from telephony.causes import cause_text
from telephony.headers import STATE_DOWN, caller_of, event_time, parse_duration, parse_int
from telephony.legs import LegBook
from telephony.roles import EndpointRules, is_plumbing
from telephony.state import Call, Ending, KnownLeg, Leg

__all__ = ["CallModel", "Ending", "KnownLeg"]

_Handler = Callable[[Leg, AmiMessage, datetime], list[ev.DomainEvent]]


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

    def restore(self, known: list[KnownLeg]) -> None:
        """Load legs the database still has open (after a restart), before sync()."""
        for k in known:
            self._book.restore(k)

    def sync(
        self,
        live: list[AmiMessage],
        now: datetime,
        endings: dict[str, Ending] | None = None,
        *,
        settled: set[str] | None = None,
    ) -> list[ev.DomainEvent]:
        """Reconcile with Asterisk's channel list (CoreShowChannel events).

        Live channels we did not know are picked up (oldest first, so a call
        starts with its oldest leg). Legs Asterisk no longer has are closed as
        reconciled, with their real end from `endings` (CEL) when known, in
        the order they ended, so a call ends when its last leg did.

        `settled`, when given, limits picking up and closing to those uniqueids
        (a periodic audit on a live link acts only on differences that
        outlasted one audit interval, never on events still in flight).
        """
        endings = endings or {}
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
            out += self._catch_up(known, item, now)
        for started, item in sorted(unknown, key=lambda pair: pair[0]):
            out += self._pick_up(item, started, now)
        vanished = []
        for uniqueid in set(self.legs) - set(items):
            if settled is not None and uniqueid not in settled:
                continue
            ending = endings.get(uniqueid)
            vanished.append((ending.at if ending else now, uniqueid, ending))
        for at, uniqueid, ending in sorted(vanished, key=lambda v: (v[0], v[1])):
            cause = ending.cause if ending else None
            out += self._book.end(uniqueid, at, cause, cause_text(cause), reconciled=True)
        return out

    # ------------------------------------------------------------ reconciliation

    def _pick_up(self, item: AmiMessage, started: datetime, now: datetime) -> list[ev.DomainEvent]:
        """A live channel we never saw start (it began while the link was down)."""
        # A channel a Dial created runs the AppDial pseudo-application (and one
        # still being originated has no dialplan context yet): Asterisk called out.
        outbound = item.get("Application") == "AppDial" or not item.get("Context")
        direction = ev.Direction.OUTBOUND if outbound else ev.Direction.INBOUND
        out = self._book.start(item, started, direction)
        return out + self._catch_up(self.legs[item["Uniqueid"]], item, now)

    def _catch_up(self, leg: Leg, item: AmiMessage, now: datetime) -> list[ev.DomainEvent]:
        """What a CoreShowChannel item says of the leg now: its state and bridge."""
        out = self._book.apply_state(leg, item.get("ChannelState"), now)
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
