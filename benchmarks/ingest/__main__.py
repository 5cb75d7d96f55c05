"""Ingest benchmark: the full pipeline against panoramisk's raw parse of the same bytes.

    .venv/bin/python -m benchmarks.ingest [--calls N] [--pg-url URL] [--json out.json]

1. Builds the trace (benchmarks/ingest/trace.py says exactly how): the recorded
   testbed traces replicated into distinct calls, ~50,000 AMI events by default.
2. Raw parse: the same bytes, in 64 KiB chunks, through panoramisk 1.4's
   ``AMIProtocol.data_received`` (a factory whose ``dispatch`` only counts),
   and through our ``AmiFramer``, for context.
3. Full pipeline (benchmarks/ingest/pipeline.py): a loopback AMI server writes
   the body at once into the real app (``create_app``), timed from the first
   byte written until every leg is committed; on SQLite (a file in a temporary
   directory) and on PostgreSQL (a fresh temporary database, dropped after).

Each measurement is repeated (``--repeat``, default 3); the median is reported.
The aim (from the issue): the full pipeline at >= 50 % of the raw parse rate.
Figures are printed and written to benchmarks/ingest/RESULTS.md (overwritten).
A run whose database does not hold exactly the expected legs is invalid: it
says so and exits non-zero. ``--profile`` adds one cProfile'd SQLite run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import pstats
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import machine, sqlite_database
from benchmarks.ingest.parse import CHUNK_BYTES, chunked, framer_parse, panoramisk_parse
from benchmarks.ingest.pipeline import (
    InvalidRun,
    PostgresUnavailable,
    postgres_database,
    run_pipeline,
)
from benchmarks.ingest.trace import Trace, build_trace

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
AIM = 0.50
PACKAGES = ("panoramisk", "SQLAlchemy", "aiosqlite", "asyncpg", "aiohttp")


@dataclass
class Measurement:
    name: str
    rates: list[float] = field(default_factory=list)  # events/s per repetition
    seconds: list[float] = field(default_factory=list)
    legs: int | None = None
    note: str = ""
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.rates) if self.rates else None

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ingest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--calls", type=int, default=None, help="calls in the trace (default: ~50,000 events)"
    )
    parser.add_argument(
        "--events", type=int, default=50_000, help="events in the trace when --calls is not given"
    )
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help="PostgreSQL server to create the temporary database on ('' to skip PostgreSQL)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per measurement")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--profile", action="store_true", help="add one cProfile'd SQLite pipeline run"
    )
    parser.add_argument("--no-results-md", action="store_true", help="do not overwrite RESULTS.md")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def measure_parsers(trace: Trace, chunks: list[bytes], raw: Measurement, ours: Measurement) -> None:
    for measurement, parse in ((raw, panoramisk_parse), (ours, framer_parse)):
        count, seconds = parse(chunks)
        if count != trace.events:
            raise InvalidRun(f"{measurement.name} counted {count} events, not {trace.events}")
        measurement.rates.append(count / seconds)
        measurement.seconds.append(seconds)


async def measure_pipeline(trace: Trace, measurement: Measurement, url: str) -> None:
    run = await run_pipeline(trace, url)
    measurement.rates.append(run.rate(trace.events))
    measurement.seconds.append(run.seconds)
    measurement.legs = run.legs
    measurement.runs.append(asdict(run))
    print(
        f"  {measurement.name}: {run.rate(trace.events):,.0f} events/s in {run.seconds:.2f}s "
        f"(all read and applied at {run.applied_s:.2f}s, when {run.committed_when_applied:,} of "
        f"{run.domain_events:,} domain events were committed; {run.legs:,} legs)",
        flush=True,
    )


async def measure_all(
    trace: Trace, args: argparse.Namespace, tmp: str
) -> tuple[Measurement, Measurement, list[Measurement]]:
    """Every measurement once per repetition, interleaved, so that a change in the
    machine's load during the run shows in every row rather than in one."""
    chunks = chunked(trace.body)
    raw = Measurement("panoramisk raw parse")
    ours = Measurement("ami_client AmiFramer")
    sqlite = Measurement("full pipeline, SQLite")
    postgres = Measurement("full pipeline, PostgreSQL")
    if not args.pg_url:
        postgres.note = "skipped (--pg-url '')"
    for repetition in range(1, args.repeat + 1):
        print(f"repetition {repetition}/{args.repeat}", flush=True)
        measure_parsers(trace, chunks, raw, ours)
        print(
            f"  raw parse: panoramisk {raw.rates[-1]:,.0f} events/s, "
            f"AmiFramer {ours.rates[-1]:,.0f} events/s",
            flush=True,
        )
        async with sqlite_database(tmp, "ingest") as url:
            await measure_pipeline(trace, sqlite, url)
        if args.pg_url and not postgres.note:
            try:
                async with postgres_database(args.pg_url) as url:
                    await measure_pipeline(trace, postgres, url)
            except PostgresUnavailable as exc:
                postgres.note = "PostgreSQL unreachable"
                print(
                    f"\n*** PostgreSQL at {args.pg_url} is unreachable ({exc}); "
                    "continuing with SQLite only. ***\n",
                    flush=True,
                )
    return raw, ours, [sqlite, postgres]


