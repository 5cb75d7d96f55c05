"""Transfers the phones make themselves (transfer/core/native.py): Asterisk's
BlindTransfer and AttendedTransfer events become requests made `by=phone`, with
the parties read from the event (the operator's leg may have ended already)."""

from __future__ import annotations

import pytest
from transfer_shell_kit import (
    CALL,
    CALLER,
    CALLER_CHAN,
    OPERATOR,
    OPERATOR_CHAN,
    OPERATOR_PHONE,
    RING_S,
    TARGET,
    TARGET_CHAN,
    ami,
    at,
    caller_leg,
    leg,
    legs_of,
    operator_leg,
    target_leg,
)

from ami_client.message import AmiMessage
from common.vocabulary import Desk
from telephony.core.events import LegRole
from telephony.core.state import Leg
from transfer.core.machine import Transfer
from transfer.core.native import native_request
from transfer.core.states import By, Reason
from transfer.core.states import TransferMode as M
from transfer.core.states import TransferState as S
from transfer.core.target import Target

WHEN = at(7)
LOCAL = "liandong-1767600000.6"  # Asterisk's feature-key transfer dials through a Local channel


def snapshot(prefix: str, channel: str, uniqueid: str, number: str, name: str) -> dict[str, str]:
    """A channel's snapshot headers in a transfer event, as Asterisk 22 names them."""
    return {
        f"{prefix}Channel": channel,
        f"{prefix}CallerIDNum": number,
        f"{prefix}CallerIDName": name,
        f"{prefix}Uniqueid": uniqueid,
        f"{prefix}Linkedid": CALL,
    }


CALLER_SNAP = snapshot("Transferee", CALLER_CHAN, CALLER, "13810001234", "张三")


def blind(extension: str, result: str = "Success", **changes: str) -> AmiMessage:
    operator = snapshot("Transferer", OPERATOR_CHAN, OPERATOR, "1101", "op110-1")
    headers = {
        "Result": result,
        **operator,
        **CALLER_SNAP,
        "IsExternal": "No",
        "Context": "from-desk",
        "Extension": extension,
    }
    return ami("BlindTransfer", **(headers | changes))


def attended(result: str = "Success", target: str = TARGET) -> AmiMessage:
    operator = snapshot("OrigTransferer", OPERATOR_CHAN, OPERATOR, "1101", "op110-1")
    second = snapshot("SecondTransferer", OPERATOR_CHAN, OPERATOR, "1101", "op110-1")
    called = snapshot("TransferTarget", TARGET_CHAN, target, "12345", "op12345-1")
    headers = {
        "Result": result,
        **operator,
        **second,
        **CALLER_SNAP,
        **called,
        "DestType": "Bridge",
    }
    return ami("AttendedTransfer", **headers)


def call(*more: Leg) -> dict[str, Leg]:
    return legs_of(caller_leg(), operator_leg(), *more)


# ---------------------------------------------------------------- blind


@pytest.mark.parametrize(
    ("extension", "target"),
    [
        ("12345", Target(desk=Desk.D12345)),
        ("110", Target(desk=Desk.D110)),
        ("605", Target(unit="05")),
        ("601", Target(unit="01")),
    ],
)
def test_a_phones_blind_transfer_is_recorded_as_made_by_the_phone(
    extension: str, target: Target
) -> None:
    found = native_request(blind(extension), call(), RING_S, WHEN)
    assert found is not None
    request, who, follow_ups = found
    assert (request.mode, request.by, request.target) == (M.BLIND, By.PHONE, target)
    assert (request.caller_uniqueid, request.operator_uniqueid) == (CALLER, OPERATOR)
    assert (request.call_id, request.ring_timeout_s, request.at) == (CALL, RING_S, WHEN)
    assert request.transfer_id.startswith("xfer-")
    assert follow_ups == []
    assert who.dialer_uniqueid == CALLER  # Asterisk sends the transferee to dial
    assert (who.caller_channel, who.operator_channel) == (CALLER_CHAN, OPERATOR_CHAN)
    assert (who.caller_number, who.caller_name) == ("13810001234", "张三")
    assert (who.operator_endpoint, who.desk) == (OPERATOR_PHONE, "110")


def test_a_blind_transfer_is_recorded_when_the_operators_leg_has_ended_already() -> None:
    found = native_request(blind("12345"), legs_of(caller_leg()), RING_S, WHEN)
    assert found is not None
    request, who, _ = found
    assert (request.operator_uniqueid, request.call_id) == (OPERATOR, CALL)
    assert (who.operator_channel, who.operator_endpoint) == (OPERATOR_CHAN, OPERATOR_PHONE)


def test_a_caller_the_call_model_does_not_know_is_tied_to_the_call_by_its_linkedid() -> None:
    found = native_request(
        blind("12345", TransfereeUniqueid="liandong-1767600000.3"), {}, RING_S, WHEN
    )
    assert found is not None
    request, who, _ = found
    assert (request.caller_uniqueid, request.call_id) == ("liandong-1767600000.3", CALL)
    assert who.desk is None  # the desk comes from the caller's leg: unknown


@pytest.mark.parametrize("missing", ["TransfereeUniqueid", "TransfererUniqueid"])
def test_a_blind_transfer_without_its_parties_is_not_recorded(missing: str) -> None:
    assert native_request(blind("12345", **{missing: ""}), call(), RING_S, WHEN) is None


