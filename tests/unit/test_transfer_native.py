"""Transfers the phones make themselves (app/transfer_native.py): Asterisk's
BlindTransfer and AttendedTransfer events become requests made `by=phone`."""

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
from app.transfer_native import native_request
from telephony.events import LegRole
from telephony.state import Leg
from transfer.machine import Transfer
from transfer.states import By, Reason
from transfer.states import TransferMode as M
from transfer.states import TransferState as S
from transfer.target import Desk, Target

WHEN = at(7)
SECOND = "liandong-1767600000.4"  # the operator's second line, to the target
SECOND_CHAN = "PJSIP/op110-1-00000004"


def blind(extension: str, result: str = "Success", transferee: str = CALLER) -> AmiMessage:
    return ami(
        "BlindTransfer", Result=result, TransfererChannel=OPERATOR_CHAN,
        TransfererUniqueid=OPERATOR, TransfereeChannel=CALLER_CHAN,
        TransfereeUniqueid=transferee, IsExternal="No", Context="from-desk",
        Extension=extension,
    )  # fmt: skip


def attended(result: str = "Success", target: str = TARGET) -> AmiMessage:
    return ami(
        "AttendedTransfer", Result=result, OrigTransfererChannel=OPERATOR_CHAN,
        OrigTransfererUniqueid=OPERATOR, SecondTransfererChannel=SECOND_CHAN,
        SecondTransfererUniqueid=SECOND, TransfereeChannel=CALLER_CHAN,
        TransfereeUniqueid=CALLER, TransferTargetChannel=TARGET_CHAN,
        TransferTargetUniqueid=target, DestType="Bridge",
    )  # fmt: skip


def call(target: Leg | None = None) -> dict[str, Leg]:
    # The phone's consultation is a call of its own (a new Linkedid).
    second = leg(SECOND, SECOND_CHAN, LegRole.OPERATOR_110, endpoint=OPERATOR_PHONE,
                 call_id=SECOND, bridges=("bridge-consult",))  # fmt: skip
    with_target = [] if target is None else [target]
    return legs_of(caller_leg(), operator_leg(), second, *with_target)


# ---------------------------------------------------------------- blind


@pytest.mark.parametrize(
    ("extension", "target"),
    [("12345", Target(desk=Desk.D12345)), ("110", Target(desk=Desk.D110)),
     ("605", Target(unit="05")), ("601", Target(unit="01"))],
)  # fmt: skip
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
    assert (who.operator_endpoint, who.desk) == (OPERATOR_PHONE, "110")


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


def test_a_blind_transfer_of_legs_the_call_model_does_not_know_is_not_recorded() -> None:
    assert native_request(blind("12345", transferee="liandong-9.9"), call(), RING_S, WHEN) is None
    no_operator = legs_of(caller_leg())
    assert native_request(blind("12345"), no_operator, RING_S, WHEN) is None


# ---------------------------------------------------------------- attended


def test_a_phones_attended_transfer_to_the_other_desk_ends_completed() -> None:
    found = native_request(attended(), call(target_leg(bridges=("bridge-consult",))), 20, WHEN)
    assert found is not None
    request, who, follow_ups = found
    assert (request.mode, request.by, request.target) == (M.ATTENDED, By.PHONE,
                                                           Target(desk=Desk.D12345))  # fmt: skip
    assert (request.caller_uniqueid, request.operator_uniqueid) == (CALLER, OPERATOR)
    assert (who.target_uniqueid, who.target_channel) == (TARGET, TARGET_CHAN)
    transfer, opening = Transfer.start(request)
    given = [transfer.handle(event) for event in follow_ups]
    assert transfer.state is S.COMPLETED
    assert transfer.timeline[-1].reason is Reason.HANDED_OVER
    assert transfer.timeline[-1].by is By.PHONE
    assert transfer.target_uniqueid == TARGET
    assert opening == [] and given == [[]] * len(follow_ups)


def test_a_phones_attended_transfer_to_a_member_unit_names_the_unit() -> None:
    unit = leg(TARGET, "PJSIP/unit-03-00000005", LegRole.UNIT, endpoint="unit-03")
    found = native_request(attended(), call(unit), RING_S, WHEN)
    assert found is not None
    assert found[0].target == Target(unit="03")


def test_an_attended_transfer_to_someone_not_a_desk_or_unit_is_not_recorded() -> None:
    citizen = leg(TARGET, "PJSIP/trunk-12345-00000005", LegRole.CITIZEN, endpoint="trunk-12345")
    assert native_request(attended(), call(citizen), RING_S, WHEN) is None


def test_an_attended_transfer_that_failed_or_has_no_target_is_not_recorded() -> None:
    assert native_request(attended("Fail"), call(target_leg()), RING_S, WHEN) is None
    # The target's leg unknown, and no desk or unit answered on the caller's call.
    assert native_request(attended(), call(), RING_S, WHEN) is None