async def profile_pipeline(trace: Trace, tmp: str) -> str:
    """One more SQLite run with cProfile on while the clock runs (main thread only:
    the SQLite driver's own thread is not seen; cProfile slows Python code down)."""
    profiler = cProfile.Profile()
    async with sqlite_database(tmp, "ingest") as url:
        run = await run_pipeline(trace, url, profiler)
    out = io.StringIO()
    out.write(f"cProfile of one SQLite run ({run.seconds:.2f}s on the clock under cProfile)\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(10)
    return out.getvalue()


def table(trace: Trace, raw: Measurement, rows: list[Measurement], markdown: bool = False) -> str:
    headers = ("measurement", "events/s", "vs raw parse", "elapsed s", "legs persisted")
    base = raw.median or 0.0
    lines: list[tuple[str, ...]] = []
    for m in [raw, *rows]:
        if m.median is None:
            lines.append((m.name, "-", "-", "-", m.note or "-"))
            continue
        ratio = f"{m.median / base:.0%}" if base else "-"
        legs = f"{m.legs:,} / {trace.legs:,}" if m.legs is not None else "-"
        seconds = m.median_seconds or 0.0
        lines.append((m.name, f"{m.median:,.0f}", ratio, f"{seconds:.3f}", legs))
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(row[i]) for row in [headers, *lines]) for i in range(len(headers))]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)


def verdicts(raw: Measurement, pipelines: list[Measurement]) -> list[str]:
    out = []
    for m in pipelines:
        if m.median is None or not raw.median:
            out.append(f"{m.name}: not measured ({m.note})")
            continue
        ratio = m.median / raw.median
        met = "met" if ratio >= AIM else "NOT met"
        applied = statistics.median(run["applied_s"] for run in m.runs)
        early = statistics.median(run["committed_when_applied"] for run in m.runs)
        total = m.runs[-1]["domain_events"]
        out.append(
            f"{m.name}: {ratio:.0%} of the raw parse rate — aim (≥ {AIM:.0%}) {met}. "
            f"Every event was read and applied at {applied:.2f}s (median), when "
            f"{early:,.0f} of {total:,} domain events were committed; "
            f"the last commit came at {m.median_seconds or 0:.2f}s"
        )
    return out


def write_results_md(
    trace: Trace,
    raw: Measurement,
    ours: Measurement,
    pipelines: list[Measurement],
    repeat: int,
    argv: list[str],
    profile: str | None,
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> None:
    info = machine(PACKAGES)
    libs = ", ".join(
        f"{name} {info[name]}" for name in ("panoramisk", "SQLAlchemy", "aiosqlite", "asyncpg")
    )
    text = [
        "# benchmarks/ingest — results",
        "",
        "Overwritten by every run of "
        f"`.venv/bin/python -m benchmarks.ingest{' ' if argv else ''}{' '.join(argv)}`.",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: nproc {info['nproc']}, {info['cpu']}, {info['platform']}",
        f"- Python {info['python']}; {libs}",
        f"- trace: {trace.describe()}",
        f"- raw parse: the same bytes in {CHUNK_BYTES // 1024} KiB chunks; "
        f"full pipeline: first byte written → every leg committed",
        f"- median of {repeat} repetitions (each repetition runs every row in turn)",
        f"- load average (1 min): {load[0][0]:.2f} at the start, {load[1][0]:.2f} at the end "
        "(other work on the machine slows every row)",
        "",
        table(trace, raw, [ours, *pipelines], markdown=True),
        "",
        *(f"- {line}" for line in verdicts(raw, pipelines)),
        "",
    ]
    if profile:
        text += ["## Profile", "", "```", profile.rstrip(), "```", ""]
    RESULTS_MD.write_text("\n".join(text))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    # The app logs each link-up and reconciliation at INFO; warnings (skipped
    # events, writer retries) are what matter here.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Each run ends with "AMI link down: client stopped" (a warning); errors still show.
    logging.getLogger("telephony.service.ingest").setLevel(logging.ERROR)
    load_before = os.getloadavg()

    trace = build_trace(target_events=args.events, calls=args.calls)
    print(f"trace: {trace.describe()}", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="liandong-bench-") as tmp:
            raw, ours, pipelines = asyncio.run(measure_all(trace, args, tmp))
            profile = asyncio.run(profile_pipeline(trace, tmp)) if args.profile else None
    except InvalidRun as exc:
        banner = "!" * 78
        print(f"\n{banner}\nINVALID RUN: {exc}\nNo figures reported.\n{banner}", file=sys.stderr)
        return 1

    load = (load_before, os.getloadavg())
    print()
    print(table(trace, raw, [ours, *pipelines]))
    print(f"\nload average (1 min) {load[0][0]:.2f} at the start, {load[1][0]:.2f} at the end")
    print()
    for line in verdicts(raw, pipelines):
        print(line)
    if profile:
        print()
        print(profile)
    if not args.no_results_md:
        write_results_md(trace, raw, ours, pipelines, args.repeat, argv, profile, load)
        print(f"written: {RESULTS_MD}")
    if args.json:
        results = {
            "date": datetime.now(UTC).isoformat(),
            "machine": machine(PACKAGES),
            "trace": {
                "events": trace.events,
                "bytes": len(trace.body),
                "legs": trace.legs,
                "calls": trace.calls,
                "copies": trace.copies,
                "sources": list(trace.sources),
            },
            "repeat": args.repeat,
            "loadavg_start_end": [load[0][0], load[1][0]],
            "measurements": [
                {
                    "name": m.name,
                    "events_per_s_median": m.median,
                    "events_per_s": m.rates,
                    "seconds": m.seconds,
                    "ratio_to_raw": (m.median / raw.median) if m.median and raw.median else None,
                    "legs": m.legs,
                    "note": m.note,
                    "runs": m.runs,
                }
                for m in [raw, ours, *pipelines]
            ],
        }
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
