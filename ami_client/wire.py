"""The asyncio protocol on the socket: panoramisk's AMIProtocol with its gaps closed.

This is the only module that imports panoramisk. What we keep from AMIProtocol:
`connection_made` (transport bookkeeping, `closed`, `version`). What we replace:

- `data_received`: panoramisk decodes every TCP chunk on its own with 'ignore',
  which silently drops a multi-byte character split across reads, and a bad
  message can raise out of it. We frame bytes first (AmiFramer) and decode per
  message; each message is handed on under a guard so one bad message cannot
  kill the connection.
- `send`: panoramisk logs `%r` of a failed action, which for Login includes the
  secret. Ours writes pre-encoded bytes and logs nothing about their content.
- `connection_lost` / `close`: panoramisk queues unanswered actions for re-sending
  after a reconnect. We never re-send; the owner fails them with AmiLinkLost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from panoramisk.ami_protocol import AMIProtocol

from ami_client.framing import AmiFramer, FrameError
from ami_client.message import AmiMessage

__all__ = ["AmiWireProtocol"]

log = logging.getLogger(__name__)


class AmiWireProtocol(AMIProtocol):  # type: ignore[misc]  # panoramisk is untyped
    def __init__(
        self,
        *,
        max_message_bytes: int,
        on_message: Callable[[AmiMessage], None],
        on_frame_error: Callable[[FrameError], None],
        on_lost: Callable[[Exception | None], None],
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        # Set by connection_made (panoramisk's); declared here so they exist before it.
        self.transport: asyncio.Transport | None = None
        self.version: str | None = None
        self.closed = False
        self._framer = AmiFramer(max_message_bytes)
        self._on_message = on_message
        self._on_frame_error = on_frame_error
        self._on_lost = on_lost
        self._on_read = on_read
        self._lost = False

    @property
    def framer(self) -> AmiFramer:
        return self._framer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # panoramisk's factory hook is what re-sends actions; make sure it is never set.
        self.factory = None

    def data_received(self, data: bytes) -> None:
        if self._on_read is not None:
            self._on_read(len(data))
        self._framer.receive_data(data)
        for item in self._framer.messages():
            if self.version is None and self._framer.version is not None:
                self.version = self._framer.version
            try:
                if isinstance(item, FrameError):
                    self._on_frame_error(item)
                else:
                    self._on_message(item)
            except Exception:
                # A bug in handling one message must not take the link down.
                log.exception("error while handling an AMI message; message skipped")
        if self.version is None and self._framer.version is not None:
            self.version = self._framer.version

    def send(self, data: bytes) -> None:
        """Write one encoded action. Never logs the payload (it may be a Login)."""
        if self._lost or self.transport is None:
            raise ConnectionError("AMI transport is closed")
        self.transport.write(data)

    def handle_message(self, message: object) -> None:  # pragma: no cover - guard
        raise NotImplementedError("AmiWireProtocol routes messages itself")

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self.closed = True
        self._on_lost(exc)

    def close(self) -> None:
        """Close gracefully (flushes what was written). No re-send bookkeeping."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop at once: the peer is not answering, so do not wait to flush to it."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
