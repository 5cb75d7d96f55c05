"""After a reconnect or restart the shell reports what Asterisk shows of each running
transfer's legs (`Reconciled(finding)`); the transfer settles from it, and none
stays ringing without a deadline."""

from __future__ import annotations

import itertools

import pytest
from test_transfer_kit import at, reach

from transfer.core import commands as c
from transfer.core.events import Reconciled, RingTimeout
from transfer.core.states import Finding, Reason
from transfer.core.states import TransferMode as M
from transfer.core.states import TransferState as S

F, R = Finding, Reason
RUNNING = [
    (M.BLIND, S.REQUESTED),
    (M.BLIND, S.RINGING),
    (M.ATTENDED, S.REQUESTED),
    (M.ATTENDED, S.RINGING),
    (M.ATTENDED, S.ANSWERED),
    (M.CONFERENCE, S.REQUESTED),
    (M.CONFERENCE, S.RINGING),
    (M.CONFERENCE, S.ANSWERED),
]
BACK: dict[M, list[c.Command]] = {
    M.BLIND: [c.RecallOperator()],
    M.ATTENDED: [c.ReturnCallerToOperator()],
    M.CONFERENCE: [],
}
UP = "liandong-1767600000.77"
Outcome = tuple[list[tuple[S, Reason]], list[c.Command]]


def expected(mode: M, state: S, finding: Finding) -> Outcome:
    """What each finding should do, written out per case."""
    before = state is not S.ANSWERED
    lost = ([(S.FAILED, R.LOST)], BACK[mode] + [c.NotifyOperator(R.LOST)])
    if finding is F.TARGET_WITH_CALLER:
        return [(S.COMPLETED, R.HANDED_OVER)], []
    if finding is F.PBX_RESTARTED:  # the call went with Asterisk: nothing to give back
        return [(S.FAILED, R.PBX_RESTARTED)], [c.NotifyOperator(R.PBX_RESTARTED)]
    if finding is F.CALLER_AT_DESK:  # the dialplan's hold limit already sent them back
        return [(S.FAILED, R.RETURNED_TO_DESK)], [c.NotifyOperator(R.RETURNED_TO_DESK)]
    if finding is F.CALLER_GONE:
        cmds: list[c.Command] = [c.HangupTargetLeg()] if before else []
        if mode is not M.BLIND:
            cmds.append(c.NotifyOperator(R.CALLER_HUNG_UP))
        if mode is M.CONFERENCE and before:
            cmds.append(c.EndConference())
        return [(S.ABANDONED, R.CALLER_HUNG_UP)], cmds
    if finding is F.TARGET_RINGING and state is S.REQUESTED:
        return [(S.RINGING, R.TARGET_RINGING)], []
    if finding is F.TARGET_RINGING and state is S.RINGING:
        return [(S.RINGING, R.CONFIRMED)], []
    if finding is F.TARGET_RINGING:  # answered before, ringing now: cannot be explained
        return lost[0], [c.HangupTargetLeg(), *lost[1]]
    if finding is F.TARGET_UP and not before:
        return [(S.ANSWERED, R.CONFIRMED)], []
    if finding is F.TARGET_UP:
        answered = [(S.ANSWERED, R.TARGET_ANSWERED)]
        by_mode: dict[M, Outcome] = {
            M.BLIND: ([*answered, (S.COMPLETED, R.HANDED_OVER)], [c.BridgeCallerWithTarget()]),
            M.ATTENDED: (answered, [c.ConnectOperatorWithTarget()]),
            M.CONFERENCE: (answered, [c.AddTargetToConference()]),
        }
        return by_mode[mode]
    assert finding is F.TARGET_GONE
    if before:
        return lost
    if mode is M.ATTENDED:
        return [(S.CANCELLED, R.TARGET_HUNG_UP)], [
            c.ReturnCallerToOperator(),
            c.NotifyOperator(R.TARGET_HUNG_UP),
        ]
    return [(S.COMPLETED, R.TARGET_LEFT)], []


CASES = [(m, s, f) for (m, s), f in itertools.product(RUNNING, Finding)]


@pytest.mark.parametrize(("mode", "state", "finding"), CASES, ids=str)
def test_reconciled(mode: M, state: S, finding: Finding) -> None:
    transfer = reach(mode, state)
    before = len(transfer.timeline)
    steps, commands = expected(mode, state, finding)
    assert transfer.handle(Reconciled(at(100), finding, UP)) == commands
    added = transfer.timeline[before:]
    assert [(step.to_state, step.reason) for step in added] == steps
    assert all(step.event == "Reconciled" and step.at == at(100) for step in added)
    assert added[0].from_state is state


@pytest.mark.parametrize(("mode", "state", "finding"), CASES, ids=str)
def test_no_transfer_stays_ringing_after_reconciliation(
    mode: M, state: S, finding: Finding
) -> None:
    transfer = reach(mode, state)
    transfer.handle(Reconciled(at(100), finding, UP))
    if transfer.state in (S.REQUESTED, S.RINGING):
        assert finding is F.TARGET_RINGING
        timeout = RingTimeout(max(at(100), transfer.ring_deadline))  # the re-armed timer
        assert not transfer.is_late(timeout)
        transfer.handle(timeout)
    assert transfer.state is not S.RINGING and transfer.state is not S.REQUESTED


def test_the_answered_target_leg_is_learned() -> None:
    transfer = reach(M.ATTENDED, S.RINGING)
    transfer.handle(Reconciled(at(100), F.TARGET_UP, UP))
    assert transfer.target_uniqueid == UP


@pytest.mark.parametrize("mode", list(M))
def test_reconciling_an_ended_transfer_is_late(mode: M) -> None:
    transfer = reach(mode, S.FAILED)
    assert transfer.is_late(Reconciled(at(100), F.TARGET_GONE))
