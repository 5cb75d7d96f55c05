"""A lean AMI server on loopback for the benchmark: just enough of Asterisk's protocol.

It sends the recorded greeting, answers ``Login`` (with the recorded
``FullyBooted`` right behind the reply, as Asterisk does), ``Ping``,
``CoreShowChannels`` (an empty list: the EventList start reply, then
``CoreShowChannelsComplete`` with ``ListItems: 0``) and ``Logoff``; anything
else gets ``Response: Error``. ``write_body()`` writes the whole trace body to
the logged-in client in one ``transport.write``; replies to actions sent after
that are queued behind it on the same socket, so a ``Ping`` reply proves the
client has read every byte of the body.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks.ingest.trace import Trace

USERNAME = "liandong-bench"
SECRET = "bench-secret"

_FRAME_END = b"\r\n\r\n"


def _message(*headers: tuple[str, str]) -> bytes:
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode() + b"\r\n"


class _Session(asyncio.Protocol):
    def __init__(self, server: LoopbackAmi) -> None:
        self._server = server
        self._buffer = b""
        self.transport: asyncio.Transport | None = None
        self.logged_in = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._server.sessions.add(self)
        transport.write(self._server.trace.greeting)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.sessions.discard(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        *frames, self._buffer = self._buffer.split(_FRAME_END)
        for frame in frames:
            if frame.strip():
                self._on_action(frame)

    def _on_action(self, frame: bytes) -> None:
        headers: dict[str, str] = {}
        for line in frame.decode("utf-8", "replace").strip("\r\n").split("\r\n"):
            name, _, value = line.partition(": ")
            headers.setdefault(name.lower(), value)
        action = headers.get("action", "").lower()
        action_id = headers.get("actionid", "")
        assert self.transport is not None
        write = self.transport.write
        if action == "login":
            if headers.get("username") == USERNAME and headers.get("secret") == SECRET:
                self.logged_in = True
                write(
                    _message(
                        ("Response", "Success"),
                        ("ActionID", action_id),
                        ("Message", "Authentication accepted"),
                    )
                    + self._server.trace.fully_booted
                )
                self._server.logins += 1
            else:
                write(
                    _message(
                        ("Response", "Error"),
                        ("ActionID", action_id),
                        ("Message", "Authentication failed"),
                    )
                )
                self.transport.close()
        elif not self.logged_in:
            write(
                _message(
                    ("Response", "Error"), ("ActionID", action_id), ("Message", "Permission denied")
                )
            )
        elif action == "ping":
            write(
                _message(
                    ("Response", "Success"),
                    ("ActionID", action_id),
                    ("Ping", "Pong"),
                    ("Timestamp", f"{time.time():.6f}"),
                )
            )
        elif action == "coreshowchannels":
            write(
                _message(
                    ("Response", "Success"),
                    ("ActionID", action_id),
                    ("EventList", "start"),
                    ("Message", "Channels will follow"),
                )
                + _message(
                    ("Event", "CoreShowChannelsComplete"),
                    ("ActionID", action_id),
                    ("EventList", "Complete"),
                    ("ListItems", "0"),
                )
            )
        elif action == "logoff":
            write(
                _message(
                    ("Response", "Goodbye"),
                    ("ActionID", action_id),
                    ("Message", "Thanks for all the fish."),
                )
            )
            self.transport.close()
        else:
            write(
                _message(
                    ("Response", "Error"),
                    ("ActionID", action_id),
                    ("Message", "Invalid/unknown command"),
                )
            )


class LoopbackAmi:
    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.sessions: set[_Session] = set()
        self.logins = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Session(self), "127.0.0.1", 0)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def write_body(self) -> None:
        """The whole trace body, in one write, to the one logged-in client."""
        live = [s for s in self.sessions if s.logged_in and s.transport is not None]
        if len(live) != 1:
            raise RuntimeError(f"expected one logged-in AMI client, found {len(live)}")
        transport = live[0].transport
        assert transport is not None
        transport.write(self.trace.body)

    async def stop(self) -> None:
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
