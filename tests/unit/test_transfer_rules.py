"""The issue's rules, one test each, told as stories of events."""

from __future__ import annotations

from datetime import datetime

import pytest
from test_transfer_kit import TARGET_LEG, at, reach, request

from common.vocabulary import Desk
from transfer.core import commands as c
from transfer.core.errors import IllegalTransition
from transfer.core.events import (
    CallerHungUp,
    CancelRequested,
    CompleteRequested,
    OperatorLeft,
    Requested,
    RingTimeout,
    TargetAnswered,
    TargetFailed,
    TargetHungUp,
    TargetRinging,
)
from transfer.core.machine import Transfer
from transfer.core.states import By, FailReason, Reason
from transfer.core.states import TransferMode as M
from transfer.core.states import TransferState as S
from transfer.core.target import Target

RUNNING_STATES = [(m, s) for m in M for s in (S.REQUESTED, S.RINGING)] + [
    (M.ATTENDED, S.ANSWERED),
    (M.CONFERENCE, S.ANSWERED),
]


def test_blind_drops_the_operator_at_once_and_completes_without_operator_action() -> None:
    transfer, given = Transfer.start(request(M.BLIND))
    assert c.HangupOperatorLeg() in given
    assert given.index(c.HoldCaller()) < given.index(c.HangupOperatorLeg())
    transfer.handle(TargetRinging(at(1)))
    assert transfer.handle(TargetAnswered(at(5), TARGET_LEG)) == [c.BridgeCallerWithTarget()]
    assert [step.to_state for step in transfer.timeline] == [
        S.REQUESTED,
        S.RINGING,
        S.ANSWERED,
        S.COMPLETED,
    ]


def test_attended_complete_before_answer_becomes_blind() -> None:
    transfer = reach(M.ATTENDED, S.RINGING)
    assert transfer.handle(CompleteRequested(at(3), By.KEY)) == [c.HangupOperatorLeg()]
    assert (transfer.state, transfer.mode, transfer.request.mode) == (
        S.RINGING,
        M.BLIND,
        M.ATTENDED,
    )
    assert transfer.timeline[-1].reason is Reason.BECAME_BLIND
    assert transfer.handle(TargetAnswered(at(6), TARGET_LEG)) == [c.BridgeCallerWithTarget()]
    assert transfer.state is S.COMPLETED


def test_attended_complete_before_answer_then_target_fails_rings_the_operator_back() -> None:
    transfer = reach(M.ATTENDED, S.RINGING)
    transfer.handle(OperatorLeft(at(3)))  # hanging up completes, too
    assert transfer.handle(TargetFailed(at(8), FailReason.NO_ANSWER)) == [
        c.RecallOperator(),
        c.NotifyOperator(Reason.NO_ANSWER),
    ]


def test_attended_cancel_returns_the_caller_to_the_operator() -> None:
    transfer = reach(M.ATTENDED, S.ANSWERED)
    assert transfer.handle(CancelRequested(at(9), By.KEY)) == [
        c.HangupTargetLeg(),
        c.ReturnCallerToOperator(),
    ]
    assert transfer.state is S.CANCELLED


@pytest.mark.parametrize("why", list(FailReason))
def test_attended_target_failure_returns_the_caller_and_tells_the_operator_why(
    why: FailReason,
) -> None:
    transfer = reach(M.ATTENDED, S.RINGING)
    assert transfer.handle(TargetFailed(at(4), why)) == [
        c.ReturnCallerToOperator(),
        c.NotifyOperator(Reason(why.value)),
    ]
    assert (transfer.state, transfer.timeline[-1].reason) == (S.FAILED, Reason(why.value))


def test_ring_timeout_hangs_up_the_target_and_returns_the_caller() -> None:
    transfer = reach(M.ATTENDED, S.RINGING)
    assert transfer.ring_deadline == at(20)
    assert transfer.handle(RingTimeout(at(20))) == [
        c.HangupTargetLeg(),
        c.ReturnCallerToOperator(),
        c.NotifyOperator(Reason.NO_ANSWER),
    ]


def test_attended_target_hangs_up_during_consultation_returns_the_operator_to_the_caller() -> None:
    transfer = reach(M.ATTENDED, S.ANSWERED)
    given = transfer.handle(TargetHungUp(at(9)))
    assert given == [c.ReturnCallerToOperator(), c.NotifyOperator(Reason.TARGET_HUNG_UP)]
    assert (transfer.state, transfer.timeline[-1].reason) == (S.CANCELLED, Reason.TARGET_HUNG_UP)


@pytest.mark.parametrize(("mode", "state"), RUNNING_STATES, ids=str)
def test_caller_hanging_up_in_any_running_state_is_abandoned(mode: M, state: S) -> None:
    transfer = reach(mode, state)
    given = transfer.handle(CallerHungUp(at(9)))
    assert transfer.state is S.ABANDONED
    assert (c.HangupTargetLeg() in given) is (state is not S.ANSWERED)  # only while it rings


def test_conference_target_failure_leaves_the_caller_with_the_operator() -> None:
    transfer = reach(M.CONFERENCE, S.RINGING)
    given = transfer.handle(TargetFailed(at(4), FailReason.BUSY))
    assert given == [c.NotifyOperator(Reason.BUSY)]  # nobody moves: they share the room
    assert transfer.state is S.FAILED


