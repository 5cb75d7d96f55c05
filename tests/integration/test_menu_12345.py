"""The 12345 voice menu on the real testbed: a caller's keys, as carriers and
softphones send them (RFC 4733) and as some send them (SIP INFO), take them
to the right queue, and every node and key is on the call's record."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


async def test_star_is_an_operator_at_once(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], menu_on: None
) -> None:
    phones["a"] = sipp.start_phone("op12345-1", work, ring_ms=200, talk_ms=1000)

    await place("12345", work, number_prefix="1364000", keys=".*", talk_ms=60_000)

    call = await record_of(liandong, "1364000")
    assert keys_and_marks(call)[1:3] == [("greeting", "*", None), ("operator", None, None)]
    assert [w["outcome"] for w in call["queue_waits"]] == ["answered"]


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
