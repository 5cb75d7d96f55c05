"""Bookkeeping for actions awaiting their reply on one link (no I/O).

A plain action completes on its `Response`. A list action (CoreShowChannels,
BridgeList, ...) completes on the event carrying `EventList: Complete`; the item
events in between are collected. Completion is decided by protocol headers
(`Response`, `EventList`), never by guessing from `Message` text.

Item events of a list nobody waits for any more (timed out, or sent as a plain
action) are swallowed up to their `EventList: Complete`, decided synchronously
as each message is handled, so none of them leaks into the event sink.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from ami_client.errors import AmiActionFailed
from ami_client.message import AmiMessage

__all__ = ["ActionResult", "Delivery", "PendingAction", "PendingActions"]

log = logging.getLogger(__name__)

# (the Response, the collected list items; empty for plain actions)
ActionResult = tuple[AmiMessage, list[AmiMessage]]

_FAILED = frozenset({"error", "fail", "failure"})
# Lists being swallowed at once; more would mean Asterisk never completes them.
_DRAINING_KEEP = 1024


def _header(message: AmiMessage, name: str) -> str:
    return (message.get(name) or "").lower()


class Delivery(Enum):
    TAKEN = "taken"  # it answered an action that is waiting
    LATE = "late"  # it answers one of ours that no longer waits: drop it
    UNCLAIMED = "unclaimed"  # not an answer (an event for the sink, say)


@dataclass(eq=False)
class PendingAction:
    action_id: str
    name: str
    collect_list: bool
    future: asyncio.Future[ActionResult]
    # Runs synchronously on success, before the next message is handled
    # (Login uses it so LinkUp precedes the first event).
    on_success: Callable[[AmiMessage], None] | None = None
    response: AmiMessage | None = None
    items: list[AmiMessage] = field(default_factory=list)
    # A plain action answered with `EventList: start`: its items are unwanted.
    unwanted_list: bool = False

    @property
    def done(self) -> bool:
        return self.future.done()

    @property
    def answered(self) -> bool:
        """Completed by Asterisk's reply (not merely given up on by its waiter)."""
        return self.future.done() and not self.future.cancelled()

    def fail(self, error: Exception) -> None:
        if not self.future.done():
            self.future.set_exception(error)

    def take(self, message: AmiMessage) -> bool:
        """Offer a message carrying this ActionID. True if it belongs here."""
        if message.event is None:  # a Response (OriginateResponse events carry one too)
            if self.response is None:
                self.response = message
                starts_list = _header(message, "EventList") == "start"
                if _header(message, "Response") in _FAILED:
                    self.fail(AmiActionFailed(self.name, message))
                elif not self.collect_list or not starts_list:
                    self.unwanted_list = starts_list and not self.collect_list
                    self._finish((message, []))
            return True
        if not self.collect_list:
            return False  # e.g. OriginateResponse after an async Originate: an event for the sink
        if _header(message, "EventList") == "complete":
            self._check_count(message)
            self._finish((self.response or message, self.items))
        else:
            self.items.append(message)
        return True

    def _finish(self, result: ActionResult) -> None:
        if not self.future.done():
            if self.on_success is not None:
                self.on_success(result[0])
            self.future.set_result(result)

    def _check_count(self, complete: AmiMessage) -> None:
        announced = complete.get("ListItems")
        if announced is not None and announced.isdigit() and int(announced) != len(self.items):
            log.warning(
                "%s: Asterisk announced %s list items but %d arrived",
                self.name,
                announced,
                len(self.items),
            )


class PendingActions:
    """The actions in flight on one link, by ActionID."""

    def __init__(self) -> None:
        self._by_id: dict[str, PendingAction] = {}
        self._draining: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_id)

    def add(
        self,
        action_id: str,
        name: str,
        *,
        collect_list: bool,
        on_success: Callable[[AmiMessage], None] | None = None,
    ) -> PendingAction:
        future: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()
        pending = PendingAction(action_id, name, collect_list, future, on_success)
        self._by_id[action_id] = pending
        return pending

    def discard(self, action_id: str) -> None:
        """The caller stopped waiting (timeout, cancellation). Late list items get dropped."""
        pending = self._by_id.pop(action_id, None)
        if pending is not None and pending.collect_list and not pending.answered:
            self._drain(action_id)

    def deliver(self, message: AmiMessage) -> Delivery:
        """Hand a message carrying one of our ActionIDs to the action it answers."""
        action_id = message.action_id
        if action_id is None:
            return Delivery.UNCLAIMED
        pending = self._by_id.get(action_id)
        if pending is not None and pending.future.cancelled():
            # Its waiter timed out but has not run its cleanup yet: same thing.
            self.discard(action_id)
            pending = None
        if pending is not None:
            if not pending.take(message):
                return Delivery.UNCLAIMED
            if pending.done:
                del self._by_id[action_id]
                if pending.unwanted_list:
                    self._drain(action_id)
            return Delivery.TAKEN
        if action_id in self._draining:
            if message.event is not None and _header(message, "EventList") == "complete":
                del self._draining[action_id]
            return Delivery.LATE
        if message.event is None:
            if _header(message, "EventList") == "start":
                self._drain(action_id)  # a list that answers a timed-out plain action
            return Delivery.LATE
        return Delivery.UNCLAIMED

    def fail_all(self, make_error: Callable[[PendingAction], Exception]) -> None:
        pending, self._by_id = list(self._by_id.values()), {}
        for action in pending:
            action.fail(make_error(action))

    def _drain(self, action_id: str) -> None:
        self._draining[action_id] = None
        while len(self._draining) > _DRAINING_KEEP:
            self._draining.popitem(last=False)
