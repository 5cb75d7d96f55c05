"""Time limits of a dispatched case and the supervisor ladder, from
`case-config/time-limits.yaml` (the file documents its own format).

Four clocks start at dispatch: sign_for (签收), arrive (到场), feedback (反馈),
close (办结). A duration is minutes (`30m`), hours (`2h`) or working days
(`2wd`: local 24:00 of the n-th working day after the dispatch day). The value
for a case comes from layers, later ones winning: `defaults`, `utility` (when
the case's category is flagged utility), `by_urgency.<urgency>`,
`by_demand_type.<type>`, `by_demand_type.<type>.<urgency>`.

The ladder: a reminder (提醒) `reminder_before` a deadline; a notice (催办)
`notice_after` it — in working days, at the start of the n-th working day after
the deadline's day, so `1wd` is "the day after the deadline passes"; a bulletin
(通报) `bulletin_after` the notice — in working days, at the end of the n-th
working day after the day the notice went out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from county.calendar import WorkCalendar, due_date, end_of_day, start_of_day
from county.case_words import DemandType, Urgency
from county.config_file import LineDict, Problems, check_keys, read_yaml

Unit = Literal["m", "h", "wd"]
CLOCKS = ("sign_for", "arrive", "feedback", "close")
REQUIRED_CLOCKS = ("sign_for", "close")
LADDER = ("reminder_before", "notice_after", "bulletin_after")
# Optional ladder keys, with the value used when a county leaves them out.
LADDER_DEFAULTS = {"archive_after": "7wd"}
_DURATION = re.compile(r"([1-9][0-9]*)(m|h|wd)")


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: Unit

    @property
    def in_working_days(self) -> bool:
        return self.unit == "wd"

    def clock(self) -> timedelta:
        if self.unit == "wd":
            raise ValueError(f"{self} is in working days, not clock time")
        return timedelta(minutes=self.amount) * (60 if self.unit == "h" else 1)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_duration(text: str) -> Duration:
    """`30m`, `2h`, `24h`, `2wd`; positive whole numbers only."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a duration (write e.g. 30m, 2h, 2wd)")
    unit: Unit = match.group(2)  # type: ignore[assignment]  # the regex allows only these
    return Duration(int(match.group(1)), unit)


_REPORTED = Duration(0, "m")  # stands in for a value whose problem is already reported


@dataclass(frozen=True)
class Limits:
    """The durations that apply to one kind of case."""

    sign_for: Duration
    close: Duration
    arrive: Duration | None = None
    feedback: Duration | None = None


@dataclass(frozen=True)
class Deadlines:
    """When each clock of a dispatched case runs out (aware UTC)."""

    sign_for: datetime
    close: datetime
    arrive: datetime | None = None
    feedback: datetime | None = None


@dataclass(frozen=True)
class Ladder:
    reminder_before: Duration
    notice_after: Duration
    bulletin_after: Duration
    # 入库备案: a closed case is archived this long after closing (time for the
    # follow-up call and a re-opening) unless it was re-opened meanwhile.
    archive_after: Duration


def after(start: datetime, duration: Duration, calendar: WorkCalendar) -> datetime:
    """`duration` after an event at `start` (working days from start's local day)."""
    if duration.in_working_days:
        return calendar.add_working_days(start, duration.amount)
    return (start + duration.clock()).astimezone(UTC)


def extend(deadline: datetime, duration: Duration, calendar: WorkCalendar) -> datetime:
    """A deadline moved on by an approved extension (延期); working days count
    from the day the deadline falls due, so end of Friday + 1wd = end of Monday."""
    if duration.in_working_days:
        return end_of_day(calendar.working_day_after(due_date(deadline), duration.amount))
    return (deadline + duration.clock()).astimezone(UTC)


@dataclass(frozen=True)
class TimeLimits:
    table: Mapping[tuple[DemandType, Urgency, bool], Limits]  # every combination
    ladder: Ladder

    def limits(self, demand_type: DemandType, urgency: Urgency, utility: bool) -> Limits:
        return self.table[(DemandType(demand_type), Urgency(urgency), bool(utility))]

    def deadlines(
        self,
        demand_type: DemandType,
        urgency: Urgency,
        utility: bool,
        dispatched_at: datetime,
        calendar: WorkCalendar,
    ) -> Deadlines:
        limits = self.limits(demand_type, urgency, utility)

        def due(duration: Duration | None) -> datetime | None:
            return None if duration is None else after(dispatched_at, duration, calendar)

        return Deadlines(
            sign_for=after(dispatched_at, limits.sign_for, calendar),
            close=after(dispatched_at, limits.close, calendar),
            arrive=due(limits.arrive),
            feedback=due(limits.feedback),
        )

    def reminder_at(self, deadline: datetime) -> datetime:
        """When to remind (提醒); may lie before the clock started — skip it then."""
        return (deadline - self.ladder.reminder_before.clock()).astimezone(UTC)

    def notice_at(self, deadline: datetime, calendar: WorkCalendar) -> datetime:
        """When the 催办 notice is due for a deadline that has passed."""
        wait = self.ladder.notice_after
        if wait.in_working_days:
            return start_of_day(calendar.working_day_after(due_date(deadline), wait.amount))
        return (deadline + wait.clock()).astimezone(UTC)

    def archive_at(self, closed_at: datetime, calendar: WorkCalendar) -> datetime:
        """When a case closed at `closed_at` is archived (入库备案)."""
        return after(closed_at, self.ladder.archive_after, calendar)

    def bulletin_at(self, notice_time: datetime, calendar: WorkCalendar) -> datetime:
        """When a case still overdue after a 催办 notice sent at `notice_time` is 通报'd."""
        return after(notice_time, self.ladder.bulletin_after, calendar)


