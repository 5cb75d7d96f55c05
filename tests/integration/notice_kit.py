"""What the notice tests share: an urgent case dispatched to the city
management bureau (urban, PBX line unit-04 in the testbed), and the notices
and timeline lines the API shows for it."""

from __future__ import annotations

from typing import Any

from common.vocabulary import Role
from tests.integration.conftest import Liandong, eventually

URBAN_LINE = "unit-04"
STAFF, OFFICE, LEADER = "罗某", "综合执法大队", "林某某"  # urban's ladder (units.csv)


async def dispatched(
    liandong: Liandong, *, urgency: str = "urgent", co_units: tuple[str, ...] = ()
) -> str:
    """A case the 12345 desk opens, classifies and dispatches to urban (and
    `co_units`)."""
    op12345 = await liandong.operator_token(Role.OPERATOR_12345, "op12345-1")
    status, case = await liandong.post(
        "/api/v1/cases",
        {"desk": "12345", "description": "建设路与人民路口井盖缺失，有行人跌落危险"},
        token=op12345,
    )
    assert status == 201, case
    number = case["number"]
    classify = {
        "demand_type": "help",
        "route": "hotline",
        "urgency": urgency,
        "category": "city-appearance",
        "township": "chengguan",
        "address": "城关镇建设路18号",
    }
    dispatch = {"lead_unit": "urban", "co_units": list(co_units)}
    for command, body in (("classify", classify), ("dispatch", dispatch)):
        status, case = await liandong.post(f"/api/v1/cases/{number}/{command}", body, token=op12345)
        assert status == 200, (command, case)
    return str(number)


async def case_notices(liandong: Liandong, number: str) -> list[dict[str, Any]]:
    return list((await liandong.get(f"/api/v1/notices?case={number}"))["notices"])


async def notice_in(liandong: Liandong, number: str, state: str, within: float = 40.0) -> Any:
    async def probe() -> dict[str, Any] | None:
        found = await case_notices(liandong, number)
        return found[0] if found and found[0]["state"] == state else None

    return await eventually(probe, f"the notice of {number} {state}", within)


def notice_lines(case: dict[str, Any]) -> list[str]:
    return [e["data"]["note"] for e in case["timeline"] if e["command"] == "notice"]


async def case_in(liandong: Liandong, number: str, state: str, within: float = 30.0) -> Any:
    """The case once it is in `state` (a notice's key moves it a moment
    after the notice's own change)."""

    async def probe() -> dict[str, Any] | None:
        case: dict[str, Any] = await liandong.get(f"/api/v1/cases/{number}")
        return case if case["state"] == state else None

    return await eventually(probe, f"the case {number} {state}", within)
