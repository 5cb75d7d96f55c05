"""Stopping `liandong serve` with a signal, as a terminal's Ctrl-C or a service
manager does: a real process, real signals, its exit status, its log and the
records it left in the database.

The signal is sent while record writes are pending (the test holds SQLite's
write lock) and the lock is released only after it: a stop that does not
flush loses the calls.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.component.conftest import trace, wire
from tests.component.serve_kit import (
    Child,
    assert_stopped_cleanly,
    assert_trace_stored,
    free_port,
    server_env,
    stored_case_calls,
    write_lock,
)
from tests.fakes.fake_ami import FakeAmiServer

TRACE = trace("answered_110")


def liandong_command() -> list[str]:
    """The installed `liandong` script when there is one (what users run)."""
    script = Path(sys.executable).parent / "liandong"
    return [str(script)] if script.exists() else [sys.executable, "-m", "server"]


@pytest.mark.parametrize(
    "signals",
    [
        [signal.SIGINT],
        [signal.SIGTERM],
        [signal.SIGINT, signal.SIGINT],
        [signal.SIGTERM, signal.SIGINT],
    ],
    ids=["SIGINT", "SIGTERM", "SIGINT-twice", "SIGTERM-then-SIGINT"],
)
async def test_a_signal_stops_the_server_cleanly_with_every_record_written(
    fake_ami: FakeAmiServer, tmp_path: Path, signals: list[signal.Signals]
) -> None:
    db, port = tmp_path / "liandong.db", free_port()
    server = await Child.start([*liandong_command(), "serve"], server_env(fake_ami, db, port), port)
    try:
        await server.health_where(lambda h: h["ok"], "the server up and linked to the fake AMI")
        with write_lock(db):
            fake_ami.push_bytes(wire(TRACE))
            await server.health_where(
                lambda h: h["ami"]["backlog"] == 0 and h["database"]["pending_writes"] > 0,
                "the trace applied, its records waiting to be written",
            )
            for signum in signals:
                server.signal(signum)
                await asyncio.sleep(0.3)  # the second one arrives while it is stopping
            await asyncio.sleep(1.0)
            assert server.process.returncode is None, "stopped before writing its records"
        status, _, stderr = await server.exit()
    finally:
        await server.kill()

    # Every leg of the trace as it ended, and the call's case (the case
    # worker's write): nothing lost.
    assert_trace_stored(db, TRACE)
    assert stored_case_calls(db) == [TRACE[0]["Linkedid"]]
    assert_stopped_cleanly(status, stderr)
    lines = stderr.splitlines()
    if len(signals) > 1:
        assert any("already stopping; pending writes still being flushed" in x for x in lines)


async def test_an_open_live_feed_does_not_hold_the_stop_up(
    fake_ami: FakeAmiServer, tmp_path: Path
) -> None:
    """The browser's live feed is told the server is going (1001) at once,
    rather than the stop waiting out the sockets' grace."""
    db, port = tmp_path / "liandong.db", free_port()
    env = server_env(fake_ami, db, port)
    server = await Child.start([*liandong_command(), "serve"], env, port)
    try:
        await server.health_where(lambda h: h["ok"], "the server up and linked to the fake AMI")
        argv = [*liandong_command(), "token", "create", "--role", "admin", "--name", "值班长"]
        made = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, _ = await made.communicate()
        token = out.decode().split()[-1]
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(
                f"http://127.0.0.1:{port}/api/v1/live", headers={"Authorization": f"Bearer {token}"}
            ) as ws,
        ):
            hello = await ws.receive_json(timeout=5)
            assert hello["type"] == "hello"
            asked = time.monotonic()
            server.signal(signal.SIGTERM)
            closing = await ws.receive(timeout=5)
            assert (closing.type, ws.close_code) in {
                (aiohttp.WSMsgType.CLOSE, 1001),
                (aiohttp.WSMsgType.CLOSED, 1001),
            }, (closing, ws.close_code)
        status, _, stderr = await server.exit()
        assert time.monotonic() - asked < 3, "the stop waited for the live socket"
    finally:
        await server.kill()
    assert status == 0, stderr
