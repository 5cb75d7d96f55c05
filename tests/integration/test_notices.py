"""Linkage notices on the real testbed: an urgent case dispatched to the city
management bureau (urban, PBX line unit-04) rings its phone; the person who
answers hears the notice and presses a key — 1 signs the case in their name,
9 then a reason key requests a return — and the case tells every call made.
Nobody answering runs the ladder (staff, office, leader) to its end and
raises the alert. Keys go as RFC 4733 telephone-events and as SIP INFO."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from pydub import AudioSegment

from common.vocabulary import Role
from ivr_flows.service.prompts import wav_seconds
from pbx import sipp, testbed
from tests.integration.conftest import Liandong, server_settings, start_server
from tests.integration.notice_kit import (
    OFFICE,
    STAFF,
    URBAN_LINE,
    case_in,
    case_notices,
    dispatched,
    eventually,
    notice_in,
    notice_lines,
)


@pytest.mark.parametrize("rfc4733", [True, False], ids=["rfc4733", "sip-info"])
async def test_a_dispatch_rings_the_unit_and_key_1_signs_the_case_in_the_answerers_name(
    liandong: Liandong,
    work: Path,
    phones: dict[str, sipp.Phone],
    rfc4733: bool,
    pbx_clean: testbed.TestbedConfig,
) -> None:
    phones[URBAN_LINE] = sipp.start_phone(
        URBAN_LINE, work, ring_ms=500, keys="1", keys_after_ms=2500, talk_ms=8000, rfc4733=rfc4733
    )
    number = await dispatched(liandong)

    # The case's own words, made into speech before the phone rings, where
    # Asterisk reads them: 事项类别，市容环卫。所属乡镇，城关镇。地址，… (about 16 s).
    async def rendered() -> Path | None:
        made = await case_notices(liandong, number)
        path = pbx_clean.paths.notice_audio / f"notice-{made[0]['id']}.wav" if made else None
        return path if path is not None and path.exists() else None

    audio = await eventually(rendered, "the notice's words rendered", within=10)
    assert 8 < wav_seconds(audio) < 30, wav_seconds(audio)
    assert AudioSegment.from_wav(audio).dBFS > -30  # speech, not silence
    notice = await notice_in(liandong, number, "accepted")
    assert not audio.exists()  # the notice is over: its words are gone

    assert (notice["unit"], notice["tries"], notice["reached"]) == ("urban", 1, STAFF)
    [call] = notice["calls"]
    assert (call["contact"], call["name"], call["dial"], call["result"]) == (
        "staff",
        STAFF,
        "PJSIP/unit-04",
        "accepted",
    )

    async def signed() -> dict[str, Any] | None:
        case: dict[str, Any] = await liandong.get(f"/api/v1/cases/{number}")
        return case if case["state"] == "signed" and notice_lines(case) else None

    case = await eventually(signed, "the case signed by the notice")
    sign = next(e for e in case["timeline"] if e["command"] == "sign")
    assert (sign["actor"], sign["role"], sign["unit"]) == (STAFF, "unit", "urban")
    assert notice_lines(case) == [f"联动通知第1次呼叫宝丰县城市管理局工作人员 {STAFF}：按1签收"]
    # The notice's call is on the case, with its leg at the unit's phone.
    assert call["call"] in [c["id"] for c in case["calls"]]
    record = await liandong.get(f"/api/v1/calls/{call['call']}")
    assert [(leg["endpoint"], leg["role"]) for leg in record["legs"]] == [(URBAN_LINE, "unit")]
    assert record["legs"][0]["answered_at"] is not None


async def test_the_staff_not_answering_the_office_is_called_and_signs(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones["busy"] = sipp.start_phone(URBAN_LINE, work / "busy", busy=True)
    number = await dispatched(liandong)

    async def first_try_over() -> bool:
        found = await case_notices(liandong, number)
        return bool(found) and bool(found[0]["calls"]) and found[0]["calls"][0]["result"]

    await eventually(first_try_over, "the first call to end")
    phones.pop("busy").stop()
    phones[URBAN_LINE] = sipp.start_phone(
        URBAN_LINE, work, ring_ms=500, keys="1", keys_after_ms=2000, talk_ms=6000, rfc4733=True
    )
    notice = await notice_in(liandong, number, "accepted")

    assert [(c["contact"], c["result"]) for c in notice["calls"]] == [
        ("staff", "busy"),
        ("office", "accepted"),
    ]

    # The signing follows the notice's own change (a moment later).
    case = await case_in(liandong, number, "signed")
    assert notice_lines(case) == [
        f"联动通知第1次呼叫宝丰县城市管理局工作人员 {STAFF}：忙",
        f"联动通知第2次呼叫宝丰县城市管理局承办科室 {OFFICE}：按1签收",
    ]
    assert next(e for e in case["timeline"] if e["command"] == "sign")["actor"] == OFFICE


async def test_nobody_answering_runs_the_ladder_to_its_end_and_raises_the_alert(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones[URBAN_LINE] = sipp.start_phone(URBAN_LINE, work, busy=True)
    async with liandong.client.ws_connect(
        "/api/v1/live", headers=liandong.auth(Role.SUPERVISOR)
    ) as feed:
        number = await dispatched(liandong)
        notice = await notice_in(liandong, number, "unreached", within=60)
        alerts = []
        deadline = time.monotonic() + 10
        while not alerts and time.monotonic() < deadline:
            message = await feed.receive_json(timeout=10)
            if message["type"] == "notice.alert":
                alerts.append(message["data"])

    assert [(c["contact"], c["result"]) for c in notice["calls"]] == [
        ("staff", "busy"),
        ("office", "busy"),
        ("leader", "busy"),
    ]
    assert alerts and (alerts[0]["case"], alerts[0]["state"]) == (number, "unreached")
    case = await liandong.get(f"/api/v1/cases/{number}")
    assert case["state"] == "dispatched"  # still the unit's to sign: the alert says so
    assert notice_lines(case)[-1] == (
        "联动通知未能送达宝丰县城市管理局：3次呼叫均无人按键确认，已告警督办"
    )


async def test_key_9_and_a_reason_key_request_a_return(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones[URBAN_LINE] = sipp.start_phone(
        URBAN_LINE, work, ring_ms=300, keys="9..2", keys_after_ms=2000, talk_ms=9000, rfc4733=True
    )
    number = await dispatched(liandong)
    notice = await notice_in(liandong, number, "declined")
    assert notice["calls"][0]["reason"] == "2"

    case = await case_in(liandong, number, "return_requested")
    ask = next(e for e in case["timeline"] if e["command"] == "request_return")
    assert (ask["actor"], ask["unit"]) == (STAFF, "urban")
    assert ask["data"]["reason"] == "电话通知按键退单：不在本单位辖区"


async def test_a_normal_dispatch_of_a_category_that_does_not_call_rings_nobody(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones[URBAN_LINE] = sipp.start_phone(
        URBAN_LINE, work, ring_ms=300, keys="1", keys_after_ms=1500, talk_ms=4000
    )
    number = await dispatched(liandong, urgency="normal")
    # The notices handle the cases' moves in order: once an urgent dispatch
    # made after it has been answered, the normal one has been looked at.
    urgent = await dispatched(liandong)
    await notice_in(liandong, urgent, "accepted")
    assert await case_notices(liandong, number) == []
    assert [line.split()[1] for line in phones[URBAN_LINE].outcomes()].count("answered") == 1


def most_notice_calls_at_once(cel_db: Path, since: float) -> tuple[int, int]:
    """(most notice calls up at once, notice calls made) among those started
    since `since`, as Asterisk's own CEL records them (CHAN_START / CHAN_END
    per channel; a call that started before is not counted, nor its end)."""
    with sqlite3.connect(f"file:{cel_db}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT eventtype, CAST(eventtime AS REAL), uniqueid FROM cel "
            "WHERE uniqueid LIKE 'ldnt-%' AND eventtype IN ('CHAN_START', 'CHAN_END') "
            "AND CAST(eventtime AS REAL) >= ?",
            (since,),
        ).fetchall()
    up: set[str] = set()
    most = made = 0
    for kind, _, uid in sorted(rows, key=lambda row: row[1]):
        if kind == "CHAN_START":
            up.add(uid)
            made += 1
            most = max(most, len(up))
        else:
            up.discard(uid)
    return most, made


async def test_twenty_dispatches_at_once_on_three_lines_reach_the_unit_once_each_across_a_restart(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
) -> None:
    """outbound.yaml allows 3 notice calls at once. 20 urgent dispatches in a
    burst: never more than 3 calls up, every unit call answered once and the
    case signed, none twice — with the server stopped and started again in
    the middle (calls under way carry on; the new server finds them)."""
    since = time.time()
    settings = server_settings(pbx_clean, tmp_path)
    first = await start_server(aiohttp_client, settings)
    phones[URBAN_LINE] = sipp.start_phone(
        URBAN_LINE,
        work,
        ring_ms=800,
        keys="1",
        keys_after_ms=1200,
        talk_ms=2500,
        keys_every_call=True,
    )
    numbers = [await dispatched(first) for _ in range(20)]

    async def signed(lid: Liandong, at_least: int) -> bool:
        body = await lid.get("/api/v1/cases?limit=100")
        done = [c for c in body["cases"] if c["number"] in numbers and c["state"] == "signed"]
        return len(done) >= at_least

    await eventually(lambda: signed(first, 6), "6 cases signed", within=60)
    await first.client.close()
    second = await start_server(aiohttp_client, settings)
    await eventually(lambda: signed(second, 20), "all 20 cases signed", within=120)

    calls = 0
    for number in numbers:
        [notice] = await case_notices(second, number)
        assert notice["state"] == "accepted", notice
        results = [c["result"] for c in notice["calls"]]
        assert results.count("accepted") == 1, (number, results)
        calls += len(results)
    most, made = most_notice_calls_at_once(pbx_clean.paths.cel_db, since)
    assert most <= 3, f"{most} notice calls at once"
    assert made == calls, (made, calls)  # every call Asterisk made is a try on record
    answered = [line for line in phones[URBAN_LINE].outcomes() if line.split()[1] == "answered"]
    assert len(answered) == 20


async def test_a_key_pressed_while_the_server_is_stopped_is_found_after_its_restart(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
) -> None:
    """The unit answers, the server stops, the person presses 1 and hangs up
    before it is back: Asterisk kept the result (AstDB ldnt/<notice>-<try>),
    and the restarted server signs the case in that person's name."""
    settings = server_settings(pbx_clean, tmp_path)
    first = await start_server(aiohttp_client, settings)
    phones[URBAN_LINE] = sipp.start_phone(
        URBAN_LINE, work, ring_ms=300, keys="1", keys_after_ms=4000, talk_ms=12_000
    )
    number = await dispatched(first)

    def phone_said() -> list[str]:
        return [line.split()[1] for line in phones[URBAN_LINE].outcomes()]

    async def answered() -> bool:
        return phone_said() == ["answered"]

    await eventually(answered, "the unit's phone answered")
    await first.client.close()

    async def over() -> bool:
        return len(phone_said()) == 2  # answered, then the end (Asterisk's goodbye)

    await eventually(over, "the call over while the server is stopped")
    second = await start_server(aiohttp_client, settings)
    notice = await notice_in(second, number, "accepted")
    assert [(c["contact"], c["result"]) for c in notice["calls"]] == [("staff", "accepted")]

    case = await case_in(second, number, "signed")
    sign = next(e for e in case["timeline"] if e["command"] == "sign")
    assert (sign["actor"], sign["unit"]) == (STAFF, "urban")
