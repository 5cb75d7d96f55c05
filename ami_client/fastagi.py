"""A FastAGI server the dialplan asks for data; it answers only by setting variables.

    server = await start_agi_server({"case-status": case_status})
    ...                      # AGI(agi://127.0.0.1:4573/case-status,${CASE}) in the dialplan
    await server.close()

    async def case_status(request: AgiRequest) -> dict[str, str]:
        return {"LD_FOUND": "1", "LD_SAY": "liandong/case-open"}

Each connection is one request: read the environment, ask Asterisk for the
channel's Linkedid, run the script's handler, `SET VARIABLE` each variable it
returns (one command at a time, each confirmed), close. Whatever goes wrong —
no handler for the script, the handler raises or returns something that cannot
be set, it is still running at the deadline (`deadline` seconds after the
connection, default 2), Asterisk talks nonsense — the server sets
`LD_AGI_ERROR` to the reason (`AgiOutcome`), sends the line `FAILURE` (res_agi
then ends the AGI with AGISTATUS=FAILURE: the dialplan's fallback) and closes;
the handler is cancelled. A caller who hangs up mid-request (res_agi sends
`HANGUP`, or closes) cancels the handler quietly: one debug line. Logs name the
script and the channel's uniqueid, never the caller's number, name or arguments.

Every session task is the server's: `close()` stops listening, cancels the
sessions still running (each tells Asterisk FAILURE if it had not answered) and
waits for them.

What Asterisk 22 does around it (res/res_agi.c, measured on the testbed):
- no server listening: connection refused, AGISTATUS=FAILURE at once (~2 ms
  from Originate to the probe's event; an answered request: ~3 ms); a server
  that does not complete the TCP handshake (backlog full): FAILURE after 2 s
  (MAX_AGI_CONNECT, fixed at compile time);
- a server that accepted and then says nothing (a stuck or stopped process:
  the kernel still accepts into the backlog): res_agi waits *for ever* — it has
  no timeout and no agi.conf; the call sits in AGI() until the server closes
  or the caller hangs up. Hence `Gosub(ld-agi,…)` in extensions.conf runs AGI()
  under TIMEOUT(absolute) with a T extension, and AGIEXITONHANGUP=yes (without
  it, res_agi waits for a silent server even after the hang-up);
- a server that closes without a word: AGISTATUS=SUCCESS with nothing set, so
  the dialplan must check the variables, not only AGISTATUS.

Own implementation, not panoramisk's `fast_agi` (panoramisk stays the AMI
library only). panoramisk 1.4's FastAGI cannot be wrapped the way `wire.py`
wraps its AMI protocol, because nothing in it survives the wrapping:
`Application.add_route` wraps plain functions with `asyncio.coroutine`, gone
since Python 3.11; its environment loop (`while b'\\n\\n' not in buffer:
buffer += await reader.read(100)`) never yields at end of file, so a peer that
leaves mid-environment blocks the whole event loop (seen: a test had to be
killed), and its buffer has no bound; it routes on the whole
`agi_network_script`, query string included; it logs every header (the caller's
number) and the peer at INFO/DEBUG; `parse_agi_result` turns HANGUP into an
error dict, raises ValueError on a dropped socket (an empty line) and reads one
line of a 520 usage block, leaving the rest to be taken for later replies; no
timeouts; sessions are not tracked, so closing cannot cancel them; it catches
BaseException around the handler (swallowing cancellation). The protocol is a
few lines, so the core here is pure (agi_protocol, agi_commands, agi_request:
no asyncio, tested byte by byte) and this shell is small.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ami_client.agi_commands import FAILURE, get_variable, set_variable
from ami_client.agi_errors import AgiLocalProtocolError, AgiProtocolError, AgiRemoteProtocolError
from ami_client.agi_protocol import DEFAULT_MAX_LINE_BYTES, AgiClosed, AgiHangup, AgiParser
from ami_client.agi_request import AgiRequest, request_from_environment
from ami_client.agi_stream import AgiChannelGone, AgiStream

__all__ = [
    "DEFAULT_AGI_PORT",
    "ERROR_VARIABLE",
    "AgiHandler",
    "AgiOutcome",
    "AgiServer",
    "AgiServerSettings",
    "start_agi_server",
]

log = logging.getLogger(__name__)

DEFAULT_AGI_PORT = 4573  # res_agi's default for agi:// URLs
ERROR_VARIABLE = "LD_AGI_ERROR"

AgiHandler = Callable[[AgiRequest], Awaitable[Mapping[str, str]]]


class AgiOutcome(StrEnum):
    """How a request ended; the value is what LD_AGI_ERROR is set to."""

    ANSWERED = "answered"
    HANGUP = "hangup"  # the caller hung up first; nothing set
    UNKNOWN_SCRIPT = "unknown-script"
    HANDLER_ERROR = "handler-error"
    DEADLINE = "deadline"
    BAD_ANSWER = "bad-answer"  # the handler's variables cannot be set safely
    PROTOCOL_ERROR = "protocol-error"  # the peer broke the protocol
    BUSY = "busy"  # max_sessions reached
    CLOSING = "closing"  # the server is shutting down
    INTERNAL_ERROR = "internal-error"  # a bug in this module (logged with a traceback)


@dataclass(frozen=True)
class AgiServerSettings:
    host: str = "127.0.0.1"  # loopback: Asterisk runs beside the server
    port: int = DEFAULT_AGI_PORT  # 0 picks a free port (tests)
    deadline: float = 2.0  # from the connection to the handler's answer
    answer_timeout: float = 1.0  # for Asterisk to confirm the variables
    linger: float = 0.5  # for Asterisk to close its side after ours
    max_sessions: int = 256
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES

    def __post_init__(self) -> None:
        for name in ("deadline", "answer_timeout", "linger"):
            if not getattr(self, name) > 0:
                raise ValueError(f"AgiServerSettings.{name} must be > 0")
        if not 0 <= self.port < 65536:
            raise ValueError(f"AgiServerSettings.port must be 0..65535, got {self.port!r}")
        if self.max_sessions < 1:
            raise ValueError("AgiServerSettings.max_sessions must be at least 1")


class _Refused(Exception):
    """A request that gets no answer: FAILURE, with the reason in LD_AGI_ERROR."""

    def __init__(self, outcome: AgiOutcome, detail: str) -> None:
        self.outcome = outcome
        self.detail = detail
        super().__init__(detail)


class AgiServer:
    def __init__(
        self, handlers: Mapping[str, AgiHandler], settings: AgiServerSettings | None = None
    ) -> None:
        self._handlers = dict(handlers)
        if not all(isinstance(name, str) and name for name in self._handlers):
            raise ValueError("AGI script names must be non-empty strings")
        self._settings = settings or AgiServerSettings()
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._closing = False
        # Monotonic counts by AgiOutcome value, for the health check.
        self.outcomes: Counter[str] = Counter()

    def __repr__(self) -> str:
        where = f"{self._settings.host}:{self.port if self._server else self._settings.port}"
        return f"<AgiServer {where} scripts={sorted(self._handlers)} sessions={self.sessions}>"

    @property
    def settings(self) -> AgiServerSettings:
        return self._settings

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the AGI server is not listening")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def sessions(self) -> int:
        return len(self._sessions)

    async def start(self) -> None:
        if self._server is not None or self._closing:
            raise RuntimeError("AgiServer.start() may be called once")
        self._server = await asyncio.start_server(
            self._on_connect, self._settings.host, self._settings.port
        )
        log.info("FastAGI server listening on %s:%d", self._settings.host, self.port)

    async def close(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - interface
        """Stop listening, cancel the running sessions and wait for them. Final."""
        self._closing = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        cancelled: set[asyncio.Task[None]] = set()
        # A connection accepted just before listening stopped starts its session
        # a moment later (and is refused as closing): loop until none is left.
        while self._sessions:
            running = set(self._sessions)
            for task in running - cancelled:
                task.cancel()
            cancelled |= running
            left = until - loop.time()
            if left <= 0:
                break
            await asyncio.wait(running, timeout=left)
            await asyncio.sleep(0)  # let a just-accepted connection's task start
        if self._sessions:
            log.error(
                "%d FastAGI session(s) still running %.1fs after close(): "
                "a handler ignores cancellation",
                len(self._sessions),
                timeout,
            )
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> AgiServer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- one connection ------------------------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        stream = AgiStream(reader, writer, AgiParser(max_line_bytes=self._settings.max_line_bytes))
        # The handler and the hang-up watch: cancelled as soon as they are not
        # needed, but awaited only once Asterisk has its answer.
        owned: list[asyncio.Task[Any]] = []
        try:
            await self._serve(stream, owned)
        except asyncio.CancelledError:
            if not self._closing:
                raise
            # close() cancelled us and waits for us: finish owning what we own,
            # then end normally (asyncio's stream callback, in 3.11, reports a
            # cancelled session as an error).
            await _settle(owned)
        finally:
            stream.abandon()  # closed in every case
            self._sessions.discard(task)

    async def _serve(self, stream: AgiStream, owned: list[asyncio.Task[Any]]) -> None:
        answered = False
        try:
            if self._closing:
                outcome = await self._refuse(stream, None, _Refused(AgiOutcome.CLOSING, "closing"))
            elif len(self._sessions) > self._settings.max_sessions:
                busy = _Refused(AgiOutcome.BUSY, f"{self._settings.max_sessions} sessions running")
                outcome = await self._refuse(stream, None, busy)
            else:
                outcome = await self._session(stream, owned)
            answered = True
            self.outcomes[outcome.value] += 1
            await stream.close(self._settings.linger)
        except asyncio.CancelledError:
            if not answered:
                # Shutting down mid-request: FAILURE, so that the call goes on now.
                stream.abandon(FAILURE)
                self.outcomes[AgiOutcome.CLOSING.value] += 1
            raise
        except Exception:  # a bug here must not kill the server; Asterisk falls back
            log.exception("FastAGI session failed unexpectedly")
            stream.abandon(FAILURE)
            self.outcomes[AgiOutcome.INTERNAL_ERROR.value] += 1
        finally:
            await _settle(owned)

    async def _session(self, stream: AgiStream, owned: list[asyncio.Task[Any]]) -> AgiOutcome:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline_at = started + self._settings.deadline
        request: AgiRequest | None = None
        try:
            try:
                async with asyncio.timeout_at(deadline_at):
                    environment = await stream.read_environment()
                    request = request_from_environment(environment.variables)
                    handler = self._handlers.get(request.script)
                    if handler is None:
                        raise _Refused(AgiOutcome.UNKNOWN_SCRIPT, "no handler for this script")
                    request = replace(request, linkedid=await self._linkedid(stream))
            except TimeoutError:
                raise _Refused(
                    AgiOutcome.DEADLINE, "the request (or its Linkedid) was not read in time"
                ) from None
            answer = await self._run_handler(handler, request, stream, deadline_at, owned)
            await self._answer(stream, answer)
        except _Refused as refused:
            return await self._refuse(stream, request, refused)
        except AgiRemoteProtocolError as exc:
            broken = _Refused(AgiOutcome.PROTOCOL_ERROR, str(exc))
            return await self._refuse(stream, request, broken)
        except AgiChannelGone as gone:
            log.debug(
                "AGI %s: the caller hung up after %.3fs (%s); nothing set",
                _name(request),
                loop.time() - started,
                gone,
            )
            return AgiOutcome.HANGUP
        log.debug(
            "AGI %s: answered %d variable(s) in %.3fs",
            _name(request),
            len(answer),
            loop.time() - started,
        )
        return AgiOutcome.ANSWERED

    async def _linkedid(self, stream: AgiStream) -> str | None:
        reply = await stream.command(get_variable("CHANNEL(linkedid)"))
        return reply.data if reply.ok and reply.result == "1" and reply.data else None

    async def _run_handler(
        self,
        handler: AgiHandler,
        request: AgiRequest,
        stream: AgiStream,
        deadline_at: float,
        owned: list[asyncio.Task[Any]],
    ) -> Mapping[str, str]:
        """The handler's answer, raced against the deadline and the caller hanging
        up. Both tasks are cancelled on the way out; `_on_connect` awaits the handler."""
        loop = asyncio.get_running_loop()
        work = asyncio.create_task(_call(handler, request), name=f"agi {request!r}")
        watch = asyncio.create_task(stream.next_event(), name=f"agi-watch {request.uniqueid}")
        owned += [work, watch]
        try:
            await asyncio.wait(
                {work, watch},
                timeout=max(0.0, deadline_at - loop.time()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if watch.done():  # checked first: a caller who is gone needs no answer
                event = watch.result()  # may raise AgiRemoteProtocolError
                if isinstance(event, AgiHangup | AgiClosed):
                    raise AgiChannelGone(event)
                raise AgiRemoteProtocolError(f"{type(event).__name__} while no command was sent")
            if not work.done():
                raise _Refused(AgiOutcome.DEADLINE, "the handler was still running at the deadline")
            if work.cancelled():
                raise _Refused(AgiOutcome.HANDLER_ERROR, "the handler was cancelled")
            if (exc := work.exception()) is not None:
                # The traceback may hold caller data: DEBUG only; the class name is enough above.
                log.debug("AGI %s: the handler's exception", _name(request), exc_info=exc)
                raise _Refused(AgiOutcome.HANDLER_ERROR, f"the handler raised {type(exc).__name__}")
            return work.result()
        finally:
            work.cancel()
            watch.cancel()
            # The watch reads the stream: it must be gone before the next command.
            # (The handler is awaited later, once Asterisk has its answer.)
            await asyncio.wait({watch})

    async def _answer(self, stream: AgiStream, answer: object) -> None:
        """Every variable is checked (and formatted) before the first is sent."""
        if not isinstance(answer, Mapping):
            raise _Refused(AgiOutcome.BAD_ANSWER, f"the handler returned {type(answer).__name__}")
        lines = []
        try:
            for name, value in answer.items():
                if not isinstance(name, str) or not isinstance(value, str):
                    raise AgiLocalProtocolError("a variable is not a str -> str pair")
                lines.append(set_variable(name, value))
        except AgiLocalProtocolError as exc:
            raise _Refused(AgiOutcome.BAD_ANSWER, str(exc)) from exc
        try:
            async with asyncio.timeout(self._settings.answer_timeout):
                for line in lines:
                    reply = await stream.command(line)
                    if not reply.ok:
                        raise AgiRemoteProtocolError(f"SET VARIABLE answered {reply.code}")
        except TimeoutError:
            raise _Refused(
                AgiOutcome.PROTOCOL_ERROR, "Asterisk did not confirm the variables in time"
            ) from None

    async def _refuse(
        self, stream: AgiStream, request: AgiRequest | None, refused: _Refused
    ) -> AgiOutcome:
        """Set LD_AGI_ERROR if Asterisk still listens, then FAILURE. Never raises."""
        log.warning(
            "AGI %s: %s (%s); the call goes on without the answer",
            _name(request),
            refused.outcome.value,
            refused.detail,
        )
        with contextlib.suppress(AgiProtocolError, AgiChannelGone, TimeoutError):
            async with asyncio.timeout(self._settings.answer_timeout):
                if stream.expects_environment:
                    await stream.read_environment()  # it comes before any reply
                await stream.command(set_variable(ERROR_VARIABLE, refused.outcome.value))
        with contextlib.suppress(AgiChannelGone):
            await stream.send(FAILURE)
        return refused.outcome


async def _call(handler: AgiHandler, request: AgiRequest) -> Mapping[str, str]:
    return await handler(request)


async def _settle(tasks: list[asyncio.Task[Any]]) -> None:
    """Wait for cancelled tasks to end and take their results, so that nothing
    is left running and no 'exception was never retrieved' is logged."""
    if not tasks:
        return
    await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # marks it retrieved; a handler's error was logged already


def _name(request: AgiRequest | None) -> str:
    """How a request is named in logs: script and uniqueid, no caller data."""
    if request is None:
        return "(no request read)"
    return f"{request.script or '(no script)'} {request.uniqueid}"


async def start_agi_server(
    handlers: Mapping[str, AgiHandler], settings: AgiServerSettings | None = None
) -> AgiServer:
    """A listening AgiServer (loopback, port 4573 unless `settings` say otherwise)."""
    server = AgiServer(handlers, settings)
    await server.start()
    return server
