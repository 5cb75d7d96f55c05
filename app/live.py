"""The live bus: domain events fanned out to WebSocket subscribers.

publish() never blocks the ingest pipeline: each subscriber has a bounded
queue, and a subscriber too slow to keep up is disconnected (it can reload
from the REST API) rather than holding everyone back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

LAGGED = object()  # put in a subscriber's queue when it fell behind


@dataclass(eq=False)
class Subscription:
    name: str
    queue: asyncio.Queue[dict[str, Any] | object] = field(
        default_factory=lambda: asyncio.Queue(maxsize=1000)
    )
    lagged: bool = False


class LiveBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def subscribe(self, name: str) -> Subscription:
        sub = Subscription(name)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def publish(self, message: dict[str, Any]) -> None:
        for sub in list(self._subscribers):  # a copy: unsubscribing while iterating is safe
            if sub.lagged:
                continue
            try:
                sub.queue.put_nowait(message)
            except asyncio.QueueFull:
                sub.lagged = True
                log.warning("live subscriber %s fell behind; disconnecting it", sub.name)
                sub.queue.get_nowait()  # make room for the marker
                sub.queue.put_nowait(LAGGED)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
