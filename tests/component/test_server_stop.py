"""Stopping `liandong serve` with a signal, as a terminal's Ctrl-C or a service
manager does: a real process, real signals, its exit status, its log and the
records it left in the database.

The signal is sent while record writes are pending (the test holds SQLite's
write lock, as a slow disk or a long report query would), and released only
after the signal: a stop that does not flush loses the calls.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.component.conftest import expected_legs, iso_ms, trace, wire
from tests.fakes.fake_ami import FakeAmiServer

ROOT = Path(__file__).resolve().parents[2]
TRACE = trace("answered_110")
STOP_WITHIN_S = 60.0


@dataclass
class Served:
    process: asyncio.subprocess.Process
    port: int
    db: Path

    async def health(self) -> dict[str, Any] | None:
        url = f"http://127.0.0.1:{self.port}/api/v1/health"
        try:
            async with aiohttp.ClientSession() as http, http.get(url) as resp:
                body: dict[str, Any] = await resp.json()
                return body
        except aiohttp.ClientError:
            return None

    async def health_where(self, check: Any, what: str, within: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        body = None
        while asyncio.get_running_loop().time() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"the server exited ({self.process.returncode})")
            body = await self.health()
            if body is not None and check(body):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; last health {body}")

    def signal(self, signum: signal.Signals) -> None:
        # To the whole process group, as a terminal sends Ctrl-C.
        os.killpg(self.process.pid, signum)

    async def exit(self) -> tuple[int, str]:
        assert self.process.stderr is not None
        stderr = await asyncio.wait_for(self.process.stderr.read(), STOP_WITHIN_S)
        return await self.process.wait(), stderr.decode()


def liandong_command() -> list[str]:
    """The installed `liandong` script when there is one (what users run)."""
    script = Path(sys.executable).parent / "liandong"
    return [str(script)] if script.exists() else [sys.executable, "-m", "server"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def serve(fake: FakeAmiServer, db: Path) -> Served:
    port = free_port()
    env = {
        **os.environ,
        # This checkout's code, whatever the virtualenv's editable install points at.
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "LIANDONG_DB_URL": f"sqlite+aiosqlite:///{db}",
        "LIANDONG_HTTP_PORT": str(port),
        "LIANDONG_AMI_HOST": fake.host,
        "LIANDONG_AMI_PORT": str(fake.port),
        "LIANDONG_AMI_SECRET": fake.secret,
    }
    process = await asyncio.create_subprocess_exec(
        *liandong_command(),
        "serve",
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, like a foreground job
    )
    return Served(process, port, db)


@contextmanager
def write_lock(db: Path) -> Iterator[None]:
    """Hold SQLite's write lock: the server's writes wait behind it."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def stored_legs(db: Path) -> dict[str, tuple[str | None, int | None]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT uniqueid, ended_at, hangup_cause FROM legs").fetchall()
    conn.close()
    return {
        uid: (iso_ms(datetime.fromisoformat(ended).replace(tzinfo=UTC)) if ended else None, cause)
        for uid, ended, cause in rows
    }


def stored_cases(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT call_id FROM case_calls").fetchall()
    conn.close()
    return [call_id for (call_id,) in rows]


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
    db = tmp_path / "liandong.db"
    server = await serve(fake_ami, db)
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
        status, stderr = await server.exit()
    finally:
        if server.process.returncode is None:
            server.process.kill()
            await server.process.wait()

    # Every leg of the trace, as it ended, and the call's case (the case
    # worker's write): nothing lost.
    legs = expected_legs(TRACE)
    assert stored_legs(db) == {
        uid: (leg["ended_at"], leg["hangup_cause"]) for uid, leg in legs.items()
    }
    assert stored_cases(db) == [TRACE[0]["Linkedid"]]
    assert status == 0, stderr
    for noise in ("Traceback", "CancelledError", "CleanupError"):
        assert noise not in stderr, stderr
    lines = stderr.splitlines()
    assert [line for line in lines if line.endswith("liandong: stopped")], stderr
    if len(signals) > 1:
        assert any("already stopping; pending writes still being flushed" in x for x in lines)
