"""12345 menu load: citizens walking the voice menu into the desk's queue at
rising rates, on the real testbed, with the server's CPU beside Asterisk's in
the same run.

    .venv/bin/python -m benchmarks.ivr_load [--rates 2,4,8] [--seconds 20]

Each step places `rate × seconds` SIPp citizens on the 12345 trunk at `rate`
calls per second. Each hears the greeting, presses 1 (咨询, RFC 4733) during
the main menu, joins the 12345 queue (nobody logged in: they wait) and hangs
up ~4 s later. A step holds when every call was answered by the menu and the
server recorded, for every call, its leg, its menu choice and its wait
(abandoned in the queue); otherwise the run says what was missing. CPU is
user + system time: the server's is this process (the server runs in it;
SIPp runs in child processes, not counted), Asterisk's from /proc. The aim
(from the issue): the server at most a quarter of Asterisk's CPU. Results go
to benchmarks/ivr_load_RESULTS.md (overwritten).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select

from ami_client.settings import AmiSettings, Secret
from benchmarks.common import cpu_seconds, machine
from database.migrate import upgrade
from ivr_flows.storage.tables import MenuStepRecord, QueueWait
from pbx import sipp, testbed
from server import create_app
from startup.settings import Settings
from telephony.http import INGEST
from telephony.storage.tables import Leg
from web.app_state import SESSIONS

RESULTS_MD = Path(__file__).resolve().parent / "ivr_load_RESULTS.md"
KEYS = "." * 8 + "1"  # the greeting lasts ~7 s; 1 during the main menu
TALK_MS = 13_000  # from the menu's answer: greeting, key, ~4 s in the queue
CPU_AIM = 0.25
TICKS = os.sysconf("SC_CLK_TCK")
HEADER = (
    "| calls/s | calls | answered by the menu | legs kept | choices kept | waits kept | held "
    "| server ms/call | Asterisk ms/call | server ÷ Asterisk |\n" + "|---" * 10 + "|"
)


@dataclass
class Step:
    rate: float
    calls: int
    answered: int
    legs: int
    hints: int
    waits: int
    server_cpu_s: float
    asterisk_cpu_s: float
    wall_s: float

    @property
    def held(self) -> bool:
        return self.calls == self.answered == self.legs == self.hints == self.waits

    @property
    def ratio(self) -> float:
        return self.server_cpu_s / self.asterisk_cpu_s if self.asterisk_cpu_s else float("inf")


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


async def recorded(app: web.Application, prefix: str) -> tuple[int, int, int]:
    """Of the calls from numbers `prefix`…: legs kept, menu choices, queue waits."""
    async with app[SESSIONS]() as session:
        calls = select(Leg.call_id).where(
            Leg.caller_number.like(f"{prefix}%"), Leg.trunk.is_not(None)
        )
        legs = await session.scalar(select(func.count()).select_from(calls.subquery()))
        hints = await session.scalar(
            select(func.count(func.distinct(MenuStepRecord.call_id))).where(
                MenuStepRecord.call_id.in_(calls), MenuStepRecord.mark == "hint=enquiry"
            )
        )
        waits = await session.scalar(
            select(func.count(func.distinct(QueueWait.call_id))).where(
                QueueWait.call_id.in_(calls), QueueWait.outcome == "abandoned"
            )
        )
    return legs or 0, hints or 0, waits or 0


async def one_step(
    app: web.Application,
    cfg: testbed.TestbedConfig,
    pid: int,
    rate: float,
    seconds: int,
    work: Path,
) -> Step:
    prefix = f"139{int(rate * 10):03d}"
    calls = max(1, round(rate * seconds))
    server0, asterisk0, wall0 = cpu_seconds(), process_cpu_s(pid), time.monotonic()
    result = await asyncio.to_thread(
        sipp.call,
        "12345",
        work / prefix,
        number_prefix=prefix,
        calls=calls,
        rate=rate,
        talk_ms=TALK_MS,
        keys=KEYS,
        timeout=seconds + 120,
    )
    # Every record written: the ingest drained and the desks' records saved.
    deadline = time.monotonic() + 30
    counts = await recorded(app, prefix)
    while time.monotonic() < deadline and min(counts) < calls:
        await asyncio.sleep(0.5)
        counts = await recorded(app, prefix)
    step = Step(
        rate,
        calls,
        sum(1 for o in result.outcomes.values() if o == "answered"),
        *counts,
        server_cpu_s=cpu_seconds() - server0,
        asterisk_cpu_s=process_cpu_s(pid) - asterisk0,
        wall_s=time.monotonic() - wall0,
    )
    testbed.cli(cfg, "channel request hangup all")
    return step


async def linked(app: web.Application) -> None:
    """Until the server has reconciled with Asterisk (15 s at most)."""
    deadline = time.monotonic() + 15
    while app[INGEST].status.reconciled_at is None:
        if time.monotonic() > deadline:
            raise testbed.TestbedError("the server did not reconcile with the testbed's AMI")
        await asyncio.sleep(0.1)


async def run(rates: list[float], seconds: int) -> int:
    cfg = testbed.TestbedConfig.from_env()
    started_pbx = testbed.running_pid(cfg) is None
    testbed.up(cfg)
    pid = testbed.running_pid(cfg)
    assert pid is not None
    steps: list[Step] = []
    try:
        testbed.cli(cfg, "dialplan set global MENU_12345 ivr-12345")
        testbed.cli(cfg, "dialplan set global DESK_12345_CALLBACK_AFTER_S 0")
        for phone in ("op12345-1", "op12345-2"):  # nobody answers: callers wait, then leave
            testbed.cli(cfg, f"queue remove member PJSIP/{phone} from desk-12345")
        with tempfile.TemporaryDirectory(prefix="liandong-bench-") as tmp:
            settings = Settings(
                db_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
                ami=AmiSettings(
                    host=cfg.ami_host, port=cfg.ami_port, secret=Secret(testbed.ami_secret(cfg))
                ),
            )
            await upgrade(settings.db_url)
            app = create_app(settings)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                await linked(app)
                for rate in rates:
                    step = await one_step(app, cfg, pid, rate, seconds, Path(tmp))
                    steps.append(step)
                    print(line(step), flush=True)
            finally:
                await runner.cleanup()
    finally:
        testbed.cli(cfg, "dialplan set global MENU_12345 off")
        testbed.staff_desks(cfg)
        if started_pbx:
            testbed.down(cfg)
    RESULTS_MD.write_text(report(steps, seconds), encoding="utf-8")
    print(f"written to {RESULTS_MD}")
    return 0 if steps and steps[0].held else 1


def line(s: Step) -> str:
    return (
        f"{s.rate:>5.1f}/s {s.calls:>4} calls: answered {s.answered}, legs {s.legs}, "
        f"choices {s.hints}, waits {s.waits} — {'held' if s.held else 'NOT held'}; "
        f"CPU server {s.server_cpu_s:.1f} s ({1000 * s.server_cpu_s / s.calls:.1f} ms/call), "
        f"Asterisk {s.asterisk_cpu_s:.1f} s ({1000 * s.asterisk_cpu_s / s.calls:.1f} ms/call), "
        f"ratio {s.ratio:.2f}"
    )


def report(steps: list[Step], seconds: int) -> str:
    held = [s for s in steps if s.held]
    best = max((s.rate for s in held), default=None)
    best_under_aim = max((s.rate for s in held if s.ratio <= CPU_AIM), default=None)
    under_aim = best_under_aim if best_under_aim is not None else "none"
    rows = "\n".join(
        f"| {s.rate:.1f} | {s.calls} | {s.answered} | {s.legs} | {s.hints} | {s.waits} | "
        f"{'yes' if s.held else '**no**'} | {1000 * s.server_cpu_s / s.calls:.1f} | "
        f"{1000 * s.asterisk_cpu_s / s.calls:.1f} | {s.ratio:.2f} |"
        for s in steps
    )
    info = machine(["panoramisk", "aiohttp", "sqlalchemy"])
    return f"""# 12345 menu load (`python -m benchmarks.ivr_load`)

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on nproc {info["nproc"]}, {info["cpu"]},
Python {info["python"]}, SQLite {info["sqlite"]}; {seconds} s per step; SQLite records.
Citizens walk the menu (greeting, 1 pressed as RFC 4733), join the 12345
queue and leave it ~4 s later (nobody logged in). SIPp runs on the same 2
cores as Asterisk and the server.

{HEADER}
{rows}

Highest rate held (every call answered and every leg, choice and wait
recorded): **{best if best is not None else "none"}/s**; the highest held with
the server at most {CPU_AIM:.2f}× Asterisk's CPU: **{under_aim}/s**.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="1,2,4,6,8", help="calls per second, comma-separated")
    parser.add_argument("--seconds", type=int, default=20, help="seconds of calls per step")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]
    try:
        return asyncio.run(run(rates, args.seconds))
    except (testbed.TestbedError, sipp.SippError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
