"""Input a new user got wrong, through the real API and CLI: each is refused
with a 400 (or exit code 2) that names what is wrong, before anything is
stored, and the case stays readable afterwards."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ami_client.settings import AmiSettings
from records.http import CASES
from records.supervision.openapi import PATHS
from startup import tokens_cli
from startup.settings import Settings
from tests.component.cases_kit import CaseApi, start_desk

TZ = ZoneInfo("Asia/Shanghai")
NOV_1 = "2026-10-31T16:00:00.000Z"  # 2026-11-01 00:00 county time


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> CaseApi:
    return await start_desk(aiohttp_client, f"sqlite+aiosqlite:///{tmp_path}/input.db")


async def classified(desk: CaseApi) -> str:
    number: str = (await desk.open("op12345", description="路灯不亮"))["number"]
    await desk.move(number, "classify", "op12345", demand_type="help", route="hotline")
    return number


async def dispatched(desk: CaseApi, unit: str = "water") -> str:
    number = await classified(desk)
    await desk.move(number, "dispatch", "op12345", lead_unit=unit)
    return number


async def post_raw(desk: CaseApi, path: str, user: str, data: bytes) -> tuple[int, Any]:
    headers = {
        "Authorization": f"Bearer {desk.tokens[user]}",
        "Content-Type": "application/json",
    }
    async with desk.client.post(path, data=data, headers=headers) as resp:
        return resp.status, await resp.json()


# ------------------------------------------------------ 1. unprintable text


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b", "\x1b[31m"])
async def test_text_that_cannot_be_sent_back_is_refused_and_the_case_stays_readable(
    desk: CaseApi, bad: str
) -> None:
    number = (await desk.open("op12345", description="咨询"))["number"]
    for body, field in (
        ({"demand_type": "help", "route": "hotline", "description": f"停水{bad}"}, "description"),
        ({"demand_type": "help", "route": "hotline", "note": bad}, "note"),
        ({"demand_type": bad, "route": "hotline"}, "demand_type"),
        ({"demand_type": "help", "route": "hotline", f"x{bad}": 1}, None),
    ):
        error = await desk.refused(number, "classify", "op12345", 400, **body)
        assert field is None or error["details"]["field"] == field, error
    error = await desk.refused(number, "merge", "op12345", 400, into=bad)
    assert error["details"]["field"] == "into"
    case = await desk.case(number)  # a 200, not a 500 on the way out
    assert [entry["command"] for entry in case["timeline"]] == ["open"]

    status, error = await desk.request(
        "POST", "/api/v1/cases", "op12345", {"description": "咨询", "caller_name": f"王{bad}"}
    )
    assert status == 400 and error["error"]["details"]["field"] == "caller_name"
    status, listed = await desk.request("GET", "/api/v1/cases", "op12345")
    assert status == 200 and [c["number"] for c in listed["cases"]] == [number]


# ------------------------------------------------------ 2. deeply nested body


async def test_a_deeply_nested_body_is_a_400_not_a_500(desk: CaseApi) -> None:
    number = await classified(desk)
    for data in (b"[" * 100_000, b'{"note": ' + b"[" * 100_000):
        status, error = await post_raw(desk, f"/api/v1/cases/{number}/dispatch", "op12345", data)
        assert status == 400, error
        assert error["error"]["details"] == {"field": "body"}
        assert "nested" in error["error"]["message"]
    too_long = b'{"lead_unit": ' + b"9" * 5000 + b"}"  # past Python's 4300-digit limit
    status, error = await post_raw(desk, f"/api/v1/cases/{number}/dispatch", "op12345", too_long)
    assert status == 400 and error["error"]["details"] == {"field": "body"}, error
    assert (await desk.case(number))["state"] == "classified"


# ------------------------------------------------------ 3. ladder deadlines


async def test_a_supervisor_reminds_only_of_a_deadline_that_exists(desk: CaseApi) -> None:
    number = await dispatched(desk)
    error = await desk.refused(number, "remind", "supervisor", 400, deadline="whenever")
    assert error["details"]["field"] == "deadline"
    assert "sign_for" in error["message"] and "close" in error["message"]
    for command in ("notice", "bulletin"):
        error = await desk.refused(number, command, "supervisor", 400, deadline="sign-for")
        assert error["details"]["field"] == "deadline"
    case = await desk.move(number, "remind", "supervisor", deadline="sign_for")
    assert case["timeline"][-1]["data"]["deadline"] == "sign_for"


# ------------------------------------------------------ 4. reply time


async def test_a_reply_finished_in_the_future_is_refused(desk: CaseApi) -> None:
    number = await dispatched(desk)
    await desk.move(number, "sign", "water")
    reply = {"measures": "更换阀门", "result": "已恢复供水", "handler": "张某某"}
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    error = await desk.refused(number, "reply", "water", 400, **reply, finished_at=tomorrow)
    assert error["details"]["field"] == "finished_at"
    assert (await desk.case(number))["state"] == "signed"
    just_now = datetime.now(UTC).isoformat()  # after the case opened, not ahead of the clock
    case = await desk.move(number, "reply", "water", **reply, finished_at=just_now)
    assert case["state"] == "replied"


# ------------------------------------------------------ 5. lead unit and co-units


async def test_the_lead_unit_cannot_also_be_a_co_unit(desk: CaseApi) -> None:
    number = await classified(desk)
    error = await desk.refused(
        number, "dispatch", "op12345", 400, lead_unit="water", co_units=["water", "housing"]
    )
    assert error["details"]["field"] == "co_units"
    assert "lead unit cannot also be a co-unit" in error["message"]
    assert (await desk.case(number))["state"] == "classified"
    case = await desk.move(number, "dispatch", "op12345", lead_unit="water", co_units=["housing"])
    assert (case["lead_unit"], case["co_units"]) == ("water", ["housing"])


# ------------------------------------------------------ 7. caller numbers


async def test_a_caller_number_must_be_a_phone_number(desk: CaseApi) -> None:
    for bad in ("李先生", "139-1234-abcd", "1" * 40):
        status, error = await desk.request(
            "POST", "/api/v1/cases", "op12345", {"description": "咨询", "caller_number": bad}
        )
        assert status == 400 and error["error"]["details"]["field"] == "caller_number", bad
    case = await desk.open("op12345", description="咨询", caller_number="139 1234 5678")
    assert case["caller"]["number"] == "13912345678"


# ------------------------------------------------------ 8. token names


@pytest.mark.parametrize("name", ["", "   "])
async def test_a_token_needs_a_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    settings = Settings(db_url=f"sqlite+aiosqlite:///{tmp_path}/tokens.db", ami=AmiSettings())
    create = argparse.Namespace(verb="create", role="supervisor", name=name, phone=None)
    assert await tokens_cli.run(create, settings) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--name" in err and err.startswith("liandong token: ")
    assert await tokens_cli.run(argparse.Namespace(verb="list"), settings) == 0
    assert capsys.readouterr().out == ""  # no token was made


# ------------------------------------------------------ 9. supervision parameters


async def test_a_period_may_be_given_as_plain_county_dates(desk: CaseApi) -> None:
    desk.client.app[CASES].clock = lambda: datetime(2026, 11, 15, 12, tzinfo=TZ)
    for view in ("units", "wrong-transfers"):
        status, body = await desk.request(
            "GET", f"/api/v1/supervision/{view}?from=2026-11-01&to=2026-12-01", "supervisor"
        )
        assert status == 200, body
        assert (body["from"], body["to"]) == (NOV_1, "2026-11-30T16:00:00.000Z")
    query = "from=2026-11-01T00:00:00%2B08:00&to=2026-11-02T08:00:00Z"
    status, body = await desk.request("GET", f"/api/v1/supervision/units?{query}", "supervisor")
    assert status == 200 and (body["from"], body["to"]) == (NOV_1, "2026-11-02T08:00:00.000Z")
    for query, name in (("from=2026-02-30", "from"), ("to=2026-13-01", "to")):
        path = f"/api/v1/supervision/units?{query}"
        status, error = await desk.request("GET", path, "supervisor")
        assert status == 400 and error["error"]["details"]["field"] == name, query


@pytest.mark.parametrize(
    ("view", "query", "name"),
    [
        ("open", "overdue_only=true", "overdue_only"),
        ("open", "from=2026-11-01", "from"),
        ("units", "unit=water", "unit"),
        ("wrong-transfers", "since=2026-11-01", "since"),
    ],
)
async def test_an_unknown_supervision_parameter_is_refused_listing_the_known_ones(
    desk: CaseApi, view: str, query: str, name: str
) -> None:
    status, error = await desk.request("GET", f"/api/v1/supervision/{view}?{query}", "supervisor")
    assert status == 400, error
    assert error["error"]["details"]["field"] == name
    documented = [p["name"] for p in PATHS[f"/api/v1/supervision/{view}"]["get"]["parameters"]]
    assert all(known in error["error"]["message"] for known in documented)
    status, _ = await desk.request("GET", f"/api/v1/supervision/{view}?format=json", "supervisor")
    assert status == 200
