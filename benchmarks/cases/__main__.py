"""Cases benchmark: the case API under load, and the supervision views at 100,000 cases.

    .venv/bin/python -m benchmarks.cases [--quick] [--pg-url URL] [--json out.json]

1. The API (benchmarks/cases/api_load.py): the production app on a real TCP
   port (no Asterisk), a load client in another process with `--workers`
   concurrent workers: `--cases` cases opened at the 12345 desk (POST
   /api/v1/cases), then each played classify → dispatch → sign → feed_back →
   reply → approve_reply → close, one POST each. Throughput and per-request
   latency (median, p95) per phase and per command.
2. The supervision views (benchmarks/cases/supervision.py) on `--stats-cases`
   cases (default 100,000) with their timelines, made by the real lifecycle
   code over a year (benchmarks/cases/dataset.py) and bulk-inserted with
   SQLAlchemy core after the migrations: `records.supervision.statistics` called
   directly, then the same views through the HTTP API. Medians of a few runs;
   the plan of each view over a second is explained. (The fixes an earlier
   `--try-fixes` measured are now the server's own: migration 0005's indexes
   and custom plans on PostgreSQL, database/engine.py.)

Both on SQLite (a file in a temporary directory) and on PostgreSQL (the
scratch database `--pg-url` names, default `ld_bench`: created for each part,
dropped after; an existing one is refused, never dropped; '' skips
PostgreSQL). A full run takes about 5 minutes on 2 cores, `--quick` about 30
seconds. Figures are printed and written to benchmarks/cases/RESULTS.md
(rewritten, except the hand-written notes at its end). A run whose requests
fail or whose database does not hold what the requests made is invalid: it
says so and exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import json
import logging
import os
import pstats
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.cases.api_load import MOVES, ApiRun, InvalidRun, Phase, run_api, summary
from benchmarks.cases.databases import (
    DEFAULT_PG_URL,
    DatabaseProblem,
    bench_settings,
    make_users,
    postgres_database,
    server_version,
)
from benchmarks.cases.dataset import Dataset, generate, insert_dataset, vacuum_analyze
from benchmarks.cases.supervision import (
    Periods,
    ViewTiming,
    time_functions,
    time_http,
)
from benchmarks.common import machine, sqlite_database
from county.case_rules import CaseRules, load_rules
from database.engine import create_engine
from server import create_app

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
NOTES_MARKER = "<!-- hand-written notes below: kept when the figures above are rewritten -->"
SLOW_S = 2.0  # a supervision view slower than this at 100,000 cases is "suspiciously slow"
PACKAGES = ("aiohttp", "SQLAlchemy", "aiosqlite", "asyncpg")
UNIT = "housing"  # the unit whose open cases are timed (leads three categories)


@dataclass
class StatsRun:
    database: str
    insert_s: float = 0.0
    analyze_s: float | None = None
    functions: list[ViewTiming] = field(default_factory=list)
    http: list[ViewTiming] = field(default_factory=list)


@dataclass
class Results:
    api: list[ApiRun] = field(default_factory=list)
    stats: list[StatsRun] = field(default_factory=list)
    dataset: str = ""
    generate_s: float = 0.0
    periods: Periods | None = None
    skipped: list[str] = field(default_factory=list)
    postgres_version: str = ""
    profile: str = ""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cases", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (about 30 s)")
    parser.add_argument("--cases", type=int, default=None, help="API cases (default 200)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent API clients")
    parser.add_argument(
        "--stats-cases", type=int, default=None, help="cases for the views (default 100,000)"
    )
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per view (default 5)")
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help="the PostgreSQL scratch database to create and drop ('' to skip PostgreSQL)",
    )
    parser.add_argument("--only", choices=("api", "stats"), default=None, help="one part only")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the server during one SQLite API run"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--no-results-md", action="store_true", help="do not rewrite RESULTS.md")
    args = parser.parse_args(argv)
    quick = args.quick
    args.cases = args.cases or (40 if quick else 200)
    args.stats_cases = args.stats_cases or (5_000 if quick else 100_000)
    args.repeat = args.repeat or (2 if quick else 5)
    if min(args.cases, args.workers, args.stats_cases, args.repeat) < 1:
        parser.error("counts must be positive")
    return args


# ---------------------------------------------------------------- the parts


async def api_part(args: argparse.Namespace, rules: CaseRules, tmp: str, out: Results) -> None:
    print(f"API: {args.cases} cases, {args.workers} workers", flush=True)
    async with sqlite_database(tmp, "api") as url:
        run = await run_api("SQLite", url, rules, args.cases, args.workers, args.seed)
    out.api.append(run)
    print_api_run(run)
    if args.pg_url:
        try:
            async with postgres_database(args.pg_url) as url:
                run = await run_api("PostgreSQL", url, rules, args.cases, args.workers, args.seed)
            out.api.append(run)
            print_api_run(run)
        except DatabaseProblem as exc:
            out.skipped.append(f"API on PostgreSQL: {exc}")
            print(f"*** skipped PostgreSQL: {exc}", flush=True)


async def profile_part(args: argparse.Namespace, rules: CaseRules, tmp: str, out: Results) -> None:
    """The server's main thread under cProfile during one SQLite run (the
    database driver's own thread is not seen; cProfile slows Python down)."""
    profiler = cProfile.Profile()
    async with sqlite_database(tmp, "profile") as url:
        profiler.enable()
        run = await run_api("SQLite", url, rules, args.cases, args.workers, args.seed)
        profiler.disable()
    buffer = io.StringIO()
    buffer.write(
        f"cProfile of the server process over one SQLite API run ({run.cases} cases, "
        f"{run.create.requests + run.moves.requests} timed requests + warm-up; "
        f"{run.moves.rate:.0f} moves/s under cProfile)\n"
    )
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumtime").print_stats(25)
    out.profile = buffer.getvalue()
    print(out.profile, flush=True)


