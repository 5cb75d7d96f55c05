"""The demo's desk queue and voice menu ([ivr]): more callers than operators
waiting in line and answered in order, and a 12345 caller walking the menu."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pbx import sipp

Get = Callable[[str, str], Any]

QUEUE_CALLERS = 5
AFTER_GREETING = "." * 8  # the 12345 greeting lasts ~7 s


def demo_queue(work: Path, token: str, get: Get) -> None:
    print(f"▶ {QUEUE_CALLERS} citizens call 110 within a second; two operators take 3 s calls.")
    print("  Nobody hears busy: they wait in line and are answered in the order they came")
    phones = [
        sipp.start_phone("op110-1", work, ring_ms=300, talk_ms=3000),
        sipp.start_phone("op110-2", work, ring_ms=300, talk_ms=3000),
    ]
    try:
        prefix = "1331000"
        result = sipp.call(
            "110", work, number_prefix=prefix, calls=QUEUE_CALLERS, rate=10, talk_ms=60_000
        )
        print(f"  SIPp: {sorted(result.outcomes.values())}")
        for call in ended_calls(get, token, prefix, QUEUE_CALLERS):
            [wait] = get(f"/api/v1/calls/{call['id']}", token)["queue_waits"][:1] or [None]
            if wait is None:
                print(f"  {call['caller_number']}: no wait recorded")
                continue
            print(
                f"  {call['caller_number']}: place {wait['position_on_joining']} on joining, "
                f"waited {wait['waited_s']:>4.1f} s, {wait['outcome']} by {wait['operator']}"
            )
        print()
    finally:
        for phone in phones:
            phone.stop()


def demo_menu(work: Path, token: str, get: Get) -> None:
    print("▶ 市民孙七 calls 12345: hears the greeting and the menu, presses 1 (咨询), waits")
    print("  in the 12345 queue and an operator answers; the menu's steps are on the call")
    print("  and on its case")
    phone = sipp.start_phone("op12345-1", work, ring_ms=500, talk_ms=3000)
    try:
        prefix = "1332000"
        result = sipp.call(
            "12345",
            work,
            number_prefix=prefix,
            caller_name="孙七",
            keys=AFTER_GREETING + "1",
            talk_ms=60_000,
        )
        print(f"  SIPp: {result.outcomes}")
        for call in ended_calls(get, token, prefix, 1):
            page = get(f"/api/v1/calls/{call['id']}", token)
            steps = [s["node"] + (f"[{s['key']}]" if s["key"] else "") for s in page["menu_steps"]]
            print(f"  menu: {' → '.join(steps)}")
            for wait in page["queue_waits"]:
                print(
                    f"  queue: via {wait['via']}, waited {wait['waited_s']:.1f} s, "
                    f"{wait['outcome']} by {wait['operator']}"
                )
            for number in page.get("cases", []):
                case = get(f"/api/v1/cases/{number}", token)
                hint = (case.get("menu") or {}).get("hint_label")
                print(f"  case {number}: the caller's choice {hint!r} is its hint")
        print()
    finally:
        phone.stop()


def ended_calls(get: Get, token: str, prefix: str, count: int) -> list[dict[str, Any]]:
    """The `count` calls from numbers `prefix`… once ended, oldest first."""
    deadline = time.monotonic() + 15
    mine: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        calls = get("/api/v1/calls?limit=50", token)["calls"]
        mine = [c for c in calls if (c["caller_number"] or "").startswith(prefix)]
        if len(mine) >= count and all(c["ended_at"] for c in mine):
            break
        time.sleep(0.3)
    return sorted(mine, key=lambda c: c["started_at"])
