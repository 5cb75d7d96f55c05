"""Property: whatever events come, in whatever order and with whatever times, a
transfer fails only with IllegalTransition (changing nothing), its timeline only
grows, step to step, never back in time, an ended transfer stays ended, and the
caller is never left alone: a small model of the legs ("the world"), driven only
by the events and the commands the transfer gives, checks after every step that
the caller hears someone (or hold music) while the transfer runs, and at the end
is with the target (completed), back with the operator (cancelled, failed) or
gone (abandoned), with no target left ringing.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from test_transfer_kit import TARGET_LEG, at, request

from transfer.core import commands as c
from transfer.core.errors import IllegalTransition
from transfer.core.events import (
    CallerHungUp,
    CancelRequested,
    CompleteRequested,
    Event,
    OperatorLeft,
    Reconciled,
    RingTimeout,
    TargetAnswered,
    TargetFailed,
    TargetHungUp,
    TargetRinging,
)
from transfer.core.machine import Transfer
from transfer.core.states import By, FailReason, Finding, Reason
from transfer.core.states import TransferMode as M
from transfer.core.states import TransferState as S


@dataclass
class World:
    """Where the legs are, as Asterisk would have them after the shell obeyed."""

    caller: str = "operator"  # operator | hold | room | target | desk | gone
    operator: bool = True  # the transferring operator's leg is up
    operator_in_room: bool = False
    target: str = "none"  # none | ringing | up | gone
    target_in_room: bool = False

    def company(self) -> set[str]:
        """Who (or what) the caller hears."""
        heard = {
            "hold": {"music"},
            "operator": {"operator"} if self.operator else set(),
            "target": {"target"} if self.target == "up" else set(),
            "room": ({"operator"} if self.operator and self.operator_in_room else set())
            | ({"target"} if self.target == "up" and self.target_in_room else set()),
            "desk": {"desk"},  # ringing or talking to their desk again
            "gone": set(),
        }
        return heard[self.caller]

    def target_ends(self) -> None:
        self.target, self.target_in_room = "gone", False

    def operator_ends(self) -> None:
        # The shell keeps an answered target's leg up when the operator's leg ends
        # during the consultation (hanging up completes an attended transfer).
        self.operator, self.operator_in_room = False, False

    def saw(self, event: Event) -> None:
        """What an event the transfer took says happened."""
        if isinstance(event, TargetAnswered):
            self.target = "up"
        elif isinstance(event, TargetFailed | TargetHungUp):
            self.target_ends()
        elif isinstance(event, CallerHungUp):
            self.caller = "gone"
        elif isinstance(event, OperatorLeft) or (
            isinstance(event, CompleteRequested) and event.by is By.HANGUP
        ):
            self.operator_ends()
        elif isinstance(event, Reconciled):
            finding = event.finding
            if finding is Finding.CALLER_GONE:
                self.caller = "gone"
            elif finding is Finding.PBX_RESTARTED:
                self.caller, self.operator = "gone", False
                self.target_ends()
            elif finding is Finding.CALLER_AT_DESK:
                self.caller = "desk"
                self.target_ends()
            elif finding is Finding.TARGET_GONE:
                self.target_ends()
            elif finding is Finding.TARGET_RINGING:
                self.target, self.target_in_room = "ringing", False
            elif finding is Finding.TARGET_UP:
                self.target = "up"
            else:
                self.target, self.caller = "up", "target"

    def obey(self, command: c.Command) -> None:
        """Carry a command out, refusing any that could not be (a wrong order)."""
        match command:
            case c.HoldCaller():
                assert self.caller != "gone"
                self.caller = "hold"
            case c.DialTarget():
                assert self.target == "none"
                self.target = "ringing"
            case c.HangupOperatorLeg():
                assert self.operator
                self.operator_ends()
            case c.ConnectOperatorWithTarget():
                assert self.operator and self.target == "up"
            case c.BridgeCallerWithTarget():
                assert self.target == "up" and self.caller != "gone"
                self.caller = "target"
            case c.ReturnCallerToOperator():
                assert self.operator and self.caller != "gone"
                self.caller = "operator"
            case c.RecallOperator():
                assert not self.operator and self.caller != "gone"
                self.operator, self.caller = True, "operator"
            case c.HangupTargetLeg():
                assert self.target in ("ringing", "up")
                self.target_ends()
            case c.StartConference():
                assert self.operator and self.caller == "operator"
                self.caller, self.operator_in_room = "room", True
            case c.AddTargetToConference():
                assert self.target == "up" and self.operator_in_room
                self.target_in_room = True
            case c.EndConference():
                in_room = [self.caller == "room", self.operator_in_room, self.target_in_room]
                assert sum(in_room) < 2
                if self.operator_in_room:
                    self.operator_ends()
            case c.NotifyOperator():
                pass


def _event(kind: str, when: float, draw: st.DrawFn) -> Event:
    t = at(when)
    if kind == "TargetFailed":
        return TargetFailed(t, draw(st.sampled_from(FailReason)))
    if kind == "CompleteRequested":
        return CompleteRequested(t, draw(st.sampled_from([By.KEY, By.API, By.HANGUP])))
    if kind == "CancelRequested":
        return CancelRequested(t, draw(st.sampled_from([By.KEY, By.API])))
    if kind == "Reconciled":
        return Reconciled(t, draw(st.sampled_from(Finding)), TARGET_LEG)
    simple: dict[str, type[Event]] = {
        "TargetRinging": TargetRinging,
        "RingTimeout": RingTimeout,
        "CallerHungUp": CallerHungUp,
        "TargetHungUp": TargetHungUp,
        "OperatorLeft": OperatorLeft,
    }
    if kind == "TargetAnswered":
        return TargetAnswered(t, TARGET_LEG)
    return simple[kind](t)


KINDS = [
    "TargetRinging",
    "TargetAnswered",
    "TargetFailed",
    "RingTimeout",
    "CompleteRequested",
    "CancelRequested",
    "CallerHungUp",
    "TargetHungUp",
    "OperatorLeft",
    "Reconciled",
]


@st.composite
def stories(draw: st.DrawFn) -> tuple[M, list[Event]]:
    mode = draw(st.sampled_from(M))
    events, when = [], 0.0
    for kind in draw(st.lists(st.sampled_from(KINDS), max_size=12)):
        when += draw(st.floats(min_value=-3, max_value=15, allow_nan=False))  # may go back
        events.append(_event(kind, when, draw))
    return mode, events


def _check_timeline(transfer: Transfer) -> None:
    steps = transfer.timeline
    assert steps[0].from_state is None
    for previous, step in itertools.pairwise(steps):
        assert step.from_state is previous.to_state
        assert step.at >= previous.at


def _check_caller(transfer: Transfer, world: World) -> None:
    company = world.company()
    if transfer.running:
        assert company, "the caller hears nobody and no music"
        return
    assert world.target != "ringing", "a target left ringing after the end"
    if transfer.state is S.COMPLETED:
        with_operator = transfer.request.mode is M.CONFERENCE and world.caller == "room"
        assert "target" in company or (with_operator and "operator" in company)
    elif transfer.state is S.FAILED and transfer.timeline[-1].reason is Reason.PBX_RESTARTED:
        assert world.caller == "gone"  # Asterisk took the call with it
    elif transfer.state is S.FAILED and transfer.timeline[-1].reason is Reason.RETURNED_TO_DESK:
        assert world.caller == "desk"
    elif transfer.state in (S.CANCELLED, S.FAILED):
        assert "operator" in company
    else:
        assert transfer.state is S.ABANDONED and world.caller == "gone"


@settings(max_examples=1500, deadline=None)
@given(stories(), st.sampled_from([By.KEY, By.API]))
def test_random_stories_keep_every_promise(story: tuple[M, list[Event]], by: By) -> None:
    mode, events = story
    transfer, opening = Transfer.start(request(mode, by=by))
    world = World()
    for command in opening:
        world.obey(command)
        assert world.company(), f"caller alone after {command}"
    for event in events:
        before, ended = transfer.timeline, transfer.ended
        late = transfer.is_late(event)
        try:
            commands = transfer.handle(event)
        except IllegalTransition as refused:
            assert event.name not in refused.allowed
            assert transfer.timeline == before
            continue
        assert not late and not ended, "a late event or an ended transfer took a transition"
        assert transfer.timeline[: len(before)] == before and len(transfer.timeline) > len(before)
        world.saw(event)
        for command in commands:
            world.obey(command)
            # Not even for a moment between two commands: order matters on a live call.
            assert world.caller == "gone" or world.company(), f"caller alone after {command}"
        _check_timeline(transfer)
        _check_caller(transfer, world)


@settings(max_examples=300, deadline=None)
@given(stories())
def test_a_phone_made_transfer_never_gives_a_command(story: tuple[M, list[Event]]) -> None:
    mode, events = story
    transfer, opening = Transfer.start(request(mode, by=By.PHONE))
    assert opening == []
    for event in events:
        with contextlib.suppress(IllegalTransition):
            assert transfer.handle(event) == []
    _check_timeline(transfer)


def test_the_clock_is_never_read() -> None:
    """Times come only from events: a story told a year later records a year later."""
    transfer, _ = Transfer.start(request(M.BLIND))
    transfer.handle(TargetRinging(at(365 * 86400)))
    assert transfer.timeline[-1].at - transfer.timeline[0].at == timedelta(days=365)
