"""The one ordered pipeline: AMI client → queue → call model → records + live bus.

The AMI client's sink only enqueues. One consumer task applies every item in
arrival order. On each (re)connect it reconciles with Asterisk before going on:
events that arrive meanwhile wait in the queue, and the model is idempotent for
anything the snapshot already covered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from ami_client import AmiClient, AmiError, LinkDown, LinkUp
from ami_client.message import AmiMessage
from app.cel import CelReader
from app.live import LiveBus
from app.serialize import event_json
from records.writer import RecordWriter
from telephony.events import DomainEvent
from telephony.model import CallModel

log = logging.getLogger(__name__)

RECONCILE_RETRY_S = 2.0


class _ReconcileAgain:
    """Queue marker: a reconciliation failed earlier; try once more."""


QueueItem = AmiMessage | LinkUp | LinkDown | _ReconcileAgain


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


class Ingest:
    def __init__(
        self,
        model: CallModel,
        writer: RecordWriter,
        live: LiveBus,
        cel: CelReader | None = None,
    ) -> None:
        self.model = model
        self.writer = writer
        self.live = live
        self.cel = cel
        self.client: AmiClient | None = None
        self.status = AsteriskStatus()
        self._queue: asyncio.Queue[QueueItem] = asyncio.Queue()
        self._retry_task: asyncio.Task[None] | None = None

    # The AMI client calls this for every event and link change, in order.
    def sink(self, item: AmiMessage | LinkUp | LinkDown) -> None:
        self._queue.put_nowait(item)

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        """Consume forever (until cancelled)."""
        try:
            while True:
                item = await self._queue.get()
                try:
                    await self._apply(item)
                except Exception:
                    # One bad event must not stop the pipeline: log it whole and go on.
                    log.exception("could not apply %r; skipped", item)
                finally:
                    self._queue.task_done()
        finally:
            if self._retry_task is not None:
                self._retry_task.cancel()

    async def drained(self) -> None:
        """Wait until everything queued so far was applied (tests, benchmarks)."""
        await self._queue.join()

    async def _apply(self, item: QueueItem) -> None:
        now = datetime.now(UTC)
        if isinstance(item, LinkUp):
            self.status.link_up, self.status.link_since = True, item.at
            log.info("AMI link up (Asterisk %s, attempt %d)", item.version, item.attempt)
            await self.reconcile()
        elif isinstance(item, LinkDown):
            self.status.link_up, self.status.link_since = False, item.at
            self.status.last_link_error = item.reason
            log.warning("AMI link down: %s", item.reason)
        elif isinstance(item, _ReconcileAgain):
            if self.status.link_up:
                await self.reconcile()
        else:
            if item.event == "FullyBooted":
                self._note_uptime(item, now)
            self.emit(self.model.handle(item, now))

    def emit(self, events: list[DomainEvent]) -> None:
        # With nobody watching live, don't build JSON that publish() would drop.
        live = self.live.subscriber_count > 0
        for event in events:
            self.writer.submit(event)
            if live:
                self.live.publish(event_json(event))
        self.status.events_applied += len(events)

    async def reconcile(self) -> None:
        """Diff Asterisk's live channels with what we believe is live."""
        if self.client is None:
            return
        try:
            live = await self.client.send_list_action({"Action": "CoreShowChannels"})
        except AmiError as exc:
            self.status.reconcile_error = f"CoreShowChannels failed: {exc}"
            log.error("reconciliation postponed: %s", self.status.reconcile_error)
            self._retry_later()
            return
        live_ids = {m.get("Uniqueid") for m in live}
        vanished = self.model.live_uniqueids() - {u for u in live_ids if u}
        endings = await self.cel.endings(vanished) if (self.cel and vanished) else {}
        now = datetime.now(UTC)
        events = self.model.sync(live, now, endings)
        self.emit(events)
        self.status.reconciled_at, self.status.reconcile_error = now, None
        log.info(
            "reconciled with Asterisk: %d live channels, %d legs closed (%d with CEL times)",
            len(live),
            len(vanished),
            len(endings),
        )

    def _retry_later(self) -> None:
        if self._retry_task is not None and not self._retry_task.done():
            return

        async def later() -> None:
            await asyncio.sleep(RECONCILE_RETRY_S)
            self._queue.put_nowait(_ReconcileAgain())

        self._retry_task = asyncio.create_task(later(), name="reconcile-retry")

    def _note_uptime(self, msg: AmiMessage, now: datetime) -> None:
        try:
            self.status.asterisk_uptime_s = int(msg.get("Uptime") or "")
            self.status.uptime_seen_at = now
        except ValueError:
            pass