@pytest.mark.parametrize(
    ("leaving", "reason"),
    [(OperatorLeft(at(9)), Reason.OPERATOR_LEFT), (TargetHungUp(at(9)), Reason.TARGET_LEFT)],
)
def test_conference_either_operator_leaving_after_the_answer_completes(
    leaving: OperatorLeft | TargetHungUp, reason: Reason
) -> None:
    transfer = reach(M.CONFERENCE, S.ANSWERED)
    assert transfer.handle(leaving) == []  # the other two stay in the room
    assert (transfer.state, transfer.timeline[-1].reason) == (S.COMPLETED, reason)


def test_conference_operator_leaving_before_the_answer_hands_over_blind() -> None:
    transfer = reach(M.CONFERENCE, S.RINGING)
    assert transfer.handle(OperatorLeft(at(3))) == [c.HoldCaller()]  # not alone in the room
    assert transfer.mode is M.BLIND
    assert transfer.handle(TargetAnswered(at(6), TARGET_LEG)) == [c.BridgeCallerWithTarget()]


def test_conference_caller_leaving_before_the_answer_ends_the_room() -> None:
    transfer = reach(M.CONFERENCE, S.RINGING)
    assert c.EndConference() in transfer.handle(CallerHungUp(at(3)))


def test_a_report_after_the_end_is_late_and_not_a_transition() -> None:
    transfer = reach(M.ATTENDED, S.COMPLETED)
    late = TargetHungUp(at(60))
    assert transfer.is_late(late)
    with pytest.raises(IllegalTransition):
        transfer.handle(late)
    assert transfer.state is S.COMPLETED


def test_a_request_after_the_end_is_refused_not_late() -> None:
    transfer = reach(M.ATTENDED, S.FAILED)
    cancel = CancelRequested(at(60), By.API)
    assert not transfer.is_late(cancel)
    with pytest.raises(IllegalTransition) as refused:
        transfer.handle(cancel)
    assert refused.value.allowed == ()
    assert "it has ended" in str(refused.value)


def test_a_ring_timeout_racing_the_answer_is_late() -> None:
    transfer = reach(M.ATTENDED, S.ANSWERED)
    assert transfer.is_late(RingTimeout(at(20)))


def test_a_blind_transfer_cannot_be_cancelled() -> None:
    with pytest.raises(IllegalTransition) as refused:
        reach(M.BLIND, S.RINGING).handle(CancelRequested(at(3), By.API))
    assert "CancelRequested" not in refused.value.allowed


def test_times_never_go_back_on_the_timeline() -> None:
    transfer = reach(M.ATTENDED, S.RINGING)  # ringing at 1 s
    transfer.handle(TargetAnswered(at(0.5), TARGET_LEG))  # Asterisk's clock a little behind
    assert transfer.timeline[-1].at == at(1)


def test_refused_event_changes_nothing() -> None:
    transfer = reach(M.BLIND, S.RINGING)
    before = (transfer.timeline, transfer.state, transfer.mode, transfer.target_uniqueid)
    with pytest.raises(IllegalTransition):
        transfer.handle(CompleteRequested(at(3), By.KEY))
    assert (transfer.timeline, transfer.state, transfer.mode, transfer.target_uniqueid) == before


@pytest.mark.parametrize("mode", list(M))
def test_a_phone_made_transfer_is_recorded_but_never_commanded(mode: M) -> None:
    transfer, given = Transfer.start(request(mode, by=By.PHONE))
    assert given == [] and transfer.observed
    assert transfer.handle(TargetRinging(at(1))) == []
    assert transfer.handle(TargetAnswered(at(2), TARGET_LEG)) == []
    if transfer.state is S.ANSWERED:  # the phone completes its own consultation
        assert transfer.handle(CompleteRequested(at(3), By.PHONE)) == []
    assert transfer.state is S.COMPLETED
    assert [step.to_state for step in transfer.timeline][-2:] == [S.ANSWERED, S.COMPLETED]


def test_the_call_id_follows_a_merge() -> None:
    transfer = reach(M.ATTENDED, S.RINGING)
    transfer.call_merged("other", "call-9")
    assert transfer.call_id == "call-1"
    transfer.call_merged("call-1", "call-9")
    assert transfer.call_id == "call-9"


def test_restore_continues_from_the_persisted_timeline() -> None:
    original = reach(M.CONFERENCE, S.RINGING)
    original.handle(OperatorLeft(at(2)))
    restored = Transfer.restore(original.request, list(original.timeline))
    assert (restored.state, restored.mode) == (S.RINGING, M.BLIND)
    assert restored.handle(RingTimeout(at(20))) == [
        c.HangupTargetLeg(),
        c.RecallOperator(),
        c.NotifyOperator(Reason.NO_ANSWER),
    ]


def test_restore_needs_a_timeline() -> None:
    with pytest.raises(ValueError, match="timeline"):
        Transfer.restore(request(M.BLIND), [])


def test_requests_need_aware_times_and_a_positive_timeout() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TargetRinging(datetime(2026, 1, 5, 8, 0))
    with pytest.raises(ValueError, match="ring_timeout_s"):
        Requested(
            transfer_id="t",
            call_id="c",
            caller_uniqueid="a",
            operator_uniqueid="b",
            mode=M.BLIND,
            target=Target(desk=Desk.D110),
            ring_timeout_s=0,
            by=By.KEY,
            at=at(0),
        )
