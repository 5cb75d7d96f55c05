"""FastAGI against the real Asterisk: the probe context ([ld-agi-probe], which asks
through Gosub(ld-agi,…)) reports AGISTATUS and the variables in UserEvent(LdAgiProbe).

What a caller would notice: with the server up, the answer arrives (Chinese
included); with it down, stuck, slow or broken, the call goes on promptly
without it. Each run originates a Local channel into the probe with its own
LD_AGI_ADDR (a free port of this test's server) and a guard if the test sets one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass

import pytest

from ami_client import (
    AgiRequest,
    AgiServerSettings,
    AmiClient,
    AmiMessage,
    SinkItem,
    start_agi_server,
)
from ami_client.settings import AmiSettings, Secret
from pbx import testbed

DEADLINE = 1.0  # the server's own, in these tests
MARGIN = 0.5  # for Asterisk, the AMI and a loaded machine


@dataclass(frozen=True)
class ProbeResult:
    status: str  # Gosub(ld-agi)'s answer: SUCCESS, FAILURE, TIMEOUT …
    agi_status: str  # AGISTATUS as res_agi set it
    answer: str  # LD_PROBE
    error: str  # LD_AGI_ERROR
    elapsed: float  # from the Originate to the event
    event: AmiMessage


class Prober:
    """Originates probe calls and waits for their LdAgiProbe events."""

    def __init__(self, client: AmiClient, events: dict[str, asyncio.Future[AmiMessage]]) -> None:
        self.client = client
        self._events = events

    async def run(
        self, port: int, arg: str = "", *, guard: float | None = None, within: float = 10.0
    ) -> ProbeResult:
        probe_id = uuid.uuid4().hex
        arrived = self._events[probe_id] = asyncio.get_running_loop().create_future()
        variables = [f"LD_AGI_ADDR=127.0.0.1:{port}", f"LD_PROBE_ID={probe_id}"]
        variables.append(f"LD_PROBE_ARG={arg}")
        if guard is not None:
            variables.append(f"LD_AGI_GUARD_S={guard}")
        started = time.monotonic()
        await self.client.send_action(
            {
                "Action": "Originate",
                "Channel": "Local/s@ld-agi-probe/n",
                "Application": "Wait",
                "Data": "1",
                "Async": "true",
                "CallerID": "张三 <13800001111>",
                "Variable": variables,
            }
        )
        event = await asyncio.wait_for(arrived, within)
        return ProbeResult(
            status=event.get("Status") or "",
            agi_status=event.get("AgiStatus") or "",
            answer=event.get("Answer") or "",
            error=event.get("Error") or "",
            elapsed=time.monotonic() - started,
            event=event,
        )


@pytest.fixture
async def prober(pbx_clean: testbed.TestbedConfig) -> AsyncIterator[Prober]:
    events: dict[str, asyncio.Future[AmiMessage]] = {}

    def sink(item: SinkItem) -> None:
        if isinstance(item, AmiMessage) and item.get("UserEvent") == "LdAgiProbe":
            waiting = events.get(item.get("Probe") or "")
            if waiting is not None and not waiting.done():
                waiting.set_result(item)

    settings = AmiSettings(
        host=pbx_clean.ami_host,
        port=pbx_clean.ami_port,
        secret=Secret(testbed.ami_secret(pbx_clean)),
    )
    client = AmiClient(settings, sink)
    await client.start()
    try:
        await client.wait_connected(10)
        yield Prober(client, events)
    finally:
        await client.stop()


def agi_settings(deadline: float = DEADLINE) -> AgiServerSettings:
    return AgiServerSettings(port=0, deadline=deadline)


async def test_with_the_server_up_the_variables_arrive(prober: Prober) -> None:
    seen: list[AgiRequest] = []

    async def probe(request: AgiRequest) -> Mapping[str, str]:
        seen.append(request)
        return {"LD_PROBE": f"{request.caller_name} 你好 {request.args[0]}"}

    async with await start_agi_server({"probe": probe}, agi_settings()) as server:
        result = await prober.run(server.port, "第1号")
    assert (result.status, result.agi_status, result.error) == ("SUCCESS", "SUCCESS", "")
    assert result.answer == "张三 你好 第1号"
    [request] = seen
    assert request.script == "probe" and request.args == ("第1号",)
    assert (request.caller_number, request.caller_name) == ("13800001111", "张三")
    # The request names the channel the dialplan ran on, and its call.
    assert request.uniqueid == result.event.get("Uniqueid")
    assert request.linkedid == result.event.get("Linkedid")
    assert request.channel == result.event.get("Channel")
    assert result.elapsed < 1.0, f"{result.elapsed:.3f}s"
    assert server.outcomes == {"answered": 1}


async def test_with_the_server_down_the_call_goes_on_at_once(prober: Prober) -> None:
    async with await start_agi_server({}, agi_settings()) as server:
        port = server.port
    # Nothing listens there now: connection refused.
    result = await prober.run(port)
    assert (result.status, result.agi_status) == ("FAILURE", "FAILURE")
    assert result.elapsed < 0.5, f"{result.elapsed:.3f}s"  # measured: a few milliseconds


async def test_a_slow_handler_fails_at_the_server_s_deadline(prober: Prober) -> None:
    cancelled = asyncio.Event()

    async def slow(request: AgiRequest) -> Mapping[str, str]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {"LD_PROBE": "too late"}

    async with await start_agi_server({"probe": slow}, agi_settings()) as server:
        result = await prober.run(server.port)
        assert cancelled.is_set()
    assert (result.status, result.error, result.answer) == ("FAILURE", "deadline", "")
    assert DEADLINE <= result.elapsed < DEADLINE + MARGIN, f"{result.elapsed:.3f}s"


async def test_a_handler_error_and_an_unknown_script_fail_with_their_reason(
    prober: Prober,
) -> None:
    async def broken(request: AgiRequest) -> Mapping[str, str]:
        raise RuntimeError("no database")

    async with await start_agi_server({"probe": broken}, agi_settings()) as server:
        result = await prober.run(server.port)
    assert (result.status, result.error) == ("FAILURE", "handler-error")
    async with await start_agi_server({"case-status": broken}, agi_settings()) as server:
        result = await prober.run(server.port)
    assert (result.status, result.error) == ("FAILURE", "unknown-script")


@contextlib.contextmanager
def stuck_server() -> Iterator[socket.socket]:
    """A port that completes TCP handshakes and never answers: a stopped or
    stuck server process (the kernel accepts into the backlog for it)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock
    finally:
        sock.close()


