"""What the server sends Asterisk to carry out a transfer (transfer/core/actions.py):
the AMI actions for the core's commands, in the order a caller on the line needs."""

from __future__ import annotations

import pytest
from transfer_shell_kit import (
    CALL,
    CALLER,
    CALLER_CHAN,
    DESK_110,
    DESK_12345,
    OPERATOR,
    OPERATOR_CHAN,
    RING_S,
    ROOM,
    TARGET,
    TARGET_CHAN,
    XFER,
    actions,
    answered_by_target,
    at,
    hangup,
    parties,
    redirect,
    request,
    setvar,
    started,
    step_on,
)

from transfer.core import commands as c
from transfer.core.actions import (
    CONSULT_HOLD_S,
    HOLD_MARGIN_S,
    back_to_desk,
    caller_id,
    end_room,
    exten_for,
    plan,
    room_number,
)
from transfer.core.events import (
    CallerHungUp,
    CancelRequested,
    CompleteRequested,
    OperatorLeft,
    RingTimeout,
    TargetAnswered,
    TargetFailed,
    TargetRinging,
)
from transfer.core.machine import Transfer
from transfer.core.states import By, FailReason, Reason
from transfer.core.states import TransferMode as M
from transfer.core.target import Target

# ---------------------------------------------------------------- openings


def test_blind_opening_moves_the_caller_to_ring_the_target_and_leaves_the_operator_be() -> None:
    _, who, steps = started(M.BLIND, ring_s=17)
    # Moving the caller out of the two-party bridge ends the operator's leg; an
    # explicit hang-up would drop the caller too if the move were refused.
    assert actions(steps) == [
        setvar(CALLER_CHAN, "LD_XFER", XFER),
        setvar(CALLER_CHAN, "LD_XFER_TIMEOUT", "17"),
        # Should the server not move them on, the dialplan takes them back to
        # their desk after the target's ring and the operator's ring-back.
        setvar(CALLER_CHAN, "LD_HOLD_S", str(RING_S + HOLD_MARGIN_S)),
        redirect(CALLER_CHAN, "ld-xfer-blind", "12345"),
    ]
    # The caller may hang up meanwhile: its Hangup event tells, not a failed action.
    assert [step.may_be_gone for step in steps] == [False, False, True, True]
    assert who.dialer_uniqueid == CALLER


def test_attended_opening_moves_caller_to_hold_and_operator_to_consult_in_one_redirect() -> None:
    _, who, steps = started(M.ATTENDED, ring_s=17)
    both = redirect(CALLER_CHAN, "ld-xfer-hold")
    both |= {
        "ExtraChannel": OPERATOR_CHAN,
        "ExtraContext": "ld-xfer-consult",
        "ExtraExten": "12345",
        "ExtraPriority": "1",
    }
    assert actions(steps) == [
        setvar(OPERATOR_CHAN, "LD_XFER", XFER),
        setvar(OPERATOR_CHAN, "LD_XFER_TIMEOUT", "17"),
        setvar(CALLER_CHAN, "LD_HOLD_S", str(RING_S + HOLD_MARGIN_S)),
        both,
    ]
    assert who.dialer_uniqueid == OPERATOR


def test_conference_opening_moves_both_into_the_room_then_rings_the_target_from_a_local() -> None:
    transfer, who, steps = started(M.CONFERENCE, ring_s=17)
    both = redirect(CALLER_CHAN, "ld-xfer-conf", ROOM)
    both |= {
        "ExtraChannel": OPERATOR_CHAN,
        "ExtraContext": "ld-xfer-conf",
        "ExtraExten": ROOM,
        "ExtraPriority": "1",
    }
    into_room, ring = actions(steps)
    assert into_room == both
    assert who.room == ROOM == room_number(transfer)
    assert ring["Action"] == "Originate"
    assert ring["Channel"] == "Local/12345@ld-xfer-conf-ring/n"
    assert (ring["Context"], ring["Exten"], ring["Priority"]) == ("ld-xfer-wait", "s", "1")
    assert (ring["ChannelId"], ring["OtherChannelId"]) == (f"{XFER}-conf", f"{XFER}-ring")
    assert set(ring["Variable"]) == {f"__LD_CALL={CALL}", f"LD_XFER={XFER}", "LD_XFER_TIMEOUT=17"}
    assert ring["CallerID"] == '"张三" <13810001234>'
    timeout = ring["Timeout"]
    assert isinstance(timeout, str) and int(timeout) > 17_000  # the Dial ends the ring first
    assert who.dialer_uniqueid == f"{XFER}-ring"


