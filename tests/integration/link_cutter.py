"""A TCP relay between the server and Asterisk's AMI that a test can cut and
mend: the AMI link goes away at the worst moment while Asterisk (and the
calls on it) go on. Bytes pass through untouched both ways."""

from __future__ import annotations

import asyncio
import contextlib


class LinkCutter:
    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Drop every connection and refuse new ones (as a dead network would)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def mend(self) -> None:
        await self.start()  # on the same port

    async def close(self) -> None:
        await self.cut()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            pbx_in, pbx_out = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_out.close()
            return
        self._writers |= {client_out, pbx_out}
        pipes = {
            asyncio.create_task(_pipe(client_in, pbx_out)),
            asyncio.create_task(_pipe(pbx_in, client_out)),
        }
        self._pipes |= pipes
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            for writer in (client_out, pbx_out):
                writer.close()
            self._pipes -= pipes
            self._writers -= {client_out, pbx_out}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
