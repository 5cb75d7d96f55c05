"""The FastAGI server against a fake Asterisk on loopback that speaks res_agi's protocol:
answers, failures (each one a FAILURE the dialplan falls back on), deadlines,
hang-ups, garbage, shutdown."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest

from ami_client import AgiRequest, AgiServer, AgiServerSettings, start_agi_server
from tests.fakes.fake_agi_client import FakeAsterisk, agi_environment

Handler = Callable[[AgiRequest], Awaitable[Mapping[str, str]]]
MakeServer = Callable[..., Awaitable[AgiServer]]

CALLER = "13800001111"
DEADLINE = 0.4


@pytest.fixture
async def loop_errors() -> list[dict[str, Any]]:
    """Whatever reaches the event loop's exception handler (must stay empty)."""
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    return errors


@pytest.fixture
async def make_server(loop_errors: list[dict[str, Any]]) -> AsyncIterator[MakeServer]:
    servers: list[AgiServer] = []

    async def make(handlers: Mapping[str, Handler], **settings: Any) -> AgiServer:
        server = await start_agi_server(
            handlers, AgiServerSettings(**{"port": 0, "deadline": DEADLINE, **settings})
        )
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()
    assert loop_errors == []


async def until(predicate: Callable[[], bool], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


def no_caller_data_at_info(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        if record.levelno >= logging.INFO:
            text = record.getMessage()
            assert CALLER not in text and "张三" not in text, text
            assert record.exc_info is None, f"traceback above DEBUG: {text}"


# -- answers ---------------------------------------------------------------------------


async def test_the_handler_s_variables_are_set_and_the_agi_succeeds(
    make_server: MakeServer,
) -> None:
    seen: list[AgiRequest] = []

    async def case_status(request: AgiRequest) -> dict[str, str]:
        seen.append(request)
        return {
            "LD_FOUND": "1",
            "LD_SAY": "liandong/case-open&liandong/thanks",
            "LD_NAME": '张三 说 "你好" C:\\x',
        }

    server = await make_server({"case-status": case_status})
    run = await FakeAsterisk(server.port).call(
        agi_environment("case-status?desk=12345", ["2026000123", "第二个"])
    )
    assert run.status == "SUCCESS"
    assert run.variables == {
        "LD_FOUND": "1",
        "LD_SAY": "liandong/case-open&liandong/thanks",
        "LD_NAME": '张三 说 "你好" C:\\x',
    }
    [request] = seen
    assert request.script == "case-status"
    assert dict(request.params) == {"desk": "12345"}
    assert request.args == ("2026000123", "第二个")
    assert request.uniqueid == "liandong-1796236168.1"
    assert request.channel == "PJSIP/trunk-12345-00000001"
    assert (request.caller_number, request.caller_name) == (CALLER, "张三")
    assert request.linkedid == "liandong-1796236168.0"
    assert run.commands[0] == ["GET", "VARIABLE", "CHANNEL(linkedid)"]
    assert server.outcomes == {"answered": 1}


async def test_an_environment_sent_byte_by_byte_keeps_its_chinese_text(
    make_server: MakeServer,
) -> None:
    names: list[str | None] = []

    async def probe(request: AgiRequest) -> dict[str, str]:
        names.append(request.caller_name)
        return {"LD_PROBE": request.args[0]}

    server = await make_server({"probe": probe})
    run = await FakeAsterisk(server.port).call(
        agi_environment("probe", ["参数"], caller_name="欧阳娜娜"), chunk_size=1
    )
    assert (run.status, run.variables, names) == ("SUCCESS", {"LD_PROBE": "参数"}, ["欧阳娜娜"])


async def test_an_empty_answer_sets_nothing_and_succeeds(make_server: MakeServer) -> None:
    async def nothing(request: AgiRequest) -> dict[str, str]:
        return {}

    server = await make_server({"probe": nothing})
    run = await FakeAsterisk(server.port).call(agi_environment("probe"))
    assert (run.status, run.variables) == ("SUCCESS", {})


async def test_without_a_linkedid_the_request_has_none(make_server: MakeServer) -> None:
    linkedids: list[str | None] = []

    async def probe(request: AgiRequest) -> dict[str, str]:
        linkedids.append(request.linkedid)
        return {}

    server = await make_server({"probe": probe})
    await FakeAsterisk(server.port, linkedid=None).call(agi_environment("probe"))
    assert linkedids == [None]


async def test_a_provisional_reply_is_skipped(make_server: MakeServer) -> None:
    async def probe(request: AgiRequest) -> dict[str, str]:
        return {"LD_X": "1"}

    server = await make_server({"probe": probe})
    fake = FakeAsterisk(server.port, scripted={"SET": [b"100 result=0 Trying...\n200 result=1\n"]})
    run = await fake.call(agi_environment("probe"))
    assert run.status == "SUCCESS" and server.outcomes == {"answered": 1}


async def test_many_requests_at_once(make_server: MakeServer) -> None:
    async def echo(request: AgiRequest) -> dict[str, str]:
        await asyncio.sleep(0.05)
        return {"LD_ECHO": request.args[0]}

    server = await make_server({"echo": echo})
    runs = await asyncio.gather(
        *(FakeAsterisk(server.port).call(agi_environment("echo", [f"第{n}"])) for n in range(60))
    )
    assert [run.variables["LD_ECHO"] for run in runs] == [f"第{n}" for n in range(60)]
    assert server.outcomes == {"answered": 60}
    await until(lambda: server.sessions == 0)


# -- failures: FAILURE and LD_AGI_ERROR, nothing else set --------------------------------


async def test_a_handler_that_raises_gives_failure_and_logs_no_caller_data(
    make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ami_client")

    async def broken(request: AgiRequest) -> dict[str, str]:
        raise KeyError(request.caller_number)

    server = await make_server({"case-status": broken})
    run = await FakeAsterisk(server.port).call(agi_environment("case-status", [CALLER]))
    assert (run.status, run.variables) == ("FAILURE", {"LD_AGI_ERROR": "handler-error"})
    assert server.outcomes == {"handler-error": 1}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "case-status" in warnings[0] and "KeyError" in warnings[0]
    assert "liandong-1796236168.1" in warnings[0]  # the uniqueid finds the call
    no_caller_data_at_info(caplog)
    # The traceback is there for whoever turns DEBUG on.
    assert any(r.exc_info for r in caplog.records if r.levelno == logging.DEBUG)


async def test_an_unknown_script_gives_failure(make_server: MakeServer) -> None:
    called: list[AgiRequest] = []

    async def probe(request: AgiRequest) -> dict[str, str]:
        called.append(request)
        return {}

    server = await make_server({"probe": probe})
    for script in ("case-stat", ""):
        run = await FakeAsterisk(server.port).call(agi_environment(script))
        assert (run.status, run.variables) == ("FAILURE", {"LD_AGI_ERROR": "unknown-script"})
    assert called == [] and server.outcomes == {"unknown-script": 2}


async def test_a_slow_handler_is_cancelled_at_the_deadline_and_the_call_goes_on(
    make_server: MakeServer,
) -> None:
    cancelled = asyncio.Event()

    async def slow(request: AgiRequest) -> dict[str, str]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {"LD_FOUND": "1"}

    server = await make_server({"case-status": slow})
    run = await FakeAsterisk(server.port).call(agi_environment("case-status"))
    assert (run.status, run.variables) == ("FAILURE", {"LD_AGI_ERROR": "deadline"})
    assert DEADLINE <= run.elapsed < DEADLINE + 0.2
    await asyncio.wait_for(cancelled.wait(), 1)
    assert server.outcomes == {"deadline": 1}
    await until(lambda: server.sessions == 0)


async def test_a_handler_slow_to_die_does_not_hold_the_call(make_server: MakeServer) -> None:
    """The FAILURE goes out at the deadline; the handler's clean-up runs after."""
    finished = asyncio.Event()

    async def stubborn(request: AgiRequest) -> dict[str, str]:
        try:
            await asyncio.sleep(30)
        finally:
            await asyncio.sleep(0.5)  # e.g. a database rollback
            finished.set()
        return {}

    server = await make_server({"case-status": stubborn})
    run = await FakeAsterisk(server.port).call(agi_environment("case-status"))
    assert run.status == "FAILURE" and run.elapsed < DEADLINE + 0.2
    assert not finished.is_set() and server.sessions == 1  # still owned by its session
    await asyncio.wait_for(finished.wait(), 2)
    await until(lambda: server.sessions == 0)


async def test_a_slow_environment_counts_against_the_deadline(make_server: MakeServer) -> None:
    async def probe(request: AgiRequest) -> dict[str, str]:
        return {"LD_X": "1"}

    server = await make_server({"probe": probe})
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    started = time.monotonic()
    writer.write(b"agi_network: yes\n")  # ... and then nothing
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 3)
    assert data.endswith(b"FAILURE\n")
    assert DEADLINE <= time.monotonic() - started < DEADLINE + 1.2  # + answer timeout
    writer.close()
    assert server.outcomes == {"deadline": 1}


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"LD_OK": "1", "LD_SAY": "a\nEXEC Hangup"}, "newline"),
        ({"LD_OK": "1", "LD SAY": "x"}, "bad name"),
        ({"LD_OK": "1", "LD_N": 1}, "not a str"),
        ({"LD_OK": "1", "LD_BIG": "x" * 9000}, "too long"),
        (["LD_OK", "1"], "not a mapping"),
    ],
)
async def test_an_answer_that_cannot_be_set_safely_sets_nothing(
    make_server: MakeServer, answer: Any, why: str
) -> None:
    async def handler(request: AgiRequest) -> Any:
        return answer

    server = await make_server({"probe": handler})
    run = await FakeAsterisk(server.port).call(agi_environment("probe"))
    assert (run.status, run.variables) == ("FAILURE", {"LD_AGI_ERROR": "bad-answer"}), why
    assert [c[0] for c in run.commands] == ["GET", "SET"]  # only the linkedid and the error


