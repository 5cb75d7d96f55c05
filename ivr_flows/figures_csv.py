"""The desks' supervision figures as CSV, read from the views' JSON rows
(web/csv_out.py: UTF-8 with a BOM, Chinese headers). Times are county time;
an hour reads 09:00-10:00, the last of a day 23:00-24:00; rates in percent;
durations in seconds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from web.csv_out import Column, local, percent


def _clock(value: str, *, end: bool = False) -> str:
    when = local(datetime.fromisoformat(value))
    if end and (when.hour, when.minute) == (0, 0):
        return "24:00"
    return f"{when:%H:%M}"


def hour_row(desk: str, hour: dict[str, Any]) -> dict[str, Any]:
    """An hour of a desk as a CSV row: its day and its span."""
    day = f"{local(datetime.fromisoformat(hour['start'])):%Y-%m-%d}"
    span = f"{_clock(hour['start'])}-{_clock(hour['end'], end=True)}"
    return {**hour, "desk": desk, "day": day, "span": span}


def total_row(desk: str, total: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    span = f"{local(start):%Y-%m-%d %H:%M} 至 {local(end):%Y-%m-%d %H:%M}"
    return {**total, "desk": desk, "day": "合计", "span": span}


def desk_columns(within_s: int) -> list[Column]:
    return [
        ("受理台", lambda r: r["desk"]),
        ("日期", lambda r: r["day"]),
        ("时段", lambda r: r["span"]),
        ("呼入量", lambda r: r["offered"]),
        ("接通量", lambda r: r["answered"]),
        (f"{within_s}秒内接通量", lambda r: r["answered_within_target"]),
        ("放弃量", lambda r: r["abandoned"]),
        ("转走量", lambda r: r["left"]),
        ("排队中", lambda r: r["waiting"]),
        ("预约回拨", lambda r: r["called_back"]),
        ("平均等待(秒)", lambda r: r["average_wait_s"]),
        ("最长等待(秒)", lambda r: r["longest_wait_s"]),
        ("平均应答(秒)", lambda r: r["average_answer_s"]),
        ("接通率(%)", lambda r: percent(r["connection_rate"])),
        (f"{within_s}秒接通率(%)", lambda r: percent(r["service_level"])),
        ("接通率达标", lambda r: r["connection_rate_met"]),
        (f"{within_s}秒接通率达标", lambda r: r["service_level_met"]),
    ]


def _pause(reason: str) -> Column:
    return (
        f"暂停-{reason}(秒)",
        lambda r: next(p["seconds"] for p in r["pauses"] if p["reason"] == reason),
    )


def operator_columns(reasons: list[str]) -> list[Column]:
    return [
        ("受理台", lambda r: r["desk"]),
        ("坐席话机", lambda r: r["phone"] or "合计"),
        ("接通量", lambda r: r["answered"]),
        ("通话时长(秒)", lambda r: r["talk_s"]),
        ("平均通话时长(秒)", lambda r: r["average_talk_s"]),
        ("登录时长(秒)", lambda r: r["logged_in_s"]),
        ("空闲时长(秒)", lambda r: r["idle_s"]),
        ("振铃时长(秒)", lambda r: r["ringing_s"]),
        ("占线时长(秒)", lambda r: r["talking_s"]),
        ("暂停时长(秒)", lambda r: r["paused_s"]),
        *(_pause(reason) for reason in reasons),
    ]
