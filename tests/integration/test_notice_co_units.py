"""A dispatch with co-units (协办单位) on the real testbed: the lead unit
(urban, PBX line unit-04), a co-unit on its own PBX line (water, unit-01)
and a township reached through the outbound trunk (chengguan: its staff
mobile dialled through trunk-12345, where SIPp answers as the carrier) are
all rung at once. The lead's 1 signs the case; the co-units' calls go on
after it: water's 1 is an acknowledgement on the case, chengguan's 9 and a
reason key are a line for the desk — neither moves the case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pbx import sipp
from tests.integration.conftest import Liandong
from tests.integration.notice_kit import case_notices, dispatched, eventually, notice_lines


async def test_co_units_hear_the_notice_and_answer_it_without_moving_the_case(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones["unit-04"] = sipp.start_phone(
        "unit-04", work / "urban", ring_ms=300, keys="1", keys_after_ms=2000, talk_ms=6000
    )
    # Water answers later, once the lead has signed.
    phones["unit-01"] = sipp.start_phone(
        "unit-01", work / "water", ring_ms=6000, keys="1", keys_after_ms=2000, talk_ms=6000
    )
    phones["trunk-12345"] = sipp.start_phone(
        "trunk-12345",
        work / "chengguan",
        ring_ms=500,
        keys="9..2",
        keys_after_ms=2000,
        talk_ms=9000,
        rfc4733=True,
    )
    number = await dispatched(liandong, co_units=("water", "chengguan"))

    async def all_answered() -> list[dict[str, Any]] | None:
        found = await case_notices(liandong, number)
        states = {n["unit"]: n["state"] for n in found}
        done = {"urban": "accepted", "water": "accepted", "chengguan": "declined"}
        return found if states == done else None

    notices = await eventually(all_answered, "every unit's key", within=60)
    dialled = {n["unit"]: n["calls"][0]["dial"] for n in notices}
    assert dialled == {
        "urban": "PJSIP/unit-04",
        "water": "PJSIP/unit-01",
        "chengguan": "PJSIP/13900000103@trunk-12345",
    }

    # Each notice's line follows its own change a moment later.
    async def three_lines() -> dict[str, Any] | None:
        case: dict[str, Any] = await liandong.get(f"/api/v1/cases/{number}")
        return case if len(notice_lines(case)) == 3 else None

    case = await eventually(three_lines, "a line per unit on the case")
    assert case["state"] == "signed"
    commands = [e["command"] for e in case["timeline"]]
    assert commands.count("sign") == 1 and "request_return" not in commands
    assert next(e for e in case["timeline"] if e["command"] == "sign")["unit"] == "urban"
    assert sorted(notice_lines(case)) == sorted(
        [
            "联动通知第1次呼叫宝丰县城市管理局工作人员 罗某：按1签收",
            "联动通知第1次呼叫协办单位宝丰县自来水公司工作人员 谢某：按1确认接收",
            "联动通知第1次呼叫协办单位城关镇工作人员 陈某：按9反馈非本单位事项（不在本单位辖区）",
        ]
    )
    # Each call is on the case with its leg where it rang.
    for notice in notices:
        call = await liandong.get(f"/api/v1/calls/{notice['calls'][0]['call']}")
        assert [leg["answered_at"] is not None for leg in call["legs"]] == [True]
