"""Working days in the county (local time Asia/Shanghai), for limits counted in 工作日.

Data: one YAML file per year, `<directory>/<year>.yaml`, transcribed from the
State Council's notice on that year's holidays (国务院办公厅关于YYYY年部分节假日安排的通知)::

    year: 2026
    source: <title and number of the notice>
    holidays:                      # days off, ranges inclusive
      - {name: 元旦, from: 2026-01-01, to: 2026-01-03}
    workdays:                      # make-up working days (调休上班) on a weekend
      - {date: 2026-01-04, for: 元旦}

A working day is a listed make-up day, or a Monday to Friday outside every
holiday range.

Years without a file: next year's notice appears in November or December, yet
a matter dispatched on 30 December needs days of next year. Rather than give
no due date, such a year counts Saturday/Sunday weekends and the statutory
holidays fixed by date (全国年节及纪念日放假办法, as revised in 2024: 元旦
1 January, 劳动节 1-2 May, 国庆节 1-3 October), and `WorkCalendar.missing_years`
lists it so the server can warn that due dates in it are provisional (the
lunar holidays and every make-up day come only with the notice).

Day boundaries: a working-day limit ends at local 24:00, returned as the UTC
instant of the next local midnight. An event (a dispatch, a notice sent) lies
on its local date; a deadline at exactly local midnight falls due on the day
that ends there (`due_date`), so deadlines chain: one working day after "end of
Friday" is the end of the next working day, not of the one after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from county.config_file import (
    ConfigFileError,
    LineDict,
    LineList,
    Problem,
    Problems,
    check_keys,
    read_yaml,
)

COUNTY_TZ = ZoneInfo("Asia/Shanghai")
_DAY = timedelta(days=1)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FILE_NAME = re.compile(r"(\d{4})\.yaml")
# (month, day) of the statutory holidays fixed by date, for years without a file.
FIXED_HOLIDAYS = {
    (1, 1): "元旦",
    (5, 1): "劳动节",
    (5, 2): "劳动节",
    (10, 1): "国庆节",
    (10, 2): "国庆节",
    (10, 3): "国庆节",
}


def _local(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {instant!r}")
    return instant.astimezone(COUNTY_TZ)


def local_date(instant: datetime) -> date:
    """The county-local day an event at `instant` happened on."""
    return _local(instant).date()


def due_date(instant: datetime) -> date:
    """The county-local day a deadline at `instant` falls due on: local midnight
    is the end of the day before, not the start of the next."""
    local = _local(instant)
    return local.date() - _DAY if local.time() == time(0) else local.date()


def start_of_day(day: date) -> datetime:
    """Local 00:00 of `day`, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=COUNTY_TZ).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """Local 24:00 of `day` (= 00:00 of the next day), as an aware UTC datetime."""
    return start_of_day(day + _DAY)


@dataclass(frozen=True)
class CalendarYear:
    year: int
    source: str
    holidays: Mapping[date, str]  # day off -> holiday name
    workdays: Mapping[date, str]  # make-up working day -> the holiday it is for


class WorkCalendar:
    """Which days are working days; pure, no I/O (see `load_calendar`)."""

    def __init__(self, years: Iterable[CalendarYear] = ()) -> None:
        self._years = {y.year: y for y in years}

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    def source(self, year: int) -> str | None:
        loaded = self._years.get(year)
        return loaded.source if loaded else None

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = local_date(day)
        loaded = self._years.get(day.year)
        if loaded is None:
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS
        return day in loaded.workdays or (day not in loaded.holidays and day.weekday() < 5)

    def working_day_after(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n >= 1; `day` itself never counts)."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        while n:
            day += _DAY
            n -= self.is_working_day(day)
        return day

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """End (local 24:00, as UTC) of the n-th working day after start's local day."""
        return end_of_day(self.working_day_after(local_date(start), n))

    def working_days_between(self, a: datetime, b: datetime) -> int:
        """Working days after a's local day up to and including b's (`due_date`); 0 if b <= a."""
        first, last = local_date(a), due_date(b)
        days = range(1, (last - first).days + 1) if b > a else range(0)
        return sum(self.is_working_day(first + k * _DAY) for k in days)

    def missing_years(self, start: date, end: date) -> list[int]:
        """Years from start's to end's (inclusive) that have no calendar file."""
        first, last = (local_date(d) if isinstance(d, datetime) else d for d in (start, end))
        return [y for y in range(first.year, last.year + 1) if y not in self._years]


