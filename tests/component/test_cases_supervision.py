"""The supervision bureau's views through the API: what a supervisor checks
on the unit table, the overdue list, wrong transfers between the desks, the
CSV exports, and who may see what. Moves are placed in time with the case
service's clock."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from common.vocabulary import Role
from records.core.case_file import Actor
from records.core.lifecycle import Command
from records.http import CASES
from records.supervision.openapi import PATHS
from tests.component.cases_kit import CaseApi, start_desk

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # no holiday that week
MARCH = "from=2026-03-01T00:00:00%2B08:00&to=2026-04-01T00:00:00%2B08:00"
CALLER = "13912345678"


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> CaseApi:
    return await start_desk(aiohttp_client, f"sqlite+aiosqlite:///{tmp_path}/cases.db")


def at(desk: CaseApi, when: datetime) -> None:
    desk.client.app[CASES].clock = lambda: when


async def get(desk: CaseApi, path: str, user: str = "supervisor", status: int = 200) -> Any:
    got, body = await desk.request("GET", path, user)
    assert got == status, body
    return body


async def dispatched(desk: CaseApi, when: datetime, unit: str, text: str = "小区停水") -> str:
    """A case the 12345 desk opened, classified and dispatched to `unit` at `when`."""
    at(desk, when)
    number: str = (await desk.open("op12345", caller_number=CALLER, description=text))["number"]
    await desk.move(number, "classify", "op12345", demand_type="help", route="hotline")
    await desk.move(number, "dispatch", "op12345", lead_unit=unit)
    return number


async def handled(desk: CaseApi, number: str, unit: str, start: datetime, close: datetime) -> None:
    """`unit` signs 30 min after `start`, replies; 12345 closes at `close`."""
    at(desk, start + timedelta(minutes=30))
    await desk.move(number, "sign", unit)
    await desk.move(number, "reply", unit, measures="抢修", result="已解决", handler="张某")
    at(desk, close)
    await desk.move(number, "approve_reply", "op12345")
    await desk.move(number, "close", "op12345")


async def water_month(desk: CaseApi) -> dict[str, Any]:
    """Water: one case closed in 3 h, one closed two days after its limit."""
    quick = await dispatched(desk, MONDAY, "water")
    await handled(desk, quick, "water", MONDAY, MONDAY + timedelta(hours=3))
    at(desk, MONDAY + timedelta(hours=4))
    await desk.move(quick, "follow_up", "op12345", satisfaction=1)
    late = await dispatched(desk, MONDAY, "water")
    due_close = datetime.fromisoformat((await desk.case(late))["due"]["close"])
    late_close = due_close + timedelta(days=2)
    await handled(desk, late, "water", MONDAY, late_close)
    await desk.move(late, "follow_up", "op12345", satisfaction=4)
    return {"quick": quick, "late": late, "late_close": late_close}


def unit_row(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(row for row in body["units"] if row["unit"] == code)


async def test_the_unit_table_shows_on_time_rate_median_and_satisfaction(desk: CaseApi) -> None:
    month = await water_month(desk)
    body = await get(desk, f"/api/v1/supervision/units?{MARCH}")
    water = unit_row(body, "water")
    assert water["unit_name"] and water["dispatched"] == 2 and water["closed"] == 2
    assert water["open"] == 0 and water["closed_on_time"] == 1 and water["on_time_rate"] == 0.5
    late_minutes = (month["late_close"] - MONDAY).total_seconds() / 60
    close = water["durations"]["close"]
    assert close["count"] == 2
    assert close["median_minutes"] == round(statistics.median([180, late_minutes]), 1)
    assert close["p90_minutes"] == round(late_minutes, 1)  # nearest rank: the larger one
    assert water["durations"]["sign_for"]["median_minutes"] == 30
    assert water["satisfaction"] == {
        "rated": 2,
        "mean": 2.5,
        "satisfied": 1,
        "satisfied_rate": 0.5,
        "by_call": 0,  # both typed in by the 12345 operator
        "by_hand": 2,
    }
    # Every roster unit has a row; the total adds them up.
    assert unit_row(body, "housing")["dispatched"] == 0
    assert body["total"]["dispatched"] == 2 and body["total"]["unit_name"] == "合计"
    # Without from/to: the service's current month in county time.
    at(desk, datetime(2026, 3, 31, 23, 0, tzinfo=TZ))
    default = await get(desk, "/api/v1/supervision/units")
    assert default["from"] == "2026-02-28T16:00:00.000Z" and unit_row(default, "water") == water
    before = await get(desk, "/api/v1/supervision/units?to=2026-03-02T09:00:00%2B08:00")
    assert before["total"]["dispatched"] == 0  # [from, to): a dispatch at `to` is not in


async def test_ratings_by_the_follow_up_calls_are_told_apart_from_those_typed_in(
    desk: CaseApi,
) -> None:
    month = await water_month(desk)  # two ratings typed in by the 12345 operator
    # The server's follow-up call rates the quick case again, as 回访电话 (role system).
    await desk.client.app[CASES].act(
        month["quick"], Command.FOLLOW_UP, Actor("回访电话", Role.SYSTEM), {"satisfaction": 2}
    )
    body = await get(desk, f"/api/v1/supervision/units?{MARCH}")
    satisfaction = unit_row(body, "water")["satisfaction"]
    assert (satisfaction["by_call"], satisfaction["by_hand"]) == (1, 2)
    assert (body["total"]["satisfaction"]["by_call"], satisfaction["rated"]) == (1, 2)


async def test_returns_reminders_and_re_handles_count_against_the_unit_of_the_time(
    desk: CaseApi,
) -> None:
    number = await dispatched(desk, MONDAY, "water", "楼道漏水")
    at(desk, MONDAY + timedelta(hours=1))
    await desk.move(number, "request_return", "water", reason="不属于供水")
    await desk.move(number, "redispatch", "op12345", lead_unit="housing")
    at(desk, MONDAY + timedelta(days=3))
    await desk.move(number, "remind", "supervisor", deadline="sign_for")
    await desk.move(number, "notice", "supervisor", deadline="sign_for")
    body = await get(desk, f"/api/v1/supervision/units?{MARCH}")
    water, housing = unit_row(body, "water"), unit_row(body, "housing")
    assert (water["dispatched"], water["returns"]) == (0, 1)
    assert (housing["dispatched"], housing["open"], housing["returns"]) == (1, 1, 0)
    assert housing["reminders"] == 2 and housing["ladder"] == {
        "remind": 1,
        "notice": 1,
        "bulletin": 0,
    }
    assert housing["on_time_rate"] is None  # nothing closed yet


async def test_the_overdue_list_puts_the_late_case_first_with_its_ladder(desk: CaseApi) -> None:
    ignored = await dispatched(desk, MONDAY, "housing", "电梯故障")
    now = MONDAY + timedelta(days=4)  # Friday: both 24 h sign-for limits are past
    at(desk, MONDAY + timedelta(days=1, hours=10))
    await desk.move(ignored, "notice", "supervisor", deadline="sign_for")
    fresh = await dispatched(desk, now - timedelta(hours=1), "chengguan", "占道经营")
    signed = await dispatched(desk, MONDAY + timedelta(hours=2), "water")
    at(desk, MONDAY + timedelta(hours=3))
    await desk.move(signed, "sign", "water")
    at(desk, now)
    everything = await get(desk, "/api/v1/supervision/open")
    assert [c["number"] for c in everything["cases"]] == [ignored, signed, fresh]
    late = everything["cases"][0]
    assert late["overdue"] and late["lead_unit"] == "housing"
    assert late["deadlines"]["sign_for"]["overdue"]
    assert late["deadlines"]["sign_for"]["overdue_minutes"] == 3 * 24 * 60
    assert late["ladder"]["notice"] == 1
    assert late["ladder"]["steps"][0]["deadline"] == "sign_for"
    assert CALLER not in str(everything)
    overdue = await get(desk, "/api/v1/supervision/open?overdue=true")
    assert [c["number"] for c in overdue["cases"]] == [ignored, signed]
    signed_row = overdue["cases"][1]
    assert not signed_row["deadlines"]["sign_for"]["overdue"]
    assert signed_row["deadlines"]["close"]["overdue"]
    mine = await get(desk, "/api/v1/supervision/open?unit=housing", "op12345")
    assert [c["number"] for c in mine["cases"]] == [ignored]


async def test_a_unit_sees_only_its_own_open_cases_and_no_unit_table(desk: CaseApi) -> None:
    await dispatched(desk, MONDAY, "housing", "电梯故障")
    own = await dispatched(desk, MONDAY, "chengguan", "占道经营")
    body = await get(desk, "/api/v1/supervision/open?unit=housing", "chengguan")
    assert body["unit"] == "chengguan" and [c["number"] for c in body["cases"]] == [own]
    await get(desk, "/api/v1/supervision/units", "chengguan", 403)
    await get(desk, "/api/v1/supervision/wrong-transfers", "chengguan", 403)
    await get(desk, "/api/v1/supervision/units", "op12345", 403)


async def test_a_send_back_counts_against_the_operator_who_handed_over(desk: CaseApi) -> None:
    at(desk, MONDAY)
    wrong = await desk.open("op110", category="water-supply", description="停水")
    await desk.move(wrong["number"], "refer_to_12345", "op110")
    await desk.move(wrong["number"], "send_back", "op12345", reason="涉及治安，应由110处置")
    right = await desk.open("op110", description="物业不修电梯")
    await desk.move(right["number"], "refer_to_12345", "op110")
    await desk.move(
        right["number"],
        "classify",
        "op12345",
        demand_type="complaint",
        route="hotline",
        category="property",
    )
    police_matter = await desk.open("op110", description="电动车在小区里被偷了")
    await desk.move(police_matter["number"], "refer_to_12345", "op110")
    await desk.move(police_matter["number"], "send_back", "op12345", reason="盗窃归110")
    body = await get(desk, f"/api/v1/supervision/wrong-transfers?{MARCH}")
    assert body["total"] == {"handovers": 3, "sent_back": 2, "rate": 0.6667}
    [operator] = body["operators"]
    assert operator["operator"] == "测试op110" and operator["desk"] == "110"
    assert (operator["handovers"], operator["sent_back"]) == (3, 2)
    by_category = {c["category"]: c for c in operator["categories"]}
    assert by_category["water-supply"] == {
        "category": "water-supply",
        "category_name": "供水",
        "handovers": 1,
        "sent_back": 1,
        "rate": 1.0,
    }
    # Not classified when handed over: counted under what its words match,
    # a category or a police rule (the training signal: theft is 110's).
    assert by_category["property"]["handovers"] == 1 and by_category["property"]["sent_back"] == 0
    assert by_category["criminal"] == {
        "category": "criminal",
        "category_name": "刑事案件",
        "handovers": 1,
        "sent_back": 1,
        "rate": 1.0,
    }
    assert None not in by_category


async def test_csv_exports_open_in_excel_with_chinese_headers(desk: CaseApi) -> None:
    await water_month(desk)
    await dispatched(desk, MONDAY, "housing", "电梯故障")
    at(desk, MONDAY + timedelta(days=4))
    for path, header in (
        (f"/api/v1/supervision/units?{MARCH}&format=csv", "按时办结率(%)"),
        ("/api/v1/supervision/open?format=csv", "超期环节"),
        (f"/api/v1/supervision/wrong-transfers?{MARCH}&format=csv", "误转率(%)"),
    ):
        headers = {"Authorization": f"Bearer {desk.tokens['supervisor']}"}
        async with desk.client.get(path, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            assert resp.content_type == "text/csv"
            disposition = resp.headers["Content-Disposition"]
            assert disposition.startswith("attachment; filename=") and ".csv" in disposition
            raw = await resp.read()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert header in rows[0]
        assert CALLER not in raw.decode("utf-8-sig")
        if "units" in path:
            water = next(row for row in rows if row["单位代码"] == "water")
            assert water["按时办结率(%)"] == "50.0" and water["派发数"] == "2"
            assert rows[-1]["单位名称"] == "合计"
        if "open" in path:
            assert rows[0]["承办单位"] and rows[0]["是否超期"] == "是"
            assert rows[0]["派发时间"] == "2026-03-02 09:00:00"  # county time
            # A working-day limit runs to the end of its last day, written so.
            assert all(row["办结时限"].endswith(" 24:00") for row in rows), rows
            assert rows[0]["签收时限"] == "2026-03-03 09:00"  # 24 h after dispatch


async def test_bad_parameters_are_refused_naming_the_field(desk: CaseApi) -> None:
    for query, name in (
        ("units?from=yesterday", "from"),
        ("units?from=2026-03-01T00:00:00", "from"),  # no offset
        ("units?from=2026-04-01T00:00:00%2B08:00&to=2026-03-01T00:00:00%2B08:00", "to"),
        ("wrong-transfers?format=xlsx", "format"),
        ("open?overdue=maybe", "overdue"),
        ("open?unit=nowhere", "unit"),
    ):
        error = (await get(desk, f"/api/v1/supervision/{query}", status=400))["error"]
        assert error["details"]["field"] == name, (query, error)
    status, _ = await desk.request("GET", "/api/v1/supervision/open", "supervisor")
    assert status == 200


async def test_the_json_bodies_match_the_openapi_schemas(desk: CaseApi) -> None:
    import jsonschema_rs  # comes with schemathesis (dev extras): never skipped

    await water_month(desk)
    await dispatched(desk, MONDAY, "housing", "电梯故障")
    handed = await desk.open("op110", description="停水")
    await desk.move(handed["number"], "refer_to_12345", "op110")
    await desk.move(handed["number"], "send_back", "op12345", reason="误转")
    at(desk, MONDAY + timedelta(days=4))
    for path, query in (("open", "overdue=false"), ("units", MARCH), ("wrong-transfers", MARCH)):
        route = f"/api/v1/supervision/{path}"
        operation = PATHS[route]["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        body = await get(desk, f"{route}?{query}")
        errors = [str(e) for e in jsonschema_rs.Draft202012Validator(schema).iter_errors(body)]
        assert not errors, (path, errors[:3])
        error = await get(desk, f"{route}?format=pdf", status=400)
        error_schema = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert jsonschema_rs.Draft202012Validator(error_schema).is_valid(error)
