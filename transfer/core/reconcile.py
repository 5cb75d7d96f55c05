"""After a restart or a reconnect: what Asterisk's channels (as the call model
now has them) say about a transfer that was running, as the core's `Finding`."""

from __future__ import annotations

from datetime import datetime

from telephony.core.events import DESK_LEG_ROLE, OPERATOR_LEG_ROLES
from telephony.core.state import Leg
from transfer.core.actions import conference_ids, room_number
from transfer.core.machine import Transfer
from transfer.core.parties import Parties, parties_of
from transfer.core.states import Finding, TransferMode
from transfer.core.target import Target


def finding_for(
    transfer: Transfer, legs: dict[str, Leg], pbx_started: datetime | None = None
) -> tuple[Finding, str | None]:
    """`pbx_started`: when the Asterisk now running started, if known."""
    caller = legs.get(transfer.request.caller_uniqueid)
    if caller is None:
        if pbx_started is not None and pbx_started > transfer.request.at:
            return Finding.PBX_RESTARTED, None  # it took the call with it: nobody hung up
        return Finding.CALLER_GONE, None
    target = _target_leg(transfer, legs)
    if target is None:
        if _back_at_a_desk(caller, transfer, legs):
            return Finding.CALLER_AT_DESK, None
        return Finding.TARGET_GONE, None
    if target.bridges & caller.bridges:
        return Finding.TARGET_WITH_CALLER, target.uniqueid
    if target.answered:
        return Finding.TARGET_UP, target.uniqueid
    return Finding.TARGET_RINGING, target.uniqueid


def caller_waiting(caller_uniqueid: str, legs: dict[str, Leg]) -> bool:
    """The caller is there, with nobody and ringing nobody (on hold)."""
    caller = legs.get(caller_uniqueid)
    if caller is None:
        return False
    with_someone = any(
        leg.uniqueid != caller.uniqueid and leg.bridges & caller.bridges for leg in legs.values()
    )
    ringing_someone = any(leg.dialled_by == caller.uniqueid for leg in legs.values())
    return not with_someone and not ringing_someone


def _back_at_a_desk(caller: Leg, transfer: Transfer, legs: dict[str, Leg]) -> bool:
    """While nobody watched, the caller went back to ringing or talking to a
    desk (the dialplan's hold limit): giving them back now would pull them away."""
    request = transfer.request
    for leg in legs.values():
        if leg.uniqueid in (caller.uniqueid, request.operator_uniqueid):
            continue
        at_desk = leg.role in OPERATOR_LEG_ROLES and not _is_target(leg, request.target)
        if at_desk and (leg.dialled_by == caller.uniqueid or leg.bridges & caller.bridges):
            return True
    return False


def _target_leg(transfer: Transfer, legs: dict[str, Leg]) -> Leg | None:
    if transfer.target_uniqueid is not None:
        return legs.get(transfer.target_uniqueid)
    # Not answered before the stop: a live leg of the call on the target's phones.
    request = transfer.request
    for leg in legs.values():
        if leg.call_id != transfer.call_id or leg.uniqueid in (
            request.caller_uniqueid,
            request.operator_uniqueid,
        ):
            continue
        if _is_target(leg, request.target):
            return leg
    return None


def _is_target(leg: Leg, target: Target) -> bool:
    if target.desk is not None:
        return leg.role is DESK_LEG_ROLE[target.desk]
    return leg.endpoint == f"unit-{target.unit}"


def parties_after_restart(transfer: Transfer, legs: dict[str, Leg]) -> Parties:
    request = transfer.request
    caller = legs.get(request.caller_uniqueid)
    operator = legs.get(request.operator_uniqueid)
    target = legs.get(transfer.target_uniqueid or "")
    parties = parties_of(request.caller_uniqueid, caller, request.operator_uniqueid, operator)
    parties.target_uniqueid = transfer.target_uniqueid
    parties.target_channel = target.channel if target else None
    if request.mode is TransferMode.CONFERENCE:  # the room and its ring stay, even if now blind
        parties.room = room_number(transfer)
        parties.dialer_uniqueid = conference_ids(transfer)[1]
        parties.target_room_uniqueid = transfer.target_uniqueid
    elif transfer.mode is TransferMode.ATTENDED:
        parties.dialer_uniqueid = parties.operator_uniqueid
    else:  # blind from the start, or an attended one the caller now rings itself
        parties.dialer_uniqueid = parties.caller_uniqueid
    return parties


def learn_target(parties: Parties, target_uniqueid: str | None, legs: dict[str, Leg]) -> None:
    """Reconciliation found the target (it answered while nobody watched)."""
    target = legs.get(target_uniqueid or "")
    if target is None or parties.target_uniqueid == target.uniqueid:
        return
    parties.target_uniqueid, parties.target_channel = target.uniqueid, target.channel
    if parties.room is not None and target.bridges:  # already moved into the room
        parties.target_room_uniqueid = target.uniqueid
