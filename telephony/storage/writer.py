"""The record writer: domain events in, committed rows out, never blocking the caller.

`submit()` only appends to an in-memory queue, so the AMI pipeline never waits
on the database. One owned task takes the oldest events in batches and commits
each batch in one transaction (telephony.storage.batch). Events leave the queue only
once their batch is committed: a failed batch is rolled back and retried with
capped backoff, in the same order, and nothing is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import typing
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.engine import WRITE_TRANSACTION
from telephony.core.events import CallMerged, DomainEvent
from telephony.storage.batch import write_batch

logger = logging.getLogger(__name__)

_EVENT_TYPES = typing.get_args(DomainEvent)


@dataclass(frozen=True, slots=True)
class WriterStats:
    pending: int  # submitted, not yet committed
    committed: int  # events committed since start
    retries: int  # failed batch attempts, all retried
    consecutive_failures: int  # > 0 while the database is refusing writes
    skipped: int  # committed events that named a leg/call never recorded
    last_error: str | None
    last_error_at: datetime | None


class RecordWriter:
    """Persists domain events in submission order; the only writer of calls,
    legs and bridge memberships (it reads rows, changes them, writes them back).

    Use from the event loop's thread. The queue is unbounded by design: while
    the database is down, events wait in memory (watch `stats.pending`) rather
    than being dropped or slowing the AMI pipeline.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        batch_size: int = 500,
        max_delay: float = 0.05,
        retry_initial: float = 0.2,
        retry_max: float = 5.0,
    ) -> None:
        if batch_size < 1 or max_delay < 0 or retry_initial <= 0 or retry_max < retry_initial:
            raise ValueError("need batch_size >= 1, max_delay >= 0, 0 < retry_initial <= retry_max")
        self._session_factory = session_factory
        self._batch_size = batch_size
        self._max_delay = max_delay
        self._retry_initial = retry_initial
        self._retry_max = retry_max

        self._queue: deque[DomainEvent] = deque()
        self._submitted = 0
        self._committed = 0
        self._retries = 0
        self._failures = 0
        self._skipped = 0
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        # Shrinks after a failure so that, should one event be poisonous, every
        # event before it still gets committed and the error names the culprit.
        self._limit = batch_size
        self._flush_upto = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # -- the producer side (synchronous, never blocks) ----------------------

    def submit(self, event: DomainEvent) -> None:
        """Queue one event for writing. Raises only for a malformed event."""
        if not isinstance(event, _EVENT_TYPES):
            raise TypeError(f"not a domain event: {type(event).__name__}")
        # Refused here, at the source of the bug, rather than failing its batch
        # on every retry and holding up every event behind it.
        if event.at.tzinfo is None or event.at.utcoffset() is None:
            raise ValueError(f"{type(event).__name__}.at is a naive datetime")
        self._queue.append(event)
        self._submitted += 1
        if len(self._queue) == 1 or len(self._queue) >= self._batch_size:
            self._wake.set()

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            pending=len(self._queue),
            committed=self._committed,
            retries=self._retries,
            consecutive_failures=self._failures,
            skipped=self._skipped,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
        )

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("RecordWriter already started")
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="record-writer")

    async def stop(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 (shutdown budget)
        """Write everything queued, then end the task.

        With a timeout (the database may be down for good), gives up after it,
        logs how many events were not written and leaves them in `stats.pending`.
        """
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(task)
        except TimeoutError:
            logger.error(
                "record writer stopped with %d events not written: %s",
                len(self._queue),
                self._last_error or "database too slow",
            )
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._task = None

    async def flush(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 (agreed API)
        """Return once every event submitted before this call is committed."""
        target = self._submitted
        if self._committed >= target:
            return
        if self._task is None or self._task.done():
            raise RuntimeError("RecordWriter is not running: call start() first")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        self._flush_upto = max(self._flush_upto, target)
        self._wake.set()
        try:
            async with asyncio.timeout(timeout):
                await waiter
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove((target, waiter))

    # -- the consumer task ----------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                if not self._queue:
                    if self._stopping:
                        return
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                if not self._urgent():
                    # Let a batch build up; a full queue, flush() or stop() cuts it short.
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._max_delay):
                            await self._wake.wait()
                await self._write_next_batch()
        except Exception:
            logger.exception("record writer crashed")
            raise
        finally:
            for _, waiter in self._waiters:
                if not waiter.done():
                    waiter.set_exception(RuntimeError("RecordWriter stopped before flushing"))

    def _urgent(self) -> bool:
        return (
            self._stopping
            or len(self._queue) >= self._batch_size
            or self._committed < self._flush_upto
        )

    async def _write_next_batch(self) -> None:
        size = min(len(self._queue), self._limit)
        events = list(islice(self._queue, size))
        try:
            async with self._session_factory() as session, session.begin():
                await session.connection(execution_options=WRITE_TRANSACTION)
                result = await write_batch(session, events)
        except Exception as exc:
            await self._after_failure(exc, size)
            return
        for _ in range(size):
            self._queue.popleft()
        self._committed += size
        self._skipped += len(result.skipped)
        if self._failures:
            logger.info("record writer recovered after %d failed attempts", self._failures)
        self._failures = 0
        self._limit = self._batch_size
        if result.skipped:
            logger.warning(
                "%d events named a leg or call never recorded and were skipped: %s",
                len(result.skipped),
                ", ".join(_describe_event(event) for event in result.skipped[:5]),
            )
        self._wake_waiters()

    async def _after_failure(self, exc: Exception, size: int) -> None:
        self._retries += 1
        self._failures += 1
        self._last_error = describe_error(exc)
        self._last_error_at = datetime.now(UTC)
        self._limit = max(1, size // 2)
        delay = min(self._retry_max, self._retry_initial * 2 ** min(self._failures - 1, 30))
        logger.warning(
            "writing %d call record events failed (attempt %d, %d pending), retry in %.2fs: %s",
            size,
            self._failures,
            len(self._queue),
            delay,
            self._last_error,
            # The traceback once per outage is enough; it shows the SQL, not the values.
            exc_info=exc if self._failures == 1 else None,
        )
        await asyncio.sleep(delay)

    def _wake_waiters(self) -> None:
        for target, waiter in self._waiters:
            if target <= self._committed and not waiter.done():
                waiter.set_result(None)


def describe_error(exc: BaseException) -> str:
    """The driver's own error (class, SQLSTATE, first line), without the SQL."""
    cause: BaseException = exc
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        cause = exc.orig
        # SQLAlchemy wraps asyncpg's exceptions in DB-API classes; the original
        # class (ConnectionDoesNotExistError, RaiseError, ...) says more.
        if cause.__cause__ is not None:
            cause = cause.__cause__
    lines = str(cause).strip().splitlines()
    sqlstate = getattr(cause, "sqlstate", None)
    code = f" [{sqlstate}]" if isinstance(sqlstate, str) else ""
    return f"{type(cause).__name__}{code}: {lines[0] if lines else ''}"[:500]


def _describe_event(event: DomainEvent) -> str:
    # Ids only: caller numbers and names stay out of the logs.
    if isinstance(event, CallMerged):
        return f"CallMerged({event.merged} -> {event.into})"
    key = getattr(event, "uniqueid", None) or getattr(event, "call_id", "?")
    return f"{type(event).__name__}({key})"
