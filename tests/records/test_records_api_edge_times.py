"""Times at the edge of the calendar, typed into every time the API reads,
on SQLite and PostgreSQL: each is a 400 naming the field, never a 500, and
nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.component.cases_kit import CaseApi, start_desk

EDGES = (
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    "0001-01-01T00:00:00Z",  # year 1 in UTC: no county time before it
    "9999-12-31T23:59:59Z",  # the last second: county time (UTC+8) is past 9999
)
# (path, user, parameter) of every query that takes a time.
QUERIES = (
    ("/api/v1/calls", "admin", "since"),
    ("/api/v1/transfers", "admin", "since"),
    ("/api/v1/cases", "admin", "since"),
    ("/api/v1/units", "admin", "at"),
    ("/api/v1/supervision/units", "supervisor", "from"),
    ("/api/v1/supervision/units", "supervisor", "to"),
    ("/api/v1/supervision/wrong-transfers", "supervisor", "from"),
    ("/api/v1/supervision/wrong-transfers", "supervisor", "to"),
)
# Supervision periods also take a plain date, meaning its 00:00 county time.
DATES = ("0001-01-01", "9999-12-31")


@pytest.fixture
async def desk(aiohttp_client: Any, db_url: str, engine: AsyncEngine) -> CaseApi:
    return await start_desk(aiohttp_client, db_url)  # `engine` emptied the tables


@pytest.mark.parametrize("edge", EDGES)
async def test_a_query_time_at_the_edge_of_the_calendar_is_a_400_naming_it(
    desk: CaseApi, edge: str
) -> None:
    for path, user, name in QUERIES:
        headers = {"Authorization": f"Bearer {desk.tokens[user]}"}
        async with desk.client.get(path, params={name: edge}, headers=headers) as resp:
            body = await resp.json()
            assert resp.status == 400, (path, name, resp.status, body)
        assert body["error"]["code"] == "bad_request"
        assert body["error"]["details"] == {"field": name}, (path, body)
        assert name in body["error"]["message"] and "out of range" in body["error"]["message"]


@pytest.mark.parametrize("day", DATES)
async def test_a_period_edge_on_the_first_or_last_day_of_the_calendar_is_a_400(
    desk: CaseApi, day: str
) -> None:
    for path, user, name in QUERIES:
        if name not in ("from", "to"):
            continue
        status, body = await desk.request("GET", f"{path}?{name}={day}", user)
        assert status == 400 and body["error"]["details"] == {"field": name}, (path, body)


async def test_times_just_inside_the_calendar_still_answer(desk: CaseApi) -> None:
    for path, user, name in QUERIES:
        value = "9999-12-29T00:00:00Z" if name == "to" else "0001-01-03T00:00:00Z"
        headers = {"Authorization": f"Bearer {desk.tokens[user]}"}
        async with desk.client.get(path, params={name: value}, headers=headers) as resp:
            assert resp.status == 200, (path, name, await resp.text())


@pytest.mark.parametrize("edge", EDGES)
async def test_a_reply_finished_at_the_edge_of_the_calendar_is_a_400(
    desk: CaseApi, edge: str
) -> None:
    number = (await desk.open("op12345", description="停水"))["number"]
    await desk.move(number, "classify", "op12345", demand_type="help", route="hotline")
    await desk.move(number, "dispatch", "op12345", lead_unit="water")
    await desk.move(number, "sign", "water")
    reply = {"measures": "更换阀门", "result": "已恢复供水", "handler": "张某某"}
    error = await desk.refused(number, "reply", "water", 400, **reply, finished_at=edge)
    assert error["details"] == {"field": "finished_at"} and "out of range" in error["message"]
    case = await desk.case(number)
    assert case["state"] == "signed" and case["timeline"][-1]["command"] == "sign"
    just_now = datetime.now(UTC).isoformat()
    assert (await desk.move(number, "reply", "water", **reply, finished_at=just_now))["state"] == (
        "replied"
    )
