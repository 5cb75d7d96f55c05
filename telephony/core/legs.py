"""Open legs and the rules that change them; every change is told as domain events.

`telephony.core.model` decides which change an AMI event or a reconciliation means;
`LegBook` applies it. Legs are keyed by Uniqueid and belong to a call of the
`CallBook`. Every leg that starts ends exactly once, and a call ends with its
last leg.
"""

from __future__ import annotations

from datetime import datetime

from ami_client.message import AmiMessage
from common.vocabulary import Desk
from telephony.core import events as ev
from telephony.core.calls import CallBook
from telephony.core.headers import STATE_RINGING, STATE_UP, caller_of
from telephony.core.roles import EndpointRules, endpoint_of, parse_role, parse_trunk
from telephony.core.state import Call, KnownLeg, Leg

# The channel variable by which the server ties a channel it originates to a call.
CALL_VARIABLE = "LD_CALL"

# How many ended Uniqueids to remember, so a late duplicate of a leg's
# Newchannel cannot bring the leg back to life.
ENDED_MEMORY = 10_000


class LegBook:
    def __init__(self, rules: EndpointRules) -> None:
        self.rules = rules
        self.legs: dict[str, Leg] = {}
        self.book = CallBook()
        self._ended: dict[str, None] = {}  # insertion-ordered set, oldest first

    @property
    def calls(self) -> dict[str, Call]:
        return self.book.calls

    def has_ended(self, uniqueid: str) -> bool:
        return uniqueid in self._ended

    # ------------------------------------------------------------ start and end

    def start(self, msg: AmiMessage, at: datetime, direction: ev.Direction) -> list[ev.DomainEvent]:
        """A new leg from a Newchannel or a CoreShowChannel item (and its call if new)."""
        uniqueid = msg["Uniqueid"]
        self._ended.pop(uniqueid, None)
        channel = msg.get("Channel") or ""
        endpoint = endpoint_of(channel)
        variables = msg.channel_variables()
        role = parse_role(variables.get("LD_ROLE")) or self.rules.role_of(endpoint)
        trunk = parse_trunk(variables.get("LD_TRUNK")) or self.rules.trunk_of(endpoint)
        number, name = caller_of(msg)
        linkedid = msg.get("Linkedid") or uniqueid
        call_id = self.book.resolve(linkedid)
        if call_id not in self.calls and self.book.has_ended(call_id):
            # Its Linkedid names a call that has ended: this is a new call.
            call_id = uniqueid
            self.book.add_alias(linkedid, call_id)
        out: list[ev.DomainEvent] = []
        call = self.calls.get(call_id)
        if call is None:
            call = self.calls[call_id] = Call(call_id)
            out.append(ev.CallStarted(call_id, trunk, number, name, at))
        self.legs[uniqueid] = Leg(
            uniqueid, call_id, channel, endpoint, role, trunk, direction, number, name, last_seen=at
        )
        call.legs.add(uniqueid)
        out.append(
            ev.LegStarted(
                uniqueid, call_id, channel, endpoint, role, trunk, direction, number, name, at
            )
        )
        return out

    def restore(self, k: KnownLeg) -> None:
        """A leg the database has open: known again, nothing to tell."""
        if k.uniqueid in self.legs:
            return  # restored twice, or already seen live: keep what we have
        self._ended.pop(k.uniqueid, None)
        self.legs[k.uniqueid] = Leg(
            uniqueid=k.uniqueid,
            call_id=k.call_id,
            channel=k.channel,
            endpoint=k.endpoint,
            role=k.role,
            trunk=k.trunk,
            direction=k.direction,
            caller_number=None,
            caller_name=None,
            answered=k.answered,
            bridges=set(k.bridges),
            last_seen=k.last_seen,
        )
        call = self.calls.setdefault(k.call_id, Call(k.call_id))
        call.legs.add(k.uniqueid)
        call.answered_legs += int(k.answered)
        call.answered = call.answered or call.answered_legs >= 2

    def end(
        self,
        uniqueid: str,
        at: datetime,
        cause: int | None,
        text: str | None,
        *,
        reconciled: bool,
        bound: bool = False,
    ) -> list[ev.DomainEvent]:
        leg = self.legs.pop(uniqueid)
        self._ended[uniqueid] = None
        if len(self._ended) > ENDED_MEMORY:
            del self._ended[next(iter(self._ended))]
        out: list[ev.DomainEvent] = [
            ev.LegLeftBridge(uniqueid, bridge, at) for bridge in sorted(leg.bridges)
        ]
        out.append(ev.LegEnded(uniqueid, at, cause, text, reconciled, bound))
        call = self.calls[leg.call_id]
        call.legs.discard(uniqueid)
        if not call.legs:
            self.book.close(call.call_id)
            out.append(ev.CallEnded(call.call_id, at))
        return out

    # ------------------------------------------------------------ state

    def apply_state(
        self, leg: Leg, state: str | None, at: datetime, *, bound: bool = False
    ) -> list[ev.DomainEvent]:
        """A ChannelState seen for the leg: ringing or answered, once each.
        `bound`: the answer was not seen, `at` is only the earliest it can have been."""
        if state == STATE_RINGING and not leg.ringing and not leg.answered:
            return self._mark_ringing(leg, at)
        if state != STATE_UP or leg.answered:
            return []
        leg.answered, leg.answered_at = True, at
        out: list[ev.DomainEvent] = [ev.LegAnswered(leg.uniqueid, at, bound)]
        call = self.calls[leg.call_id]
        call.answered_legs += 1
        # A call is answered when a second party is on the line: the
        # inbound leg alone being Up (an IVR answering) is not an answer.
        if call.answered_legs >= 2 and not call.answered:
            call.answered = True
            out.append(ev.CallAnswered(call.call_id, at))
        return out

    def dialled(self, dest: Leg, caller: Leg, at: datetime) -> list[ev.DomainEvent]:
        """`caller`'s Dial created `dest`: Asterisk called out on it."""
        dest.dialled_by = caller.uniqueid
        dest.direction = ev.Direction.OUTBOUND
        # Asterisk can report the phone ringing before the DialBegin that made
        # it (seen in cancel_110): the caller hears ringback from now on.
        if dest.ringing and not caller.ringing and not caller.answered:
            caller.ringing, caller.ringing_at = True, at
            return [ev.LegRinging(caller.uniqueid, at)]
        return []

    def _mark_ringing(self, leg: Leg, at: datetime) -> list[ev.DomainEvent]:
        leg.ringing, leg.ringing_at = True, at
        out: list[ev.DomainEvent] = [ev.LegRinging(leg.uniqueid, at)]
        # The caller hears ringback from the moment the first phone rings.
        origin = self.legs.get(leg.dialled_by or "")
        if origin is not None and not origin.ringing and not origin.answered:
            origin.ringing, origin.ringing_at = True, at
            out.append(ev.LegRinging(origin.uniqueid, at))
        return out

    # ------------------------------------------------------------ bridges

    def join(self, leg: Leg, bridge: str, at: datetime) -> list[ev.DomainEvent]:
        if bridge in leg.bridges:
            return []
        leg.bridges.add(bridge)
        return [ev.LegJoinedBridge(leg.uniqueid, bridge, at)]

    def leave(self, leg: Leg, bridge: str, at: datetime) -> list[ev.DomainEvent]:
        if bridge not in leg.bridges:
            return []
        leg.bridges.discard(bridge)
        return [ev.LegLeftBridge(leg.uniqueid, bridge, at)]

    def only_in(self, leg: Leg, bridge: str | None, at: datetime) -> list[ev.DomainEvent]:
        """The leg is in `bridge` (or in none) and nowhere else."""
        out: list[ev.DomainEvent] = []
        for old in sorted(leg.bridges - {bridge}):
            out += self.leave(leg, old, at)
        return out + (self.join(leg, bridge, at) if bridge else [])

    # ------------------------------------------------------------ identity

    def learn_identity(self, leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        """Pick up LD_ROLE / LD_TRUNK once Asterisk has set them on the channel."""
        variables = msg.channel_variables()
        role = parse_role(variables.get("LD_ROLE"))
        trunk = parse_trunk(variables.get("LD_TRUNK"))
        new_role = role if role is not None and role != leg.role else None
        new_trunk = trunk if trunk is not None and trunk != leg.trunk else None
        if new_role is None and new_trunk is None:
            return []
        leg.role = new_role or leg.role
        leg.trunk = new_trunk or leg.trunk
        return [self.updated(leg, at, role=new_role, trunk=new_trunk)]

    def follow_call_variable(self, leg: Leg, msg: AmiMessage, at: datetime) -> list[ev.DomainEvent]:
        """LD_CALL names the call outright. The server sets it on channels it
        originates for a call (a three-way call's target, a recalled operator):
        Asterisk gives those a Linkedid of their own and never rewrites it."""
        return self.follow_linkedid(leg, msg.channel_variables().get(CALL_VARIABLE), at)

    def follow_linkedid(self, leg: Leg, linkedid: str | None, at: datetime) -> list[ev.DomainEvent]:
        """The leg reports `linkedid`: its call may merge into the call so named."""
        if not linkedid:
            return []
        target = self.book.resolve(linkedid)
        if target == leg.call_id:
            return []
        if target not in self.calls:
            # A Linkedid we have no call for: a new name for the same call.
            self.book.add_alias(linkedid, leg.call_id)
            return []
        return self.book.merge(leg.call_id, target, self.legs, at)

    def updated(
        self,
        leg: Leg,
        at: datetime,
        *,
        role: ev.LegRole | None = None,
        trunk: Desk | None = None,
    ) -> ev.LegUpdated:
        return ev.LegUpdated(
            leg.uniqueid, leg.channel, leg.caller_number, leg.caller_name, at, role, trunk
        )
