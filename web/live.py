"""The live bus: domain events fanned out to WebSocket subscribers.

publish() never blocks the ingest pipeline: each subscriber has a bounded
queue, and a subscriber too slow to keep up is cut off at once: its backlog is
thrown away (the client must reload from the REST API anyway) and `cut` is
set, so that its connection is closed even while a send to it is stuck. A
subscriber whose token is revoked, or whose person's sign-in ended, is cut off
the same way (web/revocation.py finds them): it gets nothing more from the
moment the revocation is seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from common.principal import Credential

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
# WebSocket close codes the live feed uses: a client that fell behind should
# reload and reconnect; a revoked token must not (RFC 6455 §7.4.2: 4000-4999
# are the application's own; 4001 mirrors HTTP 401).
TOO_SLOW = (1013, "too slow; reconnect and reload")
REVOKED = (4001, "token revoked")
SIGNED_OUT = (4001, "signed out")  # a person's sign-in ended: signed out, disabled, expired
GOING_AWAY = (1001, "server stopping")


@dataclass(eq=False)
class Subscription:
    name: str
    credential: Credential | None = None
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    cut: asyncio.Event = field(default_factory=asyncio.Event)  # set when the bus cut it off
    close_with: tuple[int, str] = TOO_SLOW  # the close code and reason, once cut


class Watch(Protocol):
    """What the bus keeps running while sockets are open: the revocation watch
    (web/revocation.py), which stops itself through `on_empty`."""

    def start(self) -> None: ...


class LiveBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        # Told when the last subscriber has gone (the revocation watch stops then).
        self.on_empty: list[Callable[[], None]] = []
        self.revocations: Watch | None = None  # made by the first socket

    def subscribe(self, name: str, credential: Credential | None = None) -> Subscription:
        sub = Subscription(name, credential)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
        if not self._subscribers:
            for listener in list(self.on_empty):
                listener()

    def publish(self, message: dict[str, Any]) -> None:
        for sub in list(self._subscribers):  # a copy: dropping while iterating is safe
            try:
                sub.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("live subscriber %s fell behind; disconnecting it", sub.name)
                self._cut(sub, TOO_SLOW)

    def credentials(self) -> frozenset[Credential]:
        """The tokens and sign-ins that have a live socket open now."""
        return frozenset(s.credential for s in self._subscribers if s.credential is not None)

    def revoke(self, credential: Credential) -> int:
        """Cut off every subscriber of a revoked token or ended sign-in; how many there were."""
        why = REVOKED if credential.kind == "token" else SIGNED_OUT
        subs = [s for s in self._subscribers if s.credential == credential]
        for sub in subs:
            self._cut(sub, why)
        return len(subs)

    def close_all(self) -> None:
        """The server stops: every live socket is closed now (1001), rather than
        holding the stop until its grace runs out."""
        for sub in list(self._subscribers):
            self._cut(sub, GOING_AWAY)

    def _cut(self, sub: Subscription, why: tuple[int, str]) -> None:
        self._subscribers.discard(sub)
        # Its backlog is stale (or no longer its to see): it would only delay
        # the close (a client that reads nothing would never get past it).
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.close_with = why
        sub.cut.set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