async def test_a_refused_set_variable_is_a_protocol_error(make_server: MakeServer) -> None:
    async def probe(request: AgiRequest) -> dict[str, str]:
        return {"LD_X": "1"}

    server = await make_server({"probe": probe})
    fake = FakeAsterisk(server.port, scripted={"SET": [b"510 Invalid or unknown command\n"]})
    run = await fake.call(agi_environment("probe"))
    assert (run.status, run.variables) == ("FAILURE", {"LD_AGI_ERROR": "protocol-error"})


# -- the caller hangs up -----------------------------------------------------------------


async def test_a_caller_who_hangs_up_cancels_the_handler_quietly(
    make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ami_client")
    cancelled = asyncio.Event()

    async def slow(request: AgiRequest) -> dict[str, str]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {}

    server = await make_server({"case-status": slow}, deadline=5.0)
    run = await FakeAsterisk(server.port).call(agi_environment("case-status"), hang_up_after=0.1)
    assert (run.status, run.variables) == ("HANGUP", {})
    await asyncio.wait_for(cancelled.wait(), 1)
    await until(lambda: server.sessions == 0)
    assert server.outcomes == {"hangup": 1}
    ours = [r for r in caplog.records if r.name == "ami_client.fastagi" and "hung up" in r.msg]
    assert [r.levelno for r in ours] == [logging.DEBUG]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_peer_that_leaves_mid_environment_does_not_stall_the_server(
    make_server: MakeServer,
) -> None:
    """panoramisk's FastAGI spins for ever on this (read() at end of file never yields)."""

    async def probe(request: AgiRequest) -> dict[str, str]:
        return {"LD_X": "1"}

    server = await make_server({"probe": probe})
    _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(agi_environment("probe")[:50])
    await writer.drain()
    writer.close()
    await until(lambda: server.outcomes["hangup"] == 1)
    # The loop is free and the server still answers.
    run = await FakeAsterisk(server.port).call(agi_environment("probe"))
    assert run.status == "SUCCESS"


# -- garbage and limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        bytes(range(256)) * 4,
        agi_environment("probe") + b"hello\n",  # a line that is no reply, unasked
    ],
)
async def test_garbage_gets_failure_and_the_connection_ends(
    make_server: MakeServer, garbage: bytes
) -> None:
    async def probe(request: AgiRequest) -> dict[str, str]:
        await asyncio.sleep(1)
        return {}

    server = await make_server({"probe": probe})
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(garbage)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 3)
    assert data.endswith(b"FAILURE\n")
    writer.close()
    assert server.outcomes["protocol-error"] == 1


