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
Spec = tuple[Steps, list[c.Command], By | None, M | None]


def then(
    steps: Steps, commands: list[c.Command], by: By | None = None, after: M | None = None
) -> Spec:
    """What a transition does: the timeline steps it records (to state, reason), the
    commands it gives, who acted (when the event says so) and the mode afterwards (when
    the transition changes it)."""
    return steps, commands, by, after


# (mode, from states, event): what the transition does
TABLE: dict[tuple[M, tuple[S, ...], str], Spec] = {
    # ---- blind: the operator is gone at once; a failure rings them back
    (M.BLIND, (S.REQUESTED,), "TR"): then([(S.RINGING, R.TARGET_RINGING)], []),
    (M.BLIND, BEFORE, "TA"): then(
        [(S.ANSWERED, R.TARGET_ANSWERED), (S.COMPLETED, R.HANDED_OVER)], [BRIDGE]
    ),
    (M.BLIND, BEFORE, "TF"): then([(S.FAILED, R.BUSY)], [RECALL, tell(R.BUSY)]),
    (M.BLIND, BEFORE, "RT"): then(
        [(S.FAILED, R.NO_ANSWER)], [DROP_TARGET, RECALL, tell(R.NO_ANSWER)]
    ),
    (M.BLIND, BEFORE, "CH"): then([(S.ABANDONED, R.CALLER_HUNG_UP)], [DROP_TARGET]),
    (M.BLIND, BEFORE, "TH"): then([(S.FAILED, R.TARGET_HUNG_UP)], [RECALL, tell(R.TARGET_HUNG_UP)]),
    # ---- attended: the caller holds while the operator consults
    (M.ATTENDED, (S.REQUESTED,), "TR"): then([(S.RINGING, R.TARGET_RINGING)], []),
    (M.ATTENDED, BEFORE, "TA"): then(
        [(S.ANSWERED, R.TARGET_ANSWERED)], [c.ConnectOperatorWithTarget()]
    ),
    (M.ATTENDED, BEFORE, "TF"): then([(S.FAILED, R.BUSY)], [RETURN, tell(R.BUSY)]),
    (M.ATTENDED, BEFORE, "RT"): then(
        [(S.FAILED, R.NO_ANSWER)], [DROP_TARGET, RETURN, tell(R.NO_ANSWER)]
    ),
    (M.ATTENDED, BEFORE, "CO"): then([(SAME, R.BECAME_BLIND)], [DROP_OP], by=By.KEY, after=M.BLIND),
    (M.ATTENDED, BEFORE, "OL"): then([(SAME, R.BECAME_BLIND)], [], by=By.HANGUP, after=M.BLIND),
    (M.ATTENDED, BEFORE, "CA"): then(
        [(S.CANCELLED, R.CANCELLED)], [DROP_TARGET, RETURN], by=By.KEY
    ),
    (M.ATTENDED, BEFORE, "CH"): then(
        [(S.ABANDONED, R.CALLER_HUNG_UP)], [DROP_TARGET, tell(R.CALLER_HUNG_UP)]
    ),
    (M.ATTENDED, BEFORE, "TH"): then(
        [(S.FAILED, R.TARGET_HUNG_UP)], [RETURN, tell(R.TARGET_HUNG_UP)]
    ),
    (M.ATTENDED, ANSWERED, "CO"): then(
        [(S.COMPLETED, R.HANDED_OVER)], [BRIDGE, DROP_OP], by=By.KEY
    ),
    (M.ATTENDED, ANSWERED, "OL"): then([(S.COMPLETED, R.HANDED_OVER)], [BRIDGE], by=By.HANGUP),
    (M.ATTENDED, ANSWERED, "CA"): then(
        [(S.CANCELLED, R.CANCELLED)], [DROP_TARGET, RETURN], by=By.KEY
    ),
    (M.ATTENDED, ANSWERED, "CH"): then([(S.ABANDONED, R.CALLER_HUNG_UP)], [tell(R.CALLER_HUNG_UP)]),
    (M.ATTENDED, ANSWERED, "TH"): then(
        [(S.CANCELLED, R.TARGET_HUNG_UP)], [RETURN, tell(R.TARGET_HUNG_UP)]
    ),
    # ---- conference: caller and operator share a room; the target joins it
    (M.CONFERENCE, (S.REQUESTED,), "TR"): then([(S.RINGING, R.TARGET_RINGING)], []),
    (M.CONFERENCE, BEFORE, "TA"): then(
        [(S.ANSWERED, R.TARGET_ANSWERED)], [c.AddTargetToConference()]
    ),
    (M.CONFERENCE, BEFORE, "TF"): then([(S.FAILED, R.BUSY)], [tell(R.BUSY)]),
    (M.CONFERENCE, BEFORE, "RT"): then([(S.FAILED, R.NO_ANSWER)], [DROP_TARGET, tell(R.NO_ANSWER)]),
    (M.CONFERENCE, BEFORE, "CO"): then(
        [(SAME, R.BECAME_BLIND)], [HOLD, DROP_OP], by=By.KEY, after=M.BLIND
    ),
    (M.CONFERENCE, BEFORE, "OL"): then(
        [(SAME, R.BECAME_BLIND)], [HOLD], by=By.HANGUP, after=M.BLIND
    ),
    (M.CONFERENCE, BEFORE, "CA"): then([(S.CANCELLED, R.CANCELLED)], [DROP_TARGET], by=By.KEY),
    (M.CONFERENCE, BEFORE, "CH"): then(
        [(S.ABANDONED, R.CALLER_HUNG_UP)], [DROP_TARGET, tell(R.CALLER_HUNG_UP), c.EndConference()]
    ),
    (M.CONFERENCE, BEFORE, "TH"): then([(S.FAILED, R.TARGET_HUNG_UP)], [tell(R.TARGET_HUNG_UP)]),
    (M.CONFERENCE, ANSWERED, "CO"): then([(S.COMPLETED, R.OPERATOR_LEFT)], [DROP_OP], by=By.KEY),
    (M.CONFERENCE, ANSWERED, "OL"): then([(S.COMPLETED, R.OPERATOR_LEFT)], [], by=By.HANGUP),
    (M.CONFERENCE, ANSWERED, "CA"): then([(S.CANCELLED, R.CANCELLED)], [DROP_TARGET], by=By.KEY),
    (M.CONFERENCE, ANSWERED, "CH"): then(
        [(S.ABANDONED, R.CALLER_HUNG_UP)], [tell(R.CALLER_HUNG_UP)]
    ),
    (M.CONFERENCE, ANSWERED, "TH"): then([(S.COMPLETED, R.TARGET_LEFT)], []),
}
SPECS: dict[tuple[M, S, str], Spec] = {
    (mode, state, short): spec for (mode, states, short), spec in TABLE.items() for state in states
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
