"""The loop the server's own calls run in — linkage notices and follow-ups
alike: what the cases and the AMI say is put in an inbox (`on_case`,
`observe`, which never wait) and handled in the service's one task, in
order; after each item, and whenever a line frees or a time comes, what is
due is dialled. A subclass says what its calls' events are and how it
handles them and dials.

The loop never spins: while the AMI link is down, or a moment after the
database or Asterisk refused (`_later`), it waits to be woken; a call due
now that finds every line busy waits for the hang-up that frees one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from ami_client import AmiClient, AmiError, LinkDown, LinkState, LinkUp
from ami_client.message import AmiMessage
from notify.service.call_lines import CallLines

log = logging.getLogger(__name__)

RETRY_S = 5.0  # the database or Asterisk refused: tried again after
ACTION_TIMEOUT_S = 5.0


class Reconnected:
    """The AMI link came (back) up: look for the calls that were under way."""


class CallLoop:
    NAME = "calls"  # for the log
    CASE_EVENTS: tuple[str, ...] = ("case.moved",)

    def __init__(self, lines: CallLines) -> None:
        self.client: AmiClient | None = None
        self._inbox: deque[Any] = deque()
        self._wake = asyncio.Event()
        self._quiet_until = datetime.min.replace(tzinfo=UTC)
        self.lines = lines
        self.lines.listeners.append(self._wake.set)

    # ------------------------------------------------ what a subclass says

    def _outcome_of(self, msg: AmiMessage) -> object | None:
        raise NotImplementedError

    def _needs_cause(self, msg: AmiMessage) -> bool:
        raise NotImplementedError

    def _failed_call(self, channel_id: str, cause: str | None) -> object | None:
        raise NotImplementedError

    def _times_ahead(self) -> list[datetime]:
        """When the calls not yet due fall due."""
        raise NotImplementedError

    async def _handle(self, item: Any) -> None:
        raise NotImplementedError

    async def _dial_due(self) -> None:
        raise NotImplementedError

    # --------------------------------------------------- told, never waiting

    def on_case(self, message: dict[str, Any]) -> None:
        """A case announcement (CaseService.listeners)."""
        if message.get("type") in self.CASE_EVENTS:
            self._put(message)

    def observe(self, item: AmiMessage | LinkUp | LinkDown) -> None:
        if isinstance(item, LinkUp):
            self._put(Reconnected())
        elif isinstance(item, AmiMessage):
            uid = item.get("Uniqueid") or ""
            if self._needs_cause(item):
                # Its channel's Hangup comes next and says why.
                self.lines.await_cause(uid, lambda cause: self._failed(uid, cause))
            elif (outcome := self._outcome_of(item)) is not None:
                self._put(outcome)

    def _failed(self, channel_id: str, cause: str | None) -> None:
        outcome = self._failed_call(channel_id, cause)
        if outcome is not None:
            self._put(outcome)

    def _put(self, item: object) -> None:
        self._inbox.append(item)
        self._wake.set()

    # ------------------------------------------------------ the service's task

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._until_next_due())
            self._wake.clear()
            while self._inbox:
                try:
                    await self._handle(self._inbox[0])
                except Exception:
                    log.exception("%s: %r failed; trying again shortly", self.NAME, self._inbox[0])
                    self._later()
                    break
                self._inbox.popleft()
                # After each item, not after the whole inbox: in a burst of
                # dispatches the first is dialled while the rest are made.
                await self._dial_due()
            else:
                await self._dial_due()

    async def _hang_up(self, channel_id: str) -> None:
        """A call of ours the case no longer needs, ringing or answered. Its
        line is freed when its end comes, as for any call."""
        if self.client is None or not self._linked():
            return  # the link is down: a ringing call stops at its ring timeout
        action = {"Action": "Hangup", "Channel": channel_id, "Cause": "16"}
        try:  # Asterisk finds a channel by its uniqueid as by its name
            await self.client.send_action(action, timeout=ACTION_TIMEOUT_S)
        except AmiError as exc:  # over already: nothing to hang up
            log.info("%s: %s already over (%s)", self.NAME, channel_id, exc)

    def _linked(self) -> bool:
        return self.client is not None and self.client.state is LinkState.CONNECTED

    def _until_next_due(self) -> float | None:
        """Seconds to the next call not due yet (those due now were dialled
        at the end of the last pass, or wait for a line: its hang-up wakes
        the loop; a timer of 0 s here would spin the loop the ingest shares)."""
        now = datetime.now(UTC)
        if not self._linked() or now < self._quiet_until:
            return None
        later = [t for t in self._times_ahead() if t > now]
        return (min(later) - now).total_seconds() if later else None

    def _later(self) -> None:
        self._quiet_until = datetime.now(UTC) + timedelta(seconds=RETRY_S)
        asyncio.get_running_loop().call_later(RETRY_S, self._wake.set)
