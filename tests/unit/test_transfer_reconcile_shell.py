"""Who is who from the call model's legs (transfer/core/parties.py), and what the
legs say of a running transfer after a restart (transfer/core/reconcile.py).
The core's side of reconciliation is in test_transfer_reconcile.py."""

from __future__ import annotations

import pytest
from transfer_shell_kit import (
    CALL,
    CALLER,
    CALLER_CHAN,
    DESK_110,
    OPERATOR,
    OPERATOR_CHAN,
    OPERATOR_PHONE,
    TALK,
    TARGET,
    TARGET_CHAN,
    XFER,
    ami,
    at,
    caller_leg,
    hangup,
    leg,
    legs_of,
    operator_leg,
    request,
    step_on,
    target_leg,
)

from telephony.core.events import LegRole
from telephony.core.state import Leg
from transfer.core import events as te
from transfer.core.actions import room_number
from transfer.core.machine import Transfer
from transfer.core.observe import observe
from transfer.core.parties import NotOnACall, operator_leg_of_call, parties_for
from transfer.core.reconcile import caller_waiting, finding_for, learn_target, parties_after_restart
from transfer.core.states import By, Finding
from transfer.core.states import TransferMode as M
from transfer.core.target import Target

HELD = ()  # a leg on hold music is in no bridge
ROOM_BRIDGE, CONSULT = "bridge-room", "bridge-consult"
UNIT = Target(unit="07")


def ringing(mode: M, target: Target | None = None) -> Transfer:
    transfer, _ = Transfer.start(request(mode) if target is None else request(mode, target))
    transfer.handle(te.TargetRinging(at(1)))
    return transfer


def answered(mode: M) -> Transfer:
    transfer = ringing(mode)
    transfer.handle(te.TargetAnswered(at(2), TARGET))
    return transfer


# ---------------------------------------------------------------- finding_for


def test_the_caller_gone_is_found_first() -> None:
    legs = legs_of(operator_leg(), target_leg())
    assert finding_for(answered(M.ATTENDED), legs) == (Finding.CALLER_GONE, None)


def test_a_known_target_bridged_with_the_caller_is_with_the_caller() -> None:
    legs = legs_of(caller_leg(("bridge-x",)), target_leg(bridges=("bridge-x",)))
    assert finding_for(answered(M.ATTENDED), legs) == (Finding.TARGET_WITH_CALLER, TARGET)


def test_an_answered_target_talking_to_the_operator_only_is_up() -> None:
    legs = legs_of(caller_leg(HELD), operator_leg((CONSULT,)), target_leg(bridges=(CONSULT,)))
    assert finding_for(answered(M.ATTENDED), legs) == (Finding.TARGET_UP, TARGET)


def test_a_known_target_whose_leg_ended_is_gone() -> None:
    legs = legs_of(caller_leg(HELD), operator_leg())
    assert finding_for(answered(M.ATTENDED), legs) == (Finding.TARGET_GONE, None)


def test_a_target_still_ringing_is_found_among_the_calls_legs_by_its_desk() -> None:
    stranger = leg(
        "liandong-9.3",
        "PJSIP/op12345-2-00000009",
        LegRole.OPERATOR_12345,
        call_id="liandong-9.1",
        answered=False,
    )
    legs = legs_of(caller_leg(HELD), operator_leg(HELD), stranger, target_leg(answered=False))
    assert finding_for(ringing(M.BLIND), legs) == (Finding.TARGET_RINGING, TARGET)


def test_a_ringing_phone_of_another_desk_is_not_the_target() -> None:
    legs = legs_of(caller_leg(HELD), operator_leg(HELD), target_leg(answered=False))
    assert finding_for(ringing(M.BLIND, DESK_110), legs) == (Finding.TARGET_GONE, None)


def test_the_transferring_operator_is_never_taken_for_a_target_on_their_own_desk() -> None:
    legs = legs_of(caller_leg(HELD), operator_leg((CONSULT,)))
    assert finding_for(ringing(M.ATTENDED, DESK_110), legs) == (Finding.TARGET_GONE, None)


@pytest.mark.parametrize(
    ("endpoint", "finding"),
    [
        ("unit-07", Finding.TARGET_UP),
        ("unit-08", Finding.TARGET_GONE),
        ("unit-7", Finding.TARGET_GONE),
    ],
)
def test_a_member_unit_target_is_found_by_its_endpoint(endpoint: str, finding: Finding) -> None:
    unit = leg(
        TARGET, f"PJSIP/{endpoint}-00000005", LegRole.UNIT, endpoint=endpoint, bridges=(CONSULT,)
    )
    legs = legs_of(caller_leg(HELD), operator_leg((CONSULT,)), unit)
    assert finding_for(ringing(M.ATTENDED, UNIT), legs)[0] is finding


