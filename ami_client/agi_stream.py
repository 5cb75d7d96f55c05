"""One FastAGI connection on asyncio streams: the parser fed from the socket, one
command in flight at a time, and a clean close.

One command at a time is not a choice: res_agi reads commands through stdio but
waits for them by polling the socket, so a second line already sitting in its
stdio buffer would not be seen until the channel next has a frame to read.
"""

from __future__ import annotations

import asyncio
import contextlib

from ami_client.agi_errors import AgiRemoteProtocolError
from ami_client.agi_protocol import (
    AgiClosed,
    AgiEnvironment,
    AgiEvent,
    AgiHangup,
    AgiParser,
    AgiResponse,
    ParserState,
)

__all__ = ["AgiChannelGone", "AgiStream"]

_READ_SIZE = 16 * 1024
_DRAIN_LIMIT = 64 * 1024  # at most this much is read (and dropped) while lingering


class AgiChannelGone(Exception):
    """Asterisk said HANGUP or closed the connection: the caller is gone (or
    the AGI is over). Whatever was still to be set can reach no one."""

    def __init__(self, event: AgiHangup | AgiClosed) -> None:
        self.event = event
        super().__init__("HANGUP" if isinstance(event, AgiHangup) else "connection closed")


class AgiStream:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        parser: AgiParser,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._parser = parser

    async def next_event(self) -> AgiEvent:
        """The next event; a reset connection counts as closed."""
        while (event := self._parser.next_event()) is None:
            try:
                data = await self._reader.read(_READ_SIZE)
            except (ConnectionError, OSError):
                data = b""
            self._parser.receive_data(data)
        return event

    async def read_environment(self) -> AgiEnvironment:
        event = await self.next_event()
        if isinstance(event, AgiEnvironment):
            return event
        if isinstance(event, AgiClosed):
            raise AgiChannelGone(event)
        raise AgiRemoteProtocolError(f"expected the environment, got {type(event).__name__}")

    async def command(self, line: bytes) -> AgiResponse:
        """Send one encoded command and return its final reply (provisional
        `100 Trying` replies are skipped). AgiChannelGone on HANGUP or end of file."""
        await self.send(line)
        while True:
            event = await self.next_event()
            if isinstance(event, AgiHangup | AgiClosed):
                raise AgiChannelGone(event)
            if isinstance(event, AgiResponse) and not event.provisional:
                return event
            if not isinstance(event, AgiResponse):
                raise AgiRemoteProtocolError(f"expected a reply, got {type(event).__name__}")

    async def send(self, line: bytes) -> None:
        """Write one line; a connection the peer has closed is AgiChannelGone."""
        if self._writer.is_closing():
            raise AgiChannelGone(AgiClosed())
        self._writer.write(line)
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            raise AgiChannelGone(AgiClosed()) from exc

    async def close(self, linger: float) -> None:
        """Say we are done (end of file: res_agi ends the AGI), then give Asterisk
        up to `linger` seconds to close its side (it sends HANGUP first), so the
        connection ends without a reset. Then close, whatever happened."""
        writer = self._writer
        try:
            if not writer.is_closing() and writer.can_write_eof():
                with contextlib.suppress(ConnectionError, OSError):
                    writer.write_eof()
                with contextlib.suppress(TimeoutError, ConnectionError, OSError):
                    async with asyncio.timeout(linger):
                        read = 0
                        while read < _DRAIN_LIMIT and (chunk := await self._reader.read(4096)):
                            read += len(chunk)
        finally:
            writer.close()
            with contextlib.suppress(TimeoutError, ConnectionError, OSError):
                async with asyncio.timeout(linger):
                    await writer.wait_closed()

    @property
    def expects_environment(self) -> bool:
        """Nothing read yet: Asterisk's environment comes first."""
        return self._parser.state is ParserState.ENVIRONMENT

    def abandon(self, line: bytes = b"") -> None:
        """Write `line` (FAILURE) if the connection still takes it and close,
        without waiting for anything: for a task being cancelled."""
        writer = self._writer
        if not writer.is_closing():
            with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                writer.write(line)
            writer.close()  # sends what is buffered first
