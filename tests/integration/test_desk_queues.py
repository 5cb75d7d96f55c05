"""The desks' queues on the real testbed: callers wait in order instead of
hearing busy, operators log in, pause and wrap up, and nobody logged in at
110 alerts the supervisor and overflows to the backup post."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from common.vocabulary import Role
from pbx import sipp, testbed
from tests.integration.conftest import Liandong, server_settings, start_server


async def place(trunk: str, work: Path, **kwargs: Any) -> sipp.CallResult:
    result = await asyncio.to_thread(sipp.call, trunk, work, **kwargs)
    assert result.returncode == 0, result.stdout_tail
    return result


async def waits_of(liandong: Liandong, call_id: str) -> list[dict[str, Any]]:
    return list((await liandong.get(f"/api/v1/calls/{call_id}"))["queue_waits"])


async def operator(liandong: Liandong, phone: str) -> dict[str, Any]:
    for desk in (await liandong.get("/api/v1/desks"))["desks"]:
        for op in desk["operators"]:
            if op["phone"] == phone:
                return dict(op)
    raise AssertionError(f"{phone} is on no desk")


async def until_state(liandong: Liandong, phone: str, state: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if (await operator(liandong, phone))["state"] == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{phone} never {state}: {await operator(liandong, phone)}")


async def test_thirty_callers_in_three_seconds_all_wait_and_are_answered_in_order(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones["a"] = sipp.start_phone("op110-1", work, ring_ms=200, talk_ms=4000)
    phones["b"] = sipp.start_phone("op110-2", work, ring_ms=200, talk_ms=4000)

    result = await place(
        "110", work, number_prefix="1310000", calls=30, rate=10, talk_ms=60_000, timeout=240
    )

    # Nobody heard busy, nobody was dropped: every caller was answered.
    assert sorted(result.outcomes.values()) == ["answered"] * 30, result.outcomes
    calls = await liandong.wait_ended_calls("1310000", 30, within=30)
    waits = []
    for call in calls:
        # The talk time comes with AgentComplete as the call ends; the desks'
        # records are saved in their own task, a moment after the call's
        # (seconds, on a machine busy with 30 calls and a test run beside).
        for _ in range(150):
            [wait] = await waits_of(liandong, call["id"])
            if wait["talk_s"] is not None:
                break
            await asyncio.sleep(0.1)
        assert (wait["desk"], wait["via"], wait["outcome"]) == ("110", "citizen", "answered")
        assert wait["operator"] in ("op110-1", "op110-2") and wait["talk_s"] is not None
        waits.append(wait)
    # In order of arrival: whoever joined the line earlier was answered earlier.
    by_joining = sorted(waits, key=lambda w: w["joined_at"])
    answered_order = [w["id"] for w in sorted(by_joining, key=lambda w: w["answered_at"])]
    assert answered_order == [w["id"] for w in by_joining]
    # Two operators, 4 s calls: the last caller waited about a minute, and it shows.
    assert max(w["waited_s"] for w in waits) >= 45


async def test_an_operator_paused_from_the_api_is_not_rung_until_ready(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    status, body = await liandong.post("/api/v1/operators/op110-1/pause", {"reason": "培训"})
    assert status == 202, body
    await until_state(liandong, "op110-1", "paused")
    assert (await operator(liandong, "op110-1"))["reason"] == "培训"
    phones["a"] = sipp.start_phone("op110-1", work, ring_ms=200, talk_ms=1000)
    phones["b"] = sipp.start_phone("op110-2", work, ring_ms=200, talk_ms=1000)

    await place("110", work, number_prefix="1320000", talk_ms=60_000)

    [call] = await liandong.wait_ended_calls("1320000", 1)
    rung = {leg["endpoint"] for leg in call["legs"]} - {"trunk-110"}
    assert rung == {"op110-2"}
    status, _ = await liandong.post("/api/v1/operators/op110-1/ready")
    assert status == 202
    await until_state(liandong, "op110-1", "idle")
    await place("110", work, number_prefix="1320001", talk_ms=60_000)
    [call] = await liandong.wait_ended_calls("1320001", 1)
    assert "op110-1" in {leg["endpoint"] for leg in call["legs"]}


async def test_a_known_pause_reason_own_phone_only_and_asterisks_refusal_is_409(
    liandong: Liandong,
) -> None:
    status, body = await liandong.post("/api/v1/operators/op110-1/pause", {"reason": "吃饭"})
    assert status == 400 and "小休" in body["error"]["message"]
    token = await liandong.operator_token(Role.OPERATOR_110, "op110-2")
    status, _ = await liandong.post("/api/v1/operators/op110-1/logout", token=token)
    assert status == 403
    status, _ = await liandong.post("/api/v1/operators/unit-01/login")
    assert status == 404
    # Asterisk's refusal is the operator's conflict, not an outage.
    status, body = await liandong.post("/api/v1/operators/op110-1/login")
    assert status == 409 and "Already there" in body["error"]["message"], body
    assert (await operator(liandong, "op110-1"))["state"] == "idle"


async def test_operators_log_out_and_pause_with_their_phone_keys(
    liandong: Liandong, work: Path
) -> None:
    for keys, state in (("*72", "logged_out"), ("*71", "idle"), ("*732", "paused")):
        await place(keys, work, number_prefix=f"81{len(keys)}", source="op110-1", talk_ms=500)
        await until_state(liandong, "op110-1", state)
    assert (await operator(liandong, "op110-1"))["reason"] == "培训"
    await place("*70", work, number_prefix="8170", source="op110-1", talk_ms=500)
    await until_state(liandong, "op110-1", "idle")


@pytest.fixture
async def liandong_wrap_up(
    pbx_clean: testbed.TestbedConfig, tmp_path: Path, aiohttp_client: Any
) -> AsyncIterator[Liandong]:
    settings = server_settings(pbx_clean, tmp_path, wrap_up_s=4)
    yield await start_server(aiohttp_client, settings)


async def test_the_wrap_up_keeps_the_next_caller_waiting_and_then_ends(
    liandong_wrap_up: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    liandong = liandong_wrap_up
    status, _ = await liandong.post("/api/v1/operators/op110-2/logout")
    assert status == 202
    await until_state(liandong, "op110-2", "logged_out")
    phones["a"] = sipp.start_phone("op110-1", work, ring_ms=200, talk_ms=1000)

    await place("110", work, number_prefix="1340000", talk_ms=60_000)
    await until_state(liandong, "op110-1", "wrap_up", within=3)
    await place("110", work, number_prefix="1340001", talk_ms=60_000)

    [second] = await liandong.wait_ended_calls("1340001", 1)
    [wait] = await waits_of(liandong, second["id"])
    assert wait["outcome"] == "answered" and wait["operator"] == "op110-1"
    assert 2.0 <= wait["waited_s"] <= 8.0, wait  # the rest of the 4 s wrap-up
    await until_state(liandong, "op110-1", "wrap_up", within=3)
    await until_state(liandong, "op110-1", "idle", within=8)


async def test_nobody_logged_in_at_110_alerts_and_overflows_to_the_backup_post(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], pbx_clean: Any
) -> None:
    testbed.cli(pbx_clean, "dialplan set global DESK_110_OVERFLOW_S 5")
    for phone in ("op110-1", "op110-2"):
        status, _ = await liandong.post(f"/api/v1/operators/{phone}/logout")
        assert status == 202
        await until_state(liandong, phone, "logged_out")
    phones["backup"] = sipp.start_phone("backup-110", work, ring_ms=300, talk_ms=1500)
    ws = await liandong.client.ws_connect("/api/v1/live", headers=liandong.auth())
    assert (await ws.receive_json())["type"] == "hello"

    result = await place("110", work, number_prefix="1350000", talk_ms=60_000)

    assert result.outcomes == {"13500001": "answered"}
    alerts: list[dict[str, Any]] = []
    while len(alerts) < 2:
        message = json.loads(await asyncio.wait_for(ws.receive_str(), 10))
        if message["type"] == "desk.alert":
            alerts.append(message["data"])
    assert [(a["desk"], a["alert"]) for a in alerts] == [("110", "unstaffed"), ("110", "overflow")]
    assert alerts[0]["logged_in"] == 0 and alerts[1]["to"] == "PJSIP/backup-110"
    [call] = await liandong.wait_ended_calls("1350000", 1)
    backup = [leg for leg in call["legs"] if leg["endpoint"] == "backup-110"]
    assert backup and backup[0]["answered_at"]
    [wait] = await waits_of(liandong, call["id"])
    assert wait["outcome"] == "left" and 4.0 <= wait["waited_s"] <= 8.0, wait
    await ws.close()
    testbed.cli(pbx_clean, "dialplan set global DESK_110_OVERFLOW_S 30")


@pytest.fixture
async def quick_overflow(
    pbx_clean: testbed.TestbedConfig, tmp_path: Path, aiohttp_client: Any
) -> AsyncIterator[Liandong]:
    """A server whose 110 overflows 5 s after the desk is left unstaffed."""
    settings = server_settings(pbx_clean, tmp_path)
    desks = settings.ivr_dir / "desks.yaml"
    desks.write_text(desks.read_text().replace("after_s: 30", "after_s: 5"))
    yield await start_server(aiohttp_client, settings)


async def test_the_last_operator_leaving_sends_waiting_callers_to_the_backup_post(
    quick_overflow: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    """A caller came while 110 was staffed (so the dialplan set no time
    limit); the last operator logs out: the supervisor is alerted at once and
    after the overflow time the backup post answers the caller."""
    liandong = quick_overflow
    status, _ = await liandong.post("/api/v1/operators/op110-2/logout")
    assert status == 202
    status, _ = await liandong.post("/api/v1/operators/op110-1/pause", {"reason": "小休"})
    assert status == 202
    await until_state(liandong, "op110-1", "paused")
    phones["backup"] = sipp.start_phone("backup-110", work, ring_ms=300, talk_ms=1500)
    ws = await liandong.client.ws_connect("/api/v1/live", headers=liandong.auth())
    assert (await ws.receive_json())["type"] == "hello"

    calling = asyncio.create_task(place("110", work, number_prefix="1351000", talk_ms=60_000))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not [d for d in (await liandong.get("/api/v1/desks"))["desks"] if d["waiting"]]:
        assert loop.time() < deadline, "the caller never waited at 110"
        await asyncio.sleep(0.1)
    status, _ = await liandong.post("/api/v1/operators/op110-1/logout")
    assert status == 202
    left_at = loop.time()

    alerts: list[dict[str, Any]] = []
    while len(alerts) < 2:
        message = json.loads(await asyncio.wait_for(ws.receive_str(), 15))
        if message["type"] == "desk.alert":
            alerts.append(message["data"])
            if len(alerts) == 1:
                alerted_after = loop.time() - left_at
    assert [(a["desk"], a["alert"]) for a in alerts] == [("110", "unstaffed"), ("110", "overflow")]
    assert alerts[0]["logged_in"] == 0 and alerts[0]["waiting"] == 1 and alerted_after < 2.0
    overflowed_after = loop.time() - left_at
    assert 4.5 <= overflowed_after <= 9.0, overflowed_after
    result = await calling
    assert result.outcomes == {"13510001": "answered"}
    [call] = await liandong.wait_ended_calls("1351000", 1)
    backup = [leg for leg in call["legs"] if leg["endpoint"] == "backup-110"]
    assert backup and backup[0]["answered_at"]
    await ws.close()
