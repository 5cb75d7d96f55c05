"""Callback instead of waiting, on the real testbed: a 12345 caller who has
waited is offered key 1, hangs up keeping their place, and when an operator
is free the operator is connected first, hears the number, and the caller's
phone rings; not reached, they are tried again. The case of the call they
hung up tells it (booked, connected or not reached), is not cancelled by
their hang-up, and is their only case: the call back joins it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.vocabulary import Role
from pbx import sipp, testbed
from tests.integration.conftest import CALLBACK_OFF, MENU_OFF, Liandong

# Menu: greeting ~7 s, then 1 (enquiry) into the queue; the offer comes
# OFFER_S later (app_queue checks its time between rings: ~6 s) and its
# prompt takes ~8 s: 1 is pressed during it.
OFFER_S = 3
KEYS = "." * 8 + "1" + "." * 10 + "1"
NUMBER_PREFIX = "1367000"
NUMBER = NUMBER_PREFIX + "1"  # sipp numbers callers prefix + 1..n


@pytest.fixture
def callback_on(pbx_clean: testbed.TestbedConfig) -> Iterator[testbed.TestbedConfig]:
    testbed.cli(pbx_clean, "dialplan set global MENU_12345 ivr-12345")
    testbed.cli(pbx_clean, f"dialplan set global DESK_12345_CALLBACK_AFTER_S {OFFER_S}")
    yield pbx_clean
    testbed.cli(pbx_clean, f"dialplan set global MENU_12345 {MENU_OFF}")
    testbed.cli(pbx_clean, f"dialplan set global DESK_12345_CALLBACK_AFTER_S {CALLBACK_OFF}")


async def desk_12345(liandong: Liandong) -> dict[str, Any]:
    [desk] = [d for d in (await liandong.get("/api/v1/desks"))["desks"] if d["desk"] == "12345"]
    return dict(desk)


async def callback_of(
    liandong: Liandong, call_id: str, state: str, within: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    callbacks: list[dict[str, Any]] = []
    while loop.time() < deadline:
        callbacks = (await liandong.get(f"/api/v1/calls/{call_id}"))["callbacks"]
        if callbacks and callbacks[-1]["state"] == state:
            return dict(callbacks[-1])
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {state} callback on call {call_id}: {callbacks}")


async def case_with_callback(
    liandong: Liandong, call_id: str, outcome: str, role: Role = Role.ADMIN
) -> dict[str, Any]:
    """The case of the call the caller hung up, once a callback line with
    `outcome` is on its timeline (the case worker runs beside the callbacks)."""
    deadline = time.monotonic() + 10
    while True:
        [number] = (await liandong.get(f"/api/v1/calls/{call_id}"))["cases"]
        case = dict(await liandong.get(f"/api/v1/cases/{number}", role))
        if any(cb["outcome"] == outcome for cb in callback_data(case)):
            return case
        assert time.monotonic() < deadline, (outcome, case["timeline"])
        await asyncio.sleep(0.2)


def callback_lines(case: dict[str, Any]) -> list[str]:
    return [e["data"]["note"] for e in case["timeline"] if e["command"] == "callback"]


def callback_data(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["data"]["callback"] for e in case["timeline"] if e["command"] == "callback"]


async def book_a_callback(liandong: Liandong, work: Path, prefix: str = NUMBER_PREFIX) -> str:
    """Nobody is free at 12345: the caller waits, is offered, presses 1 and
    is let go; the id of the call they hung up."""
    for phone in ("op12345-1", "op12345-2"):
        status, _ = await liandong.post(f"/api/v1/operators/{phone}/logout")
        assert status in (202, 409)  # 409: not logged in (Asterisk refuses)
    result = await asyncio.to_thread(
        sipp.call, "12345", work, number_prefix=prefix, keys=KEYS, talk_ms=60_000
    )
    assert result.returncode == 0, result.stdout_tail
    # Asterisk ended the call after the confirmation: the caller did not wait on.
    assert result.outcomes == {prefix + "1": "answered"}, result.outcomes
    [call] = await liandong.wait_ended_calls(prefix, 1, within=20)
    return str(call["id"])


async def test_a_caller_books_a_callback_and_is_called_back_with_an_operator_on_the_line(
    liandong: Liandong,
    work: Path,
    phones: dict[str, sipp.Phone],
    callback_on: testbed.TestbedConfig,
) -> None:
    call_id = await book_a_callback(liandong, work)

    record = await liandong.get(f"/api/v1/calls/{call_id}")
    steps = [(s["node"], s["key"], s["mark"]) for s in record["menu_steps"]]
    assert ("callback_offer", "1", "callback") in steps, steps
    # Their wait ended when they took the offer: left to be called back.
    waits = [(w["outcome"], w["ended_by"]) for w in record["queue_waits"]]
    assert waits == [("left", "callback")], record["queue_waits"]
    waiting = await callback_of(liandong, call_id, "waiting", within=5)
    assert waiting["attempts"] == 0 and waiting["position_kept"] == 1
    desk = await desk_12345(liandong)
    assert [cb["id"] for cb in desk["callbacks"]] == [waiting["id"]]
    assert desk["callbacks"][0]["caller_number"] == NUMBER  # the admin reads it whole
    # The stand-in holds the place in the queue.
    assert any(w["via"] == "callback" for w in desk["waiting"]), desk["waiting"]

    # The caller's phone, then an operator who logs in and answers.
    phones["citizen"] = sipp.start_phone("trunk-12345", work, ring_ms=500, talk_ms=3000)
    phones["op"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=20_000)
    status, _ = await liandong.post("/api/v1/operators/op12345-1/login")
    assert status == 202

    done = await callback_of(liandong, call_id, "connected", within=30)
    assert done["operator"] == "op12345-1" and done["attempts"] == 1
    assert done["last_status"] == "ANSWER"
    assert any(line.endswith("answered") for line in phones["citizen"].outcomes())
    assert (await desk_12345(liandong))["callbacks"] == []

    # The case of the call they hung up: booked, then connected, and not
    # cancelled when they hung up to be called back.
    case = await case_with_callback(liandong, call_id, "connected")
    assert callback_lines(case) == [
        "市民选择回拨，保留排队位置（第1位）",
        "回拨接通，话务员 op12345-1",
    ], case["timeline"]
    assert "cancel" not in [e["command"] for e in case["timeline"]]
    assert case["state"] == "received"
    booked, connected = callback_data(case)
    assert booked["id"] == connected["id"] == done["id"]
    assert (connected["attempts"], connected["last_status"]) == (1, "ANSWER")
    # The call back joined that case and opened none: the caller has one case.
    assert [c["id"] for c in case["calls"]] == [call_id, connected["dial_call"]], case["calls"]
    mine = await liandong.get(f"/api/v1/cases?caller_number={NUMBER}")
    assert [c["number"] for c in mine["cases"]] == [case["number"]], mine
    # A supervisor reads the same lines without the number.
    seen = await case_with_callback(liandong, call_id, "connected", Role.SUPERVISOR)
    assert callback_lines(seen) == callback_lines(case)
    assert NUMBER not in json.dumps(seen, ensure_ascii=False)


async def test_a_callback_not_answered_is_tried_again(
    liandong: Liandong,
    work: Path,
    phones: dict[str, sipp.Phone],
    callback_on: testbed.TestbedConfig,
) -> None:
    call_id = await book_a_callback(liandong, work)
    await callback_of(liandong, call_id, "waiting", within=5)

    # The caller's phone answers busy; the operator is connected and told.
    phones["citizen"] = sipp.start_phone("trunk-12345", work, busy=True)
    phones["op"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=20_000)
    status, _ = await liandong.post("/api/v1/operators/op12345-1/login")
    assert status == 202

    again = await callback_of(liandong, call_id, "retry", within=30)
    assert again["attempts"] == 1 and again["last_status"] == "BUSY"
    assert again["next_try_at"] is not None and again["position_kept"] == 1
    [listed] = (await desk_12345(liandong))["callbacks"]
    assert listed["state"] == "retry"

    # The attempt not reached is on the case, with the next try (county time).
    case = await case_with_callback(liandong, call_id, "not_reached")
    lines = callback_lines(case)
    assert lines[0] == "市民选择回拨，保留排队位置（第1位）"
    assert lines[1].startswith("回拨未接通（忙），第1次，下次 "), lines
    [not_reached] = [cb for cb in callback_data(case) if cb["outcome"] == "not_reached"]
    assert not_reached["next_try_at"] == again["next_try_at"]
    mine = await liandong.get(f"/api/v1/cases?caller_number={NUMBER}")
    assert [c["number"] for c in mine["cases"]] == [case["number"]], mine


async def test_with_the_server_stopped_the_caller_is_not_let_go_but_waits_on(
    callback_on: testbed.TestbedConfig, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    """No server to save the callback: the caller who presses 1 is told so
    and keeps their place; the next operator free answers them."""
    for phone in ("op12345-1", "op12345-2"):
        testbed.cli(callback_on, f"queue remove member PJSIP/{phone} from desk-12345")
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=1000)

    async def operator_logs_in_later() -> None:
        await asyncio.sleep(35)  # after the offer (~14 s) and its refusal
        testbed.cli(callback_on, "queue add member PJSIP/op12345-1 to desk-12345")

    later = asyncio.create_task(operator_logs_in_later())
    result = await asyncio.to_thread(
        sipp.call, "12345", work, number_prefix="1368000", keys=KEYS, talk_ms=60_000
    )
    await later

    assert result.returncode == 0, result.stdout_tail
    assert list(result.outcomes.values()) == ["answered"]
    assert [line.split()[1] for line in phones["a"].outcomes()][:1] == ["answered"]


async def test_a_second_callback_keeps_its_place_behind_the_first(
    liandong: Liandong,
    work: Path,
    phones: dict[str, sipp.Phone],
    callback_on: testbed.TestbedConfig,
) -> None:
    """The place the caller had reaches the server: a caller who waited
    behind a first callback's stand-in keeps place 2 and is called back after."""
    first = await book_a_callback(liandong, work)
    await callback_of(liandong, first, "waiting", within=5)
    second = await book_a_callback(liandong, work, prefix="1369000")
    kept = await callback_of(liandong, second, "waiting", within=5)
    assert kept["position_kept"] == 2, kept

    phones["citizen"] = sipp.start_phone("trunk-12345", work, ring_ms=300, talk_ms=2000)
    phones["op"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=20_000)
    status, _ = await liandong.post("/api/v1/operators/op12345-1/login")
    assert status == 202
    done_first = await callback_of(liandong, first, "connected", within=40)
    done_second = await callback_of(liandong, second, "connected", within=40)
    assert done_first["updated_at"] < done_second["updated_at"]
