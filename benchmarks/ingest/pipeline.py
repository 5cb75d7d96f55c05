"""One full-pipeline run: loopback AMI server → the real app (create_app) → database.

The app is the production one, `server.create_app(Settings(...))`, started with
`aiohttp.web.AppRunner` (its cleanup contexts run: migrations, record writer,
call model, ingest consumer, AMI client); no HTTP site is opened because no
HTTP request is needed. Once the AMI link is up and reconciled (and FullyBooted
applied), the clock starts, the loopback server writes the whole trace body in
one write, and the clock stops when every resulting domain event is committed:

1. a ``Ping`` sent right after the body is answered behind it on the same
   socket, so its reply means every event was read and handed to the sink;
2. ``ingest.drained()``: every event applied by the call model;
3. ``writer.flush()``: every domain event committed.

Then, off the clock, the legs table is counted; a count other than expected
makes the run invalid.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ami_client import AmiSettings, Secret
from benchmarks.ingest.loopback import SECRET, USERNAME, LoopbackAmi
from benchmarks.ingest.trace import Trace
from server import create_app
from startup.settings import Settings
from telephony.http import INGEST
from web.app_state import ENGINE

READY_WITHIN_S = 30.0
RUN_WITHIN_S = 600.0


class InvalidRun(RuntimeError):
    """The pipeline did not persist what the trace must produce: no figure may be reported."""


@dataclass(frozen=True)
class PipelineRun:
    seconds: float  # first byte written → every domain event committed
    read_s: float  # … → every event read and handed to the sink (the Ping reply)
    applied_s: float  # … → every event applied by the call model
    committed_when_applied: int  # domain events already committed at applied_s
    legs: int
    legs_ended: int
    domain_events: int
    batches_retried: int

    def rate(self, events: int) -> float:
        return events / self.seconds


async def run_pipeline(
    trace: Trace, db_url: str, profiler: cProfile.Profile | None = None
) -> PipelineRun:
    """One run on a fresh database; `profiler`, if given, is on while the clock runs."""
    server = LoopbackAmi(trace)
    await server.start()
    settings = Settings(
        db_url=db_url,
        ami=AmiSettings(
            host="127.0.0.1",
            port=server.port,
            username=USERNAME,
            secret=Secret(SECRET),
            # The watchdog must not fire while the loop is busy with the burst.
            ping_interval=3600.0,
            ping_timeout=600.0,
            action_timeout=RUN_WITHIN_S,
        ),
        http_port=0,
    )
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        ingest = app[INGEST]
        client = ingest.client
        if client is None:
            raise InvalidRun("the app did not start an AMI client")
        await _until(
            lambda: (
                ingest.status.reconciled_at is not None
                and ingest.status.asterisk_uptime_s is not None
            ),
            "AMI link up, FullyBooted applied and reconciled",
        )
        await ingest.drained()
        await ingest.writer.flush()
        engine = app[ENGINE]
        before = await _count_legs(engine)
        if before != (0, 0):
            raise InvalidRun(f"the fresh database already holds {before[0]} legs")
        committed_before = ingest.writer.stats.committed
        dispatched_before = client.stats.events_dispatched

        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        server.write_body()
        await client.send_action({"Action": "Ping"}, timeout=RUN_WITHIN_S)
        read = time.perf_counter()
        await ingest.drained()
        applied = time.perf_counter()
        committed_when_applied = ingest.writer.stats.committed - committed_before
        await ingest.writer.flush(timeout=RUN_WITHIN_S)
        finished = time.perf_counter()
        if profiler is not None:
            profiler.disable()

        dispatched = client.stats.events_dispatched - dispatched_before
        stats = ingest.writer.stats
        legs, ended = await _count_legs(engine)
        problems = []
        if dispatched != trace.events:
            problems.append(f"{dispatched} AMI events reached the pipeline, not {trace.events}")
        if client.stats.frames_skipped:
            problems.append(f"{client.stats.frames_skipped} AMI messages skipped as malformed")
        if legs != trace.legs:
            problems.append(f"{legs} legs in the database, expected {trace.legs}")
        if ended != trace.legs:
            problems.append(f"{ended} legs ended in the database, expected {trace.legs}")
        if stats.skipped:
            problems.append(f"the writer skipped {stats.skipped} events")
        if problems:
            raise InvalidRun("; ".join(problems))
        return PipelineRun(
            seconds=finished - started,
            read_s=read - started,
            applied_s=applied - started,
            committed_when_applied=committed_when_applied,
            legs=legs,
            legs_ended=ended,
            domain_events=stats.committed - committed_before,
            batches_retried=stats.retries,
        )
    finally:
        await runner.cleanup()
        await server.stop()


async def _until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while not predicate():
        if time.monotonic() > deadline:
            raise InvalidRun(f"not ready within {READY_WITHIN_S}s: {what}")
        await asyncio.sleep(0.01)


async def _count_legs(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT count(*), count(ended_at) FROM legs")  # every leg, ended legs
            )
        ).one()
    return int(row[0]), int(row[1])


# ---------------------------------------------------------------- databases


class PostgresUnavailable(RuntimeError):
    pass


@contextlib.asynccontextmanager
async def postgres_database(server_url: str) -> AsyncIterator[str]:
    """A fresh, empty database on the server at `server_url` (its own database is
    only used to create and drop it), dropped afterwards."""
    import asyncpg  # type: ignore[import-untyped]

    url = make_url(server_url)
    admin = url.set(drivername="postgresql", database=url.database or "postgres")
    admin_dsn = admin.render_as_string(hide_password=False)
    name = f"liandong_bench_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        connection = await asyncpg.connect(admin_dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise PostgresUnavailable(f"{type(exc).__name__}: {exc}") from exc
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield url.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        connection = await asyncpg.connect(admin_dsn, timeout=5)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
