"""The supervision bureau's views (督查督办): open and overdue cases, each
unit's figures over a period, wrong transfers between the desks.

GET /api/v1/supervision/open             ?unit= &overdue=true   (supervisors, admins, desks;
                                                                 a unit: its own cases only)
GET /api/v1/supervision/units            ?from= &to=            (supervisor, admin)
GET /api/v1/supervision/wrong-transfers  ?from= &to=            (supervisor, admin)

Every view also comes as CSV with `?format=csv`: UTF-8 with a BOM (Excel and
WPS then read the Chinese), Chinese headers, times in county time. Periods are
[from, to) with ISO times carrying an offset or plain dates (00:00 county
time); by default the current month in county time. A parameter a view does
not take is refused (400). No view carries caller numbers or names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from common.instants import iso
from common.vocabulary import Role
from county.case_rules import CaseRules
from records.core.lifecycle import CaseState, Command
from records.http import CASES
from records.supervision import statistics as stats
from records.supervision.csv_export import (
    OPEN_COLUMNS,
    TRANSFER_COLUMNS,
    UNIT_COLUMNS,
    csv_response,
    local,
)
from web.app_state import RULES, SESSIONS
from web.auth import require
from web.errors import BadRequest, Forbidden
from web.json_out import json_response
from web.period_query import known_params, wants_csv
from web.period_query import period as shared_period
from web.query import parse_bool

R = Role
# What the linkage notices ([notify]) add to the views, given by the app (a
# feature above the case records); without them a view shows no notices.
# Per unit, the notices made in [from, to): made, accepted, declined, unreached.
UnitNotices = Callable[[datetime, datetime], Awaitable[dict[str, dict[str, int]]]]
# Per open case, the state of its latest notice (queued, calling, accepted…).
CaseNotices = Callable[[list[str]], Awaitable[dict[str, str]]]
UNIT_NOTICES: web.AppKey[UnitNotices] = web.AppKey("unit_notices")
CASE_NOTICES: web.AppKey[CaseNotices] = web.AppKey("case_notices")
NOTICE_COUNTS = ("made", "accepted", "declined", "unreached")
LADDER_KEYS = tuple(command.value for command in stats.LADDER)
# The query parameters each view takes (records/supervision/openapi.py documents them).
OPEN_PARAMS = ("unit", "overdue", "format")
PERIOD_PARAMS = ("from", "to", "format")


async def open_view(request: web.Request) -> web.StreamResponse:
    principal = require(request, R.SUPERVISOR, R.ADMIN, R.OPERATOR_12345, R.OPERATOR_110, R.UNIT)
    known_params(request, OPEN_PARAMS)
    as_csv = wants_csv(request)
    rules = request.app[RULES]
    unit = request.query.get("unit") or None
    if principal.role is R.UNIT:
        if principal.unit is None:  # auth refuses these already; never widen a unit's view
            raise Forbidden("this unit token names no unit")
        unit = principal.unit  # a unit sees its own cases, whatever it asks for
    elif unit is not None and rules.roster.get(unit) is None:
        raise BadRequest(f"unit: unknown unit {unit!r} (see /api/v1/units)", {"field": "unit"})
    overdue = bool(parse_bool(request.query.get("overdue"), "overdue"))
    now = request.app[CASES].clock().astimezone(UTC)
    async with request.app[SESSIONS]() as session:
        cases = await stats.open_cases(session, now, unit=unit, overdue_only=overdue)
    rows = [open_case_json(case, rules) for case in cases]
    states = await request.app[CASE_NOTICES]([c.number for c in cases]) if rows else {}
    for row in rows:
        # The alert a supervisor acts on: nobody at the unit could be reached.
        row["notice"] = states.get(row["number"])
    if as_csv:
        code = unit if unit and rules.roster.get(unit) else None  # roster codes are [A-Za-z0-9_-]
        name = "-".join(filter(None, ("open-cases", code, f"{local(now):%Y%m%d-%H%M}")))
        return csv_response(f"{name}.csv", OPEN_COLUMNS, rows)
    body = {"now": iso(now), "unit": unit, "overdue_only": overdue, "count": len(rows)}
    return json_response({**body, "cases": rows})


async def units_view(request: web.Request) -> web.StreamResponse:
    require(request, R.SUPERVISOR, R.ADMIN)
    known_params(request, PERIOD_PARAMS)
    as_csv = wants_csv(request)
    start, end = period(request)
    rules = request.app[RULES]
    async with request.app[SESSIONS]() as session:
        units, total = await stats.unit_statistics(session, start, end, units=rules.roster.units)
    order = {code: index for index, code in enumerate(rules.roster.units)}
    units.sort(key=lambda f: (order.get(f.unit or "", len(order)), f.unit or ""))
    rows = [unit_figures_json(figures, rules) for figures in units]
    total_row = unit_figures_json(total, rules)
    notices = await request.app[UNIT_NOTICES](start, end)
    for row in rows:
        row["notices"] = {k: notices.get(row["unit"], {}).get(k, 0) for k in NOTICE_COUNTS}
    total_row["notices"] = {k: sum(r["notices"][k] for r in rows) for k in NOTICE_COUNTS}
    if as_csv:
        name = f"unit-statistics-{local(start):%Y%m%d}-{local(end):%Y%m%d}.csv"
        return csv_response(name, UNIT_COLUMNS, [*rows, total_row])
    body = {"from": iso(start), "to": iso(end), "units": rows, "total": total_row}
    return json_response(body)


async def wrong_transfers_view(request: web.Request) -> web.StreamResponse:
    require(request, R.SUPERVISOR, R.ADMIN)
    known_params(request, PERIOD_PARAMS)
    as_csv = wants_csv(request)
    start, end = period(request)
    rules = request.app[RULES]
    async with request.app[SESSIONS]() as session:
        counts = await stats.wrong_transfers(session, start, end)
    ranked = sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
    if as_csv:
        name = f"wrong-transfers-{local(start):%Y%m%d}-{local(end):%Y%m%d}.csv"
        rows = [
            {"operator": operator, "desk": desk.value, **category_json(category, count, rules)}
            for (operator, desk, category), count in ranked
        ]
        total = sum_counts(count for _, count in ranked)
        rows.append({"operator": "合计", "desk": None, **counts_json(total)})
        return csv_response(name, TRANSFER_COLUMNS, rows)
    body = {"from": iso(start), "to": iso(end), **transfers_json(ranked, rules)}
    return json_response(body)


# ------------------------------------------------------------------ JSON shapes


def transfers_json(
    ranked: list[tuple[stats.TransferKey, stats.TransferCount]], rules: CaseRules
) -> dict[str, Any]:
    """Totals, per operator (with their categories) and per category, worst first."""
    operators: dict[tuple[str, str], list[tuple[str | None, stats.TransferCount]]] = {}
    categories: dict[str | None, list[stats.TransferCount]] = {}
    for (operator, desk, category), count in ranked:
        operators.setdefault((operator, desk.value), []).append((category, count))
        categories.setdefault(category, []).append(count)
    per_operator = [
        {
            "operator": operator,
            "desk": desk,
            **counts_json(sum_counts(count for _, count in rows)),
            "categories": [category_json(c, count, rules) for c, count in rows],
        }
        for (operator, desk), rows in operators.items()
    ]
    per_category = [
        category_json(category, sum_counts(counts), rules)
        for category, counts in categories.items()
    ]
    return {
        "total": counts_json(sum_counts(count for _, count in ranked)),
        "operators": sorted(per_operator, key=worst_first),
        "categories": sorted(per_category, key=worst_first),
    }


def sum_counts(counts: Iterable[stats.TransferCount]) -> stats.TransferCount:
    total = stats.TransferCount()
    for count in counts:
        total.add(count)
    return total


def worst_first(row: dict[str, Any]) -> tuple[int, int]:
    return (-row["sent_back"], -row["handovers"])


def open_case_json(case: stats.OpenCase, rules: CaseRules) -> dict[str, Any]:
    return {
        "number": case.number,
        "state": case.state.value,
        "state_label": CaseState(case.state).label,
        "desk": case.desk.value,
        "category": case.category,
        "category_name": category_name(case.category, rules),
        "urgency": case.urgency,
        "township": case.township,
        "township_name": unit_name(case.township, rules),
        "lead_unit": case.lead_unit,
        "lead_unit_name": unit_name(case.lead_unit, rules),
        "created_at": iso(case.created_at),
        "dispatched_at": iso(case.dispatched_at),
        "overdue": case.overdue_minutes is not None,
        "overdue_minutes": rounded(case.overdue_minutes, 1),
        "deadlines": {
            d.name: {
                "due": iso(d.due),
                "done_at": iso(d.done_at),
                "overdue": d.overdue_minutes is not None,
                "overdue_minutes": rounded(d.overdue_minutes, 1),
            }
            for d in case.deadlines
        },
        "ladder": {
            **{key: sum(1 for s in case.ladder if s.command == key) for key in LADDER_KEYS},
            "steps": [
                {"command": s.command.value, "deadline": s.deadline, "at": iso(s.at)}
                for s in case.ladder
            ],
        },
    }


def unit_figures_json(figures: stats.UnitFigures, rules: CaseRules) -> dict[str, Any]:
    events, ratings = figures.events, figures.ratings
    return {
        "unit": figures.unit,
        "unit_name": unit_name(figures.unit, rules) if figures.unit else "合计",
        "dispatched": figures.dispatched,
        "closed": figures.closed,
        "open": figures.open,
        "closed_on_time": figures.closed_on_time,
        "on_time_rate": rounded(figures.on_time_rate, 4),
        "durations": {
            name: {
                "count": len(values),
                "median_minutes": rounded(stats.median(values), 1),
                "p90_minutes": rounded(stats.p90(values), 1),
            }
            for name, values in figures.durations.items()
        },
        "returns": events[Command.REQUEST_RETURN],
        "reminders": sum(events[command] for command in stats.LADDER),
        "ladder": {command.value: events[command] for command in stats.LADDER},
        "re_handles": events[Command.REOPEN],
        "extensions": events[Command.REQUEST_EXTENSION],
        "satisfaction": {
            "rated": len(ratings),
            "mean": rounded(sum(ratings) / len(ratings), 2) if ratings else None,
            "satisfied": figures.satisfied,
            "satisfied_rate": rounded(stats.ratio(figures.satisfied, len(ratings)), 4),
            "by_call": figures.rated_by_call,
            "by_hand": figures.rated_by_hand,
        },
    }


def counts_json(count: stats.TransferCount) -> dict[str, Any]:
    return {
        "handovers": count.handovers,
        "sent_back": count.sent_back,
        "rate": rounded(count.rate, 4),
    }


def category_json(
    category: str | None, count: stats.TransferCount, rules: CaseRules
) -> dict[str, Any]:
    named = {"category": category, "category_name": category_name(category, rules)}
    return named | counts_json(count)


def unit_name(code: str | None, rules: CaseRules) -> str | None:
    unit = rules.roster.get(code) if code else None
    return unit.name if unit else None


def category_name(code: str | None, rules: CaseRules) -> str | None:
    """A category's name; for a matter never classified, the name of the
    catalogue entry its words matched (a police rule, an exclusion, ...)."""
    return rules.routing.name_of(code) if code else None


def rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------------ parameters


def period(request: web.Request) -> tuple[datetime, datetime]:
    """[from, to) from the query; each defaults to the current month's edge
    by the case service's clock."""
    return shared_period(request, request.app[CASES].clock())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/supervision/open", open_view)
    app.router.add_get("/api/v1/supervision/units", units_view)
    app.router.add_get("/api/v1/supervision/wrong-transfers", wrong_transfers_view)
