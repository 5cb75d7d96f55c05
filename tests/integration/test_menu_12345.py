"""The 12345 voice menu on the real testbed: a caller's keys, as carriers and
softphones send them (RFC 4733) and as some send them (SIP INFO), take them
to the right queue, and every node and key is on the call's record — and on
its case: the demand type as the case's hint, the emergency key as a
12345 → 110 referral flagged urgent, an operator reached and why, a lookup's
outcome (a supervisor reads them without the caller's number)."""

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
from tests.integration.conftest import MENU_OFF, Liandong

# The greeting lasts about 7 s: a choice is pressed during the main menu's prompt.
AFTER_GREETING = "." * 8


@pytest.fixture
def menu_on(pbx_clean: testbed.TestbedConfig) -> Iterator[None]:
    testbed.cli(pbx_clean, "dialplan set global MENU_12345 ivr-12345")
    yield
    testbed.cli(pbx_clean, f"dialplan set global MENU_12345 {MENU_OFF}")


async def place(trunk: str, work: Path, **kwargs: Any) -> sipp.CallResult:
    result = await asyncio.to_thread(sipp.call, trunk, work, **kwargs)
    assert result.returncode == 0, result.stdout_tail
    return result


async def record_of(liandong: Liandong, prefix: str) -> dict[str, Any]:
    [call] = await liandong.wait_ended_calls(prefix, 1, within=20)
    return dict(await liandong.get(f"/api/v1/calls/{call['id']}"))


def keys_and_marks(call: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(s["node"], s["key"], s["mark"]) for s in call["menu_steps"]]


HINT_LABELS = {  # ivr_flows/flows/12345.yaml, hints:
    "enquiry": "咨询",
    "help": "求助",
    "complaint_report": "投诉举报",
    "suggestion": "意见建议",
}


async def case_after_menu(
    liandong: Liandong, call: dict[str, Any], outcome: str, role: Role = Role.ADMIN
) -> dict[str, Any]:
    """The call's case once a menu line with `outcome` is on its timeline
    (the case worker runs beside the call records)."""
    [number] = call["cases"]
    deadline = time.monotonic() + 10
    while True:
        case = dict(await liandong.get(f"/api/v1/cases/{number}", role))
        if menu_lines(case, outcome):
            return case
        assert time.monotonic() < deadline, (outcome, case["timeline"])
        await asyncio.sleep(0.2)


def menu_lines(case: dict[str, Any], outcome: str) -> list[dict[str, Any]]:
    return [
        e["data"]
        for e in case["timeline"]
        if isinstance(e["data"].get("menu"), dict) and e["data"]["menu"]["outcome"] == outcome
    ]


@pytest.mark.parametrize(
    ("key", "hint", "as_info"),
    [
        ("1", "enquiry", False),
        ("2", "help", True),
        ("3", "complaint_report", False),
        ("4", "suggestion", True),
    ],
)
async def test_each_demand_type_reaches_the_12345_queue_with_its_hint(
    liandong: Liandong,
    work: Path,
    phones: dict[str, sipp.Phone],
    menu_on: None,
    key: str,
    hint: str,
    as_info: bool,
) -> None:
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=1000)
    prefix = f"136100{key}"

    result = await place(
        "12345",
        work,
        number_prefix=prefix,
        keys=AFTER_GREETING + key,
        keys_as_info=as_info,
        talk_ms=60_000,
    )

    assert list(result.outcomes.values()) == ["answered"]
    call = await record_of(liandong, prefix)
    assert keys_and_marks(call)[:3] == [
        ("greeting", None, None),
        ("main", None, None),
        ("main", key, f"hint={hint}"),
    ]
    [wait] = call["queue_waits"]
    assert (wait["desk"], wait["via"], wait["outcome"]) == ("12345", "menu", "answered")
    assert wait["operator"] == "op12345-1"
    # The choice is the case's first classification hint, not its classification.
    case = await case_after_menu(liandong, call, "choice")
    assert case["menu"] == {"hint": hint, "hint_label": HINT_LABELS[hint], "emergency": False}
    assert (case["desk"], case["demand_type"]) == ("12345", None)
    [line] = menu_lines(case, "choice")
    assert (line["menu"]["node"], line["menu"]["key"], line["menu"]["hint"]) == ("main", key, hint)
    assert line["note"] == f"语音导航：按{key}选择「{HINT_LABELS[hint]}」，转12345人工受理"


