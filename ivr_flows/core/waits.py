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
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ivr_flows.core import desk_events as de


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
            return self._end(event.uniqueid, outcome=WaitOutcome.LEFT, at=event.at)
        if isinstance(event, de.OperatorCompleted):
            return self._completed(event)
        return []

    def forget(self, uniqueid: str) -> None:
        """The caller's channel is gone: nothing more will come for it."""
        self._entering.pop(uniqueid, None)
        self._left.pop(uniqueid, None)
        self._count.pop(uniqueid, None)

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
        n = self._count.get(event.uniqueid, 0) + 1
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
    ) -> list[Wait]:
        wait = self._open.pop(uniqueid, None)
        if wait is None:
            # app_queue says the caller left the line before it says why (an
            # operator took them, they hung up): the reason upgrades the wait
            # that just ended "left".
            last = self._left.get(uniqueid)
            if last is None or last.outcome is not WaitOutcome.LEFT:
                return []
            if outcome is WaitOutcome.ANSWERED:
                wait = replace(last, outcome=outcome, answered_at=at, operator=operator)
            elif outcome is WaitOutcome.ABANDONED:
                wait = replace(last, outcome=outcome)
            else:
                return []
            self._left[uniqueid] = wait
            return [wait]
        if outcome is WaitOutcome.ANSWERED:
            wait = replace(wait, outcome=outcome, answered_at=at, left_at=at, operator=operator)
        else:
            wait = replace(wait, outcome=outcome, left_at=at)
        self._left[uniqueid] = wait
        return [wait]

    def _went_on(self, uniqueid: str) -> list[Wait]:
        last = self._left.get(uniqueid)
        if last is None or last.outcome is not WaitOutcome.ABANDONED:
            return []
        left = replace(last, outcome=WaitOutcome.LEFT)
        self._left[uniqueid] = left
        return [left]

    def _completed(self, event: de.OperatorCompleted) -> list[Wait]:
        last = self._left.get(event.uniqueid)
        if last is None or last.outcome is not WaitOutcome.ANSWERED:
            return []
        done = replace(last, talk_s=event.talk_s, ended_by=event.ended_by)
        self._left[event.uniqueid] = done
        return [done]
