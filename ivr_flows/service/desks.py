"""The desks at run time: the queues' AMI events applied to the waiting-caller
book and the operator board, their changes saved and told on the live feed,
the wrap-ups timed, and Asterisk's members and callers read back after every
(re)connect (`QueueStatus`).

`observe` is told every AMI event and link change by the ingest, in order,
after the call model; it never waits. What needs the AMI (the wrap-up pauses,
the reconciliation) runs in `run`, the service's one task.

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

from ami_client import AmiClient, AmiError, AmiNotConnected, LinkDown, LinkUp
from ami_client.message import AmiMessage
from common.live_feed import LiveFeed
from ivr_flows.core import desk_events as de
from ivr_flows.core.desk_rules import DeskRules
from ivr_flows.core.menu_walks import MenuWalks
from ivr_flows.core.operators import (
    WRAP_UP_REASON,
    Command,
    EndWrapUp,
    Operator,
    OperatorBoard,
    StartWrapUp,
)
from ivr_flows.core.waits import Wait, WaitBook
from ivr_flows.shapes import operator_json, step_json, wait_json
from ivr_flows.storage.store import DeskStore
from records.core.menu_notes import MenuNote
from telephony.core import events as ev

log = logging.getLogger(__name__)

ACTION_TIMEOUT_S = 5.0
RECONCILE_RETRY_S = 2.0


class DeskService:
    def __init__(
        self,
        rules: DeskRules,
        store: DeskStore,
        live: LiveFeed,
        walks: MenuWalks | None = None,
    ) -> None:
        self.rules = rules
        self.store = store
        self.live = live
        self.walks = walks if walks is not None else MenuWalks(())
        self.case_listeners: list[Callable[[MenuNote], None]] = []
        self.client: AmiClient | None = None
        self.board = OperatorBoard(
            {d: r.phones for d, r in rules.desks.items()},
            {d: r.wrap_up_s for d, r in rules.desks.items()},
        )
        self.book = WaitBook()
        self.reconciled_at: datetime | None = None
        self._commands: deque[Command] = deque()
        self._reconcile = False
        self._wake = asyncio.Event()

    # ----------------------------------------------------- told by the ingest

    def observe(self, item: AmiMessage | LinkUp | LinkDown) -> None:
        if isinstance(item, LinkUp):
            self._reconcile = True
            self._wake.set()
            return
        if not isinstance(item, AmiMessage):
            return
        if item.event == "Hangup" and (uid := item.get("Uniqueid")):
            self.book.forget(uid)
            return
        event = de.desk_event(item, datetime.now(UTC))
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
        elif isinstance(event, de.DeskOverflowed):
            log.warning("desk %s: a waiting caller overflows to %s", event.desk, event.to)
            self._alert(event.desk, "overflow", event.at, event.uniqueid, to=event.to)

    def _menu_step(self, step: de.MenuStep) -> None:
        fresh, notes = self.walks.step(step)
        if not fresh:
            return  # the same event again: on the record once
        self.store.step_taken(step)
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

    def _until_next_expiry(self) -> float | None:
        due = self.board.next_expiry()
        if due is None:
            return None
        return max(0.0, (due - datetime.now(UTC)).total_seconds())

    def _retry_later(self) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(RECONCILE_RETRY_S, self._wake.set)

    async def reconcile(self) -> bool:
        """Asterisk's members and waiting callers, as they are now, replace
        what the board and the book believed (events were missed while the
        link was down, or the server restarted)."""
        if self.client is None:
            return False
        try:
            items = await self.client.send_list_action(
                {"Action": "QueueStatus"}, timeout=ACTION_TIMEOUT_S
            )
        except AmiError as exc:
            log.error("desks: QueueStatus failed, will retry: %s", exc)
            return False
        now = datetime.now(UTC)
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
            joined = self._entry_as_join(item, uid, now)
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

    @staticmethod
    def _entry_as_join(item: AmiMessage, uid: str, now: datetime) -> de.CallerJoined | None:
        desk = de.desk_of_queue(item.get("Queue"))
        if desk is None:
            return None
        try:
            waited = int(item.get("Wait") or "0")
            position = int(item.get("Position") or "0")
        except ValueError:
            waited, position = 0, 0
        return de.CallerJoined(
            now - timedelta(seconds=waited),
            uid,
            item.get("Linkedid") or uid,
            desk,
            position,
            item.get("CallerIDNum"),
        )

    async def _carry_out(self, command: Command) -> None:
        if self.client is None:
            return
        action: dict[str, str] = {
            "Action": "QueuePause",
            "Interface": f"{de.MEMBER_PREFIX}{command.phone}",
            "Queue": f"{de.QUEUE_PREFIX}{command.desk}",
        }
        if isinstance(command, StartWrapUp):
            action |= {"Paused": "true", "Reason": WRAP_UP_REASON}
        elif isinstance(command, EndWrapUp):
            action |= {"Paused": "false"}
        try:
            await self.client.send_action(action, timeout=ACTION_TIMEOUT_S)
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
        interface = f"{de.MEMBER_PREFIX}{phone}"
        queue = f"{de.QUEUE_PREFIX}{desk}"
        action: dict[str, str]
        if what == "login":
            action = {
                "Action": "QueueAdd",
                "Queue": queue,
                "Interface": interface,
                "MemberName": phone,
                "StateInterface": interface,
                "Penalty": "0",
            }
        elif what == "logout":
            action = {"Action": "QueueRemove", "Queue": queue, "Interface": interface}
        elif what == "pause":
            action = {
                "Action": "QueuePause",
                "Queue": queue,
                "Interface": interface,
                "Paused": "true",
                "Reason": reason,
            }
        else:
            action = {"Action": "QueuePause", "Queue": queue, "Interface": interface}
            action["Paused"] = "false"
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