async def stats_part(args: argparse.Namespace, rules: CaseRules, tmp: str, out: Results) -> None:
    now = datetime.now(UTC)
    periods = out.periods = Periods.at(now)
    print(f"supervision views: generating {args.stats_cases:,} cases …", flush=True)
    data = generate(
        rules,
        args.stats_cases,
        now,
        args.seed,
        progress=lambda n: print(f"  {n:,} cases", flush=True),
    )
    out.dataset, out.generate_s = data.describe(), data.seconds
    print(f"  {out.dataset} ({data.seconds:.1f}s)", flush=True)
    async with contextlib.AsyncExitStack() as stack:
        targets = [(StatsRun("SQLite"), await stack.enter_async_context(sqlite_database(tmp, "v")))]
        if args.pg_url:
            try:
                url = await stack.enter_async_context(postgres_database(args.pg_url))
                targets.append((StatsRun("PostgreSQL"), url))
            except DatabaseProblem as exc:
                out.skipped.append(f"views on PostgreSQL: {exc}")
                print(f"*** skipped PostgreSQL: {exc}", flush=True)
        tokens = {run.database: await make_users(url, rules) for run, url in targets}  # migrated
        for run, url in targets:
            await load(run, url, data)
        # The rows are ~600 MB, 1.4 million containers: kept, each full garbage
        # collection during the timings would walk them all (1.5 s each; it
        # doubled the Python part of the big views), a load the server lacks.
        data.cases.clear()
        data.events.clear()
        gc.collect()
        for run, url in targets:
            await time_views(run, url, rules, periods, args, tokens[run.database]["supervisor"])
            out.stats.append(run)


async def load(run: StatsRun, url: str, data: Dataset) -> None:
    engine = create_engine(url)
    try:
        run.insert_s = await insert_dataset(engine, data)
        if engine.dialect.name == "postgresql":
            run.analyze_s = await vacuum_analyze(engine)
    finally:
        await engine.dispose()
    vacuumed = f", VACUUM (ANALYZE) {run.analyze_s:.1f}s" if run.analyze_s is not None else ""
    print(f"  {run.database}: inserted in {run.insert_s:.1f}s{vacuumed}", flush=True)


