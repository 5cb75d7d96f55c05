"""The service's one queue: AMI events, ring timers, room checks and
reconciliations are applied one at a time, in the order they came, under one
lock (the API's requests take it too), so no two steps ever move a transfer
at once. Where each kind of item goes is the caller's (`Routes`)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ami_client.message import AmiMessage
from transfer.service.state import log


@dataclass(frozen=True, slots=True)
class _RingTimer:
    transfer_id: str


class _Reconcile:
    """Restart or reconnect: compare the running transfers with Asterisk."""


@dataclass(frozen=True, slots=True)
class _RoomCheck:
    """Someone left a three-way room a moment ago: is anyone left alone in it?"""

    room: str


@dataclass(frozen=True, slots=True)
class _Arrived:
    """An AMI event, with when the ingest consumer handed it over (perf_counter)."""

    msg: AmiMessage
    at: float


_Item = _Arrived | _RingTimer | _Reconcile | _RoomCheck


@dataclass(frozen=True, slots=True)
class Routes:
    """The parts of the service each kind of item is for."""

    link_ready: Callable[[], bool]  # whether timers may act on Asterisk
    ring_timeout: Callable[[str], Awaitable[None]]
    reconcile: Callable[[], Awaitable[None]]
    check_room: Callable[[str], Awaitable[None]]
    message: Callable[[AmiMessage, float], Awaitable[None]]


class Inbox:
    def __init__(self) -> None:
        self._items: deque[_Item] = deque()
        self._wakeup = asyncio.Event()
        self.lock = asyncio.Lock()

    def message(self, msg: AmiMessage) -> None:
        self._put(_Arrived(msg, time.perf_counter()))

    def reconcile(self) -> None:
        self._put(_Reconcile())

    def ring_later(self, delay: float, transfer_id: str) -> asyncio.TimerHandle:
        loop = asyncio.get_running_loop()
        return loop.call_later(delay, self._put, _RingTimer(transfer_id))

    def check_room_later(self, delay: float, room: str) -> None:
        asyncio.get_running_loop().call_later(delay, self._put, _RoomCheck(room))

    def _put(self, item: _Item) -> None:
        self._items.append(item)
        self._wakeup.set()

    async def work(self, routes: Routes) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._items:
                item = self._items.popleft()
                try:
                    async with self.lock:
                        await self._apply(item, routes)
                except Exception:
                    log.exception("transfer service: could not apply %r; skipped", item)

    async def _apply(self, item: _Item, routes: Routes) -> None:
        if isinstance(item, _RingTimer | _RoomCheck) and not routes.link_ready():
            log.warning("AMI link down: %s left to the reconciliation on reconnect", item)
            return
        if isinstance(item, _RingTimer):
            await routes.ring_timeout(item.transfer_id)
        elif isinstance(item, _Reconcile):
            await routes.reconcile()
        elif isinstance(item, _RoomCheck):
            await routes.check_room(item.room)
        else:
            await routes.message(item.msg, item.at)
