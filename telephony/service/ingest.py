"""The one ordered pipeline: AMI client → queue → call model → records + live bus.

The AMI client's sink only enqueues. One consumer task applies every item in
arrival order. On each (re)connect it reconciles with Asterisk before going on:
events that arrive meanwhile wait in the queue, and the model is idempotent for
anything the snapshot already covered.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ami_client import AmiClient, AmiError, LinkDown, LinkUp
from ami_client.message import AmiMessage
from common.live_feed import LiveFeed
from telephony.core.events import DomainEvent
from telephony.core.model import CallModel
from telephony.service.cel import CelReader
from telephony.shapes import event_json
from telephony.storage.writer import RecordWriter

log = logging.getLogger(__name__)

RECONCILE_RETRY_S = 2.0
FAIRNESS_EVERY = 500  # events applied between two yields to the event loop


class _ReconcileAgain:
    """Queue marker: a reconciliation failed earlier; try once more."""


class _Audit:
    """Queue marker: time for the periodic audit against Asterisk's channels."""


QueueItem = AmiMessage | LinkUp | LinkDown | _ReconcileAgain | _Audit


@dataclass
class AsteriskStatus:
    link_up: bool = False
    link_since: datetime | None = None
    last_link_error: str | None = None
    asterisk_uptime_s: int | None = None
    uptime_seen_at: datetime | None = None
    reconciled_at: datetime | None = None
    reconcile_error: str | None = None
    events_applied: int = 0

    @property
    def asterisk_started(self) -> datetime | None:
        """When the Asterisk we talk to started (its uptime counted back; whole
        seconds, so never earlier than the real start)."""
        if self.asterisk_uptime_s is None or self.uptime_seen_at is None:
            return None
        return self.uptime_seen_at - timedelta(seconds=self.asterisk_uptime_s)


