"""How a notice call ends when nobody takes the order, on the real testbed:
the person hangs up before a key, or listens without pressing one (a
voicemail, a silence) — both "not reached", the ladder goes on and ends in
the alert — and a case the unit signs another way while its phone rings, or
while someone hears the notice, has that call hung up at once and no more
calls made."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from pbx import sipp, testbed
from startup.settings import DEFAULT_CASE_CONFIG
from tests.integration.conftest import Liandong, server_settings, start_server
from tests.integration.notice_kit import (
    STAFF,
    URBAN_LINE,
    case_in,
    case_notices,
    dispatched,
    eventually,
    notice_in,
    notice_lines,
)

UNIT = "宝丰县城市管理局"


async def lines_on(liandong: Liandong, number: str, count: int) -> dict[str, Any]:
    """The case once `count` notice lines are on it: the lines follow the
    notice's own change (which the API shows first) a moment later."""

    async def probe() -> dict[str, Any] | None:
        case: dict[str, Any] = await liandong.get(f"/api/v1/cases/{number}")
        return case if len(notice_lines(case)) >= count else None

    found: dict[str, Any] = await eventually(probe, f"{count} notice lines on {number}")
    return found


def phone_calls(phone: sipp.Phone) -> list[str]:
    """How each call to the phone went, in order: answered, cancelled, hungup…"""
    return [line.split()[1] for line in phone.outcomes()]


async def test_hanging_up_before_a_key_is_not_reached_and_the_ladder_ends_in_the_alert(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones[URBAN_LINE] = sipp.start_phone(URBAN_LINE, work, ring_ms=300, talk_ms=1500)
    number = await dispatched(liandong)
    notice = await notice_in(liandong, number, "unreached", within=60)

    assert [(c["contact"], c["result"]) for c in notice["calls"]] == [
        ("staff", "hung_up"),
        ("office", "hung_up"),
        ("leader", "hung_up"),
    ]
    case = await lines_on(liandong, number, 4)
    assert case["state"] == "dispatched"
    assert notice_lines(case)[0] == f"联动通知第1次呼叫{UNIT}工作人员 {STAFF}：接通后挂断"
    assert notice_lines(case)[-1] == f"联动通知未能送达{UNIT}：3次呼叫均无人按键确认，已告警督办"
    assert phone_calls(phones[URBAN_LINE]).count("answered") == 3


def one_rung_no_repeat(folder: Path) -> Path:
    """The shipped rules with a one-step ladder (staff) and the message said once."""
    shutil.copytree(DEFAULT_CASE_CONFIG, folder)
    rules = folder / "outbound.yaml"
    text = rules.read_text(encoding="utf-8")
    for old, new in (
        ("    - {contact: office, tries: 1}\n", ""),
        ("    - {contact: leader, tries: 1}\n", ""),
        ("repeat: 2 ", "repeat: 0 "),
    ):
        assert old in text, old
        text = text.replace(old, new)
    rules.write_text(text, encoding="utf-8")
    return folder


async def test_listening_without_a_key_is_not_reached(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
) -> None:
    """A voicemail or a silence: the message is said, no key comes, Asterisk
    says goodbye and hangs up; with nobody else on the ladder, the alert."""
    settings = dataclasses.replace(
        server_settings(pbx_clean, tmp_path), case_config=one_rung_no_repeat(tmp_path / "cc")
    )
    liandong = await start_server(aiohttp_client, settings)
    phones[URBAN_LINE] = sipp.start_phone(URBAN_LINE, work, ring_ms=300)
    number = await dispatched(liandong)
    notice = await notice_in(liandong, number, "unreached", within=90)

    assert [(c["contact"], c["result"]) for c in notice["calls"]] == [("staff", "no_key")]
    assert phone_calls(phones[URBAN_LINE]) == ["answered", "farend-hangup"]
    case = await lines_on(liandong, number, 2)
    assert notice_lines(case) == [
        f"联动通知第1次呼叫{UNIT}工作人员 {STAFF}：接通后未按键",
        f"联动通知未能送达{UNIT}：1次呼叫均无人按键确认，已告警督办",
    ]


@pytest.mark.parametrize(
    ("ring_ms", "phone_saw"),
    [(sipp.NEVER_MS, ["cancelled"]), (300, ["answered", "farend-hangup"])],
    ids=["while-it-rings", "while-the-notice-is-heard"],
)
async def test_a_case_signed_another_way_calls_the_notice_off_and_hangs_its_call_up(
    liandong: Liandong,
    pbx_clean: testbed.TestbedConfig,
    work: Path,
    phones: dict[str, sipp.Phone],
    ring_ms: int,
    phone_saw: list[str],
) -> None:
    phones[URBAN_LINE] = sipp.start_phone(URBAN_LINE, work, ring_ms=ring_ms)
    number = await dispatched(liandong)
    await notice_in(liandong, number, "calling")

    async def phone_reached() -> bool:
        if ring_ms == sipp.NEVER_MS:
            return f"PJSIP/{URBAN_LINE}-" in testbed.cli(pbx_clean, "core show channels concise")
        return phone_calls(phones[URBAN_LINE]) == ["answered"]

    await eventually(phone_reached, "the unit's phone rung")
    # The duty officer signs on the unit's page before anyone keys 1.
    urban = await liandong.unit_token("urban")
    status, case = await liandong.post(
        f"/api/v1/cases/{number}/sign", {"note": "已在平台签收"}, token=urban
    )
    assert status == 200, case

    async def call_over() -> bool:
        return phone_calls(phones[URBAN_LINE]) == phone_saw

    await eventually(call_over, "the notice call hung up", within=10)
    [notice] = await case_notices(liandong, number)
    assert notice["state"] == "cancelled"
    assert [(c["contact"], c["result"]) for c in notice["calls"]] == [("staff", "called_off")]
    case = await liandong.get(f"/api/v1/cases/{number}")
    assert case["state"] == "signed"
    assert notice_lines(case) == [
        f"联动通知第1次呼叫{UNIT}工作人员 {STAFF}：工单已另行处理，呼叫撤回"
    ]


async def test_a_spoken_reason_for_declining_is_recorded_and_served(
    liandong: Liandong, pbx_clean: testbed.TestbedConfig, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    """9, then no reason key: the unit speaks after the tone and hangs up;
    Asterisk's recording is on the return request and served by the API."""
    phones[URBAN_LINE] = sipp.start_phone(
        URBAN_LINE, work, ring_ms=300, keys="9", keys_after_ms=2000, talk_ms=22_000
    )
    number = await dispatched(liandong)
    notice = await notice_in(liandong, number, "declined", within=60)
    [call] = notice["calls"]
    assert call["recording"] == f"{testbed.NOTICE_RECORDINGS}/notice-{notice['id']}-1"
    case = await case_in(liandong, number, "return_requested")
    ask = next(e for e in case["timeline"] if e["command"] == "request_return")
    assert ask["data"]["reason"] == "电话通知按键退单：原因见录音"

    response = await liandong.client.get(
        f"/api/v1/notices/{notice['id']}/calls/1/recording", headers=liandong.auth()
    )
    assert response.status == 200, await response.text()
    body = await response.read()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    on_disk = pbx_clean.paths.notice_recordings / f"notice-{notice['id']}-1.wav"
    assert body == on_disk.read_bytes()