async def test_an_endless_line_ends_the_connection_at_the_limit(make_server: MakeServer) -> None:
    async def probe(request: AgiRequest) -> dict[str, str]:
        return {}

    server = await make_server({"probe": probe}, max_line_bytes=4096, deadline=5.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"agi_network: yes\nagi_calleridname: ")
    sent = 0
    with pytest.raises((ConnectionError, TimeoutError)):
        async with asyncio.timeout(3):
            while sent < 50_000_000:
                writer.write(b"x" * 65536)
                await writer.drain()
                sent += 65536
                if reader.at_eof() or server.outcomes["protocol-error"]:
                    raise ConnectionError("closed by the server")
    assert server.outcomes == {"protocol-error": 1}
    assert sent < 5_000_000  # cut off early, not after buffering it all
    writer.close()


async def test_too_many_sessions_are_refused_at_once(make_server: MakeServer) -> None:
    release = asyncio.Event()

    async def hold(request: AgiRequest) -> dict[str, str]:
        await release.wait()
        return {"LD_X": "1"}

    server = await make_server({"probe": hold}, max_sessions=2, deadline=5.0)
    held = [
        asyncio.create_task(FakeAsterisk(server.port).call(agi_environment("probe")))
        for _ in range(2)
    ]
    await until(lambda: server.sessions == 2)
    run = await FakeAsterisk(server.port).call(agi_environment("probe"))
    assert (run.status, run.variables) == ("FAILURE", {"LD_AGI_ERROR": "busy"})
    release.set()
    assert [r.status for r in await asyncio.gather(*held)] == ["SUCCESS", "SUCCESS"]