async def time_views(
    run: StatsRun,
    url: str,
    rules: CaseRules,
    periods: Periods,
    args: argparse.Namespace,
    token: str,
) -> None:
    name = run.database
    print(f"  {name}: records.supervision.statistics", flush=True)
    run.functions = await time_functions(url, periods, rules, UNIT, args.repeat, SLOW_S / 2)
    print(f"  {name}: through the API", flush=True)
    run.http = await time_http(create_app(bench_settings(url)), token, periods, args.repeat)


async def postgres_version(pg_url: str) -> str:
    if not pg_url:
        return ""
    try:
        return await server_version(pg_url)
    except DatabaseProblem:
        return "unreachable"


# ---------------------------------------------------------------- output


def phase_row(run: ApiRun, name: str, phase: Phase, per_case: int) -> tuple[str, ...]:
    median, p95, top = summary(phase.all_latencies())
    per_request = phase.server_cpu_s / phase.requests * 1000
    return (
        run.database,
        name,
        f"{phase.requests:,}",
        f"{phase.seconds:.2f}",
        f"{phase.rate:,.1f}",
        f"{phase.rate / per_case:,.1f}",
        f"{median:.1f}",
        f"{p95:.1f}",
        f"{top:.0f}",
        f"{per_request:.1f}",
        f"{phase.statements / phase.requests:.1f}",
        f"{phase.machine_busy:.0%}",
    )


API_HEADERS = (
    "database",
    "phase",
    "requests",
    "wall s",
    "requests/s",
    "cases/s",
    "median ms",
    "p95 ms",
    "max ms",
    "server CPU ms/request",
    "SQL statements/request",
    "machine busy",
)


def api_rows(runs: list[ApiRun]) -> list[tuple[str, ...]]:
    rows = []
    for run in runs:
        rows.append(phase_row(run, "create (POST /cases)", run.create, 1))
        rows.append(phase_row(run, f"moves ({len(MOVES)} POSTs per case)", run.moves, len(MOVES)))
    return rows


def command_rows(runs: list[ApiRun]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    headers = ("command", *(f"{run.database} median / p95 ms" for run in runs))
    rows = []
    for command in ("create", *MOVES):
        cells = []
        for run in runs:
            source = run.create.latencies if command == "create" else run.moves.latencies
            median, p95, _ = summary(source[command])
            cells.append(f"{median:.1f} / {p95:.1f}")
        rows.append((command, *cells))
    return headers, rows


def view_rows(runs: list[StatsRun], part: str) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    headers: tuple[str, ...] = ("view",)
    for run in runs:
        headers += (f"{run.database} median s", f"{run.database} in SQL s")
    headers += ("returned",)
    by_run = [{t.name: t for t in getattr(run, part)} for run in runs]
    names = list(dict.fromkeys(name for timings in by_run for name in timings))
    rows = []
    for name in names:
        cells: list[str] = [name]
        size = ""
        for timings in by_run:
            timing = timings.get(name)
            if timing is None or timing.median is None:
                cells += [timing.note if timing and timing.note else "-", "-"]
                continue
            spread = f" ({min(timing.seconds):.3f}–{max(timing.seconds):.3f})"
            flag = " **slow**" if timing.median > SLOW_S else ""
            cells.append(f"{timing.median:.3f}{spread}{flag}")
            cells.append(f"{timing.median_sql:.3f}" if timing.median_sql is not None else "-")
            size = size or timing.size
        rows.append((*cells, size))
    return headers, rows


def render(headers: tuple[str, ...], rows: list[tuple[str, ...]], markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(out)
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*row) for row in rows]
    return "\n".join(out)


def print_api_run(run: ApiRun) -> None:
    for row in api_rows([run]):
        print("  " + ", ".join(f"{h}: {v}" for h, v in zip(API_HEADERS, row, strict=True)))


