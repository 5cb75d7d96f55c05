"""Health says why the AMI link is not up, in words an operator can act on."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.component.conftest import StartLiandong, trace

ROOT = Path(__file__).resolve().parents[2]


async def test_a_refused_login_is_named_and_the_secret_is_not(
    start_liandong: StartLiandong, caplog: Any
) -> None:
    caplog.set_level("DEBUG")
    server = await start_liandong(wait=False)
    server.fake.refuse_logins = True
    server.fake.drop_connections()

    async def refused() -> dict[str, Any] | None:
        status, body = await server.health()
        error = body["ami"]["last_error"] or ""
        return {**body, "status": status} if "refused" in error else None

    health = await server.eventually(refused, "health to name the refused login")
    assert health["status"] == 503 and health["ok"] is False
    assert health["ami"]["state"] != "connected"
    secret = server.fake.settings().secret.reveal()
    assert secret not in str(health) and secret not in caplog.text


async def test_events_applied_advances_as_calls_come_in(start_liandong: StartLiandong) -> None:
    server = await start_liandong()
    _, before = await server.health()
    server.push(trace("busy_110"))
    await server.call_where(
        trace("busy_110")[0]["Linkedid"], lambda c: not c["active"], "busy call ended"
    )
    _, after = await server.health()
    # busy_110: three legs started and ended, one call started and ended, and more.
    assert after["ami"]["events_applied"] >= before["ami"]["events_applied"] + 8


async def test_health_names_the_coming_years_without_a_holiday_calendar(
    start_liandong: StartLiandong,
) -> None:
    """Due dates in a year without calendar/<year>.yaml are provisional: the
    probe says so, and the server stays healthy."""
    server = await start_liandong()
    status, body = await server.health()
    shipped = {int(p.stem) for p in (ROOT / "case-config" / "calendar").glob("*.yaml")}
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    coming = range(today.year, (today + timedelta(days=366)).year + 1)
    assert body["cases"]["calendar_missing_years"] == [y for y in coming if y not in shipped]
    assert status == 200 and body["ok"] is True