class Ingest:
    def __init__(
        self,
        model: CallModel,
        writer: RecordWriter,
        live: LiveFeed,
        cel: CelReader | None = None,
        *,
        audit_interval: float = 60.0,
    ) -> None:
        self.model = model
        self.writer = writer
        self.live = live
        self.cel = cel
        self.client: AmiClient | None = None
        self.status = AsteriskStatus()
        # A plain deque and two events rather than an asyncio.Queue: at thousands
        # of events a second the per-item await of a Queue is a real cost.
        self._pending: deque[QueueItem] = deque()
        self._wakeup = asyncio.Event()
        # A LinkUp the observers have not heard yet: they hear it once the model
        # is in line with Asterisk (the transfers' timers act only then).
        self._untold_up: LinkUp | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self._retry_task: asyncio.Task[None] | None = None
        # The audit: on a live link, a leg whose Hangup was lost (a garbled
        # frame) would stay open until the next reconnect. Differences seen in
        # two audits in a row are settled as a reconnect would settle them.
        self.audit_interval = audit_interval
        self._suspects: set[str] = set()
        # Since when no events were seen: the first link drop not yet reconciled.
        # Legs that vanished meanwhile were alive until then as far as anyone knows.
        self._blind_since: datetime | None = None
        # Told every AMI event and link change after the call model has applied
        # it (and after the reconciliation a LinkUp starts): the transfer service.
        self.observers: list[Callable[[AmiMessage | LinkUp | LinkDown], None]] = []
        # Told every batch of domain events the call model made (the case linker).
        self.domain_observers: list[Callable[[list[DomainEvent]], None]] = []

    # The AMI client calls this for every event and link change, in order.
    def sink(self, item: QueueItem) -> None:
        self._pending.append(item)
        self._drained.clear()
        self._wakeup.set()

    @property
    def backlog(self) -> int:
        return len(self._pending)

    async def run(self) -> None:
        """Consume forever (until cancelled)."""
        auditor = (
            asyncio.create_task(self._audit_timer(), name="ami-audit")
            if self.audit_interval > 0
            else None
        )
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                await self._apply_pending()
                self._drained.set()
        finally:
            for task in (self._retry_task, auditor):
                if task is not None:
                    task.cancel()

    async def _audit_timer(self) -> None:
        while True:
            await asyncio.sleep(self.audit_interval)
            self.sink(_Audit())

    async def drained(self) -> None:
        """Wait until everything queued so far was applied (tests, benchmarks)."""
        await self._drained.wait()

    async def _apply_pending(self) -> None:
        applied = 0
        now = datetime.now(UTC)  # only for events without a Timestamp header
        while self._pending:
            item = self._pending.popleft()
            try:
                if isinstance(item, AmiMessage):
                    self._apply_event(item, now)
                else:
                    await self._apply_link_change(item)
                    now = datetime.now(UTC)
            except Exception:
                # One bad event must not stop the pipeline: log it whole and go on.
                log.exception("could not apply %r; skipped", item)
            applied += 1
            if applied % FAIRNESS_EVERY == 0:
                # A burst must not starve the record writer and the HTTP API.
                await asyncio.sleep(0)
                now = datetime.now(UTC)

    def _apply_event(self, item: AmiMessage, now: datetime) -> None:
        if item.event == "FullyBooted":
            self._note_uptime(item, now)
        self.emit(self.model.handle(item, now))
        for observer in self.observers:
            observer(item)

    async def _apply_link_change(self, item: LinkUp | LinkDown | _ReconcileAgain | _Audit) -> None:
        if isinstance(item, LinkUp):
            self.status.link_up, self.status.link_since = True, item.at
            log.info("AMI link up (Asterisk %s, attempt %d)", item.version, item.attempt)
            self._untold_up = item
            await self._reconcile_then_tell()
        elif isinstance(item, LinkDown):
            self.status.link_up, self.status.link_since = False, item.at
            self._blind_since = self._blind_since or item.at
            self.status.last_link_error = item.reason
            log.warning("AMI link down: %s", item.reason)
            self._untold_up = None
            for observer in self.observers:
                observer(item)
        elif isinstance(item, _Audit):
            if self.status.link_up:
                await self.audit()
        elif self.status.link_up:  # _ReconcileAgain
            await self._reconcile_then_tell()

    async def _reconcile_then_tell(self) -> None:
        if await self.reconcile() and self._untold_up is not None:
            up, self._untold_up = self._untold_up, None
            for observer in self.observers:
                observer(up)

    def emit(self, events: list[DomainEvent]) -> None:
        # With nobody watching live, don't build JSON that publish() would drop.
        live = self.live.subscriber_count > 0
        if events:
            for domain_observer in self.domain_observers:
                domain_observer(events)
        for event in events:
            self.writer.submit(event)
            if live:
                self.live.publish(event_json(event))
        self.status.events_applied += len(events)

    async def reconcile(self) -> bool:
        """Diff Asterisk's live channels with what we believe is live; False if
        Asterisk did not list them (a retry is scheduled)."""
        if self.client is None:
            return False
        try:
            live = await self.client.send_list_action({"Action": "CoreShowChannels"})
        except AmiError as exc:
            self.status.reconcile_error = f"CoreShowChannels failed: {exc}"
            log.error("reconciliation postponed: %s", self.status.reconcile_error)
            self._retry_later()
            return False
        self._learn_uptime_ahead()
        closed, with_cel = await self._settle(live, None, self._blind_since)
        self.status.reconciled_at, self.status.reconcile_error = datetime.now(UTC), None
        self._suspects = set()
        self._blind_since = None
        log.info(
            "reconciled with Asterisk: %d live channels, %d legs closed (%d with CEL times)",
            len(live),
            closed,
            with_cel,
        )
        return True

    async def audit(self) -> None:
        """Act on differences with Asterisk that outlasted one audit interval."""
        if self.client is None:
            return
        try:
            live = await self.client.send_list_action({"Action": "CoreShowChannels"})
        except AmiError as exc:
            log.warning("audit skipped: CoreShowChannels failed: %s", exc)
            return
        differences = self.model.differences(live)
        settled = differences & self._suspects
        self._suspects = differences - settled
        if not settled:
            return
        closed, with_cel = await self._settle(live, settled, None)
        log.warning(
            "audit: the AMI stream missed %d ended and %d new channels; settled them "
            "(%d with CEL times)",
            closed,
            len(settled) - closed,
            with_cel,
        )

    async def _settle(
        self, live: list[AmiMessage], settled: set[str] | None, blind_since: datetime | None
    ) -> tuple[int, int]:
        """Sync the model with Asterisk's channel list, ending vanished legs as
        CEL says they ended, and answering legs as CEL says they answered.
        Returns (legs closed, of them with CEL times)."""
        listed = {uid for m in live if (uid := m.get("Uniqueid"))}
        vanished = self.model.live_uniqueids() - listed
        unseen = self.model.answers_unseen(live)
        if settled is not None:
            vanished &= settled
            unseen &= settled
        endings = await self.cel.endings(vanished) if (self.cel and vanished) else {}
        answers = await self.cel.answers(unseen) if (self.cel and unseen) else {}
        self.emit(
            self.model.sync(
                live,
                datetime.now(UTC),
                endings,
                settled=settled,
                answers=answers,
                blind_since=blind_since,
                asterisk_started=self.status.asterisk_started,
            )
        )
        return len(vanished), len(endings)

    def _retry_later(self) -> None:
        if self._retry_task is not None and not self._retry_task.done():
            return

        async def later() -> None:
            await asyncio.sleep(RECONCILE_RETRY_S)
            self.sink(_ReconcileAgain())

        self._retry_task = asyncio.create_task(later(), name="reconcile-retry")

    def _learn_uptime_ahead(self) -> None:
        """The FullyBooted of this login waits in the queue behind the LinkUp
        being handled; the reconciliation needs it now, to know whether
        Asterisk restarted (every old leg then ended by its start)."""
        for item in self._pending:
            if not isinstance(item, AmiMessage):
                return  # behind a later link change: not this login's
            if item.event == "FullyBooted":
                self._note_uptime(item, datetime.now(UTC))
                return

    def _note_uptime(self, msg: AmiMessage, now: datetime) -> None:
        try:
            self.status.asterisk_uptime_s = int(msg.get("Uptime") or "")
            self.status.uptime_seen_at = now
        except ValueError:
            pass
