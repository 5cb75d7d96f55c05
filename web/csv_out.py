"""Supervision views as CSV for Excel and WPS: UTF-8 with a BOM (without it
they guess GBK and garble the Chinese), Chinese headers, one row per JSON row.
Shared by every feature's supervision views (cases, desks), so their files
read alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from county.calendar import COUNTY_TZ

# A header and how to read its cell from a view's JSON row.
Column = tuple[str, Callable[[dict[str, Any]], Any]]


def local(when: datetime) -> datetime:
    return when.astimezone(COUNTY_TZ)


def csv_response(
    filename: str, columns: Sequence[Column], rows: Sequence[dict[str, Any]]
) -> web.Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _ in columns])
    writer.writerows([[cell(get(row)) for _, get in columns] for row in rows])
    return web.Response(
        body=("\ufeff" + buffer.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def cell(value: Any) -> Any:
    """A CSV cell; text that Excel or WPS would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)
