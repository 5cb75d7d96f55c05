"""A real `liandong serve` (or a program that starts one) as a child process,
for tests that stop it with real signals: its environment, its health, its
records in SQLite afterwards."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from ami_client import AmiMessage
from tests.component.conftest import expected_legs, iso_ms
from tests.fakes.fake_ami import FakeAmiServer

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(fake: FakeAmiServer, db: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        # This checkout's code, whatever the virtualenv's editable install points at.
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "LIANDONG_DB_URL": f"sqlite+aiosqlite:///{db}",
        "LIANDONG_HTTP_PORT": str(port),
        "LIANDONG_AMI_HOST": fake.host,
        "LIANDONG_AMI_PORT": str(fake.port),
        "LIANDONG_AMI_SECRET": fake.secret,
    }


@dataclass
class Child:
    """The process under test, in its own process group like a foreground job."""

    process: asyncio.subprocess.Process
    port: int

    @classmethod
    async def start(cls, argv: list[str], env: dict[str, str], port: int) -> Child:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        return cls(process, port)

    async def health(self) -> dict[str, Any] | None:
        url = f"http://127.0.0.1:{self.port}/api/v1/health"
        try:
            async with aiohttp.ClientSession() as http, http.get(url) as resp:
                body: dict[str, Any] = await resp.json()
                return body
        except aiohttp.ClientError:
            return None

    async def health_where(
        self, check: Callable[[dict[str, Any]], bool], what: str, within: float = 30.0
    ) -> None:
        deadline = asyncio.get_running_loop().time() + within
        body = None
        while asyncio.get_running_loop().time() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"it exited ({self.process.returncode})")
            body = await self.health()
            if body is not None and check(body):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; last health {body}")

    def signal(self, signum: signal.Signals) -> None:
        # To the whole process group, as a terminal sends Ctrl-C.
        os.killpg(self.process.pid, signum)

    async def exit(self) -> tuple[int, str, str]:
        """Exit status, stdout and stderr, once it has exited by itself."""
        out, err = await asyncio.wait_for(self.process.communicate(), STOP_WITHIN_S)
        return await self.process.wait(), out.decode(), err.decode()

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.signal(signal.SIGKILL)
            await self.process.wait()


@contextmanager
def write_lock(db: Path) -> Iterator[None]:
    """Hold SQLite's write lock, as a slow disk or a long report would: the
    server's record writes wait behind it."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def stored_legs(db: Path) -> dict[str, tuple[str | None, int | None]]:
    """uniqueid → (ended_at as the API prints it, hangup cause), from the database."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT uniqueid, ended_at, hangup_cause FROM legs").fetchall()
    conn.close()
    return {
        uid: (iso_ms(datetime.fromisoformat(ended).replace(tzinfo=UTC)) if ended else None, cause)
        for uid, ended, cause in rows
    }


def stored_case_calls(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT call_id FROM case_calls").fetchall()
    conn.close()
    return [call_id for (call_id,) in rows]


def assert_trace_stored(db: Path, messages: list[AmiMessage]) -> None:
    """Every leg of the trace is in the database as it ended: nothing lost."""
    legs = expected_legs(messages)
    assert stored_legs(db) == {
        uid: (leg["ended_at"], leg["hangup_cause"]) for uid, leg in legs.items()
    }


def assert_stopped_cleanly(status: int, output: str) -> None:
    """Exit 0, no traceback or cancellation noise, exactly one 'stopped'."""
    assert status == 0, output
    for noise in ("Traceback", "CancelledError", "CleanupError"):
        assert noise not in output, output
    stopped = [line for line in output.splitlines() if line.endswith("liandong: stopped")]
    assert len(stopped) == 1, output
