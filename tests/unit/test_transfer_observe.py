"""What the AMI events mean for a running transfer (transfer/core/observe.py): the
dialer's Dial events, the dialplan's LdXferDialEnd, hangups and room leaves."""

from __future__ import annotations

import pytest
from transfer_shell_kit import (
    CALLER,
    OPERATOR,
    ROOM,
    TARGET,
    TARGET_CHAN,
    XFER,
    ami,
    at,
    parties,
    request,
)

from transfer.core import events as te
from transfer.core.machine import Transfer
from transfer.core.observe import observe
from transfer.core.parties import Parties
from transfer.core.states import FailReason
from transfer.core.states import TransferMode as M
from transfer.core.states import TransferState as S

WHEN = at(5)
STRANGER = "liandong-1767600000.99"


def dialing(dialer: str = OPERATOR) -> Parties:
    who = parties()
    who.dialer_uniqueid = dialer
    return who


# ---------------------------------------------------------------- the dial


@pytest.mark.parametrize("dialer", [CALLER, OPERATOR, f"{XFER}-ring"])
def test_the_dialers_dial_begin_means_the_target_rings(dialer: str) -> None:
    msg = ami("DialBegin", Uniqueid=dialer, DestUniqueid=TARGET, DestChannel=TARGET_CHAN)
    assert observe(msg, XFER, dialing(dialer), WHEN) == [te.TargetRinging(WHEN)]


def test_a_dial_begin_of_another_channel_is_not_this_transfer() -> None:
    msg = ami("DialBegin", Uniqueid=STRANGER, DestUniqueid=TARGET)
    assert observe(msg, XFER, dialing(OPERATOR), WHEN) == []


def test_before_any_dial_is_set_up_a_dial_begin_means_nothing() -> None:
    msg = ami("DialBegin", Uniqueid=CALLER, DestUniqueid=TARGET)
    assert observe(msg, XFER, parties(), WHEN) == []


def test_the_dialers_answer_tells_the_core_and_teaches_the_targets_channel() -> None:
    who = dialing(OPERATOR)
    msg = ami(
        "DialEnd",
        Uniqueid=OPERATOR,
        DestUniqueid=TARGET,
        DestChannel=TARGET_CHAN,
        DialStatus="ANSWER",
    )
    assert observe(msg, XFER, who, WHEN) == [te.TargetAnswered(WHEN, TARGET)]
    assert (who.target_uniqueid, who.target_channel) == (TARGET, TARGET_CHAN)


def test_an_answer_on_another_channels_dial_teaches_nothing() -> None:
    who = dialing(OPERATOR)
    msg = ami(
        "DialEnd",
        Uniqueid=STRANGER,
        DestUniqueid=TARGET,
        DestChannel=TARGET_CHAN,
        DialStatus="ANSWER",
    )
    assert observe(msg, XFER, who, WHEN) == []
    assert (who.target_uniqueid, who.target_channel) == (None, None)


@pytest.mark.parametrize("status", ["CANCEL", "BUSY", "NOANSWER", "CHANUNAVAIL"])
def test_one_phone_of_the_desk_ending_its_ring_decides_nothing(status: str) -> None:
    who = dialing(OPERATOR)
    msg = ami(
        "DialEnd",
        Uniqueid=OPERATOR,
        DestUniqueid=TARGET,
        DestChannel=TARGET_CHAN,
        DialStatus=status,
    )
    assert observe(msg, XFER, who, WHEN) == []
    assert who.target_channel is None


def ld_dial_end(transfer_id: str, status: str) -> list[te.Event]:
    msg = ami(
        "UserEvent",
        UserEvent="LdXferDialEnd",
        Uniqueid=OPERATOR,
        Transfer=transfer_id,
        Status=status,
    )
    return observe(msg, XFER, dialing(OPERATOR), WHEN)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("BUSY", FailReason.BUSY),
        ("NOANSWER", FailReason.NO_ANSWER),
        ("CONGESTION", FailReason.CONGESTION),
        ("CHANUNAVAIL", FailReason.FAILED),
    ],
)
def test_the_ring_ending_unanswered_fails_the_target_with_the_reason(
    status: str, reason: FailReason
) -> None:
    assert ld_dial_end(XFER, status) == [te.TargetFailed(WHEN, reason)]


