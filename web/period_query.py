"""The query parameters every supervision view shares: a period [from, to)
(ISO times with an offset, or plain dates meaning 00:00 county time; by
default the current month in county time), `format=json|csv`, and no
parameter the view does not take. Each bad value is a 400 naming it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from aiohttp import web

from common.instants import BadInstant, to_utc
from county.calendar import COUNTY_TZ
from web.errors import BadRequest
from web.query import parse_time

_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def wants_csv(request: web.Request) -> bool:
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise BadRequest(f"format: json or csv, not {fmt!r}", {"field": "format"})
    return fmt == "csv"


def period(request: web.Request, now: datetime) -> tuple[datetime, datetime]:
    """[from, to) from the query; each defaults to the edge of `now`'s month
    in county time."""
    month_start = now.astimezone(COUNTY_TZ).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    year, month = divmod(month_start.month, 12)
    next_month = month_start.replace(year=month_start.year + year, month=month + 1)
    start = period_edge(request.query.get("from"), "from") or month_start.astimezone(UTC)
    end = period_edge(request.query.get("to"), "to") or next_month.astimezone(UTC)
    if start >= end:
        name = "to" if request.query.get("to") else "from"
        raise BadRequest(f"{name}: 'from' must be before 'to'", {"field": name})
    return start, end


def period_edge(raw: str | None, name: str) -> datetime | None:
    """An ISO time with an offset, or a plain date: its 00:00 county time."""
    if raw is None or not _PLAIN_DATE.fullmatch(raw):
        return parse_time(raw, name)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}: no such date: {raw!r}", {"field": name}) from None
    try:
        return to_utc(datetime.combine(day, time(0), tzinfo=COUNTY_TZ), raw)
    except BadInstant as exc:
        raise BadRequest(f"{name}: {exc}", {"field": name}) from None


def known_params(request: web.Request, known: tuple[str, ...]) -> None:
    """A parameter the view does not take is refused, not ignored: `overdue_only=true`
    must not quietly answer with every open case."""
    for name in request.query:
        if name not in known:
            raise BadRequest(
                f"{name}: not a parameter of this view (parameters: {', '.join(known)})",
                {"field": name},
            )
