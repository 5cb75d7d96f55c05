"""The working-day calendar: the shipped 2026 file against the State Council
notice (国办发明电〔2025〕7号), due-date arithmetic, the fallback for years
without a file, and every problem the loader refuses, with its line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from county.calendar import WorkCalendar, due_date, load_calendar, load_year
from county.config_file import ConfigFileError

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR_DIR = Path(__file__).resolve().parents[2] / "case-config" / "calendar"
CALENDAR = load_calendar(CALENDAR_DIR)


def at(y: int, m: int, d: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=SHANGHAI)


def end_of(y: int, m: int, d: int) -> datetime:
    """Local 24:00 of that day."""
    return at(y, m, d) + timedelta(days=1)


# --- the shipped file ---------------------------------------------------------


def test_shipped_calendar_loads_2026_from_the_notice() -> None:
    assert CALENDAR.years == (2026,)
    assert "国办发明电〔2025〕7号" in (CALENDAR.source(2026) or "")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 6), True),  # an ordinary Friday
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 3, 8), False),  # an ordinary Sunday
        (date(2026, 1, 1), False),  # 元旦 Thu 1 - Sat 3
        (date(2026, 1, 2), False),
        (date(2026, 1, 4), True),  # Sunday, works for 元旦
        (date(2026, 2, 14), True),  # Saturday, works for 春节
        (date(2026, 2, 16), False),  # 春节 Sun 15 - Mon 23
        (date(2026, 2, 20), False),
        (date(2026, 2, 23), False),  # a Monday off
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, works for 春节
        (date(2026, 4, 6), False),  # 清明节 Sat 4 - Mon 6
        (date(2026, 5, 5), False),  # 劳动节 Fri 1 - Tue 5
        (date(2026, 5, 9), True),  # Saturday, works for 劳动节
        (date(2026, 6, 19), False),  # 端午节 Fri 19 - Sun 21
        (date(2026, 9, 20), True),  # Sunday, works for 国庆节
        (date(2026, 9, 25), False),  # 中秋节 Fri 25 - Sun 27
        (date(2026, 10, 1), False),  # 国庆节 Thu 1 - Wed 7
        (date(2026, 10, 5), False),  # a Monday off
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, works for 国庆节
        (date(2026, 10, 11), False),
    ],
)
def test_working_days_of_2026(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


# --- due dates ------------------------------------------------------------------


def test_saturday_dispatch_with_one_working_day_is_due_end_of_monday() -> None:
    assert CALENDAR.add_working_days(at(2026, 3, 7, 10), 1) == end_of(2026, 3, 9)


def test_saturday_dispatch_before_a_monday_holiday_is_due_end_of_tuesday() -> None:
    # Sat 4 April is itself 清明节; Mon 6 April is off too.
    assert CALENDAR.add_working_days(at(2026, 4, 4, 10), 1) == end_of(2026, 4, 7)


def test_national_day_block_is_skipped() -> None:
    # Dispatched Wed 30 Sept 17:00, 2wd: 1-7 Oct off -> Thu 8, Fri 9.
    assert CALENDAR.add_working_days(at(2026, 9, 30, 17), 2) == end_of(2026, 10, 9)


def test_make_up_saturday_counts() -> None:
    # Fri 9 Oct + 1wd = Sat 10 Oct, a make-up working day.
    assert CALENDAR.add_working_days(at(2026, 10, 9, 10), 1) == end_of(2026, 10, 10)


def test_spring_festival_block_and_its_make_up_days() -> None:
    friday = at(2026, 2, 13, 9)
    assert CALENDAR.add_working_days(friday, 1) == end_of(2026, 2, 14)  # Sat, works
    assert CALENDAR.add_working_days(friday, 2) == end_of(2026, 2, 24)  # after 15-23 off
    assert CALENDAR.add_working_days(friday, 5) == end_of(2026, 2, 27)


def test_labour_day_block() -> None:
    # Thu 30 April + 2wd: 1-5 May off -> Wed 6, Thu 7.
    assert CALENDAR.add_working_days(at(2026, 4, 30, 16), 2) == end_of(2026, 5, 7)


def test_due_dates_are_utc_and_end_at_local_midnight() -> None:
    due = CALENDAR.add_working_days(at(2026, 3, 9, 11), 1)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # Tue 10 March 24:00 local


def test_the_local_day_counts_not_the_utc_day() -> None:
    # 16:30 UTC on Fri 9 Oct is 00:30 on Sat 10 Oct in the county.
    start = datetime(2026, 10, 9, 16, 30, tzinfo=UTC)
    assert CALENDAR.add_working_days(start, 1) == end_of(2026, 10, 12)


def test_span_across_the_new_year() -> None:
    # Wed 31 Dec 2025 + 2wd: 1-3 Jan off, Sun 4 Jan works, then Mon 5 Jan.
    assert CALENDAR.add_working_days(at(2025, 12, 31, 15), 2) == end_of(2026, 1, 5)
    assert CALENDAR.missing_years(date(2025, 12, 31), date(2026, 1, 5)) == [2025]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CALENDAR.add_working_days(at(2026, 3, 9), 0)
    with pytest.raises(ValueError, match="naive"):
        CALENDAR.add_working_days(datetime(2026, 3, 9, 10), 1)


# --- years without a file ----------------------------------------------------------


def test_year_without_a_file_falls_back_to_weekends_and_fixed_holidays() -> None:
    # Dispatched Wed 30 Dec 2026 03:00; there is no 2027 file yet.
    start = at(2026, 12, 30, 3)
    assert CALENDAR.add_working_days(start, 1) == end_of(2026, 12, 31)
    # Fri 1 January is 元旦 by law whatever the notice says: not a working day.
    assert CALENDAR.add_working_days(start, 2) == end_of(2027, 1, 4)  # provisional
    assert CALENDAR.add_working_days(start, 3) == end_of(2027, 1, 5)
    assert CALENDAR.missing_years(start, at(2027, 1, 4)) == [2027]
    assert CALENDAR.missing_years(date(2026, 1, 1), date(2026, 12, 31)) == []


def test_an_empty_calendar_knows_weekends_and_the_holidays_fixed_by_date() -> None:
    empty = WorkCalendar()
    assert empty.years == ()
    assert empty.is_working_day(date(2026, 10, 9))  # a Friday
    assert not empty.is_working_day(date(2026, 10, 10))  # a Saturday
    for day in (
        date(2027, 1, 1),
        date(2027, 5, 1),
        date(2027, 5, 2),
        date(2027, 10, 1),
        date(2027, 10, 2),
        date(2027, 10, 3),
    ):
        assert not empty.is_working_day(day), day
    assert empty.is_working_day(date(2027, 10, 4))  # a Monday; 10-4 is a notice's matter
    assert empty.missing_years(date(2026, 6, 1), date(2027, 6, 1)) == [2026, 2027]


# --- counting -------------------------------------------------------------------------


def test_working_days_between() -> None:
    dispatched = at(2026, 9, 30, 17)
    assert CALENDAR.working_days_between(dispatched, end_of(2026, 10, 9)) == 2
    assert CALENDAR.working_days_between(dispatched, at(2026, 10, 10, 12)) == 3
    assert CALENDAR.working_days_between(dispatched, at(2026, 10, 7, 23)) == 0
    assert CALENDAR.working_days_between(at(2026, 10, 9, 10), at(2026, 10, 12, 9)) == 2
    assert CALENDAR.working_days_between(dispatched, dispatched) == 0
    assert CALENDAR.working_days_between(end_of(2026, 10, 9), dispatched) == 0


starts = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(SHANGHAI)
)


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=40))
def test_add_then_count_round_trips(start: datetime, n: int) -> None:
    due = CALENDAR.add_working_days(start, n)
    assert due.astimezone(SHANGHAI).time() == datetime.min.time()
    assert CALENDAR.is_working_day(due_date(due))
    assert CALENDAR.working_days_between(start, due) == n


# --- refusing bad files --------------------------------------------------------------

GOOD = """\
year: 2026
source: test notice
holidays:
  - name: 国庆节
    from: 2026-10-01
    to: 2026-10-07