def test_the_ring_end_of_another_transfer_is_not_this_ones() -> None:
    assert ld_dial_end("xfer-0000000000000abc", "BUSY") == []


@pytest.mark.parametrize("status", ["CANCEL", "ANSWER", ""])
def test_a_ring_the_server_stopped_itself_is_no_failure(status: str) -> None:
    assert ld_dial_end(XFER, status) == []


def test_another_user_event_naming_the_transfer_is_no_ring_end() -> None:
    msg = ami("UserEvent", UserEvent="LdKey", Uniqueid=OPERATOR, Transfer=XFER, Status="BUSY")
    assert observe(msg, XFER, dialing(OPERATOR), WHEN) == []


# ---------------------------------------------------------------- hangups and leaves


def answered() -> Parties:
    who = dialing(OPERATOR)
    who.target_uniqueid, who.target_channel = TARGET, TARGET_CHAN
    return who


@pytest.mark.parametrize(
    ("uniqueid", "event"),
    [
        (CALLER, te.CallerHungUp(WHEN)),
        (OPERATOR, te.OperatorLeft(WHEN)),
        (TARGET, te.TargetHungUp(WHEN)),
    ],
)
def test_a_partys_hangup(uniqueid: str, event: te.Event) -> None:
    assert observe(ami("Hangup", Uniqueid=uniqueid, Cause="16"), XFER, answered(), WHEN) == [event]


def test_a_hangup_of_a_target_not_yet_known_or_of_a_stranger_means_nothing() -> None:
    for uniqueid in (TARGET, STRANGER):
        assert observe(ami("Hangup", Uniqueid=uniqueid), XFER, dialing(OPERATOR), WHEN) == []
    assert observe(ami("Hangup", Channel="PJSIP/x-1"), XFER, dialing(OPERATOR), WHEN) == []


def in_room() -> Parties:
    who = answered()
    who.room, who.target_room_uniqueid = ROOM, TARGET
    return who


def test_the_operator_leaving_the_three_way_room_is_the_operator_leaving() -> None:
    msg = ami("ConfbridgeLeave", Conference=f"ld{ROOM}", Uniqueid=OPERATOR)
    assert observe(msg, XFER, in_room(), WHEN) == [te.OperatorLeft(WHEN)]


def test_the_target_leaving_the_room_is_the_target_gone() -> None:
    msg = ami("ConfbridgeLeave", Conference=f"ld{ROOM}", Uniqueid=TARGET)
    assert observe(msg, XFER, in_room(), WHEN) == [te.TargetHungUp(WHEN)]


def test_the_caller_leaving_the_room_is_told_by_its_hangup_only() -> None:
    msg = ami("ConfbridgeLeave", Conference=f"ld{ROOM}", Uniqueid=CALLER)
    assert observe(msg, XFER, in_room(), WHEN) == []


def test_a_room_leave_means_nothing_to_a_transfer_without_a_room() -> None:
    msg = ami("ConfbridgeLeave", Conference=f"ld{ROOM}", Uniqueid=OPERATOR)
    assert observe(msg, XFER, answered(), WHEN) == []


@pytest.mark.parametrize("event", ["Newchannel", "BridgeEnter", "MusicOnHoldStart", "VarSet"])
def test_other_events_of_the_parties_mean_nothing(event: str) -> None:
    assert observe(ami(event, Uniqueid=OPERATOR), XFER, in_room(), WHEN) == []


# ---------------------------------------------------------------- with the core


def test_the_consultations_dial_events_bring_the_transfer_to_answered() -> None:
    transfer, _ = Transfer.start(request(M.ATTENDED))
    who = dialing(OPERATOR)
    feed = [
        ami("DialBegin", Uniqueid=OPERATOR, DestUniqueid=TARGET, DestChannel=TARGET_CHAN),
        ami(
            "DialEnd",
            Uniqueid=OPERATOR,
            DestUniqueid=TARGET,
            DestChannel=TARGET_CHAN,
            DialStatus="ANSWER",
        ),
    ]
    for msg in feed:
        for event in observe(msg, transfer.id, who, WHEN):
            transfer.handle(event)
    assert transfer.state is S.ANSWERED
    assert transfer.target_uniqueid == TARGET