@pytest.mark.parametrize(
    ("target", "exten"),
    [(DESK_110, "110"), (DESK_12345, "12345"), (Target(unit="07"), "u07")],
)
def test_the_dialplan_extension_of_a_target(target: Target, exten: str) -> None:
    assert exten_for(target) == exten
    _, _, steps = started(M.BLIND, target)
    assert actions(steps)[-1]["Exten"] == exten


def test_the_room_number_is_digits_only_and_the_same_for_the_same_transfer() -> None:
    one, _ = Transfer.start(request(M.CONFERENCE, transfer_id="xfer-00000000000000ff"))
    other, _ = Transfer.start(request(M.CONFERENCE, transfer_id="xfer-0000000000000100"))
    assert room_number(one) == "000000255" == room_number(one)
    assert room_number(other) == "000000256"


@pytest.mark.parametrize(
    ("number", "name", "shown"),
    [
        ("13810001234", "张三", '"张三" <13810001234>'),
        ("13810001234", None, "13810001234"),
        (None, None, ""),
    ],
)
def test_the_caller_id_the_target_sees(number: str | None, name: str | None, shown: str) -> None:
    who = parties()
    who.caller_number, who.caller_name = number, name
    assert caller_id(who) == shown


# ---------------------------------------------------------------- giving the caller back


def test_return_to_the_operator_waits_for_both_on_hold_music_before_bridging() -> None:
    transfer, who, _ = started(M.ATTENDED)
    steps = step_on(transfer, who, TargetFailed(at(3), FailReason.BUSY))
    [back] = steps
    assert back.action == {
        "Action": "Bridge",
        "Channel1": CALLER_CHAN,
        "Channel2": OPERATOR_CHAN,
        "Tone": "no",
    }
    assert back.after_hold == (CALLER, OPERATOR)


def test_cancelling_an_attended_ring_stops_the_operators_dial_then_returns_the_caller() -> None:
    transfer, who, _ = started(M.ATTENDED)
    steps = step_on(transfer, who, CancelRequested(at(3), By.KEY))
    assert actions(steps)[0] == redirect(OPERATOR_CHAN, "ld-xfer-wait")
    assert steps[1].action["Action"] == "Bridge" and steps[1].after_hold == (CALLER, OPERATOR)


def test_cancelling_after_the_answer_hangs_up_the_target_which_may_be_gone() -> None:
    transfer, who, _ = started(M.ATTENDED)
    step_on(transfer, who, TargetRinging(at(1)))
    answered_by_target(who)
    # The Dial joined them; the caller may now wait through the consultation.
    consulting = step_on(transfer, who, TargetAnswered(at(2), TARGET))
    assert actions(consulting) == [setvar(CALLER_CHAN, "LD_HOLD_S", str(CONSULT_HOLD_S))]
    hang, back = step_on(transfer, who, CancelRequested(at(3), By.API))
    assert (hang.action, hang.may_be_gone) == (hangup(TARGET_CHAN), True)
    assert back.action["Action"] == "Bridge"


def test_a_blind_ring_timing_out_stops_the_callers_dial_and_rings_the_operator_back() -> None:
    transfer, who, _ = started(M.BLIND)
    steps = step_on(transfer, who, RingTimeout(at(21)), ring_s=30)
    assert actions(steps)[0] == redirect(CALLER_CHAN, "ld-xfer-hold")
    recall = actions(steps)[1]
    assert recall["Action"] == "Originate"
    assert (recall["Channel"], recall["Application"]) == ("PJSIP/op110-1", "Bridge")
    assert recall["Data"] == CALLER_CHAN
    assert recall["ChannelId"] == f"{XFER}-recall"
    assert f"__LD_CALL={CALL}" in recall["Variable"]
    assert len(steps) == 2


def test_cancelling_a_three_way_ring_hangs_up_the_local_ring_channel() -> None:
    transfer, who, _ = started(M.CONFERENCE)
    [stop] = step_on(transfer, who, CancelRequested(at(3), By.KEY))
    assert (stop.action, stop.may_be_gone) == (hangup(f"{XFER}-ring"), True)


def test_caller_hanging_up_during_a_three_way_ring_ends_the_ring() -> None:
    transfer, who, _ = started(M.CONFERENCE)
    assert actions(step_on(transfer, who, CallerHungUp(at(3)))) == [hangup(f"{XFER}-ring")]


