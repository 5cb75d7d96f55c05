"""What a first try of the case API by new users (an operator, a unit, a
supervisor) turned up: each test is one of their cases, as they would check it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from records.http import CASES
from tests.component.cases_kit import CaseApi, start_desk

MONDAY = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 09:00 in the county


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> CaseApi:
    desk = await start_desk(aiohttp_client, f"sqlite+aiosqlite:///{tmp_path}/cases.db")
    at(desk, MONDAY)
    return desk


def at(desk: CaseApi, when: datetime) -> None:
    desk.client.app[CASES].clock = lambda: when


async def dispatched(desk: CaseApi, unit: str = "housing", text: str = "路灯坏了") -> str:
    number = str((await desk.open("op12345", description=text))["number"])
    await desk.move(number, "classify", "op12345", demand_type="help", route="hotline")
    await desk.move(number, "dispatch", "op12345", lead_unit=unit)
    return number


async def test_allowed_offers_only_what_this_user_may_do_here(desk: CaseApi) -> None:
    number = str((await desk.open("op110", description="邻居装修噪音扰民"))["number"])
    assert "classify" in (await desk.case(number, "op110"))["allowed"]
    assert (await desk.case(number, "op12345"))["allowed"] == []  # held by 110
    await desk.move(number, "refer_to_12345", "op110")
    hotline = (await desk.case(number, "op12345"))["allowed"]
    assert "send_back" in hotline and "classify" in hotline
    assert (await desk.case(number, "op110"))["allowed"] == []
    own = str((await desk.open("op12345", description="咨询办证"))["number"])
    assert "send_back" not in (await desk.case(own, "op12345"))["allowed"]  # not handed over
    error = await desk.refused(own, "send_back", "op12345", 409, reason="x")
    assert "classify" in error["details"]["allowed"]


async def test_a_co_unit_sees_and_gets_only_the_moves_of_a_co_unit(desk: CaseApi) -> None:
    number = str((await desk.open("op12345", description="道路积水"))["number"])
    await desk.move(number, "classify", "op12345", demand_type="help", route="hotline")
    await desk.move(number, "dispatch", "op12345", lead_unit="housing", co_units=["water"])
    assert (await desk.case(number, "water"))["allowed"] == []  # signing is the lead's
    error = await desk.refused(number, "sign", "water", 403)
    assert "only the lead unit (housing) may sign" in error["message"]
    await desk.move(number, "sign", "housing")
    assert (await desk.case(number, "water"))["allowed"] == ["arrive", "feed_back"]
    error = await desk.refused(number, "dispatch", "water", 403, lead_unit="water")
    assert "role unit may not dispatch" in error["message"]


async def test_an_excluded_matter_is_answered_not_dispatched(desk: CaseApi) -> None:
    number = str((await desk.open("op12345", description="法院判决不公，要求改判"))["number"])
    await desk.move(number, "classify", "op12345", demand_type="complaint", route="excluded")
    assert "dispatch" not in (await desk.case(number, "op12345"))["allowed"]
    error = await desk.refused(number, "dispatch", "op12345", 409, lead_unit="housing")
    assert "route excluded" in error["message"]
    assert "answer_directly" in error["details"]["allowed"]
    closed = await desk.move(number, "answer_directly", "op12345", answer="请通过法定途径申请再审")
    assert closed["state"] == "closed"


async def test_merging_goes_only_into_an_open_case(desk: CaseApi) -> None:
    done = str((await desk.open("op12345", description="夜间施工噪音"))["number"])
    await desk.move(done, "classify", "op12345", demand_type="enquiry", route="answer")
    await desk.move(done, "answer_directly", "op12345", answer="已告知夜间施工审批规定")
    fresh = str((await desk.open("op12345", description="小区垃圾无人清运"))["number"])
    error = await desk.refused(fresh, "merge", "op12345", 409, into=done)
    assert "merge into an open case" in error["message"]
    assert (await desk.case(fresh))["state"] == "received"  # still someone's to handle


async def test_only_real_calls_are_attached_and_only_to_open_cases(desk: CaseApi) -> None:
    number = str((await desk.open("op12345", description="咨询社保"))["number"])
    status, error = await desk.request(
        "POST", "/api/v1/calls/no-such-call/case", "op12345", {"case": number}
    )
    assert status == 404 and "no-such-call" in error["error"]["message"]
    assert (await desk.case(number))["calls"] == []


async def test_the_catalogues_suggestion_is_kept_beside_another_category(desk: CaseApi) -> None:
    number = str((await desk.open("op12345", description="杨庄镇村里的路灯坏了"))["number"])
    case = await desk.move(
        number,
        "classify",
        "op12345",
        demand_type="help",
        route="hotline",
        category="transport",
        township="yangzhuang",
    )
    entry = case["timeline"][-1]
    assert entry["data"]["category"] == "transport"  # the operator's decision
    assert entry["data"]["suggestion"]["category"] == "city-appearance"  # the catalogue's
    assert "路灯" in entry["data"]["suggestion"]["reason"]
    assert entry["data"]["followed_suggestion"] is False


async def test_the_citizens_first_words_stay_in_the_timeline(desk: CaseApi) -> None:
    opened = await desk.open(
        "op12345",
        description="原话：楼道灯坏了一个月",
        address="城关镇建设路5号",
        caller_number="13912345678",
        caller_name="刘先生",
    )
    number = opened["number"]
    await desk.move(
        number,
        "classify",
        "op12345",
        demand_type="help",
        route="hotline",
        description="楼道照明故障",
        address="建设路5号",
    )
    first = (await desk.case(number, "supervisor"))["timeline"][0]
    assert first["data"]["description"] == "原话：楼道灯坏了一个月"
    assert first["data"]["address"] == "城关镇建设路5号"
    assert "13912345678" not in str(first)  # masked roles read the timeline too


async def test_a_rejected_return_leaves_the_unit_signed_and_its_clock_alone(desk: CaseApi) -> None:
    number = await dispatched(desk)
    await desk.move(number, "sign", "housing")
    signed_at = (await desk.case(number))["times"]["signed"]
    await desk.move(number, "request_return", "housing", reason="路灯归供电公司")
    case = await desk.move(number, "reject_return", "op12345", reason="城区路灯由城管局维护")
    assert case["state"] == "signed" and case["times"]["signed"] == signed_at
    assert "feed_back" in (await desk.case(number, "housing"))["allowed"]


async def test_reminder_notices_only_after_the_deadline(desk: CaseApi) -> None:
    number = await dispatched(desk)
    close_due = (await desk.case(number))["due"]["close"]
    error = await desk.refused(number, "notice", "supervisor", 409, deadline="close")
    assert "has not passed" in error["message"]
    error = await desk.refused(number, "bulletin", "supervisor", 409, deadline="close")
    assert "has not passed" in error["message"]
    await desk.move(number, "remind", "supervisor", deadline="close")  # a reminder is fine
    at(desk, datetime.fromisoformat(close_due) + timedelta(minutes=1))
    case = await desk.move(number, "notice", "supervisor", deadline="close")
    assert case["timeline"][-1]["command"] == "notice"


async def test_a_reopened_case_owes_a_new_reply_and_rating(desk: CaseApi) -> None:
    number = await dispatched(desk)
    await desk.move(number, "sign", "housing")
    await desk.move(
        number, "reply", "housing", measures="更换灯泡", result="已修复", handler="王某"
    )
    await desk.move(number, "approve_reply", "op12345")
    await desk.move(number, "close", "op12345")
    await desk.move(number, "follow_up", "op12345", satisfaction=4)
    case = await desk.move(number, "reopen", "op12345", reason="群众反映仍不亮")
    assert (case["reply"], case["satisfaction"]) == (None, None)
    replies = [e for e in case["timeline"] if e["command"] == "reply"]
    assert replies[0]["data"]["result"] == "已修复"  # the old one stays on record


async def test_timeline_times_read_like_the_rest_of_the_api(desk: CaseApi) -> None:
    number = await dispatched(desk)
    entry = (await desk.case(number))["timeline"][-1]
    assert entry["command"] == "dispatch"
    assert entry["data"]["due"]["close"] == (await desk.case(number))["due"]["close"]
    assert entry["data"]["due"]["close"].endswith("Z")


async def test_a_case_opened_through_the_api_must_say_what_the_matter_is(desk: CaseApi) -> None:
    for body in ({}, {"description": "  "}, {"caller_name": "刘先生"}):
        status, error = await desk.request("POST", "/api/v1/cases", "op12345", body)
        assert status == 400 and error["error"]["details"]["field"] == "description", body
    status, listed = await desk.request("GET", "/api/v1/cases", "admin")
    assert listed["cases"] == []  # nothing half-opened


async def test_a_desk_finds_a_callers_cases_however_the_number_is_typed(desk: CaseApi) -> None:
    number = (await desk.open("op12345", description="咨询", caller_number="13912345678"))["number"]
    for typed in ("13912345678", "139 1234 5678", "139-1234-5678"):
        status, found = await desk.request(
            "GET", f"/api/v1/cases?caller_number={typed.replace(' ', '%20')}", "op12345"
        )
        assert status == 200 and [c["number"] for c in found["cases"]] == [number], typed
    status, error = await desk.request("GET", "/api/v1/cases?caller_number=abc", "op12345")
    assert status == 400 and error["error"]["details"]["field"] == "caller_number"


async def test_an_e_reply_is_finished_after_the_case_opened_and_links_are_bounded(
    desk: CaseApi,
) -> None:
    number = await dispatched(desk)
    await desk.move(number, "sign", "housing")
    reply = {"measures": "更换灯泡", "result": "已修复", "handler": "王某"}
    before = (MONDAY - timedelta(days=1)).isoformat()
    error = await desk.refused(number, "reply", "housing", 400, **reply, finished_at=before)
    assert error["details"]["field"] == "finished_at"
    long_url = [{"name": "现场照片", "url": "https://example.invalid/" + "x" * 2000}]
    error = await desk.refused(number, "reply", "housing", 400, **reply, attachments=long_url)
    assert error["details"]["field"] == "attachments[0].url"
    assert (await desk.case(number))["state"] == "signed"


async def test_the_role_is_checked_before_the_record(desk: CaseApi) -> None:
    """Who may not give a move hears that first (403), not about its fields."""
    number = await dispatched(desk)
    error = await desk.refused(number, "notice", "housing", 403, deadline="close")
    assert "role unit may not notice" in error["message"]
    await desk.move(number, "sign", "housing")
    early = (MONDAY - timedelta(days=1)).isoformat()
    reply = {"measures": "更换灯泡", "result": "已修复", "handler": "王某", "finished_at": early}
    error = await desk.refused(number, "reply", "water", 403, **reply)  # not this unit's case
    assert "not assigned" in error["message"]
