"""The operators' state, owned here: logged out, idle, ringing, talking,
paused (with a reason), wrap-up.

Asterisk holds the two facts an operator sets with their keys or the API —
logged in to the desk's queue, paused with a reason — and reports the
phone's device state; the board keeps them per phone and derives the state
from them, so a restart of either side rebuilds it from `QueueStatus`. The
wrap-up after a queue call is the board's own: it asks for a pause with
`WRAP_UP_REASON` and lifts it when the desk's wrap-up time is over (an
operator may end it early with the "ready" key, or turn it into a pause of
their own). app_queue's own wrap-up tracking is not relied on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ivr_flows.core import desk_events as de

# The pause reason of the automatic wrap-up. Not "话后整理", which an
# operator picks to pause on purpose (and which nobody lifts for them).
WRAP_UP_REASON = "自动话后整理"

_RINGING = {"RINGING", "RINGINUSE"}
_IN_USE = {"INUSE", "BUSY", "ONHOLD"}


class OperatorState(StrEnum):
    LOGGED_OUT = "logged_out"
    IDLE = "idle"
    RINGING = "ringing"
    TALKING = "talking"
    PAUSED = "paused"
    WRAP_UP = "wrap_up"


@dataclass(frozen=True)
class Operator:
    phone: str
    desk: str
    state: OperatorState = OperatorState.LOGGED_OUT
    since: datetime | None = None  # when the state began (as far as we saw)
    reason: str = ""  # the pause's reason (PAUSED, WRAP_UP)
    logged_in: bool = False
    paused: bool = False
    device: str = "UNKNOWN"
    wrap_up_until: datetime | None = None
    # The wrap-up's pause was seen (until then it is only asked for).
    wrap_up_seen: bool = False


@dataclass(frozen=True)
class StartWrapUp:
    """Pause the phone with WRAP_UP_REASON (QueuePause)."""

    phone: str
    desk: str
    until: datetime


@dataclass(frozen=True)
class EndWrapUp:
    """Lift the wrap-up pause (QueuePause Paused=false)."""

    phone: str
    desk: str


Command = StartWrapUp | EndWrapUp


def derive(op: Operator) -> OperatorState:
    if not op.logged_in:
        return OperatorState.LOGGED_OUT
    if op.device in _RINGING:
        return OperatorState.RINGING
    if op.device in _IN_USE:
        return OperatorState.TALKING
    if op.paused and op.reason == WRAP_UP_REASON:
        return OperatorState.WRAP_UP
    if op.paused:
        return OperatorState.PAUSED
    return OperatorState.IDLE


@dataclass
class OperatorBoard:
    """`phones`: each desk's phones, in the order a supervisor reads them;
    `wrap_up_s`: each desk's wrap-up after a queue call (0: none)."""

    phones: dict[str, tuple[str, ...]]
    wrap_up_s: dict[str, int]
    _ops: dict[str, Operator] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for desk, phones in self.phones.items():
            for phone in phones:
                self._ops[phone] = Operator(phone, desk)

    def operators(self, desk: str | None = None) -> list[Operator]:
        return [op for op in self._ops.values() if desk is None or op.desk == desk]

    def get(self, phone: str) -> Operator | None:
        return self._ops.get(phone)

    def logged_in(self, desk: str) -> int:
        return sum(1 for op in self.operators(desk) if op.logged_in)

    def handle(self, event: de.DeskEvent) -> tuple[list[Operator], list[Command]]:
        """Apply one desk event: the operators whose state changed, and what to do."""
        if isinstance(event, de.MemberChanged):
            return self._member(event)
        if isinstance(event, de.OperatorCompleted):
            return self._completed(event)
        return [], []

    def expired(self, now: datetime) -> list[Command]:
        """Wrap-ups whose time is over (the service calls this on its timer)."""
        out: list[Command] = []
        for op in list(self._ops.values()):
            if op.wrap_up_until is None or op.wrap_up_until > now:
                continue
            if op.wrap_up_seen:
                out.append(EndWrapUp(op.phone, op.desk))
            else:  # asked for, never seen (the pause failed): nothing to lift
                self._ops[op.phone] = replace(op, wrap_up_until=None)
        return out

    def next_expiry(self) -> datetime | None:
        ends = [op.wrap_up_until for op in self._ops.values() if op.wrap_up_until is not None]
        return min(ends) if ends else None

    def snapshot(
        self, members: list[de.MemberChanged], at: datetime
    ) -> tuple[list[Operator], list[Command]]:
        """Asterisk's members as listed by QueueStatus after a (re)connect:
        every phone not listed is logged out. A wrap-up found running gets
        its end back from when the pause began (`since` of the event), or
        ends now if that is unknown or past."""
        listed = {(m.desk, m.phone) for m in members}
        changed: list[Operator] = []
        commands: list[Command] = []
        for member in members:
            more, cmds = self._member(member, resumed=True)
            changed += more
            commands += cmds
        for op in list(self._ops.values()):
            if (op.desk, op.phone) not in listed and op.logged_in:
                more, _ = self._member(
                    de.MemberChanged(at, op.desk, op.phone, False, False, "", "UNKNOWN")
                )
                changed += more
        return changed, commands

    def replay(self, event: de.MemberChanged) -> list[Operator]:
        """A change that happened while the server could not see it (read
        from Asterisk's queue_log after an outage), at its own time. A
        wrap-up found this way ends its desk's wrap-up time after it began;
        what to do about it now is decided by the `snapshot` that follows,
        so no command comes out of the past."""
        changed, _ = self._member(replace(event, paused_since=event.at), resumed=True)
        return changed

    # ------------------------------------------------------------ internals

    def _member(
        self, event: de.MemberChanged, *, resumed: bool = False
    ) -> tuple[list[Operator], list[Command]]:
        op = self._ops.get(event.phone) or Operator(event.phone, event.desk)
        wrap_up_until, seen = op.wrap_up_until, op.wrap_up_seen
        commands: list[Command] = []
        if event.paused and event.reason == WRAP_UP_REASON:
            if wrap_up_until is None:
                # A wrap-up pause we did not start in this run (a restart):
                # it ends its desk's wrap-up time after it began, or now.
                began = event.paused_since if resumed else None
                wrap = timedelta(seconds=self.wrap_up_s.get(event.desk, 0))
                wrap_up_until = began + wrap if began is not None else event.at
                if wrap_up_until <= event.at:
                    commands.append(EndWrapUp(event.phone, event.desk))
            seen = True
        elif seen or event.paused or not event.logged_in:
            # Ready again, logged out, or paused for a reason of their own.
            wrap_up_until, seen = None, False
        # else: a wrap-up asked for and not seen yet (the phone's hang-up
        # comes first): it stands.
        device = event.device if event.device != "UNKNOWN" or not event.logged_in else op.device
        new = replace(
            op,
            desk=event.desk,
            logged_in=event.logged_in,
            paused=event.paused,
            reason=event.reason,
            device=device,
            wrap_up_until=wrap_up_until,
            wrap_up_seen=seen,
        )
        return self._store(new, event.at), commands

    def _completed(self, event: de.OperatorCompleted) -> tuple[list[Operator], list[Command]]:
        op = self._ops.get(event.phone)
        wrap = self.wrap_up_s.get(event.desk, 0)
        if op is None or not op.logged_in or op.paused or wrap <= 0:
            return [], []
        until = event.at + timedelta(seconds=wrap)
        self._ops[event.phone] = replace(op, wrap_up_until=until, wrap_up_seen=False)
        return [], [StartWrapUp(event.phone, event.desk, until)]

    def _store(self, new: Operator, at: datetime) -> list[Operator]:
        state = derive(new)
        old = self._ops.get(new.phone)
        if old is not None and old.state is state and old.reason == new.reason:
            self._ops[new.phone] = replace(new, state=state, since=old.since)
            return []
        stored = replace(new, state=state, since=at)
        self._ops[new.phone] = stored
        return [stored]
