"""Every transition of every mode (reconciliation apart, see test_transfer_reconcile):
the exact commands given and the exact timeline steps recorded."""

from __future__ import annotations

import pytest
from test_transfer_kit import SHORT, TARGET, TARGET_LEG, TIMEOUT, at, reach, request
from test_transfer_kit import sample as _sample

from transfer.core import commands as c
from transfer.core import rules
from transfer.core.events import CancelRequested, CompleteRequested, Event, OperatorLeft
from transfer.core.machine import Step, Transfer
from transfer.core.states import By, Reason
from transfer.core.states import TransferMode as M
from transfer.core.states import TransferState as S

R = Reason
HOLD, DROP_OP, DROP_TARGET = c.HoldCaller(), c.HangupOperatorLeg(), c.HangupTargetLeg()
RETURN, RECALL, BRIDGE = c.ReturnCallerToOperator(), c.RecallOperator(), c.BridgeCallerWithTarget()


def tell(reason: Reason) -> c.NotifyOperator:
    return c.NotifyOperator(reason)


BEFORE, ANSWERED = (S.REQUESTED, S.RINGING), (S.ANSWERED,)
SAME = None  # the step stays in the state it came from
Steps = list[tuple[S | None, Reason]]
# mode, from states, event, steps (to state, reason), commands, who acted, the mode afterwards
# fmt: off
ROWS: list[tuple[M, tuple[S, ...], str, Steps, list[c.Command], By | None, M | None]] = [
    # ---- blind: the operator is gone at once; a failure rings them back
    (M.BLIND, (S.REQUESTED,), "TR", [(S.RINGING, R.TARGET_RINGING)], [], None, None),
    (M.BLIND, BEFORE, "TA", [(S.ANSWERED, R.TARGET_ANSWERED), (S.COMPLETED, R.HANDED_OVER)],
        [BRIDGE], None, None),
    (M.BLIND, BEFORE, "TF", [(S.FAILED, R.BUSY)], [RECALL, tell(R.BUSY)], None, None),
    (M.BLIND, BEFORE, "RT", [(S.FAILED, R.NO_ANSWER)],
        [DROP_TARGET, RECALL, tell(R.NO_ANSWER)], None, None),
    (M.BLIND, BEFORE, "CH", [(S.ABANDONED, R.CALLER_HUNG_UP)], [DROP_TARGET], None, None),
    (M.BLIND, BEFORE, "TH", [(S.FAILED, R.TARGET_HUNG_UP)],
        [RECALL, tell(R.TARGET_HUNG_UP)], None, None),
    # ---- attended: the caller holds while the operator consults
    (M.ATTENDED, (S.REQUESTED,), "TR", [(S.RINGING, R.TARGET_RINGING)], [], None, None),
    (M.ATTENDED, BEFORE, "TA", [(S.ANSWERED, R.TARGET_ANSWERED)],
        [c.ConnectOperatorWithTarget()], None, None),
    (M.ATTENDED, BEFORE, "TF", [(S.FAILED, R.BUSY)], [RETURN, tell(R.BUSY)], None, None),
    (M.ATTENDED, BEFORE, "RT", [(S.FAILED, R.NO_ANSWER)],
        [DROP_TARGET, RETURN, tell(R.NO_ANSWER)], None, None),
    (M.ATTENDED, BEFORE, "CO", [(SAME, R.BECAME_BLIND)], [DROP_OP], By.KEY, M.BLIND),
    (M.ATTENDED, BEFORE, "OL", [(SAME, R.BECAME_BLIND)], [], By.HANGUP, M.BLIND),
    (M.ATTENDED, BEFORE, "CA", [(S.CANCELLED, R.CANCELLED)], [DROP_TARGET, RETURN], By.KEY, None),
    (M.ATTENDED, BEFORE, "CH", [(S.ABANDONED, R.CALLER_HUNG_UP)],
        [DROP_TARGET, tell(R.CALLER_HUNG_UP)], None, None),
    (M.ATTENDED, BEFORE, "TH", [(S.FAILED, R.TARGET_HUNG_UP)],
        [RETURN, tell(R.TARGET_HUNG_UP)], None, None),
    (M.ATTENDED, ANSWERED, "CO", [(S.COMPLETED, R.HANDED_OVER)], [BRIDGE, DROP_OP], By.KEY, None),
    (M.ATTENDED, ANSWERED, "OL", [(S.COMPLETED, R.HANDED_OVER)], [BRIDGE], By.HANGUP, None),
    (M.ATTENDED, ANSWERED, "CA", [(S.CANCELLED, R.CANCELLED)], [DROP_TARGET, RETURN], By.KEY,
        None),
    (M.ATTENDED, ANSWERED, "CH", [(S.ABANDONED, R.CALLER_HUNG_UP)], [tell(R.CALLER_HUNG_UP)],
        None, None),
    (M.ATTENDED, ANSWERED, "TH", [(S.CANCELLED, R.TARGET_HUNG_UP)],
        [RETURN, tell(R.TARGET_HUNG_UP)], None, None),
    # ---- conference: caller and operator share a room; the target joins it
    (M.CONFERENCE, (S.REQUESTED,), "TR", [(S.RINGING, R.TARGET_RINGING)], [], None, None),
    (M.CONFERENCE, BEFORE, "TA", [(S.ANSWERED, R.TARGET_ANSWERED)],
        [c.AddTargetToConference()], None, None),
    (M.CONFERENCE, BEFORE, "TF", [(S.FAILED, R.BUSY)], [tell(R.BUSY)], None, None),
    (M.CONFERENCE, BEFORE, "RT", [(S.FAILED, R.NO_ANSWER)], [DROP_TARGET, tell(R.NO_ANSWER)],
        None, None),
    (M.CONFERENCE, BEFORE, "CO", [(SAME, R.BECAME_BLIND)], [HOLD, DROP_OP], By.KEY, M.BLIND),
    (M.CONFERENCE, BEFORE, "OL", [(SAME, R.BECAME_BLIND)], [HOLD], By.HANGUP, M.BLIND),
    (M.CONFERENCE, BEFORE, "CA", [(S.CANCELLED, R.CANCELLED)], [DROP_TARGET], By.KEY, None),
    (M.CONFERENCE, BEFORE, "CH", [(S.ABANDONED, R.CALLER_HUNG_UP)],
        [DROP_TARGET, tell(R.CALLER_HUNG_UP), c.EndConference()], None, None),
    (M.CONFERENCE, BEFORE, "TH", [(S.FAILED, R.TARGET_HUNG_UP)], [tell(R.TARGET_HUNG_UP)],
        None, None),
    (M.CONFERENCE, ANSWERED, "CO", [(S.COMPLETED, R.OPERATOR_LEFT)], [DROP_OP], By.KEY, None),
    (M.CONFERENCE, ANSWERED, "OL", [(S.COMPLETED, R.OPERATOR_LEFT)], [], By.HANGUP, None),
    (M.CONFERENCE, ANSWERED, "CA", [(S.CANCELLED, R.CANCELLED)], [DROP_TARGET], By.KEY, None),
    (M.CONFERENCE, ANSWERED, "CH", [(S.ABANDONED, R.CALLER_HUNG_UP)], [tell(R.CALLER_HUNG_UP)],
        None, None),
    (M.CONFERENCE, ANSWERED, "TH", [(S.COMPLETED, R.TARGET_LEFT)], [], None, None),
]
# fmt: on
Spec = tuple[Steps, list[c.Command], By | None, M | None]
SPECS: dict[tuple[M, S, str], Spec] = {
    (mode, state, short): (steps, commands, by, after)
    for mode, states, short, steps, commands, by, after in ROWS
    for state in states
}