def load_time_limits(path: Path | str) -> TimeLimits:
    problems = Problems(path)
    data = read_yaml(path)
    if not isinstance(data, LineDict):
        problems.add(getattr(data, "line", None), "expected a mapping (see the file's comments)")
        problems.raise_if_any()
    top = ("defaults", "utility", "by_urgency", "by_demand_type", "ladder")
    check_keys(data, top, problems)
    base = _clocks(data, "defaults", (), problems)
    utility = _clocks(data, "utility", (), problems)
    urgencies = _keyed(data, "by_urgency", Urgency, problems)
    by_urgency = {u: _clocks(urgencies, u, (), problems) for u in Urgency}
    rows = _keyed(data, "by_demand_type", DemandType, problems, required=True)
    table: dict[tuple[DemandType, Urgency, bool], Limits] = {}
    for demand in (d for d in DemandType if d in rows):
        row = _clocks(rows, demand, tuple(Urgency), problems)
        if rows[demand] is not None and not isinstance(rows[demand], LineDict):
            continue  # reported by _clocks; its limits cannot be told
        for urgency in Urgency:
            own = _clocks(rows[demand], urgency, (), problems)
            for flag in (False, True):
                layers = [base, utility if flag else {}, by_urgency[urgency], row, own]
                merged = {k: v for layer in layers for k, v in layer.items()}
                limits = _limits(merged, demand, rows.line_of(demand), problems)
                if limits is not None:
                    table[(demand, urgency, flag)] = limits
    ladder = _ladder(data, problems)
    problems.raise_if_any()
    assert ladder is not None  # no problems means every ladder value parsed
    return TimeLimits(table, ladder)


def _empty() -> LineDict:
    block = LineDict()
    block.key_lines = {}
    return block


def _keyed(
    data: LineDict,
    key: str,
    kind: type[DemandType] | type[Urgency],
    problems: Problems,
    *,
    required: bool = False,
) -> LineDict:
    """A mapping whose keys must be values of the enum `kind` (one per value if required)."""
    block = data.get(key)
    if block is None and not required:
        return _empty()
    if not isinstance(block, LineDict):
        problems.add(data.line_of(key), f"{key}: missing or not a mapping")
        return _empty()
    names = [member.value for member in kind]
    for name in block:
        if name not in names:
            what = "demand type" if kind is DemandType else "urgency"
            problems.add(block.line_of(name), f"unknown {what} {name!r} (expected {names})")
    for name in names if required else ():
        if name not in block:
            problems.add(data.line_of(key), f"{key}: missing row for {name!r}")
    return block


def _clocks(
    parent: Any, key: str, also: tuple[str, ...], problems: Problems
) -> dict[str, Duration | None]:
    """`parent[key]` as clock -> duration; keys in `also` are skipped (sub-blocks)."""
    block = parent.get(key) if isinstance(parent, LineDict) else None
    if block is None:
        return {}
    if not isinstance(block, LineDict):
        problems.add(parent.line_of(key), f"{key}: expected a mapping of clocks")
        return {}
    check_keys(block, CLOCKS + also, problems)
    found: dict[str, Duration | None] = {}
    for clock in (c for c in CLOCKS if c in block):
        found[clock] = _duration(block, clock, problems)
    return found


def _duration(block: LineDict, key: str, problems: Problems) -> Duration | None:
    value = block[key]
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        problems.add(block.line_of(key), f"{key}: {exc}")
        return _REPORTED  # not None: a bad value is no missing value as well


def _limits(
    merged: dict[str, Duration | None], demand: DemandType, line: int, problems: Problems
) -> Limits | None:
    sign_for, close = merged.get("sign_for"), merged.get("close")
    for clock in REQUIRED_CLOCKS:
        message = f"{demand}: no {clock} limit (required for every urgency)"
        if merged.get(clock) is None and message not in (p.message for p in problems.found):
            problems.add(line, message)
    if sign_for is None or close is None:
        return None
    return Limits(sign_for, close, merged.get("arrive"), merged.get("feedback"))


def _ladder(data: LineDict, problems: Problems) -> Ladder | None:
    block = data.get("ladder")
    if not isinstance(block, LineDict):
        problems.add(data.line_of("ladder"), "ladder: missing or not a mapping")
        return None
    check_keys(block, (*LADDER, *LADDER_DEFAULTS), problems)
    values: dict[str, Duration | None] = {}
    for key in LADDER:
        if block.get(key) is None:
            problems.add(data.line_of("ladder"), f"ladder: {key} missing")
        values[key] = _duration(block, key, problems) if key in block else None
    for key, default in LADDER_DEFAULTS.items():
        values[key] = _duration(block, key, problems) if key in block else parse_duration(default)
    before = values["reminder_before"]
    if before is not None and before.in_working_days:
        problems.add(block.line_of("reminder_before"), "reminder_before: use minutes or hours")
    if any(v is None for v in values.values()):
        return None
    return Ladder(**values)  # type: ignore[arg-type]  # None ruled out just above
