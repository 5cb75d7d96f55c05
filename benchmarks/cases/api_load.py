"""Cases through the real HTTP API: the production app (`server.create_app`,
no Asterisk) on a real TCP port, driven by the load client in another process.

Every case is opened at the 12345 desk and played as the component test
plays one (tests/component/test_cases_flow.py): classify → dispatch → sign →
feed_back → reply → approve_reply → close, each a POST by the user whose
move it is (the 12345 operator, the lead unit). Categories, townships and so
lead units vary over the routing catalogue. Afterwards, off the clock, the
database must hold every case closed with its full timeline, else the run
is invalid.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.cases.databases import bench_settings, make_users
from benchmarks.common import cpu_seconds
from county.case_rules import CaseRules
from county.routing import TOWNSHIP_LEAD
from records.core.lifecycle import CaseState
from records.storage.tables import CaseEvent, CaseRecord
from server import create_app
from web.app_state import ENGINE

ROOT = Path(__file__).resolve().parents[2]
MOVES = ("classify", "dispatch", "sign", "feed_back", "reply", "approve_reply", "close")
# The opening entry and one per move.
EVENTS_PER_CASE = 1 + len(MOVES)


class InvalidRun(RuntimeError):
    """Requests failed or the database does not hold what they must have made."""


@dataclass
class Phase:
    seconds: float
    server_cpu_s: float
    client_cpu_s: float
    machine_busy: float  # share of all cores busy, from /proc/stat
    statements: int  # SQL statements the server executed (see StatementCounter)
    latencies: dict[str, list[float]]

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]


@dataclass
class ApiRun:
    database: str
    cases: int
    workers: int
    create: Phase
    moves: Phase


def plan_cases(rules: CaseRules, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    categories = [c for c in rules.routing.categories if not c.answerable]
    townships = sorted(rules.roster.townships())
    cases = []
    for index in range(count):
        category, township = rng.choice(categories), rng.choice(townships)
        lead = category.by_township.get(township, category.lead) or "urban"
        lead = township if lead == TOWNSHIP_LEAD else lead
        address = f"{rules.roster.units[township].name}某小区{index % 40 + 1}号楼"
        create = {
            "caller_name": rng.choice("王李张刘陈杨赵黄周吴") + "女士",
            "caller_number": f"139{rng.randrange(10**8):08d}",
            "description": f"市民反映{category.name}方面的问题",
        }
        classify = {
            "demand_type": rng.choice(("help", "complaint", "report")),
            "route": "hotline",
            "category": category.code,
            "township": township,
            "address": address,
        }
        reply = {"measures": "现场处置", "result": "已处理完毕", "handler": "张某某"}
        moves = [
            ("classify", "op12345", classify),
            ("dispatch", "op12345", {"lead_unit": lead}),
            ("sign", lead, {}),
            ("feed_back", lead, {"measures": "已安排人员核实"}),
            ("reply", lead, reply),
            ("approve_reply", "op12345", {}),
            ("close", "op12345", {}),
        ]
        cases.append({"user": "op12345", "create": create, "moves": moves})
    return cases


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


async def run_api(
    name: str, db_url: str, rules: CaseRules, cases: int, workers: int, seed: int
) -> ApiRun:
    tokens = await make_users(db_url, rules)
    app = create_app(bench_settings(db_url))
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        planned = plan_cases(rules, workers + cases, seed)
        plan = {
            "base": f"http://{host}:{port}",
            "tokens": tokens,
            "workers": workers,
            "warmup": planned[:workers],
            "cases": planned[workers:],
        }
        result, windows = await _drive(plan, StatementCounter(app[ENGINE]))
        if result["errors"]:
            shown = "; ".join(result["errors"][:3])
            raise InvalidRun(f"{len(result['errors'])} requests failed on {name}: {shown}")
        await _check(app, result["numbers"])
    finally:
        await runner.cleanup()
    phases = [
        Phase(
            seconds=result[key]["seconds"],
            server_cpu_s=windows[key].server_cpu_s,
            client_cpu_s=result[key]["cpu_s"],
            machine_busy=windows[key].machine_busy,
            statements=windows[key].statements,
            latencies=result[key]["latencies"],
        )
        for key in ("create", "moves")
    ]
    return ApiRun(name, cases, workers, phases[0], phases[1])


@dataclass(frozen=True)
class Sample:
    at: float
    cpu_s: float  # this process, all threads
    ticks: tuple[int, int]  # the machine: busy, total
    statements: int  # executed by the app's engine so far


@dataclass(frozen=True)
class Window:
    server_cpu_s: float
    machine_busy: float
    statements: int


class StatementCounter:
    """SQL statements the app's engine executes (not its BEGINs: SQLite's are
    statements, PostgreSQL's are the driver's own; neither is a query)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def counted(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
            if not sql.startswith("BEGIN"):
                self.count += 1


async def _drive(
    plan: dict[str, Any], counter: StatementCounter
) -> tuple[dict[str, Any], dict[str, Window]]:
    """Run the client; meanwhile sample this process's CPU time, the machine's
    busy share and the statements executed, every 50 ms. The client reports
    each phase's wall time; its two timed phases are the last things it does
    before it exits, so the phase windows are laid back from its exit (to
    within the sampling interval)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.cases.client",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    samples: list[Sample] = []
    started = time.perf_counter()

    def take() -> None:
        at = time.perf_counter() - started
        samples.append(Sample(at, cpu_seconds(), machine_ticks(), counter.count))

    async def sample() -> None:
        while True:
            take()
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    try:
        out, _ = await process.communicate(json.dumps(plan).encode())
    finally:
        sampler.cancel()
        if process.returncode is None:  # interrupted: the client goes too
            process.kill()
            await process.wait()
    take()
    if process.returncode != 0:
        raise InvalidRun(f"the load client failed (exit {process.returncode})")
    result: dict[str, Any] = json.loads(out)
    # The timed phases are the last two things the client did before exiting.
    ended = samples[-1].at
    moves_start = ended - result["moves"]["seconds"]
    create_start = moves_start - result["create"]["seconds"]
    windows = {}
    for key, (low, high) in {
        "create": (create_start, moves_start),
        "moves": (moves_start, ended),
    }.items():
        first = min(samples, key=lambda s: abs(s.at - low))
        last = min(samples, key=lambda s: abs(s.at - high))
        total = last.ticks[1] - first.ticks[1]
        windows[key] = Window(
            server_cpu_s=last.cpu_s - first.cpu_s,
            machine_busy=(last.ticks[0] - first.ticks[0]) / total if total else 0.0,
            statements=last.statements - first.statements,
        )
    return result, windows


async def _check(app: web.Application, numbers: list[str]) -> None:
    async with app[ENGINE].connect() as connection:
        closed = await connection.scalar(
            select(func.count())
            .select_from(CaseRecord)
            .where(CaseRecord.number.in_(numbers), CaseRecord.state == CaseState.CLOSED)
        )
        events = await connection.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.case_number.in_(numbers))
        )
    if closed != len(numbers) or events != len(numbers) * EVENTS_PER_CASE:
        raise InvalidRun(
            f"{closed} of {len(numbers)} cases closed, {events} timeline rows "
            f"(expected {len(numbers) * EVENTS_PER_CASE})"
        )


def percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(values: list[float]) -> tuple[float, float, float]:
    """(median, p95, max) in milliseconds."""
    return (
        statistics.median(values) * 1000,
        percentile(values, 0.95) * 1000,
        max(values) * 1000,
    )
