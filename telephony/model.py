"""The call model: AMI events in, domain events out. No asyncio, no I/O, no clock.

Legs are keyed by Uniqueid, calls by Linkedid. When Asterisk rewrites a leg's
Linkedid (bridging two calls, a transfer), the leg's old call is merged into
the call the new Linkedid names. Plumbing channels (Local, ConfBridge
announcers …) are not legs: no person is on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ami_client.message import AmiMessage
from telephony import events as ev
from telephony.causes import cause_text
from telephony.roles import EndpointRules, endpoint_of, is_plumbing, parse_role, parse_trunk

# Asterisk channel states (ChannelState header).
STATE_DOWN = "0"
STATE_RINGING = "5"
STATE_UP = "6"


@dataclass
class Leg:
    uniqueid: str
    call_id: str
    channel: str
    endpoint: str | None
    role: ev.LegRole
    trunk: ev.Trunk | None
    direction: ev.Direction
    caller_number: str | None
    caller_name: str | None
    ringing: bool = False
    answered: bool = False
    dialled_by: str | None = None  # uniqueid of the leg whose Dial created this one
    bridges: set[str] = field(default_factory=set)


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
    trunk: ev.Trunk | None
    direction: ev.Direction
    answered: bool


@dataclass(frozen=True, slots=True)
class Ending:
    """What Asterisk's own records (CEL) say about how a vanished leg ended."""

    at: datetime
    cause: int | None


