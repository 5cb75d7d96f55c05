"""A case's `allowed` is exactly what goes through now for the user who reads
it, time checks included: every listed ladder step goes through, every other
is refused, and each refusal's `details.allowed` is that same list."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from records.http import CASES
from tests.component.cases_kit import USERS, CaseApi, start_desk

BEIJING = ZoneInfo("Asia/Shanghai")
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=BEIJING)
LADDER = ("remind", "notice", "bulletin")
DEADLINES = ("sign_for", "arrive", "feedback", "close")
# Before any deadline; past sign-for (24 h); past every clock (weeks later).
LATER = (timedelta(hours=1), timedelta(hours=30), timedelta(days=60))


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> CaseApi:
    return await start_desk(aiohttp_client, f"sqlite+aiosqlite:///{tmp_path}/allowed.db")


async def case_in(desk: CaseApi, state: str) -> str:
    desk.client.app[CASES].clock = lambda: MONDAY_9AM
    number: str = (await desk.open("op12345", description="噪音扰民投诉"))["number"]
    await desk.move(number, "classify", "op12345", demand_type="complaint", route="hotline")
    await desk.move(number, "dispatch", "op12345", lead_unit="housing")
    if state == "signed":
        await desk.move(number, "sign", "housing")
    return number


@pytest.mark.parametrize("state", ["dispatched", "signed"])
async def test_every_listed_ladder_step_goes_through_and_every_other_is_refused(
    desk: CaseApi, state: str
) -> None:
    for later in LATER:
        for user in USERS:
            for command in LADDER:
                number = await case_in(desk, state)  # a fresh case: a step is recorded
                desk.client.app[CASES].clock = lambda later=later: MONDAY_9AM + later
                status, seen = await desk.request("GET", f"/api/v1/cases/{number}", user)
                if status == 403:  # another unit's case: nothing listed, nothing goes
                    got, _ = await desk.request(
                        "POST", f"/api/v1/cases/{number}/{command}", user, {"deadline": "close"}
                    )
                    assert got == 403, (user, command)
                    continue
                allowed = seen["allowed"]
                # The deadlines the case says this step may name now.
                named = seen["ladder_deadlines"].get(command, [])
                went, refused = [], []
                for deadline in DEADLINES:
                    path = f"/api/v1/cases/{number}/{command}"
                    status, body = await desk.request("POST", path, user, {"deadline": deadline})
                    if status == 200:
                        went.append(deadline)
                        break
                    refused.append(deadline)
                    assert status in (403, 409), (user, command, deadline, status, body)
                    if status == 409:
                        assert body["error"]["details"]["allowed"] == allowed, (user, body)
                listed = command in allowed
                assert listed == bool(went), (state, later, user, command, allowed, went)
                assert went == named[:1] and not set(refused) & set(named), (command, named)
                assert set(seen["ladder_deadlines"]) == {c for c in LADDER if c in allowed}


async def test_a_supervisor_is_offered_only_remind_before_any_deadline(desk: CaseApi) -> None:
    number = await case_in(desk, "signed")
    case = await desk.case(number, "supervisor")
    assert "remind" in case["allowed"]
    assert "notice" not in case["allowed"] and "bulletin" not in case["allowed"]
    error = await desk.refused(number, "notice", "supervisor", 409, deadline="close")
    assert "has not passed yet" in error["message"]
    assert error["details"]["allowed"] == case["allowed"] and "remind" in case["allowed"]
