"""The live bus: domain events fanned out to WebSocket subscribers.

publish() never blocks the ingest pipeline: each subscriber has a bounded
queue, and a subscriber too slow to keep up is dropped at once: its backlog is
thrown away (the client must reload from the REST API anyway) and `dropped` is
set, so that its connection is closed even while a send to it is stuck.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000


@dataclass(eq=False)
class Subscription:
    name: str
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    dropped: asyncio.Event = field(default_factory=asyncio.Event)  # set when it fell behind

    @property
    def lagged(self) -> bool:
        return self.dropped.is_set()


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
        for sub in list(self._subscribers):  # a copy: dropping while iterating is safe
            try:
                sub.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("live subscriber %s fell behind; disconnecting it", sub.name)
                self._drop(sub)

    def _drop(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
        # Its backlog is stale: it would only delay the close (a client that
        # reads nothing would never get past it) and leave a gap before it.
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.dropped.set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
