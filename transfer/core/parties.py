"""Who is who in a transfer, by channel: what the shell needs to act through
the AMI and to recognise the events that concern a transfer.

The transfer core knows legs by Uniqueid only; Asterisk's actions take channel
names. `Parties` is built from the call model when a transfer starts and is
kept up to date from the events (the target's channel, the three-way room).
"""

from __future__ import annotations

from dataclasses import dataclass

from telephony.core.events import OPERATOR_LEG_ROLES, LegRole
from telephony.core.state import Leg


class NotOnACall(Exception):
    """The operator's leg is not talking with anyone the shell could hand over."""


@dataclass
class Parties:
    caller_uniqueid: str
    caller_channel: str
    caller_number: str | None
    caller_name: str | None
    operator_uniqueid: str
    operator_channel: str
    operator_endpoint: str | None  # the phone to ring back if the operator must be recalled
    desk: str | None  # the desk the caller first called ("110"/"12345"): the last resort
    # Learned as the transfer goes on:
    dialer_uniqueid: str | None = None  # the channel whose Dial rings the target
    target_uniqueid: str | None = None
    target_channel: str | None = None
    room: str | None = None  # three-way: the ConfBridge room number
    target_room_uniqueid: str | None = None  # three-way: the target, once moved into the room


def parties_for(legs: dict[str, Leg], operator_uniqueid: str) -> Parties:
    """The operator's leg and the party it is bridged with (the caller)."""
    operator = legs.get(operator_uniqueid)
    if operator is None:
        raise NotOnACall(f"leg {operator_uniqueid} is not live")
    others = [
        leg
        for leg in legs.values()
        if leg.uniqueid != operator.uniqueid and leg.bridges & operator.bridges
    ]
    if not others:
        raise NotOnACall(f"{operator.channel} is not talking with anyone")
    # Prefer the citizen; a unit calling the desk is a caller too.
    others.sort(key=lambda leg: (leg.role is not LegRole.CITIZEN, leg.role in OPERATOR_LEG_ROLES))
    caller = others[0]
    return parties_of(caller.uniqueid, caller, operator.uniqueid, operator)


def parties_of(
    caller_uniqueid: str, caller: Leg | None, operator_uniqueid: str, operator: Leg | None
) -> Parties:
    """Parties from the two legs as the call model has them (None: gone)."""
    return Parties(
        caller_uniqueid=caller_uniqueid,
        caller_channel=caller.channel if caller else "",
        caller_number=caller.caller_number if caller else None,
        caller_name=caller.caller_name if caller else None,
        operator_uniqueid=operator_uniqueid,
        operator_channel=operator.channel if operator else "",
        operator_endpoint=operator.endpoint if operator else None,
        desk=caller.trunk.value if caller and caller.trunk else None,
    )


def operator_leg_of_call(legs: dict[str, Leg], call_id: str, endpoint: str | None) -> Leg | None:
    """The call's answered operator leg that is in a bridge: the one on `endpoint`
    if given (an operator acting on their own call), else the only such leg."""
    candidates = [
        leg
        for leg in legs.values()
        if leg.call_id == call_id
        and leg.role in OPERATOR_LEG_ROLES
        and leg.answered
        and leg.bridges
    ]
    if endpoint is not None:
        candidates = [leg for leg in candidates if leg.endpoint == endpoint]
    return candidates[0] if len(candidates) == 1 else None
