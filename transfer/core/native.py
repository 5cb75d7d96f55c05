"""Transfers the phones make themselves: SIP REFER (blind) and REFER with
Replaces (attended), or Asterisk's own feature keys. Asterisk reports them as
`BlindTransfer` and `AttendedTransfer`; they are recorded as transfers made
`by=phone`, which the core moves and times like any other but never drives.

The parties are read from the event itself: by the time the transfer service
reads it, the transferring operator's leg may have ended already.
"""

from __future__ import annotations

import re
from datetime import datetime

from ami_client.message import AmiMessage
from common.vocabulary import Desk
from telephony.core.events import LEG_ROLE_DESK, LegRole
from telephony.core.roles import endpoint_of
from telephony.core.state import Leg
from transfer.core import events as te
from transfer.core.actions import new_transfer_id
from transfer.core.parties import Parties
from transfer.core.states import By, TransferMode
from transfer.core.target import Target

# from-desk's extensions: 110, 12345, and 60N for member unit 0N.
_UNIT_EXTEN = re.compile(r"60([0-9])")

Found = tuple[te.Requested, Parties, list[te.Event]]


def native_request(
    msg: AmiMessage, legs: dict[str, Leg], ring_timeout_s: int, at: datetime
) -> Found | None:
    if msg.get("Result") != "Success":
        return None
    blind = msg.event == "BlindTransfer"
    transferer = "Transferer" if blind else "OrigTransferer"
    caller_id = msg.get("TransfereeUniqueid") or ""
    operator_id = msg.get(f"{transferer}Uniqueid") or ""
    if not caller_id or not operator_id:
        return None
    caller = legs.get(caller_id)
    parties = Parties(
        caller_uniqueid=caller_id,
        caller_channel=msg.get("TransfereeChannel") or "",
        caller_number=msg.get("TransfereeCallerIDNum"),
        caller_name=msg.get("TransfereeCallerIDName"),
        operator_uniqueid=operator_id,
        operator_channel=msg.get(f"{transferer}Channel") or "",
        operator_endpoint=endpoint_of(msg.get(f"{transferer}Channel") or ""),
        desk=caller.trunk.value if caller is not None and caller.trunk else None,
    )
    call_id = caller.call_id if caller is not None else msg.get("TransfereeLinkedid") or caller_id
    if blind:
        return _blind(msg, parties, call_id, ring_timeout_s, at)
    return _attended(msg, legs, parties, call_id, ring_timeout_s, at)


def _blind(
    msg: AmiMessage, parties: Parties, call_id: str, ring_s: int, at: datetime
) -> Found | None:
    target = _target_of_exten(msg.get("Extension") or "")
    if target is None:
        return None
    parties.dialer_uniqueid = parties.caller_uniqueid  # the caller is sent to ring the target
    return _request(TransferMode.BLIND, target, parties, call_id, ring_s, at), parties, []


def _attended(
    msg: AmiMessage,
    legs: dict[str, Leg],
    parties: Parties,
    call_id: str,
    ring_s: int,
    at: datetime,
) -> Found | None:
    target_leg = legs.get(msg.get("TransferTargetUniqueid") or "") or _answered_party(
        legs, call_id, parties
    )
    target = _target_of_leg(target_leg) if target_leg is not None else None
    if target_leg is None or target is None:
        return None
    parties.target_uniqueid, parties.target_channel = target_leg.uniqueid, target_leg.channel
    # The phone consulted before Asterisk told us: the target's ringing and answer
    # are its leg's own times (the REFER's time only where the model has none),
    # and the request is as old as the consultation, so the timeline keeps them.
    answered = min(target_leg.answered_at or at, at)
    ringing = min(target_leg.ringing_at or answered, answered)
    request = _request(TransferMode.ATTENDED, target, parties, call_id, ring_s, ringing)
    follow_ups: list[te.Event] = [
        te.TargetRinging(ringing),
        te.TargetAnswered(answered, target_leg.uniqueid),
        te.CompleteRequested(at, By.PHONE),
    ]
    return request, parties, follow_ups


def _answered_party(legs: dict[str, Leg], call_id: str, parties: Parties) -> Leg | None:
    """The target when Asterisk names none (its feature-key transfer dials
    through a Local channel): the latest answered desk or unit leg of the call."""
    found = None
    for leg in legs.values():
        if (
            leg.call_id == call_id
            and leg.answered
            and leg.uniqueid not in (parties.caller_uniqueid, parties.operator_uniqueid)
            and (leg.role in LEG_ROLE_DESK or leg.role is LegRole.UNIT)
        ):
            found = leg
    return found


def _request(
    mode: TransferMode,
    target: Target,
    parties: Parties,
    call_id: str,
    ring_s: int,
    at: datetime,
) -> te.Requested:
    return te.Requested(
        transfer_id=new_transfer_id(),
        call_id=call_id,
        caller_uniqueid=parties.caller_uniqueid,
        operator_uniqueid=parties.operator_uniqueid,
        mode=mode,
        target=target,
        ring_timeout_s=ring_s,
        by=By.PHONE,
        at=at,
    )


def _target_of_exten(exten: str) -> Target | None:
    if exten in (Desk.D110.value, Desk.D12345.value):
        return Target(desk=Desk(exten))
    unit = _UNIT_EXTEN.fullmatch(exten)
    return Target(unit=f"0{unit.group(1)}") if unit else None


def _target_of_leg(leg: Leg) -> Target | None:
    if leg.role in LEG_ROLE_DESK:
        return Target(desk=LEG_ROLE_DESK[leg.role])
    if leg.endpoint is not None and leg.endpoint.startswith("unit-"):
        return Target(unit=leg.endpoint.removeprefix("unit-"))
    return None