async def test_a_stuck_server_is_cut_off_by_the_dialplan_s_guard(prober: Prober) -> None:
    with stuck_server() as sock:
        result = await prober.run(sock.getsockname()[1], guard=1.5)
    # res_agi never gives up by itself; TIMEOUT(absolute) + the T extension of
    # [ld-agi] do, and the call goes on (the event comes from the next priority).
    assert (result.status, result.agi_status) == ("TIMEOUT", "HANGUP")
    assert 1.5 <= result.elapsed < 1.5 + MARGIN, f"{result.elapsed:.3f}s"


async def test_without_the_guard_a_stuck_server_holds_the_call(prober: Prober) -> None:
    """Why the guard exists: res_agi has no timeout of its own once connected."""
    with stuck_server() as sock:
        waiting = asyncio.create_task(prober.run(sock.getsockname()[1], guard=0, within=15))
        await asyncio.sleep(3.0)
        assert not waiting.done(), "res_agi gave up by itself"
    # The server goes away (its backlog is reset): only now does the AGI end.
    result = await waiting
    assert result.elapsed >= 3.0
    assert result.status == "SUCCESS"  # a server that closes without a word is "SUCCESS"
    assert result.answer == ""


async def test_a_caller_who_hangs_up_cancels_the_handler(prober: Prober) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()
    channels: list[str] = []

    async def waits(request: AgiRequest) -> Mapping[str, str]:
        channels.append(request.channel)
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {}

    settings = agi_settings(deadline=10.0)
    async with await start_agi_server({"probe": waits}, settings) as server:
        probe = asyncio.create_task(prober.run(server.port, within=15))
        await asyncio.wait_for(started.wait(), 5)
        hung_up_at = time.monotonic()
        await prober.client.send_action({"Action": "Hangup", "Channel": channels[0]})
        await asyncio.wait_for(cancelled.wait(), 2)
        assert time.monotonic() - hung_up_at < MARGIN
        deadline = time.monotonic() + 2
        while server.sessions:  # the session ends once Asterisk has closed its side
            assert time.monotonic() < deadline, "the session did not end"
            await asyncio.sleep(0.02)
        assert server.outcomes == {"hangup": 1}
        probe.cancel()  # no event: the channel is gone, its dialplan ended
        with contextlib.suppress(asyncio.CancelledError):
            await probe
