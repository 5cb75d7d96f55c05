"""Linkage notices on the real testbed: how long from a dispatch to the unit's
phone being called, and how many notices a minute go out under the limit on
simultaneous calls, with the server's CPU per notice beside Asterisk's.

    .venv/bin/python -m benchmarks.notices [--single 30] [--burst 30] [--limit 3]

Latency: `--single` urgent dispatches to the city management bureau, one at a
time (each waits for the last notice to be over): from the dispatch's time on
the case timeline to Asterisk creating the unit's channel (CEL CHAN_START of
`ldnt-<notice>-1`; the INVITE leaves within a millisecond of it). Throughput:
`--burst` dispatches at once with `--limit` calls allowed at a time: from the
first dispatch to the last case signed. The unit's phone (SIPp, unit-04)
rings 0.2 s, presses 1 0.5 s after answering and hangs up 1.5 s after
answering. CPU is user + system time: the server runs in this process
(SIPp in child processes, not counted), Asterisk's from /proc. Results go to
benchmarks/notices_RESULTS.md (overwritten).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from ami_client.settings import AmiSettings, Secret
from benchmarks.common import cpu_seconds, machine
from benchmarks.ivr_load import linked, process_cpu_s
from common.vocabulary import Desk, Role
from database.migrate import upgrade
from notify.http import NOTICES
from pbx import sipp, testbed
from records.core.case_file import Actor
from records.core.lifecycle import CaseState, Command
from records.http import CASES
from server import create_app
from startup.settings import DEFAULT_CASE_CONFIG, Settings

RESULTS_MD = Path(__file__).resolve().parent / "notices_RESULTS.md"
TABLE_HEADER = (
    "| notices | limit | signed | wall s | notices/min | most calls at once (CEL) "
    "| server ms/notice | Asterisk ms/notice | server ÷ Asterisk |\n" + "|---" * 9 + "|"
)
DESK = Actor("12345 压测", Role.OPERATOR_12345)
CLASSIFY = {
    "demand_type": "help",
    "route": "hotline",
    "urgency": "urgent",
    "category": "city-appearance",
    "township": "chengguan",
    "address": "城关镇建设路18号",
    "description": "建设路井盖缺失，有行人跌落危险",
}


@dataclass
class Burst:
    notices: int
    limit: int
    wall_s: float
    signed: int
    most_at_once: int
    server_cpu_s: float
    asterisk_cpu_s: float

    @property
    def per_minute(self) -> float:
        return 60 * self.signed / self.wall_s if self.wall_s else 0.0


def case_config(folder: Path, limit: int) -> Path:
    """The shipped case rules with `limit` notice calls at once and no gap."""
    shutil.copytree(DEFAULT_CASE_CONFIG, folder)
    rules = folder / "outbound.yaml"
    text = rules.read_text(encoding="utf-8").replace("retry_gap_s: 5 ", "retry_gap_s: 0 ")
    text = text.replace("max_calls: 3", f"max_calls: {limit}")
    text = text.replace("max_calls_per_trunk: 3", f"max_calls_per_trunk: {limit}")
    rules.write_text(text, encoding="utf-8")
    return folder


async def dispatch(app: web.Application) -> tuple[str, datetime]:
    """An urgent case dispatched to urban; its number and the dispatch's time."""
    cases = app[CASES]
    view = await cases.open_case(DESK, {"desk": Desk.D12345.value, "description": "井盖缺失"})
    number = view.record.number
    await cases.act(number, Command.CLASSIFY, DESK, CLASSIFY)
    _, entry = await cases.act(number, Command.DISPATCH, DESK, {"lead_unit": "urban"})
    return number, entry.at


async def until_signed(app: web.Application, numbers: list[str], within: float) -> int:
    """How many of the cases are signed once no notice is open (or time is up).
    Polls the notice service's memory, not the database: this process's CPU
    is the server's figure."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not app[NOTICES].open_with_tries():
            break
        await asyncio.sleep(0.25)
    states = [(await app[CASES].record(n)).state for n in numbers]
    return sum(1 for s in states if s is CaseState.SIGNED)


def channel_starts(cel_db: Path, since: float) -> dict[str, float]:
    with sqlite3.connect(f"file:{cel_db}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT uniqueid, CAST(eventtime AS REAL) FROM cel WHERE eventtype = 'CHAN_START' "
            "AND uniqueid LIKE 'ldnt-%' AND CAST(eventtime AS REAL) >= ?",
            (since,),
        ).fetchall()
    return {uid: at for uid, at in rows}


def most_at_once(cel_db: Path, since: float) -> int:
    """The most notice calls up at once among those started since `since`
    (a call that started before is not counted, nor its end)."""
    with sqlite3.connect(f"file:{cel_db}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT eventtype, CAST(eventtime AS REAL), uniqueid FROM cel "
            "WHERE uniqueid LIKE 'ldnt-%' AND eventtype IN ('CHAN_START', 'CHAN_END') "
            "AND CAST(eventtime AS REAL) >= ?",
            (since,),
        ).fetchall()
    up: set[str] = set()
    most = 0
    for kind, _, uid in sorted(rows, key=lambda row: row[1]):
        if kind == "CHAN_START":
            up.add(uid)
            most = max(most, len(up))
        else:
            up.discard(uid)
    return most


async def latencies(app: web.Application, cfg: testbed.TestbedConfig, count: int) -> list[float]:
    """Milliseconds from each dispatch to its unit's channel, one at a time."""
    since = time.time() - 1
    dispatched: dict[str, float] = {}
    for _ in range(count):
        number, at = await dispatch(app)
        await until_signed(app, [number], 20)
        [(notice, _)] = [(n, t) for n, t in await app[NOTICES].store.of_case(number)]
        dispatched[f"ldnt-{notice.notice_id}-1"] = at.timestamp()
    starts = channel_starts(cfg.paths.cel_db, since)
    return [1000 * (starts[uid] - at) for uid, at in dispatched.items() if uid in starts]


