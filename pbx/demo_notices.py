"""The demo's linkage notice ([notify]): an urgent case dispatched to the
city management bureau rings its phone line (unit-04); the person who
answers hears the notice and presses 1, which signs the case for the bureau."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pbx import sipp

Get = Callable[[str, str], Any]
Post = Callable[[str, str, dict[str, Any]], Any]


def demo_notice(work: Path, hotline: str, get: Get, post: Post) -> None:
    print("▶ 12345 dispatches an urgent case (a missing manhole cover) to the city management")
    print("  bureau: the server phones its line (unit-04); whoever answers hears the notice —")
    print("  the case number digit by digit, then the case's own words — and presses 1")
    phone = sipp.start_phone("unit-04", work, ring_ms=1500, keys="1", keys_after_ms=4000)
    try:
        case = post(
            "/api/v1/cases",
            hotline,
            {"desk": "12345", "description": "建设路井盖缺失，有行人跌落危险"},
        )
        number = case["number"]
        classify = {
            "demand_type": "help",
            "route": "hotline",
            "urgency": "urgent",
            "category": "city-appearance",
            "township": "chengguan",
            "address": "城关镇建设路18号",
        }
        post(f"/api/v1/cases/{number}/classify", hotline, classify)
        post(f"/api/v1/cases/{number}/dispatch", hotline, {"lead_unit": "urban"})
        notice = _settled(get, hotline, number)
        if notice is None:
            print("  the notice did not settle within 40 s")
            return
        for call in notice["calls"]:
            print(f"  call {call['number']}: {call['contact']} {call['name']} → {call['result']}")
        final = get(f"/api/v1/cases/{number}", hotline)
        print(f"  case {number} is now {final['state_label']}:")
        for entry in final["timeline"][-3:]:
            line = entry["data"].get("note") or ""
            print(f"    {entry['command']:<9} {entry['actor']:<10} {line}")
        print()
    finally:
        phone.stop()


def _settled(get: Get, token: str, number: str) -> dict[str, Any] | None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        notices = get(f"/api/v1/notices?case={number}", token)["notices"]
        if notices and notices[0]["state"] not in ("queued", "calling"):
            return dict(notices[0])
        time.sleep(0.5)
    return None
