"""The desks at run time: the queues' AMI events applied to the waiting-caller
book and the operator board, their changes saved and told on the live feed,
the wrap-ups timed, and Asterisk's members and callers read back after every
(re)connect (`QueueStatus`).

`observe` is told every AMI event and link change by the ingest, in order,
after the call model; it never waits. What needs the AMI (the wrap-up pauses,
the reconciliation) runs in `run`, the service's one task.

QueueStatus says how the lines and the members are now, not what happened
while the link (or the server) was down: that is read from Asterisk's
queue_log (`LIANDONG_QUEUE_LOG`), from the last event seen, before each
QueueStatus reconciliation (`queue_log_replay`).

The voice menus' steps are also read as each caller's walk (`MenuWalks`):
what is worth a line on the call's case goes to `case_listeners` (the case
records' call linker). `on_call_events` is told the call model's events
before the case linker is, so a caller who hangs up in the menu has that
line on the case before the case is cancelled as unanswered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ami_client import AmiClient, AmiError, AmiNotConnected, LinkDown, LinkUp
from ami_client.message import AmiMessage
from common.live_feed import LiveFeed
from ivr_flows.core import desk_events as de
from ivr_flows.core.desk_actions import member_action, withdraw_action, wrap_up_action
from ivr_flows.core.desk_rules import DeskRules
from ivr_flows.core.menu_walks import MenuWalks
from ivr_flows.core.operators import Command, Operator, OperatorBoard
from ivr_flows.core.queue_log_replay import Replayed
from ivr_flows.core.staffing import StaffingWatch
from ivr_flows.core.waits import Wait, WaitBook
from ivr_flows.service.queue_log_catch_up import catch_up
from ivr_flows.service.queue_log_file import QueueLogFile
from ivr_flows.shapes import operator_json, step_json, wait_json
from ivr_flows.storage.repository import DeskRepository
from ivr_flows.storage.store import DeskStore
from records.core.menu_notes import MenuNote
from telephony.core import events as ev

log = logging.getLogger(__name__)

ACTION_TIMEOUT_S = 5.0
RECONCILE_RETRY_S = 2.0
# A restarted server knows the waits that began this long before its last record.
RESTORE_WINDOW = timedelta(hours=1)


class DeskService:
    def __init__(
        self,
        rules: DeskRules,
        store: DeskStore,
        live: LiveFeed,
        walks: MenuWalks | None = None,
        *,
        queue_log: Path | None = None,
        call_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self.rules = rules
        self.store = store
        self.live = live
        self.walks = walks if walks is not None else MenuWalks(())
        self.case_listeners: list[Callable[[MenuNote], None]] = []
        self.client: AmiClient | None = None
        self.queue_log = QueueLogFile(queue_log) if queue_log is not None else None
        # A caller's uniqueid → its call's id, from the live calls.
        self.call_of = call_of or (lambda uid: None)
        # The last AMI event seen (or, after a restart, the last record).
        self.seen_until: datetime | None = None
        self._replay_from: datetime | None = None
        self._replay_due = False
        # Queue member names (QueueStatus's Name) → their phones.
        self.member_phones: dict[str, str] = {}
        self.board = OperatorBoard(
            {d: r.phones for d, r in rules.desks.items()},
            {d: r.wrap_up_s for d, r in rules.desks.items()},
        )
        self.book = WaitBook()
        self.reconciled_at: datetime | None = None
        # "Now" for the supervision figures (their default month, a state
        # still running); tests set it.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._commands: deque[Command] = deque()
        self._reconcile = False
        self._wake = asyncio.Event()
        self.staffing = StaffingWatch(
            {d: r.overflow.after_s for d, r in rules.desks.items() if r.overflow is not None}
        )
        self._channels: dict[str, str] = {}  # a waiting caller's uniqueid → channel name

    # ----------------------------------------------------- told by the ingest

    def observe(self, item: AmiMessage | LinkUp | LinkDown) -> None:
        if isinstance(item, LinkUp):
            if not self._replay_due:  # not again for a link that flapped
                self._replay_from = self.seen_until
                self._replay_due = True
            self._reconcile = True
            self._wake.set()
            return
        if not isinstance(item, AmiMessage):
            return
        now = datetime.now(UTC)
        self.seen_until = now
        if item.event == "Hangup" and (uid := item.get("Uniqueid")):
            self.book.forget(uid)
            self._channels.pop(uid, None)
            return
        if item.event in ("QueueCallerJoin", "QueueEntry") and (uid := item.get("Uniqueid")):
            self._channels[uid] = item.get("Channel") or ""
        if item.event == "QueueMemberAdded":
            self._learn_member(item)
        event = de.desk_event(item, now)
        if event is not None:
            self.apply(event)

    def on_call_events(self, events: list[ev.DomainEvent]) -> None:
        """A caller's channel gone (hung up, or found gone by reconciliation)
        ends their walk through a menu."""
        for event in events:
            if isinstance(event, ev.LegEnded):
                self._tell_cases(self.walks.ended(event.uniqueid, event.at))

    def apply(self, event: de.DeskEvent) -> None:
        if isinstance(event, de.MenuStep):
            self._menu_step(event)
            return
        for wait in self.book.handle(event):
            self._wait_changed(wait)
        changed, commands = self.board.handle(event)
        self._operators_changed(changed)
        self._queue_commands(commands)
        if isinstance(event, de.DeskUnstaffed):
            log.warning("desk %s: a caller is waiting and no operator is logged in", event.desk)
            self._alert(event.desk, "unstaffed", event.at, event.uniqueid)
            self.staffing.timed_by_dialplan(event.desk, event.uniqueid)
        elif isinstance(event, de.DeskOverflowed):
            log.warning("desk %s: a waiting caller overflows to %s", event.desk, event.to)
            self._alert(event.desk, "overflow", event.at, event.uniqueid, to=event.to)
        self._watch_staffing(event.at)

    def _watch_staffing(self, at: datetime) -> None:
        for desk in self.rules.desks:
            line = self.book.waiting(desk)
            logged_in = self.board.logged_in(desk)
            if self.staffing.seen(desk, logged_in=logged_in, waiting=len(line), now=at):
                log.warning(
                    "desk %s: the last operator left while %d callers wait", desk, len(line)
                )
                self._alert(desk, "unstaffed", at, line[0].uniqueid)
        self._wake.set()

    def _menu_step(self, step: de.MenuStep) -> None:
        fresh, notes = self.walks.step(step)
        if not fresh:
            return  # the same event again: on the record once
        self.store.step_taken(step)
        if step.mark == "callback":
            for wait in self.book.booked_callback(step.uniqueid):
                self._wait_changed(wait)
        if self.live.subscriber_count:
            self.live.publish({"type": "menu.step", "data": step_json(step)})
        self._tell_cases(notes)

    def _tell_cases(self, notes: list[MenuNote]) -> None:
        for note in notes:
            for listener in self.case_listeners:
                listener(note)

    # ----------------------------------------------------- the service's task

    async def run(self) -> None:
        """Reconcile after each (re)connect, lift wrap-ups when due, carry out
        the board's commands; forever (until cancelled)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._until_next_expiry())
            self._wake.clear()
            if self._reconcile and not await self.reconcile():
                self._retry_later()
            self._queue_commands(self.board.expired(datetime.now(UTC)))
            while self._commands:
                await self._carry_out(self._commands.popleft())
            await self._overflow_unstaffed()

    def _until_next_expiry(self) -> float | None:
        now = datetime.now(UTC)
        times = [t for t in (self.board.next_expiry(), self.staffing.next_due(now)) if t]
        if not times:
            return None
        return max(0.0, (min(times) - now).total_seconds())

    async def _overflow_unstaffed(self) -> None:
        """Callers left waiting at a desk nobody staffs any more go to its
        backup post (the dialplan's overflow, after QueueWithdrawCaller)."""
        waiting = {d: [w.uniqueid for w in self.book.waiting(d)] for d in self.rules.desks}
        for desk, uids in self.staffing.due(waiting, datetime.now(UTC)).items():
            for uid in uids:
                channel = self._channels.get(uid)
                if self.client is None or not channel:
                    continue  # tried again on the next event
                try:
                    await self.client.send_action(
                        withdraw_action(desk, channel), timeout=ACTION_TIMEOUT_S
                    )
                except AmiError as exc:
                    log.error("desk %s: could not send a caller to the backup post: %s", desk, exc)
                else:
                    self.staffing.withdrawn(desk, uid)

    def _retry_later(self) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(RECONCILE_RETRY_S, self._wake.set)

    async def restore(self) -> None:
        """At start-up: the waits the records have open or recent (a caller
        in line across a restart waits on; one gone is closed by the first
        reconciliation), and the time of the last record, from which the
        queue_log is read."""
        if self.queue_log is None:
            log.info(
                "desks: no queue_log (LIANDONG_QUEUE_LOG unset): waits that begin and end "
                "while the AMI link or the server is down are not recorded"
            )
        try:
            async with self.store.sessions() as session:
                repo = DeskRepository(session)
                last = await repo.last_record_at()
                waits = await repo.recent_waits(last - RESTORE_WINDOW) if last else []
        except Exception as exc:  # the database is down: start without them
            log.error("desks: cannot read the earlier waits (%s): starting without them", exc)
            return
        self.book.adopt(waits)
        self.seen_until = last

    async def reconcile(self) -> bool:
        """Asterisk's members and waiting callers, as they are now, replace
        what the board and the book believed (events were missed while the
        link was down, or the server restarted); before that, the queue_log
        tells what happened meanwhile."""
        if self.client is None:
            return False
        if self._replay_due:
            self._replay_due = False
            await self.replay_queue_log(self._replay_from)
        try:
            items = await self.client.send_list_action(
                {"Action": "QueueStatus"}, timeout=ACTION_TIMEOUT_S
            )
        except AmiError as exc:
            log.error("desks: QueueStatus failed, will retry: %s", exc)
            return False
        now = datetime.now(UTC)
        for item in items:
            if item.event == "QueueMember":
                self._learn_member(item)
        members = [
            m
            for item in items
            if item.event == "QueueMember" and (m := de.member_changed(item, now)) is not None
        ]
        changed, commands = self.board.snapshot(members, now)
        self._operators_changed(changed)
        self._queue_commands(commands)
        listed = set()
        for item in items:
            if item.event != "QueueEntry" or not (uid := item.get("Uniqueid")):
                continue
            listed.add(uid)
            joined = de.entry_as_join(item, now)
            if joined is not None:
                for wait in self.book.resume(joined):
                    self._wait_changed(wait)
        for wait in self.book.settle(listed, now):
            self._wait_changed(wait)
        self._reconcile = False
        self.reconciled_at = now
        log.info(
            "desks reconciled: %d members logged in, %d callers waiting",
            len(members),
            len(listed),
        )
        return True

    async def replay_queue_log(self, since: datetime | None) -> Replayed | None:
        """What the queue_log says happened from `since` (the last event
        seen) on: into the book, the board, the records and the feed."""
        if self.queue_log is None:
            return None
        if since is None:
            log.info(
                "desks: nothing recorded yet: queue_log %s is read from the next outage",
                self.queue_log.path,
            )
            return None
        done = await catch_up(
            self.queue_log,
            since,
            book=self.book,
            board=self.board,
            member_phones=self.member_phones,
            call_of=self.call_of,
            sessions=self.store.sessions,
        )
        if done is not None:
            for wait in done.waits:
                self._wait_changed(wait)
            self._operators_changed(done.operators)
        return done

    def _learn_member(self, item: AmiMessage) -> None:
        name = item.get("Name") or item.get("MemberName")
        phone = de.phone_of(item.get("Location") or item.get("Interface"))
        if name and phone:
            self.member_phones[name] = phone

    async def _carry_out(self, command: Command) -> None:
        if self.client is None:
            return
        try:
            await self.client.send_action(wrap_up_action(command), timeout=ACTION_TIMEOUT_S)
        except AmiError as exc:
            # The next reconcile finds the wrap-up and ends it when due.
            log.error("desks: %s for %s failed: %s", type(command).__name__, command.phone, exc)

    # ----------------------------------------------------- the operators' API

    async def set_member(self, phone: str, what: str, reason: str = "") -> None:
        """log in, log out, pause (with a reason) or ready a desk phone, as its
        keys would; AmiError if Asterisk refused or is out of reach."""
        desk = self.rules.desk_of(phone)
        if desk is None:
            raise LookupError(phone)
        if self.client is None:
            raise AmiNotConnected("the server runs without Asterisk (no AMI link)")
        action = member_action(desk, phone, what, reason)
        await self.client.send_action(action, timeout=ACTION_TIMEOUT_S)

    # ----------------------------------------------------- records and feed

    def _wait_changed(self, wait: Wait) -> None:
        self.store.wait_changed(wait)
        if self.live.subscriber_count:
            self.live.publish({"type": "queue.wait", "data": wait_json(wait, datetime.now(UTC))})

    def _operators_changed(self, changed: list[Operator]) -> None:
        for op in changed:
            self.store.state_changed(op)
            if self.live.subscriber_count:
                self.live.publish({"type": "operator.state", "data": operator_json(op)})

    def _queue_commands(self, commands: list[Command]) -> None:
        if commands:
            self._commands.extend(commands)
            self._wake.set()

    def _alert(
        self, desk: str, kind: str, at: datetime, uniqueid: str, *, to: str | None = None
    ) -> None:
        data: dict[str, object] = {
            "desk": desk,
            "alert": kind,
            "at": at.isoformat(),
            "waiting": len(self.book.waiting(desk)),
            "logged_in": self.board.logged_in(desk),
        }
        if to is not None:
            data["to"] = to
        self.live.publish({"type": "desk.alert", "data": data})
