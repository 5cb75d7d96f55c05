"""One transfer as a state machine: `handle(event) -> list[Command]`.

The table (`transfer.core.rules`) is consulted in one place, `handle`; every step is
recorded there, on an append-only timeline that is what the server persists and
pushes live. An event the table does not have raises `IllegalTransition` and
changes nothing.

Late events: after the end, reports from Asterisk and timers (a hangup after the
completion, a DialEnd racing our own cancel, a timer that fired anyway …) are
not transitions and `handle` refuses them like any other. The shell asks
`is_late(event)` first and drops those quietly; requests (complete, cancel)
are never late, so an operator acting on an ended transfer is told so.

A transfer made by the phone itself (SIP REFER, Asterisk's feature keys; its
request is `by=By.PHONE`) is observed only: it moves and records the same way,
but `start` and `handle` give no commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from transfer.core import commands as c
from transfer.core import rules
from transfer.core.errors import IllegalTransition
from transfer.core.events import Event, Requested
from transfer.core.states import RUNNING, TERMINAL, By, Reason, TransferMode, TransferState


@dataclass(frozen=True, slots=True)
class Step:
    """One entry of the timeline. The first has no `from_state`."""

    at: datetime
    from_state: TransferState | None
    to_state: TransferState
    event: str  # the event's type name ("Requested" for the first)
    reason: Reason
    mode: TransferMode  # the mode from this step on (a transfer can become blind)
    by: By | None = None


class Transfer:
    def __init__(
        self, request: Requested, timeline: list[Step], target_uniqueid: str | None
    ) -> None:
        if not timeline:
            raise ValueError("a transfer's timeline starts with its request")
        self.request = request
        self.call_id = request.call_id  # follows call merges (`call_merged`)
        self.target_uniqueid = target_uniqueid
        self._timeline = timeline

    @classmethod
    def start(cls, request: Requested) -> tuple[Transfer, list[c.Command]]:
        first = Step(
            request.at,
            None,
            TransferState.REQUESTED,
            "Requested",
            Reason.REQUESTED,
            request.mode,
            request.by,
        )
        transfer = cls(request, [first], None)
        dial = c.DialTarget(request.target, request.ring_timeout_s)
        opening: dict[TransferMode, list[c.Command]] = {
            # Hold first: the caller must not be left in a bridge that is about to empty.
            TransferMode.BLIND: [c.HoldCaller(), c.HangupOperatorLeg(), dial],
            TransferMode.ATTENDED: [c.HoldCaller(), dial],
            TransferMode.CONFERENCE: [c.StartConference(), dial],
        }
        return transfer, [] if transfer.observed else opening[request.mode]

    @classmethod
    def restore(
        cls, request: Requested, timeline: list[Step], target_uniqueid: str | None = None
    ) -> Transfer:
        """Rebuild from what was persisted, before reconciling (`Reconciled`)."""
        return cls(request, list(timeline), target_uniqueid)

    # ------------------------------------------------------------ reading

    @property
    def id(self) -> str:
        return self.request.transfer_id

    @property
    def timeline(self) -> tuple[Step, ...]:
        return tuple(self._timeline)

    @property
    def state(self) -> TransferState:
        return self._timeline[-1].to_state

    @property
    def mode(self) -> TransferMode:
        """The mode now; `request.mode` is the one asked for."""
        return self._timeline[-1].mode

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL

    @property
    def observed(self) -> bool:
        return self.request.by is By.PHONE

    @property
    def ring_deadline(self) -> datetime:
        """When the server's timer gives `RingTimeout` (if nothing answered before)."""
        return self.request.at + timedelta(seconds=self.request.ring_timeout_s)

    def allowed(self) -> tuple[str, ...]:
        """Names of the events the transfer takes now (empty once it has ended)."""
        return rules.allowed(self.mode, self.state)

    def is_late(self, event: Event) -> bool:
        """A duplicate or straggler the shell may drop without calling `handle`."""
        return rules.is_late(self.mode, self.state, type(event))

    # ------------------------------------------------------------ changing

    def handle(self, event: Event) -> list[c.Command]:
        handler = rules.rule(self.mode, self.state, type(event))
        if handler is None:
            raise IllegalTransition(
                self.state, event.name, self.allowed(), mode=self.mode, transfer_id=self.id
            )
        move = handler(self.mode, self.state, event)
        mode = move.mode or self.mode
        for to_state, reason in move.steps:
            # Times never go back on the timeline: a report stamped earlier than the
            # last step (Asterisk's clock vs ours) is recorded at the last step's time.
            at = max(event.at, self._timeline[-1].at)
            self._timeline.append(Step(at, self.state, to_state, event.name, reason, mode, move.by))
        if move.target_uniqueid is not None:
            self.target_uniqueid = move.target_uniqueid
        return [] if self.observed else list(move.commands)

    def call_merged(self, merged: str, into: str) -> None:
        """Asterisk rewrote the call's Linkedid (telephony's `CallMerged`)."""
        if self.call_id == merged:
            self.call_id = into

    def __repr__(self) -> str:
        return f"<Transfer {self.id} {self.mode} {self.state} call={self.call_id}>"
