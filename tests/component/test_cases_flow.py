"""Cases through the API, as the desks, a unit and the supervisors use them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.component.cases_kit import CaseApi, start_desk


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> CaseApi:
    return await start_desk(aiohttp_client, f"sqlite+aiosqlite:///{tmp_path}/cases.db")


async def test_a_non_police_matter_goes_from_110_to_12345_to_a_unit_and_is_closed(
    desk: CaseApi,
) -> None:
    case = await desk.open(
        "op110", caller_name="王女士", caller_number="13912345678", description="小区停水三天了"
    )
    number = case["number"]
    assert case["state"] == "received" and case["desk"] == "110"
    assert case["timeline"][0]["command"] == "open"

    await desk.move(number, "refer_to_12345", "op110", note="非警务，一键转12345")
    suggestion = (await desk.request("GET", f"/api/v1/cases/{number}/suggestion", "op12345"))[1]
    assert suggestion["route"] == "hotline" and suggestion["lead_unit"] == "water"
    case = await desk.move(
        number,
        "classify",
        "op12345",
        demand_type="help",
        route="hotline",
        category=suggestion["category"],
        township="chengguan",
        address="城关镇某小区",
    )
    assert case["route"]["suggested"] == "hotline"
    case = await desk.move(number, "dispatch", "op12345", lead_unit="water")
    assert case["due"]["sign_for"] and case["due"]["close"]

    # The unit sees its case, without the caller's number.
    mine = await desk.case(number, "water")
    assert mine["caller"]["number"] == "139******78"
    status, error = await desk.request("GET", f"/api/v1/cases/{number}", "housing")
    assert status == 403, error

    await desk.move(number, "sign", "water")
    await desk.move(number, "arrive", "water")
    await desk.move(number, "feed_back", "water", measures="已派抢修队")
    await desk.move(
        number, "reply", "water", measures="更换阀门", result="已恢复供水", handler="张某某"
    )
    await desk.move(number, "approve_reply", "op12345")
    case = await desk.move(number, "close", "op12345")
    assert case["state"] == "closed"
    assert case["reply"]["result"] == "已恢复供水"
    assert [e["to"] for e in case["timeline"]] == [
        "received",
        "received",
        "classified",
        "dispatched",
        "signed",
        "on_scene",
        "fed_back",
        "replied",
        "reviewed",
        "closed",
    ]


async def test_illegal_moves_are_refused_with_the_allowed_ones(desk: CaseApi) -> None:
    number = (await desk.open("op12345", description="咨询社保"))["number"]
    error = await desk.refused(number, "close", "op12345", 409)
    assert "classify" in error["details"]["allowed"]
    error = await desk.refused(number, "classify", "op12345", 400, demand_type="nonsense")
    assert error["details"]["field"] == "demand_type"


async def test_an_ambiguous_matter_goes_to_110_first_and_back_with_the_police_form(
    desk: CaseApi,
) -> None:
    number = (await desk.open("op12345", description="楼上邻居吵架还动手了"))["number"]
    suggestion = (await desk.request("GET", f"/api/v1/cases/{number}/suggestion", "op12345"))[1]
    assert suggestion["route"] == "ambiguous"
    await desk.move(number, "classify", "op12345", demand_type="help", route="ambiguous")
    case = await desk.move(number, "refer_to_110", "op12345")
    assert (case["state"], case["desk"]) == ("police_handling", "110")

    # The police feedback form is mandatory: each field is asked for by name.
    error = await desk.refused(number, "police_feedback", "op110", 400, officer="王警官")
    assert error["details"]["field"] == "findings"
    case = await desk.move(
        number,
        "police_feedback",
        "op110",
        officer="王警官",
        findings="邻里纠纷，无违法行为",
        measures="现场调解，已分开双方",
        police_ticket="JJ20261130001",
    )
    assert (case["state"], case["desk"], case["police_ticket"]) == (
        "classified",
        "12345",
        "JJ20261130001",
    )
    case = await desk.move(number, "dispatch", "op12345", lead_unit="chengguan")
    assert case["lead_unit"] == "chengguan"
    form = case["timeline"][-2]["data"]
    assert form["findings"] == "邻里纠纷，无违法行为"


async def test_an_excluded_matter_is_answered_with_the_script_and_closed(desk: CaseApi) -> None:
    number = (await desk.open("op12345", description="我要起诉我的老板，法院怎么立案"))["number"]
    suggestion = (await desk.request("GET", f"/api/v1/cases/{number}/suggestion", "op12345"))[1]
    assert suggestion["route"] == "excluded" and suggestion["answer"]
    await desk.move(number, "classify", "op12345", demand_type="enquiry", route="excluded")
    case = await desk.move(number, "answer_directly", "op12345", answer=suggestion["answer"])
    assert case["state"] == "closed"
    assert case["route"] == {
        "suggested": "excluded",
        "reason": suggestion["reason"],
        "decided": "excluded",
    }


async def test_a_police_matter_reported_to_12345_is_handled_and_closed_by_110(
    desk: CaseApi,
) -> None:
    number = (await desk.open("op12345", description="有人持刀抢劫"))["number"]
    case = await desk.move(
        number, "classify", "op12345", demand_type="police_report", route="police", urgency="urgent"
    )
    assert case["route"]["suggested"] == "police"
    await desk.move(number, "refer_to_110", "op12345")
    case = await desk.move(
        number, "police_close", "op110", result="嫌疑人已抓获", police_ticket="JJ20261130002"
    )
    assert (case["state"], case["police_ticket"]) == ("closed", "JJ20261130002")


async def test_duplicate_cases_are_merged_and_the_survivor_lists_them(desk: CaseApi) -> None:
    first = (await desk.open("op12345", caller_number="13900002222", description="噪音"))["number"]
    again = (await desk.open("op12345", caller_number="13900002222", description="噪音"))["number"]
    status, found = await desk.request(
        "GET", "/api/v1/cases?caller_number=13900002222&open=true", "op12345"
    )
    assert status == 200 and {c["number"] for c in found["cases"]} == {first, again}
    case = await desk.move(again, "merge", "op12345", into=first)
    assert (case["state"], case["merged_into"]) == ("merged", first)
    survivor = await desk.case(first)
    assert survivor["merged_cases"] == [again]
    absorbed = survivor["timeline"][-1]  # the survivor's own record of the merge
    assert (absorbed["command"], absorbed["data"], absorbed["actor"]) == (
        "absorb",
        {"case": again},
        "测试op12345",
    )
    status, _ = await desk.request("POST", f"/api/v1/cases/{first}/absorb", "op12345", {})
    assert status == 404  # recorded, not given
    error = await desk.refused(first, "merge", "op12345", 400, into=first)
    assert error["details"]["field"] == "into"


async def test_the_suggestion_follows_what_the_operator_types(desk: CaseApi) -> None:
    number = (await desk.open("op110", description="（待补充）"))["number"]
    await desk.move(number, "refer_to_12345", "op110")
    path = f"/api/v1/cases/{number}/suggestion"
    status, nothing = await desk.request("GET", path, "op12345")
    assert (status, nothing["route"], nothing["reason"]) == (
        200,
        "hotline",
        "未命中规则，由话务员判断",
    )
    query = "?text=%E8%B7%AF%E7%81%AF%E5%9D%8F%E4%BA%86&township=zhouzhuang"  # 路灯坏了
    status, typed = await desk.request("GET", path + query, "op12345")
    assert (typed["category"], typed["lead_unit"]) == ("city-appearance", "zhouzhuang")
    status, error = await desk.request("GET", path + "?township=atlantis", "op12345")
    assert status == 400 and error["error"]["details"]["field"] == "township"
    status, _ = await desk.request("GET", path, "water")
    assert status == 403
