"""The calls the server makes, in the demo ([notify]): an urgent case
dispatched to the city management bureau rings its phone line (unit-04),
whose answerer presses 1 and signs the case; and a closed case's caller is
called back (回访) and keys a rating. The demo's county rules follow up at
once and at any hour (`demo_case_config`), not 2 hours later within 08:30-20:00."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pbx import sipp
from startup.settings import DEFAULT_CASE_CONFIG

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


def demo_case_config(cache: Path) -> Path:
    """The shipped case-config, but follow-ups at once and at any hour."""
    folder = cache / "demo-case-config"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(DEFAULT_CASE_CONFIG, folder)
    rules = folder / "outbound.yaml"
    text = rules.read_text(encoding="utf-8").replace("after: 2h", "after: 0m")
    rules.write_text(text.replace('"08:30-20:00"', '"00:00-23:59"'), encoding="utf-8")
    return folder


def start_citizen_rating(work: Path) -> sipp.Phone:
    """The citizen called back on trunk-12345: answers and keys 2 (满意)."""
    return sipp.start_phone("trunk-12345", work, ring_ms=1000, keys="2", keys_after_ms=6000)


def show_follow_up(get: Get, token: str, number: str) -> None:
    print(f"▶ case {number} is closed: the server calls its caller back (回访); he keys 2 (满意)")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        found = get(f"/api/v1/follow-ups?case={number}", token)["follow_ups"]
        if found and found[0]["state"] not in ("scheduled", "calling"):
            follow_up = found[0]
            print(f"  follow-up {follow_up['state']}, rating {follow_up['rating']}")
            case = get(f"/api/v1/cases/{number}", token)
            entry = case["timeline"][-1]
            print(f"  on the case: {entry['command']} by {entry['actor']} {entry['data']}\n")
            return
        time.sleep(0.5)
    print("  the follow-up did not settle within 40 s\n")