# -- the server's own life -----------------------------------------------------------------


async def test_close_cancels_running_sessions_which_answer_failure(
    make_server: MakeServer,
) -> None:
    cancelled = asyncio.Event()

    async def slow(request: AgiRequest) -> dict[str, str]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {}

    server = await make_server({"probe": slow}, deadline=10.0)
    call = asyncio.create_task(FakeAsterisk(server.port).call(agi_environment("probe")))
    await until(lambda: server.sessions == 1)
    port = server.port
    started = time.monotonic()
    await server.close()
    assert time.monotonic() - started < 0.5
    assert server.sessions == 0 and cancelled.is_set()
    run = await call
    assert run.status == "FAILURE"
    assert server.outcomes == {"closing": 1}
    with pytest.raises(OSError):  # no longer listening
        await asyncio.open_connection("127.0.0.1", port)


async def test_the_server_listens_on_loopback_only_by_default(make_server: MakeServer) -> None:
    assert AgiServerSettings().host == "127.0.0.1"
    assert AgiServerSettings().port == 4573
    server = await make_server({})
    with socket.create_connection(("127.0.0.1", server.port), timeout=1):
        pass
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", server.port), timeout=1).close()


def test_settings_are_checked() -> None:
    for bad in ({"deadline": 0}, {"port": 70000}, {"max_sessions": 0}, {"linger": -1}):
        with pytest.raises(ValueError):
            AgiServerSettings(**bad)  # type: ignore[arg-type]

    async def handler(request: AgiRequest) -> dict[str, str]:
        return {}

    with pytest.raises(ValueError, match="non-empty"):
        AgiServer({"": handler})