def explain_sections(results: Results) -> list[str]:
    out = []
    for run in results.stats:
        for timing in run.functions:
            if timing.explain:
                out += [
                    f"### {run.database}: {timing.name} — median {timing.median:.3f}s",
                    "",
                    "```",
                    timing.explain.rstrip(),
                    "```",
                    "",
                ]
    return out


def results_markdown(results: Results, argv: list[str], load: tuple[float, float]) -> str:
    info = machine(PACKAGES)
    libs = ", ".join(f"{name} {info[name]}" for name in ("aiohttp", "SQLAlchemy", "aiosqlite"))
    libs += f", asyncpg {info['asyncpg']}; SQLite {info['sqlite']}"
    if results.postgres_version:
        libs += f"; PostgreSQL {results.postgres_version} (same machine)"
    command = " ".join(["python -m benchmarks.cases", *argv])
    text = [
        "# benchmarks/cases — results",
        "",
        f"Figures rewritten by every run of `.venv/bin/{command}`.",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: nproc {info['nproc']}, {info['cpu']}, {info['platform']}",
        f"- Python {info['python']}; {libs}",
        "- the server, the load client (its own process) and PostgreSQL share the same "
        "2 cores: the figures are for everything on one small machine",
        f"- load average (1 min): {load[0]:.2f} at the start, {load[1]:.2f} at the end",
        *(f"- skipped: {line}" for line in results.skipped),
        "",
    ]
    if results.api:
        run = results.api[0]
        text += [
            "## 1. The case API under load",
            "",
            f"{run.cases} cases opened at the 12345 desk by {run.workers} concurrent clients, then "
            f"each case played through {len(MOVES)} moves ({' → '.join(MOVES)}) by the user "
            f"whose move it is, the {run.workers} clients each playing one case at a time; "
            f"{run.workers} more cases before, untimed, as warm-up. Latency: request sent → "
            "whole response read, at the client. Server CPU: the server process's own CPU time "
            "(all its threads) over the phase, per request. SQL statements: those the app's "
            "engine executed, per request (BEGINs not counted). Machine busy: both cores, "
            "everything on the machine, from /proc/stat. Every run checks afterwards that each "
            "case is closed with its "
            f"{1 + len(MOVES)} timeline rows.",
            "",
            render(API_HEADERS, api_rows(results.api), markdown=True),
            "",
            render(*command_rows(results.api), markdown=True),
            "",
        ]
    if results.stats and results.periods:
        periods = results.periods
        text += [
            "## 2. Supervision views at scale",
            "",
            f"- data: {results.dataset}; generated in {results.generate_s:.0f}s by the real "
            "lifecycle code (benchmarks/cases/dataset.py says how)",
            "- loaded after the migrations, one database after the other, before any view is "
            "timed: "
            + "; ".join(
                f"{run.database} bulk insert {run.insert_s:.0f}s"
                + (f", then VACUUM (ANALYZE) {run.analyze_s:.1f}s" if run.analyze_s else "")
                for run in results.stats
            ),
            "- PostgreSQL is vacuumed and analyzed after the load, as autovacuum soon would be "
            "(and so autovacuum does not run during the timings); SQLite is not ANALYZEd: the "
            "server never does, so production plans are made without statistics too",
            f"- now = {periods.now:%Y-%m-%d %H:%M} UTC; last month = {periods.label(periods.month)}"
            f" (county time), last 365 days = {periods.label(periods.year)}",
            "- median (min–max) of the timed runs after one warm-up run: 5 runs, or 3 for a view "
            "whose warm-up took over 1 s; 'in SQL' is the time inside the driver's statement "
            "executions (the query and the transfer of its rows), the rest is Python",
            f"- **slow** marks a median over {SLOW_S:.0f} s",
            "",
            "`records.supervision.statistics`, called with a fresh session each run:",
            "",
            render(*view_rows(results.stats, "functions"), markdown=True),
            "",
            "Through the HTTP API (the production app on a TCP port, one request at a time from "
            "an in-process client, right after the direct runs: 3 runs, or 2 when the first took "
            "over 1 s; the time includes building and sending the JSON):",
            "",
            render(*view_rows(results.stats, "http"), markdown=True),
            "",
        ]
        explained = explain_sections(results)
        if explained:
            text += [
                f"### Plans of views over {SLOW_S / 2:.0f} s (their slowest statement)",
                "",
                *explained,
            ]
    if results.profile:
        text += ["## Server profile (--profile)", "", "```", results.profile.rstrip(), "```", ""]
    return "\n".join(text)


