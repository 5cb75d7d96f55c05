"""What an AMI event means for a running transfer, as the core's events.

`observe` is pure but for noting on `parties` what the event teaches (the
target's channel once it answers). The channels are recognised by Uniqueid:
the dialer's DialBegin/DialEnd, the UserEvent the dialplan raises when a ring
ends unanswered (`LdXferDialEnd`), hangups, and three-way room leaves.
"""

from __future__ import annotations

from datetime import datetime

from ami_client.message import AmiMessage
from transfer.core import events as te
from transfer.core.parties import Parties
from transfer.core.states import FailReason

# Asterisk's DIALSTATUS → why the target did not come. CANCEL is absent on
# purpose: that is a dial the server itself stopped.
DIAL_FAILURES = {
    "BUSY": FailReason.BUSY,
    "NOANSWER": FailReason.NO_ANSWER,
    "CONGESTION": FailReason.CONGESTION,
    "CHANUNAVAIL": FailReason.FAILED,
    "DONTCALL": FailReason.FAILED,
    "TORTURE": FailReason.FAILED,
    "INVALIDARGS": FailReason.FAILED,
}


def observe(msg: AmiMessage, transfer_id: str, parties: Parties, at: datetime) -> list[te.Event]:
    name = msg.event
    uniqueid = msg.get("Uniqueid")
    dialer = parties.dialer_uniqueid
    if name == "DialBegin" and dialer is not None and uniqueid == dialer:
        return [te.TargetRinging(at)]
    if name == "DialEnd" and dialer is not None and uniqueid == dialer:
        if msg.get("DialStatus") != "ANSWER":
            return []  # one of several phones stopped ringing; LdXferDialEnd tells the outcome
        parties.target_uniqueid = msg.get("DestUniqueid")
        parties.target_channel = msg.get("DestChannel")
        return [te.TargetAnswered(at, parties.target_uniqueid or "")]
    if name == "UserEvent" and msg.get("UserEvent") == "LdXferDialEnd":
        reason = DIAL_FAILURES.get(msg.get("Status") or "")
        # Ours name the transfer; the dialplan's own (a phone's transfer) come
        # from the channel that dialled.
        mine = msg.get("Transfer") == transfer_id or (
            not msg.get("Transfer") and dialer is not None and uniqueid == dialer
        )
        if not mine or reason is None:
            return []
        return [te.TargetFailed(at, reason)]
    if name == "Hangup":
        return _hangup(uniqueid, parties, at)
    if name == "ConfbridgeLeave" and parties.room is not None:
        return _left_room(uniqueid, parties, at)
    return []


def _hangup(uniqueid: str | None, parties: Parties, at: datetime) -> list[te.Event]:
    if uniqueid == parties.caller_uniqueid:
        return [te.CallerHungUp(at)]
    if uniqueid == parties.operator_uniqueid:
        return [te.OperatorLeft(at)]
    if uniqueid is not None and uniqueid == parties.target_uniqueid:
        return [te.TargetHungUp(at)]
    return []


def _left_room(uniqueid: str | None, parties: Parties, at: datetime) -> list[te.Event]:
    """Leaving the three-way room: the operator (or the target's Local half) left.
    The caller leaving the room is only its hangup (told by Hangup)."""
    if uniqueid == parties.operator_uniqueid:
        return [te.OperatorLeft(at)]
    if uniqueid is not None and uniqueid == parties.target_room_uniqueid:
        return [te.TargetHungUp(at)]
    return []
