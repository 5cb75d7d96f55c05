"""Transfers between the desks on the real testbed: keys, API, failures.

Each test checks the transfer record and its timeline, the legs, and who ended
up talking with whom (bridge membership) — not just that nothing failed.
Desk phones press keys as SIP INFO, 0.8 s after answering unless said.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from common.vocabulary import Role
from pbx import sipp
from tests.integration.conftest import Liandong
from tests.integration.transfer_kit import (
    bridges_of,
    citizen_calls,
    ended_call,
    legs_by_endpoint,
    live_call_of,
    start_desks,
    states,
    talked,
    wait_state,
    wait_transfers,
)

NEVER = sipp.NEVER_MS


async def live_messages(
    ws: Any, until: Callable[[dict[str, Any]], bool], within: float = 10.0
) -> list[dict[str, Any]]:
    """Transfer messages of the live feed, up to the first that `until` accepts."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while not seen or not until(seen[-1]):
        message = json.loads(await asyncio.wait_for(ws.receive_str(), deadline - time.monotonic()))
        if message["type"].startswith("transfer"):
            seen.append(message)
    return seen


@pytest.mark.parametrize(
    ("trunk", "operator", "target_phone", "target"),
    [("110", "op110-1", "op12345-1", "12345"), ("12345", "op12345-1", "op110-1", "110")],
    ids=["110-to-12345", "12345-to-110"],
)
async def test_one_key_transfer_to_the_other_desk(
    liandong: Liandong,
    work: Path,
    phones: dict[str, sipp.Phone],
    trunk: str,
    operator: str,
    target_phone: str,
    target: str,
) -> None:
    start_desks(
        phones,
        work,
        **{
            operator.replace("-", "_"): {"ring_ms": 200, "keys": "*1"},
            target_phone.replace("-", "_"): {"ring_ms": 500, "talk_ms": 2000},
        },
    )
    result = await citizen_calls(trunk, work, "1381000", caller_name="李四")
    assert result.outcomes == {"13810001": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert (transfer["mode"], transfer["target"], transfer["requested_by"]) == (
        "blind",
        target,
        "operator_key",
    )
    assert states(transfer) == ["requested", "ringing", "answered", "completed"]
    assert transfer["timeline"][-1]["reason"] == "handed_over"

    call = await ended_call(liandong, "1381000")
    assert transfer["call_id"] == call["id"]
    legs = legs_by_endpoint(call)
    # The first operator dropped at once; the other desk answered on the same call.
    [first] = legs[operator]
    [taker] = [leg for leg in legs[target_phone] if leg["answered_at"]]
    assert first["hangup_cause"] == 16 and first["ended_at"] < taker["answered_at"]
    assert talked(call, f"trunk-{trunk}", operator) and talked(call, f"trunk-{trunk}", target_phone)
    assert transfer["caller_uniqueid"] == legs[f"trunk-{trunk}"][0]["uniqueid"]
    assert transfer["target_uniqueid"] == taker["uniqueid"]


async def test_attended_transfer_completed_with_the_key_again(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "keys": "*2....*2"},
        op12345_1={"ring_ms": 500, "talk_ms": 9000},
    )
    result = await citizen_calls("110", work, "1381001", caller_name="王五")
    assert result.outcomes == {"13810011": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert transfer["mode"] == "attended"
    assert states(transfer) == ["requested", "ringing", "answered", "completed"]
    assert transfer["timeline"][-1]["by"] == "operator_key"
    call = await ended_call(liandong, "1381001")
    # The operator consulted 12345 first, then the caller was handed over.
    assert talked(call, "op110-1", "op12345-1")
    assert talked(call, "trunk-110", "op12345-1")
    [op110] = legs_by_endpoint(call)["op110-1"]
    [op12345] = [leg for leg in legs_by_endpoint(call)["op12345-1"] if leg["answered_at"]]
    assert op110["ended_at"] < op12345["ended_at"]


async def test_attended_transfer_cancelled_returns_the_caller(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "keys": "*2....*0", "talk_ms": 9000},
        op12345_1={"ring_ms": 500},
    )
    result = await citizen_calls("110", work, "1381002")
    assert result.outcomes == {"13810021": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert states(transfer) == ["requested", "ringing", "answered", "cancelled"]
    assert transfer["timeline"][-1]["reason"] == "cancelled"
    call = await ended_call(liandong, "1381002")
    # Caller and operator talked before and again after the consultation.
    assert len(bridges_of(call, "trunk-110") & bridges_of(call, "op110-1")) == 2
    assert not talked(call, "trunk-110", "op12345-1")
    [op12345] = [leg for leg in legs_by_endpoint(call)["op12345-1"] if leg["answered_at"]]
    assert op12345["ended_at"] is not None


@pytest.mark.parametrize("phones_busy", [False, True])
async def test_target_does_not_come_and_the_operator_is_rung_back(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], phones_busy: bool
) -> None:
    """The other desk's phones ring unanswered or answer busy: either way the
    caller waits in that desk's queue for the transfer's ring time (busy
    phones are tried again meanwhile), then comes back: nobody answered."""
    why = "no_answer"
    other_desk = {"busy": True} if phones_busy else {"ring_ms": NEVER}
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "keys": "*1", "talk_ms": 3000},
        op12345_1=other_desk,
        op12345_2=other_desk,
    )
    ws = await liandong.client.ws_connect("/api/v1/live", headers=liandong.auth())
    assert (await ws.receive_json())["type"] == "hello"
    result = await citizen_calls("110", work, "1381003")
    assert result.outcomes == {"13810031": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert states(transfer) == ["requested", "ringing", "failed"]
    assert transfer["timeline"][-1]["reason"] == why
    # Pushed live as it went, and the operator was told why.
    seen = await live_messages(ws, until=lambda m: m["type"] == "transfer_notice")
    pushed = [m["data"]["state"] for m in seen if m["type"] == "transfer"]
    assert pushed == ["requested", "ringing", "failed"]
    assert seen[-1]["data"] | {"transfer_id": transfer["id"], "reason": why} == seen[-1]["data"]
    assert seen[-1]["data"]["operator_phone"] == "op110-1"
    await ws.close()
    call = await ended_call(liandong, "1381003")
    # The operator's phone rang again and the caller talked with them twice.
    assert len(legs_by_endpoint(call)["op110-1"]) == 2
    assert len(bridges_of(call, "trunk-110") & bridges_of(call, "op110-1")) == 2
    assert not any(leg["answered_at"] for leg in legs_by_endpoint(call)["op12345-1"])


async def test_caller_hangs_up_during_the_hand_over(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    start_desks(phones, work, op110_1={"ring_ms": 200, "keys": "*1"})
    result = await citizen_calls("110", work, "1381004", talk_ms=2500)
    assert result.outcomes == {"13810041": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert states(transfer) == ["requested", "ringing", "abandoned"]
    assert transfer["timeline"][-1]["reason"] == "caller_hung_up"
    call = await ended_call(liandong, "1381004")
    assert not any(leg["answered_at"] for leg in legs_by_endpoint(call)["op12345-1"])


async def test_three_way_call_110_leaves_and_12345_stays_with_the_caller(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "keys": "*3", "talk_ms": 5000},
        op12345_1={"ring_ms": 500, "talk_ms": 8000},
    )
    result = await citizen_calls("110", work, "1381005", caller_name="赵六")
    assert result.outcomes == {"13810051": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert transfer["mode"] == "conference"
    assert states(transfer) == ["requested", "ringing", "answered", "completed"]
    assert transfer["timeline"][-1]["reason"] == "operator_left"
    call = await ended_call(liandong, "1381005")
    legs = legs_by_endpoint(call)
    # One room: all three were in it; 110 left first, 12345 stayed with the caller.
    room = (
        bridges_of(call, "trunk-110") & bridges_of(call, "op110-1") & bridges_of(call, "op12345-1")
    )
    assert len(room) == 1
    [op12345] = [leg for leg in legs["op12345-1"] if leg["answered_at"]]
    assert legs["op110-1"][0]["ended_at"] < op12345["ended_at"]
    assert transfer["call_id"] == call["id"]


async def test_api_attended_transfer_complete_with_409_and_403(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    start_desks(phones, work, op110_1={"ring_ms": 200}, op12345_1={"ring_ms": 500, "talk_ms": 8000})
    citizen = citizen_calls("110", work, "1381006")
    call = await live_call_of(liandong, "1381006")
    mine = await liandong.operator_token(Role.OPERATOR_110, "op110-1")
    not_mine = await liandong.operator_token(Role.OPERATOR_110, "op110-2")
    path = f"/api/v1/calls/{call['id']}/transfer"

    status, body = await liandong.post(path, {"to": "12345", "mode": "attended"}, token=not_mine)
    assert status == 403, body
    status, body = await liandong.post(path, {"to": "12345", "mode": "attended"}, token=mine)
    assert status == 201, body
    assert (body["state"], body["requested_by"]) == ("requested", "api")
    await wait_state(liandong, body["id"], "answered")
    status, again = await liandong.post(path, {"to": "12345", "mode": "blind"}, token=mine)
    assert status == 409 and again["error"]["details"]["transfer_id"] == body["id"], again
    status, _ = await liandong.post(f"/api/v1/transfers/{body['id']}/complete", token=not_mine)
    assert status == 403
    status, done = await liandong.post(f"/api/v1/transfers/{body['id']}/complete", token=mine)
    assert status == 200 and done["state"] == "completed", done

    result = await citizen
    assert result.outcomes == {"13810061": "answered"}, result.stdout_tail
    call = await ended_call(liandong, "1381006")
    assert talked(call, "trunk-110", "op12345-1") and talked(call, "op110-1", "op12345-1")
    listed = await liandong.get("/api/v1/transfers?since=2020-01-01T00:00:00Z")
    assert [t["id"] for t in listed["transfers"]] == [body["id"]]


async def test_api_attended_cancel_and_blind_to_a_member_unit(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    start_desks(phones, work, op110_1={"ring_ms": 200}, op12345_1={"ring_ms": 500})
    phones["unit-07"] = sipp.start_phone("unit-07", work, ring_ms=500, talk_ms=2000)
    citizen = citizen_calls("110", work, "1381007", caller_name="钱七")
    call = await live_call_of(liandong, "1381007")
    path = f"/api/v1/calls/{call['id']}/transfer"

    status, first = await liandong.post(path, {"to": "12345", "mode": "attended"})
    assert status == 201, first
    await wait_state(liandong, first["id"], "answered")
    status, cancelled = await liandong.post(f"/api/v1/transfers/{first['id']}/cancel")
    assert status == 200 and cancelled["state"] == "cancelled", cancelled
    status, late = await liandong.post(f"/api/v1/transfers/{first['id']}/complete")
    assert status == 409 and late["error"]["details"]["allowed"] == [], late

    await _until_bridged_again(liandong, call["id"])
    # The roster's code: transport's line is 07 (case-config/units.csv), its phone unit-07.
    status, second = await liandong.post(path, {"to": "unit:transport", "mode": "blind"})
    assert status == 201, second
    done = await wait_state(liandong, second["id"], "completed")
    assert done["target"] == "unit:07"
    result = await citizen
    assert result.outcomes == {"13810071": "answered"}, result.stdout_tail
    call = await ended_call(liandong, "1381007")
    assert talked(call, "trunk-110", "unit-07")
    assert len(bridges_of(call, "trunk-110") & bridges_of(call, "op110-1")) == 2
    # The unit's leg names the unit's phone (pjsip.conf), not the dialplan's "s".
    [unit] = legs_by_endpoint(call)["unit-07"]
    assert (unit["caller_number"], unit["caller_name"]) == ("607", "宝丰县交通运输局")


async def _until_bridged_again(liandong: Liandong, call_id: str) -> None:
    """The caller is back with the operator (the API refuses a transfer before)."""
    import asyncio
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        call = await liandong.get(f"/api/v1/calls/{call_id}")
        if len(bridges_of(call, "trunk-110") & bridges_of(call, "op110-1")) == 2:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the caller did not come back to the operator")


async def test_api_three_way_call_then_the_operator_leaves(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    start_desks(phones, work, op110_1={"ring_ms": 200}, op12345_1={"ring_ms": 500, "talk_ms": 6000})
    citizen = citizen_calls("110", work, "1381008")
    call = await live_call_of(liandong, "1381008")
    status, body = await liandong.post(f"/api/v1/calls/{call['id']}/conference", {"to": "12345"})
    assert status == 201 and body["mode"] == "conference", body
    await wait_state(liandong, body["id"], "answered")
    status, done = await liandong.post(f"/api/v1/transfers/{body['id']}/complete")
    assert status == 200 and done["timeline"][-1]["reason"] == "operator_left", done
    result = await citizen
    assert result.outcomes == {"13810081": "answered"}, result.stdout_tail
    call = await ended_call(liandong, "1381008")
    assert talked(call, "trunk-110", "op12345-1") and talked(call, "op110-1", "op12345-1")


async def test_cancel_key_while_the_target_still_rings(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    """*0 during the ring: the operator is in Asterisk's Dial then, not in a
    bridge, so only the server's own reading of the digits can see it."""
    # *0 three seconds after *2 (the 12345 phones ring ~10 ms after *2 here;
    # a CI run once saw no ring within two).
    start_desks(phones, work, op110_1={"ring_ms": 200, "keys": "*2...*0", "talk_ms": 7000})
    result = await citizen_calls("110", work, "1381009")
    assert result.outcomes == {"13810091": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    timeline = [(step["to"], step["at"]) for step in transfer["timeline"]]
    assert states(transfer) == ["requested", "ringing", "cancelled"], timeline
    assert transfer["timeline"][-1]["by"] == "operator_key"
    call = await ended_call(liandong, "1381009")
    assert len(bridges_of(call, "trunk-110") & bridges_of(call, "op110-1")) == 2
    assert not any(leg["answered_at"] for leg in legs_by_endpoint(call)["op12345-1"])
