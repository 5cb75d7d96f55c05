"""Builders for the tests of the transfer shell (transfer/core/, transfer/service/): one call as
Asterisk shows it (a citizen on the 110 trunk talking with operator op110-1),
its legs and parties, the AMI events about them, and transfers of that call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ami_client.message import AmiMessage
from common.vocabulary import Desk
from telephony.core.events import Direction, LegRole
from telephony.core.state import Leg
from transfer.core.actions import Action, AmiStep, plan
from transfer.core.events import Event, Requested
from transfer.core.machine import Transfer
from transfer.core.parties import Parties
from transfer.core.states import By, TransferMode
from transfer.core.target import Target

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
RING_S = 20
CALL = "liandong-1767600000.1"  # the call's Linkedid: its first leg's Uniqueid
CALLER = "liandong-1767600000.1"
CALLER_CHAN = "PJSIP/trunk-110-00000001"
OPERATOR = "liandong-1767600000.2"
OPERATOR_CHAN = "PJSIP/op110-1-00000002"
OPERATOR_PHONE = "op110-1"
TARGET = "liandong-1767600000.5"
TARGET_CHAN = "PJSIP/op12345-1-00000005"
XFER = "xfer-00000000000000ff"  # room_number: 255
ROOM = "000000255"
DESK_110, DESK_12345 = Target(desk=Desk.D110), Target(desk=Desk.D12345)
TALK = "bridge-talk"  # the bridge the caller and the operator talk in


def at(seconds: float = 0) -> datetime:
    return T0 + timedelta(seconds=seconds)


def request(
    mode: TransferMode,
    target: Target = DESK_12345,
    *,
    transfer_id: str = XFER,
    by: By = By.KEY,
    call_id: str = CALL,
) -> Requested:
    return Requested(
        transfer_id=transfer_id,
        call_id=call_id,
        caller_uniqueid=CALLER,
        operator_uniqueid=OPERATOR,
        mode=mode,
        target=target,
        ring_timeout_s=RING_S,
        by=by,
        at=T0,
    )


def parties() -> Parties:
    """The call's parties as `parties_for` gives them when a transfer starts."""
    return Parties(
        caller_uniqueid=CALLER,
        caller_channel=CALLER_CHAN,
        caller_number="13810001234",
        caller_name="张三",
        operator_uniqueid=OPERATOR,
        operator_channel=OPERATOR_CHAN,
        operator_endpoint=OPERATOR_PHONE,
        desk="110",
    )


def started(
    mode: TransferMode, target: Target = DESK_12345, ring_s: int = RING_S
) -> tuple[Transfer, Parties, list[AmiStep]]:
    """A transfer opened by the operator's key, and the AMI steps of its opening."""
    transfer, commands = Transfer.start(request(mode, target))
    who = parties()
    return transfer, who, plan(commands, transfer, who, ring_s)


def step_on(transfer: Transfer, who: Parties, event: Event, ring_s: int = RING_S) -> list[AmiStep]:
    """Feed the core an event and plan what it commands, as the service does."""
    return plan(transfer.handle(event), transfer, who, ring_s)


def answered_by_target(who: Parties) -> None:
    """What observing the dialer's DialEnd ANSWER teaches the parties."""
    who.target_uniqueid, who.target_channel = TARGET, TARGET_CHAN


def actions(steps: list[AmiStep]) -> list[Action]:
    return [step.action for step in steps]


def redirect(channel: str, context: str, exten: str = "s") -> Action:
    return {
        "Action": "Redirect",
        "Channel": channel,
        "Context": context,
        "Exten": exten,
        "Priority": "1",
    }


def hangup(channel: str) -> Action:
    return {"Action": "Hangup", "Channel": channel, "Cause": "16"}


def setvar(channel: str, variable: str, value: str) -> Action:
    return {"Action": "Setvar", "Channel": channel, "Variable": variable, "Value": value}


def leg(
    uniqueid: str,
    channel: str,
    role: LegRole,
    *,
    call_id: str = CALL,
    endpoint: str | None = None,
    trunk: Desk | None = None,
    answered: bool = True,
    bridges: tuple[str, ...] = (),
) -> Leg:
    inbound = role is LegRole.CITIZEN
    return Leg(
        uniqueid,
        call_id,
        channel,
        endpoint,
        role,
        trunk,
        Direction.INBOUND if inbound else Direction.OUTBOUND,
        "13810001234" if inbound else None,
        "张三" if inbound else None,
        ringing=not answered,
        answered=answered,
        bridges=set(bridges),
    )


def caller_leg(bridges: tuple[str, ...] = (TALK,)) -> Leg:
    return leg(
        CALLER,
        CALLER_CHAN,
        LegRole.CITIZEN,
        endpoint="trunk-110",
        trunk=Desk.D110,
        bridges=bridges,
    )


def operator_leg(bridges: tuple[str, ...] = (TALK,)) -> Leg:
    return leg(
        OPERATOR, OPERATOR_CHAN, LegRole.OPERATOR_110, endpoint=OPERATOR_PHONE, bridges=bridges
    )


def target_leg(*, answered: bool = True, bridges: tuple[str, ...] = ()) -> Leg:
    return leg(
        TARGET,
        TARGET_CHAN,
        LegRole.OPERATOR_12345,
        endpoint="op12345-1",
        answered=answered,
        bridges=bridges,
    )


def legs_of(*legs: Leg) -> dict[str, Leg]:
    return {one.uniqueid: one for one in legs}


def ami(event: str, **headers: str) -> AmiMessage:
    return AmiMessage.build(Event=event, **headers)