def test_a_caller_gone_with_an_asterisk_that_restarted_since_did_not_hang_up() -> None:
    legs = legs_of(operator_leg())
    transfer = ringing(M.BLIND)  # requested at at(0)
    assert finding_for(transfer, legs, at(30)) == (Finding.PBX_RESTARTED, None)
    # An Asterisk running since before the transfer: the caller left.
    assert finding_for(transfer, legs, at(-3600)) == (Finding.CALLER_GONE, None)


def desk_phone_ringing_for(caller: str) -> Leg:
    phone = "PJSIP/op110-2-00000009"
    ringing_phone = leg(
        "liandong-1767600000.9", phone, LegRole.OPERATOR_110, endpoint="op110-2", answered=False
    )
    ringing_phone.dialled_by = caller
    return ringing_phone


def test_a_caller_the_hold_limit_sent_back_to_their_desk_is_at_the_desk() -> None:
    legs = legs_of(caller_leg(HELD), desk_phone_ringing_for(CALLER))
    assert finding_for(ringing(M.BLIND), legs) == (Finding.CALLER_AT_DESK, None)


def test_a_caller_talking_to_their_desk_again_is_at_the_desk() -> None:
    phone = "PJSIP/op110-2-00000009"
    desk = leg(
        "liandong-1767600000.9",
        phone,
        LegRole.OPERATOR_110,
        endpoint="op110-2",
        bridges=("bridge-desk",),
    )
    legs = legs_of(caller_leg(("bridge-desk",)), desk)
    assert finding_for(ringing(M.BLIND), legs) == (Finding.CALLER_AT_DESK, None)


def test_a_caller_waits_on_hold_only_with_nobody_and_ringing_nobody() -> None:
    assert caller_waiting(CALLER, legs_of(caller_leg(HELD), operator_leg(HELD)))
    assert not caller_waiting(CALLER, legs_of(caller_leg(HELD), desk_phone_ringing_for(CALLER)))
    assert not caller_waiting(CALLER, legs_of(caller_leg(), operator_leg()))
    assert not caller_waiting(CALLER, legs_of(operator_leg()))  # gone


# ---------------------------------------------------------------- parties_after_restart


@pytest.mark.parametrize(
    ("mode", "dialer"), [(M.BLIND, CALLER), (M.ATTENDED, OPERATOR), (M.CONFERENCE, f"{XFER}-ring")]
)
def test_after_a_restart_the_dialer_is_the_one_the_mode_rings_from(mode: M, dialer: str) -> None:
    legs = legs_of(caller_leg(HELD), operator_leg(HELD))
    who = parties_after_restart(ringing(mode), legs)
    assert who.dialer_uniqueid == dialer
    assert (who.caller_channel, who.operator_channel) == (CALLER_CHAN, OPERATOR_CHAN)
    assert (who.operator_endpoint, who.desk) == (OPERATOR_PHONE, "110")


def test_after_a_restart_an_answered_target_is_known_by_its_channel() -> None:
    legs = legs_of(caller_leg(HELD), operator_leg((CONSULT,)), target_leg(bridges=(CONSULT,)))
    who = parties_after_restart(answered(M.ATTENDED), legs)
    assert (who.target_uniqueid, who.target_channel) == (TARGET, TARGET_CHAN)
    assert observe(ami("Hangup", Uniqueid=TARGET), XFER, who, at(9)) == [te.TargetHungUp(at(9))]


def test_after_a_restart_an_answered_three_way_target_is_known_as_in_the_room() -> None:
    legs = legs_of(caller_leg((ROOM_BRIDGE,)), target_leg(bridges=(ROOM_BRIDGE,)))
    who = parties_after_restart(answered(M.CONFERENCE), legs)
    assert (who.target_room_uniqueid, who.target_channel) == (TARGET, TARGET_CHAN)


def test_after_a_restart_legs_that_ended_leave_their_channels_unknown() -> None:
    who = parties_after_restart(ringing(M.BLIND), legs_of(caller_leg(HELD)))
    assert (who.operator_channel, who.operator_endpoint) == ("", None)
    gone = parties_after_restart(ringing(M.BLIND), legs_of(operator_leg()))
    assert (gone.caller_channel, gone.desk, gone.caller_number) == ("", None, None)


# Bugs found by these tests: strict, so that a fix turns them red (remove the marker then).


