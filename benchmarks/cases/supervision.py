"""The supervision views at scale: `records.supervision.statistics` called directly,
and the same views (plus the open-case list) through the HTTP API.

Directly, each view is run once untimed (warm-up), then `repeat` times, or 3
times when the warm-up took over a second. Through the API, right after the
direct runs and without a warm-up: 3 times, or twice when a run took over a
second. The median is reported, and for the direct runs the time spent inside
the database driver beside it (the sum of its statement executions, from
SQLAlchemy's cursor events: the query and the transfer of its rows), so the
rest is Python: building rows, counting. For a view slower than
`explain_over` seconds its slowest statement is explained: EXPLAIN QUERY PLAN
on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from county.calendar import COUNTY_TZ
from county.case_rules import CaseRules
from database.engine import create_engine, session_factory
from records.supervision import statistics as stats


@dataclass
class Statement:
    sql: str
    parameters: Any
    seconds: float


@dataclass
class ViewTiming:
    name: str
    seconds: list[float] = field(default_factory=list)
    sql_seconds: list[float] = field(default_factory=list)
    size: str = ""  # what the view returned, for context
    statements: list[Statement] = field(default_factory=list)  # of the last run
    explain: str = ""
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def median_sql(self) -> float | None:
        return statistics.median(self.sql_seconds) if self.sql_seconds else None


class StatementLog:
    """Every statement the engine runs while `recording`, with its duration."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.recording = False
        self.statements: list[Statement] = []
        self._started: list[float] = []
        sync = engine.sync_engine

        @event.listens_for(sync, "before_cursor_execute")
        def before(conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
            self._started.append(time.perf_counter())

        @event.listens_for(sync, "after_cursor_execute")
        def after(conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
            began = self._started.pop()
            if self.recording:
                self.statements.append(Statement(sql, parameters, time.perf_counter() - began))


@dataclass(frozen=True)
class Periods:
    now: datetime
    month: tuple[datetime, datetime]  # the last whole month, county time
    year: tuple[datetime, datetime]  # the 365 days up to now

    @classmethod
    def at(cls, now: datetime) -> Periods:
        this_month = now.astimezone(COUNTY_TZ).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        return cls(
            now,
            (last_month.astimezone(UTC), this_month.astimezone(UTC)),
            (now - timedelta(days=365), now),
        )

    def label(self, period: tuple[datetime, datetime]) -> str:
        start, end = (p.astimezone(COUNTY_TZ) for p in period)
        return f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"


View = Callable[[AsyncSession], Awaitable[str]]


def function_views(periods: Periods, rules: CaseRules, unit: str) -> list[tuple[str, View]]:
    now, month, year = periods.now, periods.month, periods.year
    units = tuple(rules.roster.units)

    async def open_all(session: AsyncSession) -> str:
        return f"{len(await stats.open_cases(session, now)):,} cases"

    async def open_overdue(session: AsyncSession) -> str:
        return f"{len(await stats.open_cases(session, now, overdue_only=True)):,} cases"

    async def open_unit(session: AsyncSession) -> str:
        return f"{len(await stats.open_cases(session, now, unit=unit)):,} cases"

    def per_unit(period: tuple[datetime, datetime]) -> View:
        async def view(session: AsyncSession) -> str:
            rows, total = await stats.unit_statistics(session, *period, units=units)
            return f"{len(rows)} units, {total.dispatched:,} cases dispatched"

        return view

    def wrong(period: tuple[datetime, datetime]) -> View:
        async def view(session: AsyncSession) -> str:
            counts = await stats.wrong_transfers(session, *period)
            handovers = sum(c.handovers for c in counts.values())
            sent_back = sum(c.sent_back for c in counts.values())
            return f"{handovers:,} hand-overs, {sent_back:,} sent back"

        return view

    return [
        ("open_cases(now)", open_all),
        ("open_cases(now, overdue_only=True)", open_overdue),
        (f"open_cases(now, unit={unit!r})", open_unit),
        ("unit_statistics(last month)", per_unit(month)),
        ("unit_statistics(last 365 days)", per_unit(year)),
        ("wrong_transfers(last month)", wrong(month)),
        ("wrong_transfers(last 365 days)", wrong(year)),
    ]


def http_views(periods: Periods) -> list[tuple[str, str]]:
    def query(period: tuple[datetime, datetime]) -> str:
        return urlencode({"from": period[0].isoformat(), "to": period[1].isoformat()})

    month, year = query(periods.month), query(periods.year)
    return [
        ("GET /api/v1/supervision/open", "/api/v1/supervision/open"),
        ("GET /api/v1/supervision/open?overdue=true", "/api/v1/supervision/open?overdue=true"),
        ("GET /api/v1/supervision/units (last month)", f"/api/v1/supervision/units?{month}"),
        ("GET /api/v1/supervision/units (last 365 days)", f"/api/v1/supervision/units?{year}"),
        (
            "GET /api/v1/supervision/wrong-transfers (last month)",
            f"/api/v1/supervision/wrong-transfers?{month}",
        ),
        (
            "GET /api/v1/supervision/wrong-transfers (last 365 days)",
            f"/api/v1/supervision/wrong-transfers?{year}",
        ),
        ("GET /api/v1/cases?open=true (100 newest)", "/api/v1/cases?open=true"),
    ]


def runs_after(warm_up_s: float, repeat: int) -> int:
    """Timed runs: `repeat`, or at most 3 for a view whose warm-up took over
    a second (a few runs of a slow view say as much, in a bounded time)."""
    return min(repeat, SLOW_VIEW_RUNS) if warm_up_s > 1.0 else repeat


SLOW_VIEW_RUNS = 3
SLOW_HTTP_RUNS = 2  # through the API, after a first run over a second


async def time_functions(
    db_url: str,
    periods: Periods,
    rules: CaseRules,
    unit: str,
    repeat: int,
    explain_over: float,
) -> list[ViewTiming]:
    """Each view: one warm-up run, then the timed runs."""
    engine = create_engine(db_url)
    log = StatementLog(engine)
    sessions = session_factory(engine)
    timings = []

    async def once(view: View) -> tuple[float, str]:
        log.statements = []
        log.recording = True
        started = time.perf_counter()
        try:
            async with sessions() as session:
                size = await view(session)
        finally:
            log.recording = False
        return time.perf_counter() - started, size

    try:
        for name, view in function_views(periods, rules, unit):
            timing = ViewTiming(name)
            warm_up, _ = await once(view)
            for _ in range(runs_after(warm_up, repeat)):
                elapsed, timing.size = await once(view)
                timing.seconds.append(elapsed)
                timing.sql_seconds.append(sum(s.seconds for s in log.statements))
                timing.statements = log.statements
            print(
                f"    {name}: {timing.median:.3f}s (SQL {timing.median_sql:.3f}s); {timing.size}",
                flush=True,
            )
            if (timing.median or 0) > explain_over:
                timing.explain = await explain(engine, timing.statements)
            timings.append(timing)
    finally:
        await engine.dispose()
    return timings


async def explain(engine: AsyncEngine, statements: list[Statement]) -> str:
    """The plan of the slowest statement (with its measured time). On
    PostgreSQL both plans: the custom one (what a fresh EXPLAIN gets, planned
    for these parameter values) and the generic one (what a statement prepared
    and run more than five times on one connection may get: asyncpg prepares
    every statement and keeps it per pooled connection, so the server's
    repeated views run it; planned for any parameter values)."""
    if not statements:
        return ""
    slowest = max(statements, key=lambda s: s.seconds)
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            custom = await _pg_plan(connection, slowest.sql, slowest.parameters)
            # EXPLAIN plans its statement for the values given; a generic plan
            # needs a prepared statement (EXECUTE takes no bound parameters).
            await connection.exec_driver_sql(f"PREPARE bench_view AS {slowest.sql}")
            await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            values = ", ".join(_literal(value) for value in slowest.parameters)
            generic = await _pg_plan(connection, f"EXECUTE bench_view({values})", ())
            await connection.rollback()
            await connection.exec_driver_sql("DEALLOCATE bench_view")
            plan = (
                "custom plan (EXPLAIN of the statement with these values):\n"
                f"{custom}\n\ngeneric plan (a prepared statement run 6+ times may get it):\n"
                f"{generic}"
            )
        else:
            result = await connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + slowest.sql, slowest.parameters
            )
            depth: dict[int, int] = {0: -1}  # rows are (id, parent, notused, detail)
            lines = []
            for row in result.all():
                node, parent, _, detail = tuple(row)
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + str(detail))
            plan = "\n".join(lines)
    share = ", ".join(f"{s.seconds * 1000:.0f}" for s in statements)
    return (
        f"statements of one run, ms each: {share}\n"
        f"slowest ({slowest.seconds * 1000:.0f} ms):\n{' '.join(slowest.sql.split())}\n\n{plan}"
    )