workdays:
  - date: 2026-10-10
    for: 国庆节
"""
MID_AUTUMN = "  - name: 中秋节\n    from: 2026-10-06\n    to: 2026-10-08\n"
HOLIDAYS = "holidays:\n  - name: 国庆节\n    from: 2026-10-01\n    to: 2026-10-07\n"


def problems(tmp_path: Path, text: str, name: str = "2026.yaml") -> list[tuple[int | None, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_year(path)
    return [(p.line, p.message) for p in caught.value.problems]


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(
    ("old", "new", "expected", "on_line_with"),
    [
        ("year: 2026\n", "", "year: missing", "source:"),
        ("year: 2026", "year: 2027", "does not match the file name", "year:"),
        ("year: 2026", "year: twenty", "is not a year", "year:"),
        ("to: 2026-10-07", "to: 2027-01-02", "outside 2026", "to: 2027-01-02"),
        ("from: 2026-10-01", "from: 2026-10-09", "is after to", "to: 2026-10-07"),
        ("date: 2026-10-10", "date: 2026-10-03", "both as a workday and in 国庆节", "date:"),
        ("date: 2026-10-10", "date: 2026-10-08", "must be a weekend", "date:"),
        ("name: 国庆节", "name: ''", "has no name", "name: ''"),
        ("  - name: 国庆节\n    from", "  - from", "has no name", "  - from"),
        ("source: test notice", "source: x\nnotes: x", "unknown key 'notes'", "notes:"),
        ("    for: 国庆节", "    for: 国庆节\n    until: x", "unknown key 'until'", "until:"),
        ("from: 2026-10-01", "from: 2026/10/01", "is not a date", "from:"),
        ("from: 2026-10-01", "from: '2026-02-30'", "is not a date", "from:"),
        ("from: 2026-10-01", "from: 2026-02-30", "not a real date", "from:"),
        ("from: 2026-10-01", "from: 2026-10-01 10:00:00", "is not a date", "from:"),
        ("    from: 2026-10-01\n", "", "from: missing", "  - name:"),
        ("source: test notice", "source: ''", "name the notice", "source:"),
        (HOLIDAYS, "holidays: yes\n", "holidays: expected a list", "holidays:"),
        (HOLIDAYS, "", "holidays: missing", "year:"),
        ("workdays:", MID_AUTUMN + "workdays:", "overlaps 国庆节 (line 4) from 2026-10-06", "中秋"),
        ("    for: 国庆节", "    for: 国庆节\n  - date: '2026-10-10'", "listed twice", "'2026-10"),
        ("  - date: 2026-10-10\n    for: 国庆节", "  - 2026-10-10", "expected a mapping", "- 2026"),
    ],
)
def test_each_problem_is_reported_on_its_line(
    tmp_path: Path, old: str, new: str, expected: str, on_line_with: str
) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    line, message = found[0]
    assert expected in message
    assert line == line_of(text, on_line_with)


def test_all_problems_of_a_file_come_together(tmp_path: Path) -> None:
    text = """\
