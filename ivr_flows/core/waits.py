"""The waiting callers of each desk, and what became of every wait.

A wait starts when app_queue takes a caller in (QueueCallerJoin, with how the
caller came from the dialplan's LdQueueEnter just before) and ends answered
(AgentConnect), abandoned (the caller hung up: QueueCallerAbandon) or left
(QueueCallerLeave with neither: a transfer that moved the caller; or the
queue's time was up). app_queue reports a time that is up as an abandon too:
a caller the dialplan goes on with afterwards (an overflow, a transfer's
ring time over, back in line) had not hung up, and their wait is "left".
A caller who waits twice (back in line after an overflow) has two waits.
Every change is returned as the wait's new state for the records;
`waiting(desk)` is the live line.

The same fact may come twice (a live event and Asterisk's queue_log read
after an outage, `queue_log_replay`): a join within `SAME_JOIN_S` of a wait
the book knows for that caller is that wait, and an end or a talk time
already recorded changes nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ivr_flows.core import desk_events as de

# A join this close to a known wait's is that wait seen again (queue_log's
# times are whole seconds; QueueStatus gives the wait so far in seconds).
SAME_JOIN_S = 2.0
# `ended_by` of a wait the caller left to be called back (a stand-in then
# holds their place: `via` callback).
CALLBACK = "callback"
# Callers whose channel is gone, remembered so that a late repeat of their
# facts is known as such.
GONE_KEPT = 5000


class WaitOutcome(StrEnum):
    WAITING = "waiting"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    LEFT = "left"


@dataclass(frozen=True)
class Wait:
    wait_id: str  # "<caller's uniqueid>#<n>": the caller's n-th wait
    uniqueid: str
    call_id: str
    desk: str
    via: str
    priority: int
    position: int
    caller_number: str | None
    joined_at: datetime
    outcome: WaitOutcome = WaitOutcome.WAITING
    left_at: datetime | None = None
    answered_at: datetime | None = None
    operator: str | None = None
    talk_s: int | None = None
    # Answered: who ended the call (caller, agent, transfer). Left, when the
    # queue_log says how: timeout, key, empty, withdraw, restart.
    ended_by: str | None = None

    @property
    def waited_s(self) -> float | None:
        end = self.answered_at or self.left_at
        return None if end is None else max(0.0, (end - self.joined_at).total_seconds())

    def waited_until(self, now: datetime) -> float:
        end = self.answered_at or self.left_at or now
        return max(0.0, (end - self.joined_at).total_seconds())


@dataclass(frozen=True)
class _Entry:
    via: str
    priority: int


class WaitBook:
    def __init__(self) -> None:
        self._entering: dict[str, _Entry] = {}  # uniqueid → how it is coming
        self._open: dict[str, Wait] = {}  # uniqueid → its wait in progress
        self._left: dict[str, Wait] = {}  # uniqueid → its last ended wait (talk time comes later)
        self._count: dict[str, int] = {}  # uniqueid → waits so far
        # uniqueid → (waits so far, its last ended wait) of hung-up callers
        self._gone: OrderedDict[str, tuple[int, Wait | None]] = OrderedDict()

    def waiting(self, desk: str | None = None) -> list[Wait]:
        """The callers in line now, in the order they will be served."""
        line = [w for w in self._open.values() if desk is None or w.desk == desk]
        return sorted(line, key=lambda w: (w.desk, -w.priority, w.joined_at))

    def handle(self, event: de.DeskEvent) -> list[Wait]:
        """Apply one desk event; the waits it changed."""
        if isinstance(event, de.CallerEntered | de.DeskOverflowed | de.CallerWentOn):
            if isinstance(event, de.CallerEntered):
                self._entering[event.uniqueid] = _Entry(event.via, event.priority)
            return self._went_on(event.uniqueid)
        if isinstance(event, de.CallerJoined):
            if self.knows(event.uniqueid, event.at):
                return []
            return [self._join(event)]
        if isinstance(event, de.OperatorConnected):
            return self._end(
                event.uniqueid,
                outcome=WaitOutcome.ANSWERED,
                at=event.at,
                operator=event.phone,
            )
        if isinstance(event, de.CallerAbandoned):
            return self._end(event.uniqueid, outcome=WaitOutcome.ABANDONED, at=event.at)
        if isinstance(event, de.CallerLeft):
            return self._end(event.uniqueid, outcome=WaitOutcome.LEFT, at=event.at, how=event.how)
        if isinstance(event, de.OperatorCompleted):
            return self._completed(event)
        return []

    def forget(self, uniqueid: str) -> None:
        """The caller's channel is gone: nothing more will come for it."""
        self._entering.pop(uniqueid, None)
        last = self._left.pop(uniqueid, None)
        count = self._count.pop(uniqueid, None)
        if count is not None:
            self._gone[uniqueid] = (count, last)
            self._gone.move_to_end(uniqueid)
            while len(self._gone) > GONE_KEPT:
                self._gone.popitem(last=False)

    def knows(self, uniqueid: str, joined_at: datetime) -> bool:
        """Whether a wait of this caller that began at `joined_at` is known."""
        known = [self._open.get(uniqueid), self._left.get(uniqueid)]
        if uniqueid in self._gone:
            known.append(self._gone[uniqueid][1])
        return any(
            w is not None and abs((w.joined_at - joined_at).total_seconds()) <= SAME_JOIN_S
            for w in known
        )

    def open_wait(self, uniqueid: str) -> Wait | None:
        return self._open.get(uniqueid)

    def last_ended(self, uniqueid: str) -> Wait | None:
        """The caller's last wait that ended (also of a caller who hung up)."""
        if uniqueid in self._left:
            return self._left[uniqueid]
        return self._gone[uniqueid][1] if uniqueid in self._gone else None

    def _last_answered_by(self, phone: str) -> Wait | None:
        """The operator's latest answered wait still without its talk time: an
        operator talks to one caller at a time."""
        ended = [*self._left.values(), *(wait for _, wait in self._gone.values() if wait)]
        mine = [
            w
            for w in ended
            if w.operator == phone and w.outcome is WaitOutcome.ANSWERED and w.talk_s is None
        ]
        return max(mine, key=lambda w: w.answered_at or w.joined_at, default=None)

    def _keep(self, wait: Wait) -> None:
        """The caller's last ended wait, changed."""
        if wait.uniqueid in self._gone and wait.uniqueid not in self._left:
            count, _ = self._gone[wait.uniqueid]
            self._gone[wait.uniqueid] = (count, wait)
        else:
            self._left[wait.uniqueid] = wait

    def adopt(self, waits: Iterable[Wait]) -> None:
        """Waits from the records of an earlier run (a restart): the open ones
        are in line until Asterisk says otherwise, the ended ones are known."""
        for wait in sorted(waits, key=lambda w: w.joined_at):
            n = _number_of(wait.wait_id)
            self._count[wait.uniqueid] = max(self._count.get(wait.uniqueid, 0), n)
            if wait.outcome is WaitOutcome.WAITING:
                self._open[wait.uniqueid] = wait
            else:
                self._left[wait.uniqueid] = wait

    def booked_callback(self, uniqueid: str) -> list[Wait]:
        """The caller left the line to be called back (the menu step's mark
        `callback`): their last wait ended that way, not for another line."""
        last = self.last_ended(uniqueid)
        if last is None or last.outcome is not WaitOutcome.LEFT or last.ended_by == CALLBACK:
            return []
        booked = replace(last, ended_by=CALLBACK)
        self._keep(booked)
        return [booked]

    def resume(self, joined: de.CallerJoined) -> list[Wait]:
        """A caller Asterisk has in line that the book does not know (the
        server restarted while they waited): their wait, from when it began."""
        if joined.uniqueid in self._open:
            return []
        return [self._join(joined)]

    def settle(self, listed: set[str], at: datetime) -> list[Wait]:
        """After a link outage: callers Asterisk no longer has in line
        (QueueStatus) stopped waiting while we could not see it."""
        gone = [uid for uid in self._open if uid not in listed]
        out: list[Wait] = []
        for uid in gone:
            out += self._end(uid, outcome=WaitOutcome.LEFT, at=at)
        return out

    def _join(self, event: de.CallerJoined) -> Wait:
        entry = self._entering.pop(event.uniqueid, None) or _Entry("citizen", 0)
        before = self._gone.pop(event.uniqueid, (0, None))[0]
        n = self._count.get(event.uniqueid, before) + 1
        self._count[event.uniqueid] = n
        wait = Wait(
            wait_id=f"{event.uniqueid}#{n}",
            uniqueid=event.uniqueid,
            call_id=event.call_id,
            desk=event.desk,
            via=entry.via,
            priority=entry.priority,
            position=event.position,
            caller_number=event.caller_number,
            joined_at=event.at,
        )
        self._open[event.uniqueid] = wait
        return wait

    def _end(
        self,
        uniqueid: str,
        *,
        outcome: WaitOutcome,
        at: datetime,
        operator: str | None = None,
        how: str | None = None,
    ) -> list[Wait]:
        wait = self._open.pop(uniqueid, None)
        if wait is None:
            # app_queue says the caller left the line before it says why (an
            # operator took them, they hung up): the reason upgrades the wait
            # that just ended "left".
            last = self.last_ended(uniqueid)
            if last is None:
                return []
            if how is not None and outcome is WaitOutcome.LEFT:
                # queue_log says the caller left alive, and how: an abandon
                # was a time that was up; a "left" learns how.
                if last.outcome is WaitOutcome.ANSWERED or last.ended_by == how:
                    return []
                wait = replace(last, outcome=outcome, ended_by=how)
                self._keep(wait)
                return [wait]
            if last.outcome is not WaitOutcome.LEFT:
                return []
            if outcome is WaitOutcome.ANSWERED:
                wait = replace(last, outcome=outcome, answered_at=at, operator=operator)
            elif outcome is WaitOutcome.ABANDONED:
                wait = replace(last, outcome=outcome)
            else:
                return []
            self._keep(wait)
            return [wait]
        if outcome is WaitOutcome.ANSWERED:
            wait = replace(wait, outcome=outcome, answered_at=at, left_at=at, operator=operator)
        else:
            wait = replace(wait, outcome=outcome, left_at=at, ended_by=how)
        self._left[uniqueid] = wait
        return [wait]

    def _went_on(self, uniqueid: str) -> list[Wait]:
        last = self.last_ended(uniqueid)
        if last is None or last.outcome is not WaitOutcome.ABANDONED:
            return []
        left = replace(last, outcome=WaitOutcome.LEFT)
        self._keep(left)
        return [left]

    def _completed(self, event: de.OperatorCompleted) -> list[Wait]:
        if event.uniqueid:
            last = self.last_ended(event.uniqueid)
        else:
            last = self._last_answered_by(event.phone)
        if last is None or last.outcome is not WaitOutcome.ANSWERED:
            return []
        done = replace(last, talk_s=event.talk_s, ended_by=event.ended_by)
        if done == last:  # told again (the queue_log after the event)
            return []
        self._keep(done)
        return [done]


def _number_of(wait_id: str) -> int:
    """n of "<uniqueid>#<n>"."""
    try:
        return int(wait_id.rpartition("#")[2])
    except ValueError:
        return 1
