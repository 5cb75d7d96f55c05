"""Follow-up calls (回访) on the real testbed: a case the 12345 desk answers
and closes rings its caller through trunk-12345 (SIPp at the trunk's
address plays the citizen); a 2 keyed in (RFC 4733) is the case's rating, a
5 (SIP INFO) re-opens it. Outside the calling hours the call waits; an
anonymous caller is never called."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from common.vocabulary import Role
from county.calendar import COUNTY_TZ
from pbx import sipp, testbed
from startup.settings import DEFAULT_CASE_CONFIG
from tests.integration.conftest import Liandong, eventually, server_settings, start_server

CITIZEN = "13955501234"


def case_config(folder: Path, hours: str = "00:00-23:59") -> Path:
    """The shipped rules with follow-ups at once within `hours`, no comment."""
    shutil.copytree(DEFAULT_CASE_CONFIG, folder)
    rules = folder / "outbound.yaml"
    text = rules.read_text(encoding="utf-8")
    for old, new in (
        ("after: 2h", "after: 0m"),
        ('hours: "08:30-20:00"', f'hours: "{hours}"'),
        ("comment_s: 20", "comment_s: 0"),
    ):
        text = text.replace(old, new)
    rules.write_text(text, encoding="utf-8")
    return folder


async def server_with(
    pbx: testbed.TestbedConfig, tmp_path: Path, aiohttp_client: Any, hours: str = "00:00-23:59"
) -> Liandong:
    settings = dataclasses.replace(
        server_settings(pbx, tmp_path), case_config=case_config(tmp_path / "cc", hours)
    )
    return await start_server(aiohttp_client, settings)


async def answered_and_closed(liandong: Liandong, **caller: Any) -> str:
    op12345 = await liandong.operator_token(Role.OPERATOR_12345, "op12345-1")
    body = {"desk": "12345", "description": "咨询公积金提取", "caller_number": CITIZEN, **caller}
    status, case = await liandong.post("/api/v1/cases", body, token=op12345)
    assert status == 201, case
    number = str(case["number"])
    for command, move in (
        ("classify", {"demand_type": "enquiry", "route": "hotline"}),
        ("answer_directly", {"answer": "已告知办理材料"}),
    ):
        status, case = await liandong.post(f"/api/v1/cases/{number}/{command}", move, token=op12345)
        assert status == 200, (command, case)
    return number


async def follow_up_of(liandong: Liandong, number: str, state: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found = (await liandong.get(f"/api/v1/follow-ups?case={number}"))["follow_ups"]
        return found[0] if found and found[0]["state"] == state else None

    return await eventually(probe, f"the follow-up {state}")


@pytest.mark.parametrize(
    ("key", "rfc4733", "state"),
    [("2", True, "closed"), ("5", False, "reopened")],
    ids=["rated-2-rfc4733", "rated-5-sip-info"],
)
async def test_the_citizen_rates_the_closed_case_by_key(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
    key: str,
    rfc4733: bool,
    state: str,
) -> None:
    liandong = await server_with(pbx_clean, tmp_path, aiohttp_client)
    phones["trunk-12345"] = sipp.start_phone(
        "trunk-12345", work, ring_ms=500, keys=key, keys_after_ms=3000, rfc4733=rfc4733
    )
    number = await answered_and_closed(liandong)
    rated = await follow_up_of(liandong, number, "rated")
    assert (rated["rating"], rated["tries"]) == (int(key), 1)

    async def settled() -> dict[str, Any] | None:
        case: dict[str, Any] = await liandong.get(f"/api/v1/cases/{number}")
        commands = [e["command"] for e in case["timeline"]]
        return case if "follow_up" in commands and case["state"] == state else None

    case = await eventually(settled, f"the case {state} with its rating")
    rating = next(e for e in case["timeline"] if e["command"] == "follow_up")
    assert (rating["actor"], rating["role"], rating["data"]["satisfaction"]) == (
        "回访电话",
        "system",
        int(key),
    )
    # The call is on the case, made to the citizen on the trunk.
    [call_id] = [c["id"] for c in case["calls"] if c["id"].startswith("ldfu-")]
    call = await liandong.get(f"/api/v1/calls/{call_id}")
    assert [leg["endpoint"] for leg in call["legs"]] == ["trunk-12345"]
    assert call["legs"][0]["answered_at"] is not None


async def test_outside_the_calling_hours_the_call_waits(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
) -> None:
    now = datetime.now(COUNTY_TZ)
    # Hours that ended an hour ago (or, just after midnight, start in two).
    start, end = (now - timedelta(hours=3), now - timedelta(hours=1))
    if start.date() != now.date() or end.date() != now.date():
        start, end = now + timedelta(hours=2), now + timedelta(hours=3)
    hours = f"{start:%H:%M}-{end:%H:%M}"
    liandong = await server_with(pbx_clean, tmp_path, aiohttp_client, hours)
    phones["trunk-12345"] = sipp.start_phone("trunk-12345", work, ring_ms=300, keys="1")
    number = await answered_and_closed(liandong)
    waiting = await follow_up_of(liandong, number, "scheduled")
    due = datetime.fromisoformat(waiting["due_at"]).astimezone(COUNTY_TZ)
    assert due > datetime.now(UTC) and f"{due:%H:%M}" == f"{start:%H:%M}"
    await asyncio.sleep(3)
    assert phones["trunk-12345"].outcomes() == []


async def test_an_anonymous_caller_is_not_called(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
) -> None:
    liandong = await server_with(pbx_clean, tmp_path, aiohttp_client)
    phones["trunk-12345"] = sipp.start_phone("trunk-12345", work, ring_ms=300, keys="1")
    number = await answered_and_closed(liandong, anonymous=True)
    # The closures are handled in order: once a case closed after it has had
    # its call, the anonymous one has been looked at.
    named = await answered_and_closed(liandong)
    await follow_up_of(liandong, named, "rated")
    assert (await liandong.get(f"/api/v1/follow-ups?case={number}"))["follow_ups"] == []
    calls = [line.split()[1] for line in phones["trunk-12345"].outcomes()]
    assert calls.count("answered") == 1
