"""The transition table against an expectation written out by hand, and every
(mode, state, event) pair driven through a real transfer: taken, late, or refused
with `IllegalTransition` naming what is allowed."""

from __future__ import annotations

import itertools

import pytest
from test_transfer_kit import SHORT, reach, sample

from transfer.core import rules
from transfer.core.errors import IllegalTransition
from transfer.core.events import EVENT_TYPES
from transfer.core.states import TERMINAL
from transfer.core.states import TransferMode as M
from transfer.core.states import TransferState as S

# x: a transition   l: late (the shell may drop it)   .: refused
GRID = """
                      TR TA TF RT CO CA CH TH OL RC
blind      requested  x  x  x  x  .  .  x  x  l  x
blind      ringing    l  x  x  x  .  .  x  x  l  x
blind      answered   .  .  .  .  .  .  .  .  .  .
attended   requested  x  x  x  x  x  x  x  x  x  x
attended   ringing    l  x  x  x  x  x  x  x  x  x
attended   answered   l  l  .  l  x  x  x  x  x  x
conference requested  x  x  x  x  x  x  x  x  x  x
conference ringing    l  x  x  x  x  x  x  x  x  x
conference answered   l  l  .  l  x  x  x  x  x  x
*          ended      l  l  l  l  .  .  l  l  l  l
"""
NAMES = {
    "TR": "TargetRinging",
    "TA": "TargetAnswered",
    "TF": "TargetFailed",
    "RT": "RingTimeout",
    "CO": "CompleteRequested",
    "CA": "CancelRequested",
    "CH": "CallerHungUp",
    "TH": "TargetHungUp",
    "OL": "OperatorLeft",
    "RC": "Reconciled",
}


def _grid() -> dict[tuple[M, S, str], str]:
    lines = [line.split() for line in GRID.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert tuple(header) == SHORT
    out: dict[tuple[M, S, str], str] = {}
    for mode_word, state_word, *marks in rows:
        modes = list(M) if mode_word == "*" else [M(mode_word)]
        states = sorted(TERMINAL) if state_word == "ended" else [S(state_word)]
        for mode, state in itertools.product(modes, states):
            for short, mark in zip(header, marks, strict=True):
                out[mode, state, short] = mark
    return out


EXPECTED = _grid()
PAIRS = sorted(EXPECTED, key=lambda key: (key[0], list(S).index(key[1]), SHORT.index(key[2])))


def test_the_grid_covers_every_mode_state_and_event() -> None:
    assert len(EXPECTED) == len(M) * len(S) * len(EVENT_TYPES)
    assert [kind.__name__ for kind in EVENT_TYPES] == [NAMES[s] for s in SHORT]


def test_the_table_is_the_grid() -> None:
    in_table = {
        (mode, state, kind.__name__) for (mode, state), row in rules.RULES.items() for kind in row
    }
    in_grid = {(m, s, NAMES[short]) for (m, s, short), mark in EXPECTED.items() if mark == "x"}
    assert in_table == in_grid


def test_late_and_taken_never_overlap() -> None:
    for (mode, state), late in rules.LATE.items():
        assert not late & set(rules.RULES.get((mode, state), {})), (mode, state)


@pytest.mark.parametrize(("mode", "state", "short"), PAIRS, ids=lambda v: str(v))
def test_each_pair_is_taken_late_or_refused_as_the_grid_says(mode: M, state: S, short: str) -> None:
    transfer = reach(mode, state)
    before = transfer.timeline
    event = sample(short, 30)
    mark = EXPECTED[mode, state, short]
    assert transfer.is_late(event) is (mark == "l")
    if mark == "x":
        transfer.handle(event)
        assert len(transfer.timeline) > len(before)
        assert transfer.timeline[: len(before)] == before
        return
    allowed = tuple(NAMES[s] for s in SHORT if EXPECTED[mode, state, s] == "x")
    with pytest.raises(IllegalTransition) as refused:
        transfer.handle(event)
    err = refused.value
    assert (err.state, err.event, err.allowed) == (state, NAMES[short], allowed)
    assert transfer.allowed() == allowed
    assert NAMES[short] in str(err) and state in str(err)
    assert all(name in str(err) for name in allowed)
    assert transfer.timeline == before and (transfer.mode, transfer.state) == (mode, state)