def test_each_phone_transfer_gets_its_own_id() -> None:
    first = native_request(blind("12345"), call(), RING_S, WHEN)
    second = native_request(blind("12345"), call(), RING_S, WHEN)
    assert first is not None and second is not None
    assert first[0].transfer_id != second[0].transfer_id


def test_the_server_only_watches_a_phones_transfer() -> None:
    found = native_request(blind("12345"), call(), RING_S, WHEN)
    assert found is not None
    transfer, commands = Transfer.start(found[0])
    assert commands == []
    assert transfer.observed


@pytest.mark.parametrize("extension", ["119", "6", "60", "05", "6055", "705", "u05", ""])
def test_a_blind_transfer_to_no_desk_or_unit_is_not_recorded(extension: str) -> None:
    assert native_request(blind(extension), call(), RING_S, WHEN) is None


@pytest.mark.parametrize("result", ["Fail", "Not Permitted", "Invalid"])
def test_a_blind_transfer_asterisk_did_not_carry_out_is_not_recorded(result: str) -> None:
    assert native_request(blind("12345", result), call(), RING_S, WHEN) is None


# ---------------------------------------------------------------- attended


def test_a_phones_attended_transfer_to_the_other_desk_ends_completed() -> None:
    found = native_request(attended(), call(target_leg(bridges=("bridge-consult",))), 20, WHEN)
    assert found is not None
    request, who, follow_ups = found
    assert (request.mode, request.by, request.target) == (
        M.ATTENDED,
        By.PHONE,
        Target(desk=Desk.D12345),
    )
    assert (request.caller_uniqueid, request.operator_uniqueid) == (CALLER, OPERATOR)
    assert (who.target_uniqueid, who.target_channel) == (TARGET, TARGET_CHAN)
    transfer, opening = Transfer.start(request)
    given = [transfer.handle(event) for event in follow_ups]
    assert transfer.state is S.COMPLETED
    assert transfer.timeline[-1].reason is Reason.HANDED_OVER
    assert transfer.timeline[-1].by is By.PHONE
    assert transfer.target_uniqueid == TARGET
    assert opening == [] and given == [[]] * len(follow_ups)


def test_a_phones_attended_transfer_keeps_the_targets_own_ringing_and_answer_times() -> None:
    """REFER with Replaces: the operator consulted first. The timeline shows when
    the target rang and answered (its leg's times), and the hand-over at the REFER."""
    target = target_leg(bridges=("bridge-consult",))
    target.ringing_at, target.answered_at = at(2), at(4.5)
    found = native_request(attended(), call(target), RING_S, WHEN)
    assert found is not None
    request, _, follow_ups = found
    transfer, _ = Transfer.start(request)
    for event in follow_ups:
        transfer.handle(event)
    assert [(step.to_state, step.at) for step in transfer.timeline] == [
        (S.REQUESTED, at(2)),
        (S.RINGING, at(2)),
        (S.ANSWERED, at(4.5)),
        (S.COMPLETED, WHEN),
    ]


def test_a_target_leg_without_known_times_is_stamped_at_the_refer() -> None:
    """A leg restored from the database after a restart has no ringing/answer time."""
    found = native_request(attended(), call(target_leg()), RING_S, WHEN)
    assert found is not None
    transfer, _ = Transfer.start(found[0])
    for event in found[2]:
        transfer.handle(event)
    assert {step.at for step in transfer.timeline} == {WHEN}


def test_a_phones_attended_transfer_to_a_member_unit_names_the_unit() -> None:
    unit = leg(TARGET, "PJSIP/unit-03-00000005", LegRole.UNIT, endpoint="unit-03")
    found = native_request(attended(), call(unit), RING_S, WHEN)
    assert found is not None
    assert found[0].target == Target(unit="03")


def test_through_a_local_channel_the_target_is_the_calls_answered_desk_leg() -> None:
    ringing_only = leg(
        "liandong-1767600000.7", "PJSIP/unit-04-7", LegRole.UNIT, endpoint="unit-04", answered=False
    )
    other_call = leg(
        "liandong-9.5", "PJSIP/unit-02-9", LegRole.UNIT, endpoint="unit-02", call_id="liandong-9.1"
    )
    legs = call(target_leg(), ringing_only, other_call)
    found = native_request(attended(target=LOCAL), legs, RING_S, WHEN)
    assert found is not None
    request, who, follow_ups = found
    assert request.target == Target(desk=Desk.D12345)
    assert who.target_uniqueid == TARGET
    transfer, _ = Transfer.start(request)
    for event in follow_ups:
        transfer.handle(event)
    assert (transfer.state, transfer.target_uniqueid) == (S.COMPLETED, TARGET)


def test_an_attended_transfer_to_someone_not_a_desk_or_unit_is_not_recorded() -> None:
    citizen = leg(TARGET, "PJSIP/trunk-12345-00000005", LegRole.CITIZEN, endpoint="trunk-12345")
    assert native_request(attended(), call(citizen), RING_S, WHEN) is None


def test_an_attended_transfer_that_failed_or_has_no_target_is_not_recorded() -> None:
    assert native_request(attended("Fail"), call(target_leg()), RING_S, WHEN) is None
    # The target's leg unknown, and no desk or unit answered on the caller's call.
    assert native_request(attended(), call(), RING_S, WHEN) is None