def test_recall_without_a_known_phone_sends_the_caller_to_ring_their_desk_again() -> None:
    transfer, who, _ = started(M.BLIND)
    who.operator_endpoint = None
    steps = step_on(transfer, who, TargetFailed(at(3), FailReason.FAILED))
    assert actions(steps) == [redirect(CALLER_CHAN, "from-trunk-110", "110")]


def test_back_to_desk_needs_the_desk_the_caller_first_called() -> None:
    who = parties()
    who.desk = "12345"
    assert actions(back_to_desk(who)) == [redirect(CALLER_CHAN, "from-trunk-12345", "12345")]
    who.desk = None
    assert back_to_desk(who) == []


def test_ending_a_room_hangs_up_everyone_left_in_it() -> None:
    steps = end_room(["PJSIP/a-1", "PJSIP/b-2"])
    assert actions(steps) == [hangup("PJSIP/a-1"), hangup("PJSIP/b-2")]
    assert all(step.may_be_gone for step in steps)


# ---------------------------------------------------------------- becoming blind


def test_operator_hanging_up_during_an_attended_ring_makes_the_caller_ring_the_target() -> None:
    transfer, who, _ = started(M.ATTENDED)
    commands = transfer.handle(OperatorLeft(at(3)))
    assert commands == []
    steps = plan(commands, transfer, who, 12)
    assert actions(steps) == [
        setvar(CALLER_CHAN, "LD_XFER", XFER),
        setvar(CALLER_CHAN, "LD_XFER_TIMEOUT", "12"),
        redirect(CALLER_CHAN, "ld-xfer-blind", "12345"),
    ]
    assert who.dialer_uniqueid == CALLER
    assert plan([], transfer, who, 11) == []  # once only


def test_completing_an_attended_ring_early_redials_from_the_caller_before_the_hangup() -> None:
    transfer, who, _ = started(M.ATTENDED)
    steps = step_on(transfer, who, CompleteRequested(at(3), By.KEY))
    assert [a["Action"] for a in actions(steps)] == ["Setvar", "Setvar", "Redirect", "Hangup"]
    assert actions(steps)[2] == redirect(CALLER_CHAN, "ld-xfer-blind", "12345")
    assert actions(steps)[3] == hangup(OPERATOR_CHAN)


def test_a_three_way_ring_turned_blind_keeps_the_caller_in_the_room_and_the_local_ringing() -> None:
    transfer, who, _ = started(M.CONFERENCE)
    steps = step_on(transfer, who, CompleteRequested(at(3), By.KEY))
    assert actions(steps) == [hangup(OPERATOR_CHAN)]
    assert who.dialer_uniqueid == f"{XFER}-ring"
    answered_by_target(who)
    into_room = step_on(transfer, who, TargetAnswered(at(4), TARGET))
    assert actions(into_room) == [redirect(TARGET_CHAN, "ld-xfer-conf", ROOM)]


# ---------------------------------------------------------------- the answer


def test_a_blind_answer_needs_no_action_the_callers_dial_joined_them() -> None:
    transfer, who, _ = started(M.BLIND)
    answered_by_target(who)
    assert step_on(transfer, who, TargetAnswered(at(4), TARGET)) == []


def test_completing_a_consultation_bridges_caller_and_target_then_drops_the_operator() -> None:
    transfer, who, _ = started(M.ATTENDED)
    answered_by_target(who)
    step_on(transfer, who, TargetAnswered(at(4), TARGET))
    steps = step_on(transfer, who, CompleteRequested(at(9), By.KEY))
    assert actions(steps) == [
        {"Action": "Bridge", "Channel1": CALLER_CHAN, "Channel2": TARGET_CHAN, "Tone": "no"},
        hangup(OPERATOR_CHAN),
    ]


def test_a_three_way_answer_moves_the_targets_own_channel_into_the_room() -> None:
    transfer, who, _ = started(M.CONFERENCE)
    answered_by_target(who)
    steps = step_on(transfer, who, TargetAnswered(at(4), TARGET))
    assert actions(steps) == [redirect(TARGET_CHAN, "ld-xfer-conf", ROOM)]
    assert who.target_room_uniqueid == TARGET


def test_notifying_the_operator_and_ending_a_room_are_not_ami_steps_of_the_plan() -> None:
    transfer, who, _ = started(M.CONFERENCE)
    quiet: list[c.Command] = [c.NotifyOperator(Reason.FAILED), c.EndConference()]
    assert plan(quiet, transfer, who, 20) == []
