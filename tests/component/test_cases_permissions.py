"""Who may do what with cases, and what bad input gets back: each role's
permissions through the real API, and a clear 4xx naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.component.cases_kit import CaseApi, start_desk


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> CaseApi:
    return await start_desk(aiohttp_client, f"sqlite+aiosqlite:///{tmp_path}/perm.db")


async def dispatched(desk: CaseApi, unit: str, number: str = "13912345678") -> str:
    case = await desk.open(
        "op12345",
        caller_number=number,
        caller_name="刘先生",
        anonymous=True,
        description="路灯不亮",
    )
    await desk.move(case["number"], "classify", "op12345", demand_type="help", route="hotline")
    await desk.move(case["number"], "dispatch", "op12345", lead_unit=unit)
    return str(case["number"])


@pytest.mark.parametrize(
    ("user", "at_desk", "status"),
    [
        ("op110", None, 201),
        ("op12345", "12345", 201),
        ("admin", "12345", 201),
        ("op110", "12345", 400),  # not at the other desk: hand-overs are counted
        ("water", "12345", 403),
        ("supervisor", "12345", 403),
    ],
)
async def test_who_may_open_a_case(
    desk: CaseApi, user: str, at_desk: str | None, status: int
) -> None:
    body = {"description": "咨询"} | ({"desk": at_desk} if at_desk else {})
    got, answer = await desk.request("POST", "/api/v1/cases", user, body)
    assert got == status, answer
    if status == 400:
        assert answer["error"]["details"]["field"] == "desk"


async def test_a_unit_sees_and_moves_only_its_own_cases(desk: CaseApi) -> None:
    water_case = await dispatched(desk, "water")
    housing_case = await dispatched(desk, "housing")

    status, listed = await desk.request("GET", "/api/v1/cases?unit=housing", "water")
    assert status == 200
    assert [c["number"] for c in listed["cases"]] == [water_case]  # its own, whatever it asks

    status, error = await desk.request("GET", f"/api/v1/cases/{housing_case}", "water")
    assert status == 403 and "not assigned to your unit" in error["error"]["message"]
    await desk.refused(housing_case, "sign", "water", 403)
    assert (await desk.case(housing_case))["state"] == "dispatched"

    mine = await desk.case(water_case, "water")
    assert mine["caller"] == {
        "name": "匿名",
        "number": "139******78",
        "anonymous": True,
        "no_follow_up": False,
    }
    assert mine["allowed"] == ["sign", "request_return"]
    status, _ = await desk.request("GET", "/api/v1/cases?caller_number=13912345678", "water")
    assert status == 403


async def test_desks_act_only_on_cases_they_hold_and_roles_only_on_their_moves(
    desk: CaseApi,
) -> None:
    at_110 = (await desk.open("op110", description="有人吵架"))["number"]
    error = await desk.refused(
        at_110, "classify", "op12345", 403, demand_type="help", route="hotline"
    )
    assert "110 desk" in error["message"]
    case = await dispatched(desk, "water")
    await desk.refused(case, "sign", "op12345", 403)  # a desk does not sign for a unit
    await desk.refused(case, "remind", "op110", 403, deadline="close")
    classified = (await desk.open("op12345", description="井盖丢失"))["number"]
    await desk.move(classified, "classify", "op12345", demand_type="help", route="hotline")
    for user in ("supervisor", "admin", "water", "op110"):
        await desk.refused(classified, "dispatch", user, 403, lead_unit="housing")
    assert (await desk.case(classified))["state"] == "classified"


async def test_supervisors_read_everything_with_numbers_masked(desk: CaseApi) -> None:
    case = await dispatched(desk, "water", number="13800001111")
    seen = await desk.case(case, "supervisor")
    assert seen["caller"]["number"] == "138******11"
    assert (await desk.case(case, "op12345"))["caller"]["number"] == "13800001111"


async def test_no_token_or_a_bad_one_is_401(desk: CaseApi) -> None:
    async with desk.client.get("/api/v1/cases") as resp:
        assert resp.status == 401
    headers = {"Authorization": "Bearer not-a-token"}
    async with desk.client.post("/api/v1/cases", json={}, headers=headers) as resp:
        assert resp.status == 401


@pytest.mark.parametrize(
    ("command", "body", "field"),
    [
        ("classify", {"route": "hotline"}, "demand_type"),
        ("classify", {"demand_type": "help", "route": "elsewhere"}, "route"),
        ("classify", {"demand_type": "help", "route": "hotline", "colour": "red"}, "colour"),
        ("classify", {"demand_type": "help", "route": "hotline", "category": "天气"}, "category"),
        ("classify", {"demand_type": "help", "route": "hotline", "township": "water"}, "township"),
        ("classify", {"demand_type": 7, "route": "hotline"}, "demand_type"),
        ("classify", {"demand_type": "help", "route": "hotline", "note": ["x"]}, "note"),
    ],
)
async def test_bad_input_names_the_field(
    desk: CaseApi, command: str, body: dict[str, Any], field: str
) -> None:
    number = (await desk.open("op12345", description="咨询"))["number"]
    status, error = await desk.request("POST", f"/api/v1/cases/{number}/{command}", "op12345", body)
    assert status == 400, error
    assert error["error"]["details"]["field"] == field
    assert (await desk.case(number))["timeline"][-1]["command"] == "open"  # nothing recorded


async def test_bad_units_dates_json_commands_and_cases(desk: CaseApi) -> None:
    number = (await desk.open("op12345", description="咨询"))["number"]
    await desk.move(number, "classify", "op12345", demand_type="help", route="hotline")
    error = await desk.refused(number, "dispatch", "op12345", 400, lead_unit="nobody")
    assert error["details"]["field"] == "lead_unit"
    error = await desk.refused(
        number, "dispatch", "op12345", 400, lead_unit="water", co_units=["housing", "housing"]
    )
    assert error["details"]["field"] == "co_units"
    headers = {"Authorization": f"Bearer {desk.tokens['op12345']}"}
    async with desk.client.post(
        f"/api/v1/cases/{number}/dispatch", data=b"{not json", headers=headers
    ) as resp:
        assert resp.status == 400
        assert "not JSON" in (await resp.json())["error"]["message"]
    status, error = await desk.request("POST", f"/api/v1/cases/{number}/teleport", "op12345", {})
    assert status == 404 and "dispatch" in error["error"]["message"]
    status, _ = await desk.request("GET", "/api/v1/cases/2026-999999", "op12345")
    assert status == 404
    status, error = await desk.request("GET", "/api/v1/cases?since=yesterday", "op12345")
    assert status == 400 and error["error"]["details"]["field"] == "since"
    status, error = await desk.request("GET", "/api/v1/cases?state=lost", "op12345")
    assert status == 400 and error["error"]["details"]["field"] == "state"


async def test_the_live_feed_tells_a_unit_only_about_its_own_cases(desk: CaseApi) -> None:
    headers = {"Authorization": f"Bearer {desk.tokens['water']}"}
    async with desk.client.ws_connect("/api/v1/live", headers=headers) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        housing_case = await dispatched(desk, "housing")
        water_case = await dispatched(desk, "water")
        message = await ws.receive_json(timeout=5)
    assert (message["type"], message["data"]["case"], message["data"]["command"]) == (
        "case.moved",
        water_case,
        "dispatch",
    )
    assert housing_case != water_case


async def test_a_read_only_path_answers_405_with_the_allowed_methods(desk: CaseApi) -> None:
    number = (await desk.open("op12345", description="咨询"))["number"]
    status, error = await desk.request("POST", f"/api/v1/cases/{number}/suggestion", "op12345")
    assert status == 405, error
    headers = {"Authorization": f"Bearer {desk.tokens['op12345']}"}
    async with desk.client.delete("/api/v1/units", headers=headers) as resp:
        assert resp.status == 405 and set(resp.headers["Allow"].split(",")) == {"GET", "HEAD"}