def test_after_a_restart_a_three_way_transfer_still_has_its_room() -> None:
    transfer = answered(M.CONFERENCE)
    legs = legs_of(
        caller_leg((ROOM_BRIDGE,)), operator_leg((ROOM_BRIDGE,)), target_leg(bridges=(ROOM_BRIDGE,))
    )
    assert parties_after_restart(transfer, legs).room == room_number(transfer)


def test_after_a_restart_a_three_way_ring_turned_blind_still_sees_the_answer() -> None:
    transfer = ringing(M.CONFERENCE)
    transfer.handle(te.OperatorLeft(at(2)))  # goes on blind, rung from the Local channel
    who = parties_after_restart(transfer, legs_of(caller_leg((ROOM_BRIDGE,))))
    answer = ami(
        "DialEnd",
        Uniqueid=f"{XFER}-ring",
        DestUniqueid=TARGET,
        DestChannel=TARGET_CHAN,
        DialStatus="ANSWER",
    )
    assert observe(answer, XFER, who, at(3)) == [te.TargetAnswered(at(3), TARGET)]


def test_after_a_restart_completing_a_consultation_hands_the_caller_over() -> None:
    transfer = ringing(M.ATTENDED)  # the target answered while the server was away
    legs = legs_of(caller_leg(HELD), operator_leg((CONSULT,)), target_leg(bridges=(CONSULT,)))
    finding, found = finding_for(transfer, legs)  # the order of Reconciler.reconcile
    who = parties_after_restart(transfer, legs)
    learn_target(who, found, legs)
    transfer.handle(te.Reconciled(at(5), finding, found))
    steps = step_on(transfer, who, te.CompleteRequested(at(6), By.KEY))
    assert [step.action for step in steps] == [
        {"Action": "Bridge", "Channel1": CALLER_CHAN, "Channel2": TARGET_CHAN, "Tone": "no"},
        hangup(OPERATOR_CHAN),
    ]


# ---------------------------------------------------------------- parties_for


def test_the_caller_is_the_party_the_operator_talks_with() -> None:
    legs = legs_of(operator_leg(), caller_leg(), target_leg(bridges=("bridge-other",)))
    who = parties_for(legs, OPERATOR)
    assert (who.caller_uniqueid, who.caller_channel, who.desk) == (CALLER, CALLER_CHAN, "110")
    assert (who.operator_channel, who.operator_endpoint) == (OPERATOR_CHAN, OPERATOR_PHONE)
    assert (who.caller_number, who.caller_name) == ("13810001234", "张三")
    assert who.dialer_uniqueid is None and who.room is None


def test_in_a_room_the_citizen_is_the_caller_before_a_unit_or_another_operator() -> None:
    unit = leg("liandong-1767600000.7", "PJSIP/unit-07-7", LegRole.UNIT, bridges=(TALK,))
    legs = legs_of(operator_leg(), target_leg(bridges=(TALK,)), unit, caller_leg())
    assert parties_for(legs, OPERATOR).caller_uniqueid == CALLER
    del legs[CALLER]
    assert parties_for(legs, OPERATOR).caller_uniqueid == unit.uniqueid


def test_an_operator_not_on_a_call_cannot_hand_anyone_over() -> None:
    with pytest.raises(NotOnACall):
        parties_for(legs_of(caller_leg()), OPERATOR)
    with pytest.raises(NotOnACall):
        parties_for(legs_of(operator_leg(), caller_leg(("bridge-other",))), OPERATOR)


# ---------------------------------------------------------------- operator_leg_of_call


def test_the_calls_operator_leg_is_the_answered_one_in_a_bridge() -> None:
    ringing_other = leg(
        "liandong-1767600000.3",
        "PJSIP/op110-2-3",
        LegRole.OPERATOR_110,
        endpoint="op110-2",
        answered=False,
    )
    legs = legs_of(caller_leg(), operator_leg(), ringing_other)
    assert operator_leg_of_call(legs, CALL, None) is legs[OPERATOR]
    assert operator_leg_of_call(legs, "liandong-9.1", None) is None
    assert operator_leg_of_call(legs_of(caller_leg(), operator_leg(HELD)), CALL, None) is None
    unanswered = operator_leg()
    unanswered.answered = False
    assert operator_leg_of_call(legs_of(caller_leg(), unanswered), CALL, None) is None


def test_with_two_operators_on_the_call_only_the_phone_named_picks_one() -> None:
    legs = legs_of(caller_leg(), operator_leg(), target_leg(bridges=(TALK,)))
    assert operator_leg_of_call(legs, CALL, None) is None
    assert operator_leg_of_call(legs, CALL, "op12345-1") is legs[TARGET]
    assert operator_leg_of_call(legs, CALL, OPERATOR_PHONE) is legs[OPERATOR]
