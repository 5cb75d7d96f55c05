"""Ctrl-C of `make demo`: the terminal sends SIGINT to the demo (and SIPp,
make…), the demo stops its server, which writes its last records. Driven here
through pbx.demo.run, the demo without Asterisk: the environment points the
server at the fake AMI, and there are no calls to show but a trace's."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.component.conftest import trace, wire
from tests.component.serve_kit import (
    Child,
    assert_stopped_cleanly,
    assert_trace_stored,
    free_port,
    server_env,
    write_lock,
)
from tests.fakes.fake_ami import FakeAmiServer

TRACE = trace("busy_110")

# pbx.demo.main without the testbed: the same run(), a server_env of its own.
DEMO = """
import os, sys
from pbx import demo
status = demo.run(lambda: dict(os.environ), lambda env: print("shown", flush=True),
                  keep_running=True)
print("demo status", status)
sys.exit(status)
"""


@pytest.mark.parametrize("presses", [1, 2], ids=["Ctrl-C", "Ctrl-C-twice"])
async def test_ctrl_c_stops_the_demo_and_its_server_with_every_record_written(
    fake_ami: FakeAmiServer, tmp_path: Path, presses: int
) -> None:
    db, port = tmp_path / "demo.db", free_port()
    demo = await Child.start([sys.executable, "-c", DEMO], server_env(fake_ami, db, port), port)
    try:
        await demo.health_where(lambda h: h["ok"], "the demo's server up")
        with write_lock(db):
            fake_ami.push_bytes(wire(TRACE))
            await demo.health_where(
                lambda h: h["ami"]["backlog"] == 0 and h["database"]["pending_writes"] > 0,
                "the trace applied, its records waiting to be written",
            )
            for _ in range(presses):
                demo.signal(signal.SIGINT)
                await asyncio.sleep(0.3)
            await asyncio.sleep(1.0)
            assert demo.process.returncode is None, "stopped before its server wrote the records"
        status, stdout, stderr = await demo.exit()
    finally:
        await demo.kill()

    assert_trace_stored(db, TRACE)
    # The server got one signal, from the demo: one stop, no "already stopping" from it.
    assert_stopped_cleanly(status, stdout + stderr)
    assert "demo status 0" in stdout
    assert "Interrupted" not in stdout + stderr
    assert "pending writes still being flushed" not in stderr
    if presses > 1:
        assert "already stopping; the server is writing its last records" in stderr
    assert await demo.health() is None, "the server is still up after the demo ended"


async def test_a_demo_killed_outright_takes_its_server_down_with_every_record_written(
    fake_ami: FakeAmiServer, tmp_path: Path
) -> None:
    """The demo dies without stopping its server (kill -9, its terminal's pipe
    gone): the server, in its own session, must not live on alone."""
    db, port = tmp_path / "demo.db", free_port()
    demo = await Child.start([sys.executable, "-c", DEMO], server_env(fake_ami, db, port), port)
    try:
        await demo.health_where(lambda h: h["ok"], "the demo's server up")
        fake_ami.push_bytes(wire(TRACE))
        await demo.health_where(lambda h: h["ami"]["backlog"] == 0, "the trace applied")
        demo.process.kill()  # the demo alone: its server is in a session of its own
        deadline = asyncio.get_running_loop().time() + 10
        while servers_of(db):  # gone, not only deaf: its last writes done
            if asyncio.get_running_loop().time() > deadline:
                for pid in servers_of(db):
                    os.kill(pid, signal.SIGKILL)
                pytest.fail("the server outlived its demo")
            await asyncio.sleep(0.2)
    finally:
        await demo.kill()
    assert_trace_stored(db, TRACE)


def servers_of(db: Path) -> list[int]:
    """This test's server processes still alive (found by the database in their
    environment; the demo is gone, so they cannot be reached through it)."""
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError):
            stat = (environ.parent / "stat").read_text()
            if str(db).encode() in environ.read_bytes() and ") Z " not in stat:
                pids.append(int(environ.parent.name))
    return pids