def test_the_specs_cover_every_transition_but_reconciliation() -> None:
    taken = {
        (mode, state, short)
        for (mode, state), row in rules.RULES.items()
        for short, kind in zip(SHORT, _kinds(), strict=True)
        if kind in row and short != "RC"
    }
    assert set(SPECS) == taken


def _kinds() -> list[type[Event]]:
    return [type(_sample(short, 0)) for short in SHORT]


@pytest.mark.parametrize(("mode", "state", "short"), sorted(SPECS), ids=str)
def test_transition(mode: M, state: S, short: str) -> None:
    steps, commands, by, mode_after = SPECS[mode, state, short]
    transfer = reach(mode, state)
    before = transfer.timeline
    event = _sample(short, 30)
    assert transfer.handle(event) == commands
    after = mode_after or mode
    expected, last = [], state
    for to_state, reason in steps:
        to_state = to_state or last
        expected.append(Step(at(30), last, to_state, event.name, reason, after, by))
        last = to_state
    assert transfer.timeline == (*before, *expected)
    assert (transfer.state, transfer.mode) == (last, after)
    if short == "TA":
        assert transfer.target_uniqueid == TARGET_LEG


@pytest.mark.parametrize(
    ("mode", "commands"),
    [
        (M.BLIND, [HOLD, DROP_OP, c.DialTarget(TARGET, TIMEOUT)]),
        (M.ATTENDED, [HOLD, c.DialTarget(TARGET, TIMEOUT)]),
        (M.CONFERENCE, [c.StartConference(), c.DialTarget(TARGET, TIMEOUT)]),
    ],
)
def test_start(mode: M, commands: list[c.Command]) -> None:
    transfer, given = Transfer.start(request(mode, by=By.API))
    assert given == commands
    assert transfer.timeline == (
        Step(at(0), None, S.REQUESTED, "Requested", R.REQUESTED, mode, By.API),
    )
    assert (transfer.id, transfer.call_id, transfer.state) == ("tr-1", "call-1", S.REQUESTED)


@pytest.mark.parametrize("by", [By.KEY, By.API])
def test_complete_and_cancel_record_who_asked(by: By) -> None:
    for event in (CompleteRequested(at(30), by), CancelRequested(at(30), by)):
        transfer = reach(M.ATTENDED, S.ANSWERED)
        transfer.handle(event)
        assert transfer.timeline[-1].by is by


def test_operator_left_is_completion_by_hangup() -> None:
    by_event, by_request = reach(M.ATTENDED, S.ANSWERED), reach(M.ATTENDED, S.ANSWERED)
    assert by_event.handle(OperatorLeft(at(30))) == by_request.handle(
        CompleteRequested(at(30), By.HANGUP)
    )
    assert by_event.timeline[-1].by is by_request.timeline[-1].by is By.HANGUP
