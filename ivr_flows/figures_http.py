"""The desks' supervision figures (the county's 15 s / 95 % targets), beside
the case supervision views and read the same way:

GET /api/v1/supervision/desks      ?from= &to= &desk=   (supervisor, admin; an operator:
                                                         their own desk's only)
GET /api/v1/supervision/operators  ?from= &to= &desk=   (supervisor, admin)

Per desk and county hour: offered, answered, answered in time, abandoned,
left, wait times, connection rate and service level, and the desk's totals
with whether they meet the targets (desks.yaml `targets`); per operator
phone: answered, talk time, time logged in and in each state, pauses by
reason. How offers are counted: ivr_flows/core/desk_figures.py.

As the case views: `?format=csv` (web/csv_out.py), a period [from, to) of
ISO times with an offset or plain dates (00:00 county time), by default the
current month in county time, an unknown parameter refused. One difference:
a period is at most MAX_DAYS long, because the hourly table lists every hour.
No view carries a caller's number: they are counts and durations only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from common.instants import iso
from common.vocabulary import DESK_ROLES, ROLE_DESK, Role
from county.calendar import COUNTY_TZ
from ivr_flows.core import desk_figures as figures
from ivr_flows.core.desk_rules import DeskRules
from ivr_flows.figures_csv import desk_columns, hour_row, operator_columns, total_row
from ivr_flows.figures_shapes import (
    desk_table_json,
    operator_figures_json,
    pause_reasons,
    targets_json,
)
from ivr_flows.http import DESKS
from ivr_flows.storage.repository import DeskRepository
from web.app_state import SESSIONS
from web.auth import require
from web.csv_out import csv_response, local
from web.errors import BadRequest
from web.json_out import json_response
from web.period_query import known_params, period, wants_csv

R = Role
PARAMS = ("from", "to", "desk", "format")
MAX_DAYS = figures.MAX_PERIOD_DAYS


async def desks_view(request: web.Request) -> web.StreamResponse:
    principal = require(request, R.SUPERVISOR, R.ADMIN, *DESK_ROLES)
    service = request.app[DESKS]
    known_params(request, PARAMS)
    as_csv = wants_csv(request)
    start, end = figures_period(request, service.clock())
    desk = chosen_desk(request, service.rules)
    if principal.role in DESK_ROLES:
        desk = ROLE_DESK[principal.role].value  # an operator reads their own desk, whatever asked
    targets = service.rules.targets
    async with request.app[SESSIONS]() as session:
        waits = await DeskRepository(session).waits_for_figures(start, end, desk)
    desks = [desk] if desk else list(service.rules.desks)
    offered = figures.offers(waits)
    tables = figures.desk_tables(offered, desks, start, end, COUNTY_TZ, targets.answer_within_s)
    rows = [desk_table_json(table, targets) for table in tables]
    if as_csv:
        lines = [
            line
            for row in rows
            for line in (
                *(hour_row(row["desk"], hour) for hour in row["hours"]),
                total_row(row["desk"], row["total"], start, end),
            )
        ]
        name = "-".join(filter(None, ("desk-figures", desk, period_name(start, end))))
        return csv_response(f"{name}.csv", desk_columns(targets.answer_within_s), lines)
    body = {
        "from": iso(start),
        "to": iso(end),
        "desk": desk,
        "targets": targets_json(targets),
        "desks": rows,
    }
    return json_response(body)


async def operators_view(request: web.Request) -> web.StreamResponse:
    require(request, R.SUPERVISOR, R.ADMIN)
    service = request.app[DESKS]
    known_params(request, PARAMS)
    as_csv = wants_csv(request)
    now = service.clock()
    start, end = figures_period(request, now)
    desk = chosen_desk(request, service.rules)
    async with request.app[SESSIONS]() as session:
        repo = DeskRepository(session)
        waits = await repo.waits_for_figures(start, end, desk)
        periods = await repo.periods_between(start, end, desk)
    phones = {
        phone: name
        for name, rule in service.rules.desks.items()
        if desk in (None, name)
        for phone in rule.phones
    }
    # The waits come with their whole calls: a caller handed on to the other
    # desk has a wait there too, which is not this desk's.
    offered = [o for o in figures.offers(waits) if desk in (None, o.desk)]
    rows, total = figures.operator_figures(offered, periods, phones, start, end, now)
    reasons = pause_reasons(list(service.rules.pause_reasons.values()), rows)
    operators = [operator_figures_json(row, reasons) for row in rows]
    total_json = operator_figures_json(total, reasons)
    if as_csv:
        name = "-".join(filter(None, ("operator-figures", desk, period_name(start, end))))
        return csv_response(f"{name}.csv", operator_columns(reasons), [*operators, total_json])
    body = {
        "from": iso(start),
        "to": iso(end),
        "desk": desk,
        "pause_reasons": reasons,
        "operators": operators,
        "total": total_json,
    }
    return json_response(body)


def figures_period(request: web.Request, now: datetime) -> tuple[datetime, datetime]:
    start, end = period(request, now)
    if end - start > timedelta(days=MAX_DAYS):
        name = "to" if request.query.get("to") else "from"
        raise BadRequest(
            f"{name}: a period of at most {MAX_DAYS} days (the figures list every hour)",
            {"field": name},
        )
    return start, end


def chosen_desk(request: web.Request, rules: DeskRules) -> str | None:
    desk = request.query.get("desk") or None
    if desk is not None and desk not in rules.desks:
        known = ", ".join(rules.desks)
        raise BadRequest(f"desk: {known}, not {desk!r}", {"field": "desk"})
    return desk


def period_name(start: datetime, end: datetime) -> str:
    return f"{local(start):%Y%m%d}-{local(end):%Y%m%d}"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/supervision/desks", desks_view)
    app.router.add_get("/api/v1/supervision/operators", operators_view)