async def burst(
    app: web.Application, cfg: testbed.TestbedConfig, pid: int, count: int, limit: int
) -> Burst:
    since = time.time() - 1
    server0, asterisk0, wall0 = cpu_seconds(), process_cpu_s(pid), time.monotonic()
    numbers = [(await dispatch(app))[0] for _ in range(count)]
    signed = await until_signed(app, numbers, 30 + 10 * count)
    wall = time.monotonic() - wall0
    return Burst(
        count,
        limit,
        wall,
        signed,
        most_at_once(cfg.paths.cel_db, since),
        cpu_seconds() - server0,
        process_cpu_s(pid) - asterisk0,
    )


async def run(single: int, bursts: int, limit: int) -> int:
    cfg = testbed.TestbedConfig.from_env()
    started_pbx = testbed.running_pid(cfg) is None
    testbed.up(cfg)
    pid = testbed.running_pid(cfg)
    assert pid is not None
    with tempfile.TemporaryDirectory(prefix="liandong-bench-") as tmp:
        work = Path(tmp)
        phone = sipp.start_phone(
            "unit-04",
            work / "sipp",
            ring_ms=200,
            keys="1",
            keys_after_ms=500,
            talk_ms=1500,
            keys_every_call=True,
        )
        try:
            settings = Settings(
                db_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
                ami=AmiSettings(
                    host=cfg.ami_host, port=cfg.ami_port, secret=Secret(testbed.ami_secret(cfg))
                ),
                case_config=case_config(work / "case-config", limit),
                notice_audio_dir=cfg.paths.notice_audio,
                notice_audio_pbx_dir=testbed.NOTICE_AUDIO,
            )
            await upgrade(settings.db_url)
            app = create_app(settings)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                await linked(app)
                ms = await latencies(app, cfg, single)
                print(f"dispatch → unit's channel: {summary(ms)}", flush=True)
                result = await burst(app, cfg, pid, bursts, limit)
                print(burst_line(result), flush=True)
            finally:
                await runner.cleanup()
        finally:
            phone.stop()
            testbed.cli(cfg, "channel request hangup all")
            if started_pbx:
                testbed.down(cfg)
    RESULTS_MD.write_text(report(ms, single, result), encoding="utf-8")
    print(f"written to {RESULTS_MD}")
    return 0 if len(ms) == single and result.signed == result.notices else 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def summary(ms: list[float]) -> str:
    if not ms:
        return "no notice reached Asterisk"
    return (
        f"p50 {statistics.median(ms):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms, "
        f"max {max(ms):.0f} ms over {len(ms)}"
    )


def burst_line(b: Burst) -> str:
    return (
        f"burst of {b.notices} with {b.limit} at once: {b.signed} signed in {b.wall_s:.1f} s "
        f"({b.per_minute:.0f}/min), most calls at once {b.most_at_once}; CPU server "
        f"{b.server_cpu_s:.2f} s ({1000 * b.server_cpu_s / b.notices:.0f} ms/notice), Asterisk "
        f"{b.asterisk_cpu_s:.2f} s ({1000 * b.asterisk_cpu_s / b.notices:.0f} ms/notice)"
    )


def report(ms: list[float], single: int, b: Burst) -> str:
    info = machine(["panoramisk", "aiohttp", "sqlalchemy"])
    ratio = b.server_cpu_s / b.asterisk_cpu_s if b.asterisk_cpu_s else float("inf")
    row = (
        f"| {b.notices} | {b.limit} | {b.signed} | {b.wall_s:.1f} | {b.per_minute:.0f} "
        f"| {b.most_at_once} | {1000 * b.server_cpu_s / b.notices:.0f} "
        f"| {1000 * b.asterisk_cpu_s / b.notices:.0f} | {ratio:.2f} |"
    )
    return f"""# Linkage notices (`python -m benchmarks.notices`)

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on nproc {info["nproc"]}, {info["cpu"]},
Python {info["python"]}, SQLite {info["sqlite"]}; SQLite records; the notices'
words rendered by espeak-ng (as shipped). SIPp runs on the same 2 cores.

**From dispatch to the unit's channel** ({single} urgent dispatches, one at a
time; the case timeline's dispatch time to Asterisk's CEL CHAN_START of the
notice's first call): {summary(ms)}. This includes making the case's words
into speech before the first call (about 0.2 s warm, 0.5 s cold, measured
alone).

**Notices a minute under the limit**: {b.notices} urgent dispatches at once,
{b.limit} notice calls allowed at a time; the phone answers after 0.2 s,
presses 1 after 0.5 s and hangs up 1.5 s after answering.

{TABLE_HEADER}
{row}

Each call lasts about 2.2 s here (0.2 s ringing, 2 s answered), so three
lines allow at most about 82 a minute: the outbox keeps them full. A real
notice is a person listening to 20 s or more: a minute of calls per notice
and line, which is what `max_calls` is to be sized for.

The server's CPU per notice covers opening, classifying and dispatching the
case through the case service (as an operator would), the notice's speech,
its call's records and the signing; Asterisk's covers the call, the prompts
played and the key read.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=30, help="dispatches timed one by one")
    parser.add_argument("--burst", type=int, default=30, help="dispatches at once")
    parser.add_argument("--limit", type=int, default=3, help="notice calls at a time")
    args = parser.parse_args()
    try:
        return asyncio.run(run(args.single, args.burst, args.limit))
    except (testbed.TestbedError, sipp.SippError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