async def test_the_emergency_key_during_the_greeting_reaches_the_110_queue_first(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], menu_on: None
) -> None:
    phones["a"] = sipp.start_phone("op110-1", work, ring_ms=200, talk_ms=1000)

    await place("12345", work, number_prefix="1362000", keys=".0", talk_ms=60_000)

    call = await record_of(liandong, "1362000")
    assert keys_and_marks(call)[:3] == [
        ("greeting", None, None),
        ("greeting", "0", "emergency"),
        ("emergency", None, None),
    ]
    [wait] = call["queue_waits"]
    assert (wait["desk"], wait["via"], wait["priority"]) == ("110", "emergency", 10)
    assert wait["outcome"] == "answered" and wait["operator"] == "op110-1"
    # Answered by 110 within seconds of the key: no prompt held it back.
    assert wait["waited_s"] < 3, wait
    # The case went to 110 with the caller, flagged urgent, the key on its timeline.
    case = await case_after_menu(liandong, call, "emergency")
    assert (case["desk"], case["state"], case["urgency"]) == ("110", "police_handling", "urgent")
    assert case["menu"]["emergency"] is True
    [referral] = [e for e in case["timeline"] if e["command"] == "refer_to_110"]
    assert (referral["actor"], referral["role"]) == ("12345语音导航", "operator_12345")
    assert (referral["data"]["menu"]["node"], referral["data"]["menu"]["key"]) == ("greeting", "0")
    assert referral["data"]["note"] == "语音导航紧急键：按0，12345 → 110，紧急"
    # A supervisor reads it without the caller's number.
    seen = await case_after_menu(liandong, call, "emergency", Role.SUPERVISOR)
    caller = call["caller_number"]
    assert seen["caller"]["number"] != caller and caller not in json.dumps(seen)


async def test_a_wrong_key_then_silence_ends_with_an_operator(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], menu_on: None
) -> None:
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=1000)

    await place(
        "12345",
        work,
        number_prefix="1363000",
        keys=AFTER_GREETING + "9",
        talk_ms=120_000,
        timeout=180,
    )

    call = await record_of(liandong, "1363000")
    steps = keys_and_marks(call)
    assert ("main", "9", None) in steps
    assert steps[-1] == ("operator", None, None)
    [wait] = call["queue_waits"]
    assert (wait["via"], wait["outcome"]) == ("menu", "answered")
    # On the case: an operator after no valid choice, the wrong key and silences counted.
    case = await case_after_menu(liandong, call, "operator")
    [line] = menu_lines(case, "operator")
    menu = line["menu"]
    assert (menu["reason"], menu["invalid_keys"], menu["timeouts"]) == ("no_choice", 1, 2), menu
    assert {"node": "main", "key": "9", "typed": 0} in menu["path"]
    assert case["menu"] == {"hint": None, "hint_label": None, "emergency": False}


async def test_star_is_an_operator_at_once(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], menu_on: None
) -> None:
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=1000)

    await place("12345", work, number_prefix="1364000", keys=".*", talk_ms=60_000)

    call = await record_of(liandong, "1364000")
    assert keys_and_marks(call)[1:3] == [("greeting", "*", None), ("operator", None, None)]
    assert [w["outcome"] for w in call["queue_waits"]] == ["answered"]
    case = await case_after_menu(liandong, call, "operator")
    [line] = menu_lines(case, "operator")
    assert (line["menu"]["reason"], line["menu"]["key"]) == ("key", "*")
    assert line["note"] == "语音导航：按*转人工"


async def test_with_the_server_stopped_a_caller_still_reaches_the_12345_queue(
    pbx_clean: testbed.TestbedConfig, work: Path, phones: dict[str, sipp.Phone], menu_on: None
) -> None:
    """No liandong server at all: the menu and the queue are Asterisk's own;
    even the case lookup, which asks the server, falls back to an operator."""
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=1000)

    result = await place(
        "12345", work, number_prefix="1365000", keys=AFTER_GREETING + "5..#", talk_ms=60_000
    )

    assert list(result.outcomes.values()) == ["answered"]
    assert [line.split()[1] for line in phones["a"].outcomes()][:1] == ["answered"]


async def test_case_status_by_phone_tells_only_the_calling_numbers_own_case(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], menu_on: None
) -> None:
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=1000)
    # A first call, answered: it opens the caller's case.
    await place("12345", work, number_prefix="1366000", keys=".*", talk_ms=60_000)
    first = await record_of(liandong, "1366000")
    [number] = first["cases"]

    # The same caller asks for it: # alone means "my newest case".
    await place(
        "12345", work, number_prefix="1366000", keys=AFTER_GREETING + "5..#", talk_ms=15_000
    )
    again = [c for c in await liandong.calls_from("1366000") if c["id"] != first["id"]]
    asked = dict(await liandong.get(f"/api/v1/calls/{again[0]['id']}"))
    assert ("case_status", None, "case_found") in keys_and_marks(asked), asked["menu_steps"]
    asked_case = await case_after_menu(liandong, asked, "case_status")
    [lookup] = menu_lines(asked_case, "case_status")
    assert lookup["note"] == "语音导航：按来电号码查询办理进度，已告知办理进度"

    # Another number typing that case's number hears nothing of it.
    typed = number.replace("-", "")
    await place(
        "12345",
        work,
        number_prefix="1367000",
        keys=AFTER_GREETING + "5.." + typed + "#",
        talk_ms=8_000,
    )
    other = await record_of(liandong, "1367000")
    steps = keys_and_marks(other)
    assert ("case_status", typed, None) in steps
    assert ("case_status", None, "case_not_found") in steps
    assert ("case_status", None, "case_found") not in steps
    # The other caller's case says a number was typed and nothing found, not the number.
    other_case = await case_after_menu(liandong, other, "case_status")
    [lookup] = menu_lines(other_case, "case_status")
    assert lookup["menu"]["reason"] == "not_found"
    assert {"node": "case_status", "key": None, "typed": len(typed)} in lookup["menu"]["path"]
    assert typed not in json.dumps(other_case["timeline"])
