"""The supervisor ladder with a controllable clock: reminder before a deadline,
催办 the working day after it passed, 通报 when still overdue five working days
after that — each once, each a timeline entry and a live event."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from records.http import CASES
from records.service.ladder import run_ladder
from tests.component.cases_kit import CaseApi, start_desk
from web.app_state import LIVE

BEIJING = ZoneInfo("Asia/Shanghai")
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=BEIJING)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12 if day < 30 else 11, day, hour, minute, tzinfo=BEIJING)


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> CaseApi:
    return await start_desk(
        aiohttp_client, f"sqlite+aiosqlite:///{tmp_path}/ladder.db", ladder_interval=0
    )


async def dispatched_complaint(desk: CaseApi) -> str:
    number: str = (await desk.open("op12345", description="噪音扰民投诉"))["number"]
    await desk.move(number, "classify", "op12345", demand_type="complaint", route="hotline")
    await desk.move(number, "dispatch", "op12345", lead_unit="housing")
    return number


async def ladder_at(desk: CaseApi, when: datetime) -> list[tuple[str, str, str]]:
    service = desk.client.app[CASES]
    service.clock = lambda: when
    return [(s.case, s.command.value, s.deadline) for s in await run_ladder(service, when)]


async def test_reminder_notice_and_bulletin_for_a_case_nobody_signs_for(desk: CaseApi) -> None:
    service = desk.client.app[CASES]
    service.clock = lambda: MONDAY_9AM
    ignored = await dispatched_complaint(desk)
    signed_late = await dispatched_complaint(desk)
    case = await desk.case(ignored)
    # Sign-for within 24 h: due Tuesday 09:00 Beijing time.
    assert case["due"]["sign_for"] == "2026-12-01T01:00:00.000Z"
    live = desk.client.app[LIVE].subscribe("test")

    assert await ladder_at(desk, local(1, 4, 59)) == []  # more than 4 h before
    assert await ladder_at(desk, local(1, 5, 30)) == [
        (ignored, "remind", "sign_for"),
        (signed_late, "remind", "sign_for"),
    ]
    assert await ladder_at(desk, local(1, 8)) == []  # reminded once is enough
    assert await ladder_at(desk, local(1, 23)) == []  # overdue, but 催办 is the next working day
    assert await ladder_at(desk, local(2, 0, 5)) == [
        (ignored, "notice", "sign_for"),
        (signed_late, "notice", "sign_for"),
    ]

    service.clock = lambda: local(2, 10)
    await desk.move(signed_late, "sign", "housing")
    # 通报 when still overdue 5 working days after the 催办: end of Wed 9 December.
    assert await ladder_at(desk, local(9, 23)) == []
    assert await ladder_at(desk, local(10, 0, 30)) == [(ignored, "bulletin", "sign_for")]
    assert await ladder_at(desk, local(10, 1)) == []

    timeline = (await desk.case(ignored, "supervisor"))["timeline"]
    steps = [(e["command"], e["role"], e["data"]["deadline"]) for e in timeline[3:]]
    assert steps == [
        ("remind", "system", "sign_for"),
        ("notice", "system", "sign_for"),
        ("bulletin", "system", "sign_for"),
    ]
    announced = []
    while not live.queue.empty():
        message = live.queue.get_nowait()
        case = message["data"]
        if message["type"] == "case.moved" and case["role"] == "system":
            announced.append((case["case"], case["command"]))
    assert announced.count((ignored, "bulletin")) == 1
    assert (signed_late, "bulletin") not in announced


async def test_the_closing_deadline_is_chased_too_and_an_extension_moves_it(desk: CaseApi) -> None:
    service = desk.client.app[CASES]
    service.clock = lambda: MONDAY_9AM
    number = await dispatched_complaint(desk)
    service.clock = lambda: MONDAY_9AM + timedelta(hours=1)
    await desk.move(number, "sign", "housing")
    case = await desk.case(number)
    # Complaints close within 10 working days: end of Monday 14 December.
    assert case["due"]["close"] == "2026-12-14T16:00:00.000Z"
    await desk.move(number, "request_extension", "housing", days=3, reason="需协调物业")
    case = await desk.move(number, "approve_extension", "supervisor")
    assert case["due"]["close"] == "2026-12-17T16:00:00.000Z"
    assert await ladder_at(desk, local(14, 23)) == []
    assert await ladder_at(desk, local(17, 21)) == [(number, "remind", "close")]
    assert await ladder_at(desk, local(18, 0, 1)) == [(number, "notice", "close")]


async def test_a_closed_case_is_archived_seven_working_days_later_unless_reopened(
    desk: CaseApi,
) -> None:
    service = desk.client.app[CASES]
    service.clock = lambda: MONDAY_9AM
    kept, reopened = [
        (await desk.open("op12345", description="咨询公积金"))["number"] for _ in range(2)
    ]
    for number in (kept, reopened):
        await desk.move(number, "classify", "op12345", demand_type="enquiry", route="answer")
        await desk.move(number, "answer_directly", "op12345", answer="已告知办理流程")
    await desk.move(kept, "follow_up", "op12345", satisfaction=1)
    await desk.move(reopened, "reopen", "supervisor", reason="市民反映未解决")
    # Closed Monday 30 November: seven working days end on Wednesday 9 December.
    assert await ladder_at(desk, local(9, 23)) == []
    assert await ladder_at(desk, local(10, 0, 1)) == [(kept, "archive", "archive")]
    case = await desk.case(kept)
    assert (case["state"], case["timeline"][-1]["role"]) == ("archived", "system")
    assert (await desk.case(reopened))["state"] == "reopened"
    await desk.refused(kept, "reopen", "supervisor", 409, reason="too late")
