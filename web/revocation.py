"""Closing the live sockets of revoked tokens and ended sign-ins.

`liandong token revoke` and `liandong user disable` are other processes: they
only write the database. One watch per app asks the database, every
CHECK_INTERVAL_S, which of the tokens and people's sign-ins with an open
socket still hold (one query for each kind) and cuts off the sockets of the
others (web/live.py). A sign-in ended in this process (signed out, disabled
from the admin API) is cut off at once, without waiting for the watch. The
watch runs only while sockets are open: the first one starts it, and it is
cancelled when the last one closes, at shutdown at the latest. A database that
cannot be asked closes nobody: the sockets stay until it answers again (a new
socket's token is checked anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.principal import Credential
from web.app_state import SESSIONS
from web.live import LiveBus
from web.tokens import TokenRepository

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0

# Which of these ids (of one kind) still hold.
LiveIds = Callable[[frozenset[int]], Awaitable[frozenset[int]]]
LiveCredentials = Callable[[frozenset[Credential]], Awaitable[frozenset[Credential]]]
# People's sign-ins that still hold, as the accounts feature tells (people/http.py).
LIVE_SIGN_INS: web.AppKey[LiveIds] = web.AppKey("live_sign_ins")


def live_tokens_in(sessions: async_sessionmaker[AsyncSession]) -> LiveIds:
    async def live(ids: frozenset[int]) -> frozenset[int]:
        async with sessions() as session:
            return await TokenRepository(session).live_ids(ids)

    return live


def app_credentials(app: web.Application) -> LiveCredentials:
    """The check for this app: its tokens, and its people's sign-ins if it has people."""
    kinds = {"token": live_tokens_in(app[SESSIONS])}
    if LIVE_SIGN_INS in app:
        kinds["sign-in"] = app[LIVE_SIGN_INS]
    return live_credentials(kinds)


def live_credentials(by_kind: dict[str, LiveIds]) -> LiveCredentials:
    """One check over tokens and sign-ins: each kind asked with its own ids."""

    async def live(credentials: frozenset[Credential]) -> frozenset[Credential]:
        out: set[Credential] = set()
        for kind, check in by_kind.items():
            ids = frozenset(c.id for c in credentials if c.kind == kind)
            if ids:
                out.update(Credential(kind, i) for i in await check(ids))
        return frozenset(out)

    return live


def watch_revocations(bus: LiveBus, live: LiveCredentials) -> None:
    """A socket was opened: the bus's watch (made once) must run."""
    if bus.revocations is None:
        bus.revocations = RevocationWatch(bus, live)
    bus.revocations.start()


class RevocationWatch:
    def __init__(
        self, bus: LiveBus, live: LiveCredentials, interval: float = CHECK_INTERVAL_S
    ) -> None:
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
        watched = self._bus.credentials()
        if not watched:
            return
        try:
            live = await self._live(watched)
        except Exception as exc:
            if not self._failing:  # once per outage, not every interval
                log.warning(
                    "cannot check live-feed tokens and sign-ins for revocation (%s); will retry",
                    exc,
                )
            self._failing = True
            return
        if self._failing:
            log.info("live-feed revocation checks work again")
        self._failing = False
        for credential in sorted(watched - live):
            closed = self._bus.revoke(credential)
            log.info("%s ended: closing its %d live socket(s)", credential, closed)