def load_calendar(directory: Path | str) -> WorkCalendar:
    """Every `<year>.yaml` in `directory`; the first bad file refuses the whole set."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ConfigFileError(folder, [Problem(None, "not a directory")])
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    return WorkCalendar(load_year(path) for path in files)


def load_year(path: Path) -> CalendarYear:
    problems = Problems(path)
    data = read_yaml(path)
    match = _FILE_NAME.fullmatch(path.name)
    if match is None:
        problems.add(None, "calendar files are named <year>.yaml, e.g. 2026.yaml")
    if not isinstance(data, LineDict):
        problems.add(getattr(data, "line", None), "expected a mapping: year, source, holidays")
        problems.raise_if_any()
    check_keys(data, ("year", "source", "holidays", "workdays"), problems)
    year = _year(data, int(match.group(1)) if match else None, problems)
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.add(data.line_of("source"), "source: name the notice the dates come from")
    holidays = _holidays(data, year, problems)
    workdays = _workdays(data, year, holidays, problems)
    problems.raise_if_any()
    names = {day: name for day, (name, _) in holidays.items()}
    return CalendarYear(year or 0, str(source), names, workdays)


def _year(data: LineDict, from_name: int | None, problems: Problems) -> int | None:
    year, line = data.get("year"), data.line_of("year")
    if "year" not in data:
        problems.add(line, "year: missing")
        return from_name
    if not isinstance(year, int) or isinstance(year, bool):
        problems.add(line, f"year: {year!r} is not a year")
        return from_name
    if from_name is not None and year != from_name:
        problems.add(line, f"year: {year} does not match the file name")
        return None  # which of the two is meant is unknown: check dates against neither
    return year


def _date(value: Any, line: int, year: int | None, problems: Problems) -> date | None:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        with suppress(ValueError):  # a quoted date is a string to YAML
            value = date.fromisoformat(value)
    if isinstance(value, datetime) or not isinstance(value, date):
        problems.add(line, f"{value!r} is not a date (write YYYY-MM-DD)")
        return None
    if year is not None and value.year != year:
        problems.add(line, f"{value} is outside {year}")
        return None
    return value


def _items(data: LineDict, key: str, known: tuple[str, ...], problems: Problems) -> list[LineDict]:
    if key not in data:
        return []
    items = data[key]
    if not isinstance(items, LineList):
        problems.add(data.line_of(key), f"{key}: expected a list")
        return []
    good = []
    for index, item in enumerate(items):
        if isinstance(item, LineDict):
            check_keys(item, known, problems)
            good.append(item)
        else:
            problems.add(items.line_of(index), f"{key}: expected a mapping ({', '.join(known)})")
    return good


def _holidays(data: LineDict, year: int | None, problems: Problems) -> dict[date, tuple[str, int]]:
    if "holidays" not in data:
        problems.add(data.line, "holidays: missing (write holidays: [] for none)")
    days: dict[date, tuple[str, int]] = {}
    for item in _items(data, "holidays", ("name", "from", "to"), problems):
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.add(item.line, "holiday range has no name")
            name = "?"
        first, last = (_field_date(item, key, year, problems) for key in ("from", "to"))
        if first is None or last is None:
            continue
        if first > last:
            problems.add(item.line_of("to"), f"from {first} is after to {last}")
        span = [first + offset * _DAY for offset in range((last - first).days + 1)]
        clash = next((day for day in span if day in days), None)
        if clash is not None:
            other, where = days[clash]
            problems.add(item.line, f"overlaps {other} (line {where}) from {clash}")
        days.update((day, (name, item.line)) for day in span)
    return days


def _workdays(
    data: LineDict, year: int | None, holidays: dict[date, tuple[str, int]], problems: Problems
) -> dict[date, str]:
    days: dict[date, str] = {}
    for item in _items(data, "workdays", ("date", "for"), problems):
        day = _field_date(item, "date", year, problems)
        line = item.line_of("date")
        if day is None:
            continue
        if day.weekday() < 5:
            problems.add(line, f"{day} is a {day:%A}: a make-up working day must be a weekend")
        if day in holidays:
            name, where = holidays[day]
            problems.add(line, f"{day} is listed both as a workday and in {name} (line {where})")
        if day in days:
            problems.add(line, f"{day} is listed twice")
        days[day] = str(item.get("for") or "")
    return days


def _field_date(item: LineDict, key: str, year: int | None, problems: Problems) -> date | None:
    if key not in item:
        problems.add(item.line, f"{key}: missing")
        return None
    return _date(item[key], item.line_of(key), year, problems)
