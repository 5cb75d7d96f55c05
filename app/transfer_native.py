"""Transfers the phones make themselves: SIP REFER (blind) and REFER with
Replaces (attended), or Asterisk's own feature keys. Asterisk reports them as
`BlindTransfer` and `AttendedTransfer`; they are recorded as transfers made
`by=phone`, which the core moves and times like any other but never drives."""

from __future__ import annotations

import re
from datetime import datetime

from ami_client.message import AmiMessage
from app.transfer_actions import new_transfer_id
from app.transfer_parties import Parties
from telephony.events import LegRole
from telephony.state import Leg
from transfer import events as te
from transfer.states import By, TransferMode
from transfer.target import Desk, Target

# from-desk's extensions: 110, 12345, and 60N for member unit 0N.
_UNIT_EXTEN = re.compile(r"60([0-9])")
_ROLE_DESK = {LegRole.OPERATOR_110: Desk.D110, LegRole.OPERATOR_12345: Desk.D12345}

Found = tuple[te.Requested, Parties, list[te.Event]]


def native_request(
    msg: AmiMessage, legs: dict[str, Leg], ring_timeout_s: int, at: datetime
) -> Found | None:
    if msg.get("Result") != "Success":
        return None
    if msg.event == "BlindTransfer":
        return _blind(msg, legs, ring_timeout_s, at)
    return _attended(msg, legs, ring_timeout_s, at)


def _blind(msg: AmiMessage, legs: dict[str, Leg], ring_s: int, at: datetime) -> Found | None:
    target = _target_of_exten(msg.get("Extension") or "")
    caller = legs.get(msg.get("TransfereeUniqueid") or "")
    operator = legs.get(msg.get("TransfererUniqueid") or "")
    if target is None or caller is None or operator is None:
        return None
    request = _request(TransferMode.BLIND, target, caller, operator, ring_s, at)
    parties = _parties(caller, operator)
    parties.dialer_uniqueid = caller.uniqueid  # the caller is sent to ring the target
    return request, parties, []


def _attended(msg: AmiMessage, legs: dict[str, Leg], ring_s: int, at: datetime) -> Found | None:
    caller = legs.get(msg.get("TransfereeUniqueid") or "")
    operator = legs.get(msg.get("OrigTransfererUniqueid") or "")
    target_leg = legs.get(msg.get("TransferTargetUniqueid") or "")
    if caller is None or operator is None or target_leg is None:
        return None
    target = _target_of_leg(target_leg)
    if target is None:
        return None
    request = _request(TransferMode.ATTENDED, target, caller, operator, ring_s, at)
    parties = _parties(caller, operator)
    parties.target_uniqueid, parties.target_channel = target_leg.uniqueid, target_leg.channel
    # The phone consulted and completed before Asterisk told us: all of it is now.
    follow_ups: list[te.Event] = [
        te.TargetRinging(at),
        te.TargetAnswered(at, target_leg.uniqueid),
        te.CompleteRequested(at, By.PHONE),
    ]
    return request, parties, follow_ups


def _request(
    mode: TransferMode, target: Target, caller: Leg, operator: Leg, ring_s: int, at: datetime
) -> te.Requested:
    return te.Requested(
        transfer_id=new_transfer_id(),
        call_id=caller.call_id, caller_uniqueid=caller.uniqueid,
        operator_uniqueid=operator.uniqueid, mode=mode, target=target,
        ring_timeout_s=ring_s, by=By.PHONE, at=at,
    )  # fmt: skip


def _parties(caller: Leg, operator: Leg) -> Parties:
    return Parties(
        caller_uniqueid=caller.uniqueid,
        caller_channel=caller.channel,
        caller_number=caller.caller_number,
        caller_name=caller.caller_name,
        operator_uniqueid=operator.uniqueid,
        operator_channel=operator.channel,
        operator_endpoint=operator.endpoint,
        desk=caller.trunk.value if caller.trunk else None,
    )


def _target_of_exten(exten: str) -> Target | None:
    if exten in (Desk.D110.value, Desk.D12345.value):
        return Target(desk=Desk(exten))
    unit = _UNIT_EXTEN.fullmatch(exten)
    return Target(unit=f"0{unit.group(1)}") if unit else None


def _target_of_leg(leg: Leg) -> Target | None:
    if leg.role in _ROLE_DESK:
        return Target(desk=_ROLE_DESK[leg.role])
    if leg.endpoint is not None and leg.endpoint.startswith("unit-"):
        return Target(unit=leg.endpoint.removeprefix("unit-"))
    return None