def write_results_md(markdown: str) -> None:
    notes = ""
    if RESULTS_MD.exists():
        old = RESULTS_MD.read_text()
        if NOTES_MARKER in old:
            notes = old[old.index(NOTES_MARKER) :]
    RESULTS_MD.write_text(markdown.rstrip() + "\n\n" + (notes or NOTES_MARKER + "\n"))


def as_json(results: Results) -> dict[str, Any]:
    def phase(p: Phase) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(p).items() if k != "latencies"},
            "requests": p.requests,
            "rate": p.rate,
            "latency_ms": {
                command: dict(zip(("median", "p95", "max"), summary(values), strict=True))
                for command, values in p.latencies.items()
            },
        }

    def views(timings: list[ViewTiming]) -> list[dict[str, Any]]:
        return [
            {
                "name": t.name,
                "median_s": t.median,
                "sql_median_s": t.median_sql,
                "runs_s": t.seconds,
                "returned": t.size,
                "note": t.note,
            }
            for t in timings
        ]

    def api(run: ApiRun) -> dict[str, Any]:
        return {
            "database": run.database,
            "cases": run.cases,
            "workers": run.workers,
            "create": phase(run.create),
            "moves": phase(run.moves),
        }

    def stats(run: StatsRun) -> dict[str, Any]:
        return {
            "database": run.database,
            "insert_s": run.insert_s,
            "vacuum_analyze_s": run.analyze_s,
            "functions": views(run.functions),
            "http": views(run.http),
        }

    return {
        "date": datetime.now(UTC).isoformat(),
        "machine": machine(PACKAGES),
        "api": [api(run) for run in results.api],
        "dataset": results.dataset,
        "stats": [stats(run) for run in results.stats],
        "skipped": results.skipped,
    }


# ---------------------------------------------------------------- main


async def run_all(args: argparse.Namespace, rules: CaseRules, tmp: str) -> Results:
    results = Results()
    results.postgres_version = await postgres_version(args.pg_url)
    started = time.perf_counter()
    if args.only in (None, "api"):
        await api_part(args, rules, tmp, results)
        if args.profile:
            await profile_part(args, rules, tmp, results)
        print(f"(API part: {time.perf_counter() - started:.0f}s)", flush=True)
    if args.only in (None, "stats"):
        began = time.perf_counter()
        await stats_part(args, rules, tmp, results)
        print(f"(views part: {time.perf_counter() - began:.0f}s)", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Each app start warns that next year has no holiday calendar: true, and not news here.
    logging.getLogger("startup.contexts").setLevel(logging.ERROR)
    rules = load_rules(Path(__file__).resolve().parents[2] / "case-config")
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="liandong-cases-bench-") as tmp:
            results = asyncio.run(run_all(args, rules, tmp))
    except (InvalidRun, DatabaseProblem) as exc:
        banner = "!" * 78
        print(f"\n{banner}\nINVALID RUN: {exc}\nNo figures reported.\n{banner}", file=sys.stderr)
        return 1
    load = (load_before, os.getloadavg()[0])
    markdown = results_markdown(results, argv, load)
    print()
    if results.api:
        print(render(API_HEADERS, api_rows(results.api), markdown=False))
        print()
        print(render(*command_rows(results.api), markdown=False))
        print()
    for part in ("functions", "http"):
        if results.stats:
            print(render(*view_rows(results.stats, part), markdown=False))
            print()
    if not args.no_results_md:
        write_results_md(markdown)
        print(f"written: {RESULTS_MD}")
    if args.json:
        args.json.write_text(json.dumps(as_json(results), indent=2) + "\n")
        print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
