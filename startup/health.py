"""GET /api/v1/health — no auth: what a monitoring probe or a 3 a.m. operator checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from ami_client import LinkState
from common.instants import iso
from county.calendar import local_date
from database.engine import ping
from telephony.http import INGEST
from telephony.service.ingest import Ingest
from web.app_state import ENGINE, RULES
from web.json_out import json_response


async def health(request: web.Request) -> web.Response:
    ingest = request.app[INGEST]
    status = ingest.status
    now = datetime.now(UTC)
    database: dict[str, object]
    try:
        await ping(request.app[ENGINE])
        database = {"ok": True}
    except (SQLAlchemyError, OSError) as exc:
        # Health is public: the exception type only, details are in the server log.
        database = {"ok": False, "error": type(exc).__name__}
    writer = ingest.writer.stats
    uptime = None
    if status.asterisk_uptime_s is not None and status.uptime_seen_at is not None:
        uptime = status.asterisk_uptime_s + int((now - status.uptime_seen_at).total_seconds())
    body = {
        # Degraded while reconciliation keeps failing: legs may be open that are not.
        "ok": status.link_up and database["ok"] is True and status.reconcile_error is None,
        "ami": {
            "state": ingest.client.state.value if ingest.client else "disabled",
            "since": iso(status.link_since),
            # The link's own last word (refused, bad secret…) or why it last dropped.
            "last_error": _client_error(ingest) or status.last_link_error,
            "reconciled_at": iso(status.reconciled_at),
            "reconcile_error": status.reconcile_error,
            "backlog": ingest.backlog,
            # Domain events derived so far: a probe can see that it advances.
            "events_applied": status.events_applied,
        },
        "asterisk": {"uptime_s": uptime},
        # Years within the next 366 days without a holiday file: due dates there
        # skip only weekends and the fixed-date holidays (add calendar/<year>.yaml).
        "cases": {"calendar_missing_years": _calendar_gaps(request, now)},
        "database": {
            **database,
            "pending_writes": writer.pending,
            "last_error": writer.last_error,
            "last_error_at": iso(writer.last_error_at),
        },
    }
    return json_response(body, status=200 if body["ok"] else 503)


def _calendar_gaps(request: web.Request, now: datetime) -> list[int]:
    today = local_date(now)
    return request.app[RULES].calendar.missing_years(today, today + timedelta(days=366))


def _client_error(ingest: Ingest) -> str | None:
    client = ingest.client
    if client is None or client.state is LinkState.CONNECTED or client.last_error is None:
        return None
    return str(client.last_error)
