"""Real calls through the testbed Asterisk, checked in the database and the API."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from common.vocabulary import Role
from pbx import sipp
from tests.integration.conftest import Liandong


def t(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def by_endpoint(call: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {leg["endpoint"]: leg for leg in call["legs"]}


async def assert_stored_as_shown(liandong: Liandong, call: dict[str, Any]) -> None:
    """The database holds exactly what the API shows."""
    stored = await liandong.db_legs(call["id"])
    assert set(stored) == {leg["uniqueid"] for leg in call["legs"]}
    for leg in call["legs"]:
        row = stored[leg["uniqueid"]]
        assert (row.role.value, row.direction.value, row.endpoint) == (
            leg["role"],
            leg["direction"],
            leg["endpoint"],
        )
        assert (row.hangup_cause, row.caller_name) == (leg["hangup_cause"], leg["caller_name"])
        for field in ("created_at", "ringing_at", "answered_at", "ended_at"):
            value = getattr(row, field)
            assert (value and t(leg[field])) == value, field
            assert value is None or value.tzinfo is not None


def assert_ordered(leg: dict[str, Any]) -> None:
    stamps = [t(leg[k]) for k in ("created_at", "ringing_at", "answered_at", "ended_at") if leg[k]]
    assert stamps == sorted(stamps), leg


async def place(trunk: str, work: Path, **kwargs: Any) -> sipp.CallResult:
    result = await asyncio.to_thread(sipp.call, trunk, work, **kwargs)
    assert result.returncode == 0, result.stdout_tail
    return result


async def test_citizen_calls_110_operator_answers_talks_and_hangs_up(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones["a"] = sipp.start_phone("op110-1", work, ring_ms=400, talk_ms=1500)
    phones["b"] = sipp.start_phone("op110-2", work, ring_ms=sipp.NEVER_MS)

    result = await place("110", work, number_prefix="1390000", caller_name="张三", talk_ms=60_000)

    assert result.outcomes == {"13900001": "answered"}
    assert [line.split()[1] for line in phones["a"].outcomes()] == ["answered", "hungup"]
    [call] = await liandong.wait_ended_calls("1390000", 1)
    assert call["trunk"] == "110"
    assert (call["caller_number"], call["caller_name"]) == ("13900001", "张三")
    legs = by_endpoint(call)
    assert set(legs) == {"trunk-110", "op110-1", "op110-2"}
    citizen, operator, other = legs["trunk-110"], legs["op110-1"], legs["op110-2"]
    assert (citizen["role"], citizen["direction"]) == ("citizen", "inbound")
    assert (operator["role"], operator["direction"]) == ("operator_110", "outbound")
    # Every leg knows the trunk the call came in on (LD_TRUNK is inherited).
    assert {leg["trunk"] for leg in (citizen, operator, other)} == {"110"}
    assert other["role"] == "operator_110"
    for leg in (citizen, operator, other):
        assert_ordered(leg)
        assert leg["reconciled"] is False
    # The operator talked for about 1.5 s, then hung up: normal clearing on both.
    talk = (t(operator["ended_at"]) - t(operator["answered_at"])).total_seconds()
    assert 1.3 <= talk <= 3.0, talk
    assert (citizen["hangup_cause"], operator["hangup_cause"]) == (16, 16)
    assert citizen["hangup_cause_text"] == "Normal Clearing"
    # The second phone rang and was released when the first answered.
    assert other["ringing_at"] and other["answered_at"] is None
    assert other["hangup_cause"] == 26
    # The call counts as answered when the citizen is connected to the operator.
    assert t(call["answered_at"]) == t(citizen["answered_at"]) >= t(operator["answered_at"])
    await assert_stored_as_shown(liandong, call)
    # Citizen and operator shared one bridge (detail view shows membership).
    detail = await liandong.get(f"/api/v1/calls/{call['id']}")
    bridges = {leg["endpoint"]: {b["bridge_id"] for b in leg["bridges"]} for leg in detail["legs"]}
    assert bridges["trunk-110"] and bridges["trunk-110"] == bridges["op110-1"]
    assert bridges["op110-2"] == set()


async def test_citizen_waits_while_nobody_answers_and_hangs_up_abandoned_in_queue(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    """Nobody answers: the desk does not give up on the caller (no 480, no
    busy); the caller gives up, and the wait is on the record as abandoned."""
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=sipp.NEVER_MS)
    phones["b"] = sipp.start_phone("op12345-2", work, ring_ms=sipp.NEVER_MS)

    result = await place(
        "12345", work, number_prefix="1380000", caller_name="李四", cancel_after_ms=5000
    )

    assert result.outcomes == {"13800001": "cancelled"}
    [call] = await liandong.wait_ended_calls("1380000", 1)
    await assert_stored_as_shown(liandong, call)
    assert call["trunk"] == "12345" and call["answered_at"] is None
    legs = by_endpoint(call)
    assert {"trunk-12345", "op12345-1", "op12345-2"} <= set(legs)
    assert legs["trunk-12345"]["hangup_cause"] == 16  # the caller's CANCEL
    for leg in legs.values():
        assert leg["answered_at"] is None
        assert_ordered(leg)
    detail = await liandong.get(f"/api/v1/calls/{call['id']}")
    [wait] = detail["queue_waits"]
    assert (wait["desk"], wait["via"], wait["outcome"]) == ("12345", "citizen", "abandoned")
    assert wait["answered_at"] is None and wait["operator"] is None
    assert 4.5 <= wait["waited_s"] <= 6.5, wait


async def test_110_never_answers_busy(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    """Both operators' phones answer busy: the citizen hears no busy, waits,
    and the phones are tried again while they wait."""
    phones["a"] = sipp.start_phone("op110-1", work, busy=True)
    phones["b"] = sipp.start_phone("op110-2", work, busy=True)

    result = await place(
        "110", work, number_prefix="1370000", caller_name="王五", cancel_after_ms=4000
    )

    assert result.outcomes == {"13700001": "cancelled"}
    [call] = await liandong.wait_ended_calls("1370000", 1)
    await assert_stored_as_shown(liandong, call)
    citizen = [leg for leg in call["legs"] if leg["endpoint"] == "trunk-110"]
    assert [leg["hangup_cause"] for leg in citizen] == [16]
    tries = [leg for leg in call["legs"] if leg["endpoint"] in ("op110-1", "op110-2")]
    assert len(tries) >= 4, "each phone tried more than once while the caller waited"
    assert {leg["hangup_cause"] for leg in tries} == {17}
    assert all(leg["answered_at"] is None for leg in call["legs"])
    detail = await liandong.get(f"/api/v1/calls/{call['id']}")
    assert [w["outcome"] for w in detail["queue_waits"]] == ["abandoned"]


async def test_citizen_hangs_up_while_the_desk_rings(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones["a"] = sipp.start_phone("op110-1", work, ring_ms=sipp.NEVER_MS)
    phones["b"] = sipp.start_phone("op110-2", work, ring_ms=sipp.NEVER_MS)

    result = await place(
        "110", work, number_prefix="1360000", caller_name="赵六", cancel_after_ms=1500
    )

    assert result.outcomes == {"13600001": "cancelled"}
    assert sorted(line.split()[1] for p in phones.values() for line in p.outcomes()) == [
        "cancelled",
        "cancelled",
    ]
    [call] = await liandong.wait_ended_calls("1360000", 1)
    await assert_stored_as_shown(liandong, call)
    legs = by_endpoint(call)
    citizen = legs["trunk-110"]
    assert call["answered_at"] is None and citizen["answered_at"] is None
    assert citizen["ringing_at"] is not None
    rang = (t(citizen["ended_at"]) - t(citizen["ringing_at"])).total_seconds()
    assert 1.3 <= rang <= 3.0, rang
    # The carrier's CANCEL says why (Reason: Q.850;cause=16); the phones were released.
    assert citizen["hangup_cause"] == 16
    assert all(leg["ended_at"] for leg in legs.values())


async def test_chinese_caller_name_reaches_api_and_live_feed_intact(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    name = "欧阳娜娜（幸福路社区）"
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=500)
    phones["b"] = sipp.start_phone("op12345-2", work, ring_ms=sipp.NEVER_MS)
    ws = await liandong.client.ws_connect("/api/v1/live", headers=liandong.auth())
    assert (await ws.receive_json())["type"] == "hello"

    await place("12345", work, number_prefix="1350000", caller_name=name, talk_ms=60_000)

    [call] = await liandong.wait_ended_calls("1350000", 1)
    assert call["caller_name"] == name
    # UTF-8 on the wire as it is, readable by a person with curl (not \u-escaped).
    raw = await (
        await liandong.client.get(f"/api/v1/calls/{call['id']}", headers=liandong.auth())
    ).read()
    assert name.encode("utf-8") in raw
    assert by_endpoint(call)["trunk-12345"]["caller_name"] == name
    seen: list[dict[str, Any]] = []
    while not any(m["type"] == "call.ended" for m in seen):
        raw = await asyncio.wait_for(ws.receive_str(), 5)
        seen.append(json.loads(raw))
    started = [m for m in seen if m["type"] == "call.started"]
    assert started and started[0]["data"]["caller_name"] == name
    assert started[0]["data"]["caller_number"] == "13500001"
    await ws.close()


async def test_twenty_calls_at_once_are_all_recorded(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=sipp.NEVER_MS)
    phones["b"] = sipp.start_phone("op12345-2", work, ring_ms=200, talk_ms=sipp.NEVER_MS)

    result = await place("12345", work, number_prefix="1330000", calls=20, rate=40, talk_ms=1500)

    # Two operators, twenty callers: each waits their turn; nobody hears busy.
    assert set(result.outcomes.values()) == {"answered"}, result.outcomes
    assert len(result.outcomes) == 20
    calls = await liandong.wait_ended_calls("1330000", 20, within=30)
    assert len(calls) == 20
    for call in calls:
        await assert_stored_as_shown(liandong, call)
        legs = by_endpoint(call)
        citizen = legs["trunk-12345"]
        assert_ordered(citizen)
        operators = [
            leg for leg in call["legs"] if leg["role"] == "operator_12345" and leg["answered_at"]
        ]
        assert len(operators) == 1, call
        assert citizen["hangup_cause"] == 16 and call["answered_at"]
        detail = await liandong.get(f"/api/v1/calls/{call['id']}")
        [wait] = detail["queue_waits"]
        assert wait["outcome"] == "answered" and wait["operator"] == operators[0]["endpoint"]


async def test_unit_role_sees_masked_caller_numbers(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones["a"] = sipp.start_phone("op110-1", work, busy=True)
    phones["b"] = sipp.start_phone("op110-2", work, busy=True)
    await place("110", work, number_prefix="1321234567", caller_name="周七", cancel_after_ms=1500)
    await liandong.wait_ended_calls("1321234567", 1)

    body = await liandong.get("/api/v1/calls?limit=5", role=Role.UNIT)
    numbers = {c["caller_number"] for c in body["calls"]}
    assert "132******71" in numbers and "13212345671" not in json.dumps(body)
    admin = await liandong.get("/api/v1/calls?limit=5", role=Role.OPERATOR_110)
    assert "13212345671" in {c["caller_number"] for c in admin["calls"]}