year: 2026
source: test notice
holidays:
  - name: 国庆节
    from: 2026-10-07
    to: 2026-10-01
  - from: 2026-12-31
    to: 2027-01-01
workdays:
  - date: 2026-10-08
  - date: 2026-13-40x
extra: 1
"""
    found = problems(tmp_path, text)
    assert [line for line, _ in found] == [6, 7, 8, 10, 11, 12]


@pytest.mark.parametrize(
    ("text", "line"), [("", None), ("- 2026\n", 1), ("year: 2026\nsource: [x\n", 3)]
)
def test_a_file_that_is_no_mapping_is_refused(tmp_path: Path, text: str, line: int | None) -> None:
    assert [found_line for found_line, _ in problems(tmp_path, text)] == [line]


def test_file_names_must_be_years(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD, name="national.yaml")
    assert found == [(None, "calendar files are named <year>.yaml, e.g. 2026.yaml")]


def test_one_bad_file_refuses_the_whole_set(tmp_path: Path) -> None:
    (tmp_path / "2026.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "2027.yaml").write_text(GOOD, encoding="utf-8")  # says year: 2026
    with pytest.raises(ConfigFileError) as caught:
        load_calendar(tmp_path)
    assert caught.value.path.endswith("2027.yaml")
    assert [p.line for p in caught.value.problems] == [1]


def test_a_good_directory_loads_and_a_missing_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / "2026.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "README.txt").write_text("not a calendar", encoding="utf-8")
    calendar = load_calendar(tmp_path)
    assert calendar.years == (2026,)
    assert not calendar.is_working_day(date(2026, 10, 1))
    assert calendar.is_working_day(date(2026, 10, 10))
    with pytest.raises(ConfigFileError, match="not a directory"):
        load_calendar(tmp_path / "nowhere")