class CallModel:
    def __init__(self, rules: EndpointRules | None = None) -> None:
        self.rules = rules or EndpointRules()
        self.legs: dict[str, Leg] = {}
        self.calls: dict[str, Call] = {}
        self._call_alias: dict[str, str] = {}  # a Linkedid seen for a call under another id
        self._handlers = {
            "Newchannel": self._on_newchannel,
            "Newstate": self._on_newstate,
            "NewCallerid": self._on_caller_changed,
            "NewConnectedLine": self._on_any_channel_event,
            "Rename": self._on_rename,
            "DialBegin": self._on_dial_begin,
            "DialEnd": self._on_any_channel_event,
            "Hangup": self._on_hangup,
            "BridgeEnter": self._on_bridge_enter,
            "BridgeLeave": self._on_bridge_leave,
        }

    # ------------------------------------------------------------ public

    def handle(self, msg: AmiMessage, now: datetime) -> list[ev.DomainEvent]:
        """Apply one AMI event. `now` is used only when the event has no Timestamp."""
        name = msg.event
        handler = self._handlers.get(name or "")
        if handler is None:
            return []
        channel = msg.get("Channel") or ""
        if is_plumbing(channel):
            return []
        at = event_time(msg, now)
        out: list[ev.DomainEvent] = []
        if name != "Newchannel" and msg.get("Uniqueid") in self.legs:
            out += self._follow_linkedid(msg, at)
            out += self._learn_identity(msg, at)
        out += handler(msg, at)
        return out

    def live_uniqueids(self) -> set[str]:
        return set(self.legs)

    def restore(self, known: list[KnownLeg]) -> None:
        """Load legs the database still has open (after a restart), before sync()."""
        for k in known:
            self.legs[k.uniqueid] = Leg(
                uniqueid=k.uniqueid, call_id=k.call_id, channel=k.channel, endpoint=k.endpoint,
                role=k.role, trunk=k.trunk, direction=k.direction, caller_number=None,
                caller_name=None, answered=k.answered,
            )
            call = self.calls.setdefault(k.call_id, Call(k.call_id))
            call.legs.add(k.uniqueid)
            call.answered_legs += int(k.answered)
            call.answered = call.answered or call.answered_legs >= 2

    def sync(
        self, live: list[AmiMessage], now: datetime, endings: dict[str, Ending] | None = None
    ) -> list[ev.DomainEvent]:
        """Reconcile with Asterisk's channel list (CoreShowChannel events).

        Legs Asterisk no longer has are closed as reconciled, with their real
        end from `endings` (CEL) when known; live channels we did not know are
        picked up.
        """
        endings = endings or {}
        out: list[ev.DomainEvent] = []
        live_ids = set()
        for item in live:
            channel = item.get("Channel") or ""
            uniqueid = item.get("Uniqueid")
            if not uniqueid or is_plumbing(channel):
                continue
            live_ids.add(uniqueid)
            if uniqueid in self.legs:
                out += self._follow_linkedid(item, now)
                out += self._learn_identity(item, now)
                out += self._sync_state(item, now)
            else:
                out += self._pick_up(item, now)
        for uniqueid in sorted(set(self.legs) - live_ids):
            ending = endings.get(uniqueid)
            at = ending.at if ending else now
            cause = ending.cause if ending else None
            out += self._end_leg(uniqueid, at, cause, cause_text(cause), reconciled=True)
        return out

    # ------------------------------------------------------------ handlers

    def _on_newchannel(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        uniqueid = msg.get("Uniqueid")
        if not uniqueid:
            return []
        if uniqueid in self.legs:  # seen already (e.g. picked up by a sync): idempotent
            return self._learn_identity(msg, at)
        direction = (
            ev.Direction.OUTBOUND if msg.get("ChannelState") == STATE_DOWN else ev.Direction.INBOUND
        )
        return self._start_leg(msg, at, direction)

    def _on_newstate(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        leg = self.legs.get(msg.get("Uniqueid") or "")
        if leg is None:
            return []
        return self._apply_state(leg, msg.get("ChannelState"), at)

    def _on_caller_changed(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        leg = self.legs.get(msg.get("Uniqueid") or "")
        if leg is None:
            return []
        number, name = caller_of(msg)
        if (number, name) == (leg.caller_number, leg.caller_name):
            return []
        leg.caller_number, leg.caller_name = number, name
        return [self._updated(leg, at)]

    def _on_rename(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        leg = self.legs.get(msg.get("Uniqueid") or "")
        new_name = msg.get("Newname")
        if leg is None or not new_name or new_name == leg.channel:
            return []
        leg.channel = new_name
        return [self._updated(leg, at)]

    def _on_dial_begin(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        dest = self.legs.get(msg.get("DestUniqueid") or "")
        caller = msg.get("Uniqueid")
        if dest is not None and caller in self.legs:
            dest.dialled_by = caller
            dest.direction = ev.Direction.OUTBOUND
        return []

    def _on_any_channel_event(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        return []  # identity and Linkedid are followed for every event in handle()

    def _on_hangup(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        uniqueid = msg.get("Uniqueid") or ""
        if uniqueid not in self.legs:
            return []
        cause = parse_int(msg.get("Cause"))
        text = msg.get("Cause-txt") or cause_text(cause)
        return self._end_leg(uniqueid, at, cause, text, reconciled=False)

    def _on_bridge_enter(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        leg = self.legs.get(msg.get("Uniqueid") or "")
        bridge = msg.get("BridgeUniqueid")
        if leg is None or not bridge or bridge in leg.bridges:
            return []
        leg.bridges.add(bridge)
        return [ev.LegJoinedBridge(leg.uniqueid, bridge, at)]

    def _on_bridge_leave(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        leg = self.legs.get(msg.get("Uniqueid") or "")
        bridge = msg.get("BridgeUniqueid")
        if leg is None or not bridge or bridge not in leg.bridges:
            return []
        leg.bridges.discard(bridge)
        return [ev.LegLeftBridge(leg.uniqueid, bridge, at)]

    # ------------------------------------------------------------ leg lifecycle

    def _start_leg(
        self, msg: AmiMessage, at: datetime, direction: ev.Direction
    ) -> list[ev.DomainEvent]:
        uniqueid = msg["Uniqueid"]
        channel = msg.get("Channel") or ""
        endpoint = endpoint_of(channel)
        variables = msg.channel_variables()
        role = parse_role(variables.get("LD_ROLE")) or self.rules.role_of(endpoint)
        trunk = parse_trunk(variables.get("LD_TRUNK")) or self.rules.trunk_of(endpoint)
        number, name = caller_of(msg)
        call_id = self._call_id_for(msg.get("Linkedid") or uniqueid)
        out: list[ev.DomainEvent] = []
        call = self.calls.get(call_id)
        if call is None:
            call = self.calls[call_id] = Call(call_id)
            out.append(ev.CallStarted(call_id, trunk, number, name, at))
        leg = Leg(uniqueid, call_id, channel, endpoint, role, trunk, direction, number, name)
        self.legs[uniqueid] = leg
        call.legs.add(uniqueid)
        out.append(
            ev.LegStarted(uniqueid, call_id, channel, endpoint, role, trunk, direction, number,
                          name, at)
        )
        return out

    def _pick_up(self, item: AmiMessage, now: datetime) -> list[ev.DomainEvent]:
        """A live channel we never saw start (it began while the link was down)."""
        started = now - parse_duration(item.get("Duration"))
        direction = ev.Direction.INBOUND if item.get("Context") not in (None, "") else (
            ev.Direction.OUTBOUND)
        if item.get("Application") == "AppDial":  # created by a Dial: Asterisk called out
            direction = ev.Direction.OUTBOUND
        out = self._start_leg(item, started, direction)
        leg = self.legs[item["Uniqueid"]]
        out += self._apply_state(leg, item.get("ChannelState"), now)
        bridge = item.get("BridgeId")
        if bridge:
            leg.bridges.add(bridge)
            out.append(ev.LegJoinedBridge(leg.uniqueid, bridge, now))
        return out

    def _sync_state(self, item: AmiMessage, now: datetime) -> list[ev.DomainEvent]:
        leg = self.legs[item["Uniqueid"]]
        out = self._apply_state(leg, item.get("ChannelState"), now)
        bridge = item.get("BridgeId")
        for old in sorted(leg.bridges - {bridge} if bridge else leg.bridges):
            leg.bridges.discard(old)
            out.append(ev.LegLeftBridge(leg.uniqueid, old, now))
        if bridge and bridge not in leg.bridges:
            leg.bridges.add(bridge)
            out.append(ev.LegJoinedBridge(leg.uniqueid, bridge, now))
        return out

    def _apply_state(self, leg: Leg, state: str | None, at: datetime) -> list[ev.DomainEvent]:
        out: list[ev.DomainEvent] = []
        if state in (STATE_RINGING, STATE_UP) and not leg.ringing and not leg.answered:
            if state == STATE_RINGING:
                out += self._mark_ringing(leg, at)
        if state == STATE_UP and not leg.answered:
            leg.answered = True
            out.append(ev.LegAnswered(leg.uniqueid, at))
            call = self.calls[leg.call_id]
            call.answered_legs += 1
            # A call is answered when a second party is on the line: the
            # inbound leg alone being Up (an IVR answering) is not an answer.
            if call.answered_legs >= 2 and not call.answered:
                call.answered = True
                out.append(ev.CallAnswered(call.call_id, at))
        return out

    def _mark_ringing(self, leg: Leg, at: datetime) -> list[ev.DomainEvent]:
        leg.ringing = True
        out: list[ev.DomainEvent] = [ev.LegRinging(leg.uniqueid, at)]
        # The caller hears ringback from the moment the first phone rings.
        origin = self.legs.get(leg.dialled_by or "")
        if origin is not None and not origin.ringing and not origin.answered:
            origin.ringing = True
            out.append(ev.LegRinging(origin.uniqueid, at))
        return out

    def _end_leg(
        self, uniqueid: str, at: datetime, cause: int | None, text: str | None, *, reconciled: bool
    ) -> list[ev.DomainEvent]:
        leg = self.legs.pop(uniqueid)
        out: list[ev.DomainEvent] = [
            ev.LegLeftBridge(uniqueid, bridge, at) for bridge in sorted(leg.bridges)
        ]
        out.append(ev.LegEnded(uniqueid, at, cause, text, reconciled))
        call = self.calls.get(leg.call_id)
        if call is not None:
            call.legs.discard(uniqueid)
            if not call.legs:
                del self.calls[call.call_id]
                self._forget_aliases(call.call_id)
                out.append(ev.CallEnded(call.call_id, at))
        return out

    # ------------------------------------------------------------ identity

    def _learn_identity(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        """Pick up LD_ROLE / LD_TRUNK once Asterisk has set them on the channel."""
        leg = self.legs.get(msg.get("Uniqueid") or "")
        if leg is None:
            return []
        variables = msg.channel_variables()
        role = parse_role(variables.get("LD_ROLE"))
        trunk = parse_trunk(variables.get("LD_TRUNK"))
        new_role = role if role is not None and role != leg.role else None
        new_trunk = trunk if trunk is not None and trunk != leg.trunk else None
        if new_role is None and new_trunk is None:
            return []
        leg.role = new_role or leg.role
        leg.trunk = new_trunk or leg.trunk
        return [self._updated(leg, at, role=new_role, trunk=new_trunk)]

    def _follow_linkedid(self, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        leg = self.legs.get(msg.get("Uniqueid") or "")
        linkedid = msg.get("Linkedid")
        if leg is None or not linkedid:
            return []
        target = self._call_id_for(linkedid)
        if target == leg.call_id:
            return []
        if target not in self.calls:
            # A Linkedid we have no call for: a new name for the same call.
            self._call_alias[linkedid] = leg.call_id
            return []
        return self._merge(leg.call_id, target, at)

    def _merge(self, merged: str, into: str, at: datetime) -> list[ev.DomainEvent]:
        old = self.calls.pop(merged)
        survivor = self.calls[into]
        for uniqueid in old.legs:
            self.legs[uniqueid].call_id = into
        survivor.legs |= old.legs
        survivor.answered_legs += old.answered_legs
        self._call_alias[merged] = into
        for alias, target in list(self._call_alias.items()):
            if target == merged:
                self._call_alias[alias] = into
        out: list[ev.DomainEvent] = [ev.CallMerged(merged, into, at)]
        if not survivor.answered and (old.answered or survivor.answered_legs >= 2):
            survivor.answered = True
            out.append(ev.CallAnswered(into, at))
        return out

    def _call_id_for(self, linkedid: str) -> str:
        return self._call_alias.get(linkedid, linkedid)

    def _forget_aliases(self, call_id: str) -> None:
        for alias in [a for a, target in self._call_alias.items() if target == call_id]:
            del self._call_alias[alias]

    def _updated(
        self,
        leg: Leg,
        at: datetime,
        *,
        role: ev.LegRole | None = None,
        trunk: ev.Trunk | None = None,
    ) -> ev.LegUpdated:
        return ev.LegUpdated(
            leg.uniqueid, leg.channel, leg.caller_number, leg.caller_name, at, role, trunk
        )


# ------------------------------------------------------------ header parsing


def event_time(msg: AmiMessage, fallback: datetime) -> datetime:
    """Asterisk's own time of the event (manager.conf timestampevents=yes)."""
    raw = msg.get("Timestamp")
    if raw:
        try:
            return datetime.fromtimestamp(float(raw), tz=UTC)
        except (ValueError, OverflowError):
            pass
    return fallback


def caller_of(msg: AmiMessage) -> tuple[str | None, str | None]:
    return _present(msg.get("CallerIDNum")), _present(msg.get("CallerIDName"))


def _present(value: str | None) -> str | None:
    return None if value in (None, "", "<unknown>") else value


def parse_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_duration(value: str | None) -> timedelta:
    """CoreShowChannel's `Duration: HH:MM:SS`."""
    try:
        hours, minutes, seconds = (int(part) for part in (value or "").split(":"))
    except ValueError:
        return timedelta(0)
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)