async def _pg_plan(connection: AsyncConnection, sql: str, parameters: Any) -> str:
    result = await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, parameters)
    return "\n".join(str(row[0]) for row in result.all() if "Buffers:" not in str(row[0]))


def _literal(value: Any) -> str:
    """A bound value as SQL text, for EXECUTE's arguments."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    return "'" + str(value).replace("'", "''") + "'"


async def time_http(
    app: web.Application, token: str, periods: Periods, repeat: int
) -> list[ViewTiming]:
    """The views through the API, one request at a time (an in-process client)."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    timings = []
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        routes = {r.canonical for r in app.router.resources()}
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(f"http://{host}:{port}", headers=headers) as client:
            for name, path in http_views(periods):
                timing = ViewTiming(name)
                if path.split("?", 1)[0] not in routes:
                    timing.note = "not served by this checkout's app"
                    timings.append(timing)
                    continue
                # No warm-up: the same views have just been run directly.
                runs = min(repeat, SLOW_VIEW_RUNS)
                while len(timing.seconds) < runs:
                    started = time.perf_counter()
                    async with client.get(path) as resp:
                        body = await resp.read()
                        status = resp.status
                    elapsed = time.perf_counter() - started
                    if status != 200:
                        timing.note = f"HTTP {status}: {body[:200]!r}"
                        break
                    timing.seconds.append(elapsed)
                    if elapsed > 1.0:
                        runs = min(runs, SLOW_HTTP_RUNS)
                timing.size = f"{len(body) / 1024:,.0f} KiB JSON"
                shown = f"{timing.median:.3f}s" if timing.median is not None else timing.note
                print(f"    {name}: {shown}; {timing.size}", flush=True)
                timings.append(timing)
    finally:
        await runner.cleanup()
    return timings
