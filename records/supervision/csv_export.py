"""The supervision views as CSV for Excel and WPS: UTF-8 with a BOM (without
it they guess GBK and garble the Chinese), Chinese headers, times in county
time, rates in percent. Each view's columns read the view's JSON rows, so the
CSV never says anything the JSON does not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from web.csv_out import Column, cell, csv_response, local, percent

# Re-exported: the views import them from here.
__all__ = ["Column", "cell", "csv_response", "local", "percent"]

DEADLINE_LABELS = {"sign_for": "签收", "arrive": "到场", "feedback": "反馈", "close": "办结"}
URGENCY_LABELS = {"normal": "一般", "urgent": "紧急"}
NOTICE_LABELS = {
    "queued": "待呼叫",
    "calling": "呼叫中",
    "accepted": "已按键签收",
    "declined": "已按键退单",
    "unreached": "未送达",
    "cancelled": "已取消",
}


def county_time(value: str | None) -> str | None:
    """An API time (ISO, UTC) as the county reads it: 2026-03-02 09:30:00."""
    return f"{local(datetime.fromisoformat(value)):%Y-%m-%d %H:%M:%S}" if value else None


def _at(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: county_time(row[key])


def deadline_time(value: str | None) -> str | None:
    """A deadline as the county writes it: a limit that runs to local midnight
    ends at "24:00" of its last day (2026-12-01 24:00), not at 00:00 of the
    next, which reads as a day late."""
    if not value:
        return None
    when = local(datetime.fromisoformat(value))
    if (when.hour, when.minute, when.second) == (0, 0, 0):
        return f"{when - timedelta(days=1):%Y-%m-%d} 24:00"
    return f"{when:%Y-%m-%d %H:%M}"


def _due(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: deadline_time((row["deadlines"].get(name) or {}).get("due"))


def _spread(name: str, key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row["durations"][name][key]


OPEN_COLUMNS: list[Column] = [
    ("工单编号", lambda r: r["number"]),
    ("状态", lambda r: r["state_label"]),
    ("受理台", lambda r: r["desk"]),
    ("类别", lambda r: r["category_name"] or r["category"]),
    ("紧急程度", lambda r: URGENCY_LABELS.get(r["urgency"], r["urgency"])),
    ("乡镇", lambda r: r["township_name"] or r["township"]),
    ("单位代码", lambda r: r["lead_unit"]),
    ("承办单位", lambda r: r["lead_unit_name"]),
    ("受理时间", _at("created_at")),
    ("派发时间", _at("dispatched_at")),
    *((f"{label}时限", _due(name)) for name, label in DEADLINE_LABELS.items()),
    ("是否超期", lambda r: r["overdue"]),
    (
        "超期环节",
        lambda r: "、".join(DEADLINE_LABELS[n] for n, d in r["deadlines"].items() if d["overdue"]),
    ),
    ("超期时长(分钟)", lambda r: r["overdue_minutes"]),
    ("提醒次数", lambda r: r["ladder"]["remind"]),
    ("催办次数", lambda r: r["ladder"]["notice"]),
    ("通报次数", lambda r: r["ladder"]["bulletin"]),
    ("联动通知", lambda r: NOTICE_LABELS.get(r["notice"] or "", r["notice"])),
]

UNIT_COLUMNS: list[Column] = [
    ("单位代码", lambda r: r["unit"]),
    ("单位名称", lambda r: r["unit_name"]),
    ("派发数", lambda r: r["dispatched"]),
    ("办结数", lambda r: r["closed"]),
    ("未办结数", lambda r: r["open"]),
    ("按时办结数", lambda r: r["closed_on_time"]),
    ("按时办结率(%)", lambda r: percent(r["on_time_rate"])),
    *(
        (f"{label}用时{title}(分钟)", _spread(name, key))
        for name, label in DEADLINE_LABELS.items()
        for title, key in (("中位数", "median_minutes"), ("P90", "p90_minutes"))
    ),
    ("退单数", lambda r: r["returns"]),
    ("督办次数", lambda r: r["reminders"]),
    ("提醒次数", lambda r: r["ladder"]["remind"]),
    ("催办次数", lambda r: r["ladder"]["notice"]),
    ("通报次数", lambda r: r["ladder"]["bulletin"]),
    ("重办数", lambda r: r["re_handles"]),
    ("延期申请数", lambda r: r["extensions"]),
    ("评价数", lambda r: r["satisfaction"]["rated"]),
    ("平均评分", lambda r: r["satisfaction"]["mean"]),
    ("满意数", lambda r: r["satisfaction"]["satisfied"]),
    ("满意率(%)", lambda r: percent(r["satisfaction"]["satisfied_rate"])),
    ("电话回访评价数", lambda r: r["satisfaction"]["by_call"]),
    ("人工录入评价数", lambda r: r["satisfaction"]["by_hand"]),
    ("联动通知数", lambda r: r["notices"]["made"]),
    ("通知按键签收数", lambda r: r["notices"]["accepted"]),
    ("通知按键退单数", lambda r: r["notices"]["declined"]),
    ("通知未送达数", lambda r: r["notices"]["unreached"]),
]

TRANSFER_COLUMNS: list[Column] = [
    ("转出话务员", lambda r: r["operator"]),
    ("转出台", lambda r: r["desk"]),
    ("类别代码", lambda r: r.get("category")),
    ("类别名称", lambda r: r.get("category_name")),
    ("转出数", lambda r: r["handovers"]),
    ("被退回数", lambda r: r["sent_back"]),
    ("误转率(%)", lambda r: percent(r["rate"])),
]
