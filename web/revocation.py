"""Closing the live sockets of revoked tokens.

`liandong token revoke` is another process: it only writes the database. One
watch per app asks the database, every CHECK_INTERVAL_S, which of the tokens
with an open socket are still live (one query for all of them) and cuts off
the sockets of the others (web/live.py). It runs only while sockets are open:
the first one starts it, and it is cancelled when the last one closes, at
shutdown at the latest. A database that cannot be asked closes nobody: the
sockets stay until it answers again (a new socket's token is checked anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from web.live import LiveBus
from web.tokens import TokenRepository

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0

LiveTokens = Callable[[frozenset[int]], Awaitable[frozenset[int]]]


def live_tokens_in(sessions: async_sessionmaker[AsyncSession]) -> LiveTokens:
    async def live(ids: frozenset[int]) -> frozenset[int]:
        async with sessions() as session:
            return await TokenRepository(session).live_ids(ids)

    return live


def watch_revocations(bus: LiveBus, sessions: async_sessionmaker[AsyncSession]) -> None:
    """A socket was opened: the bus's watch (made once) must run."""
    if bus.revocations is None:
        bus.revocations = RevocationWatch(bus, live_tokens_in(sessions))
    bus.revocations.start()


class RevocationWatch:
    def __init__(self, bus: LiveBus, live: LiveTokens, interval: float = CHECK_INTERVAL_S) -> None:
        self._bus = bus
        self._live = live
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        bus.on_empty.append(self.stop)

    def start(self) -> None:
        """Make sure the watch runs (a socket was opened)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="live-revocations")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.check()

    async def check(self) -> None:
        watched = self._bus.token_ids()
        if not watched:
            return
        try:
            live = await self._live(watched)
        except Exception as exc:
            if not self._failing:  # once per outage, not every interval
                log.warning("cannot check live-feed tokens for revocation (%s); will retry", exc)
            self._failing = True
            return
        if self._failing:
            log.info("live-feed token checks work again")
        self._failing = False
        for token_id in sorted(watched - live):
            closed = self._bus.revoke(token_id)
            log.info("token %d revoked: closing its %d live socket(s)", token_id, closed)
