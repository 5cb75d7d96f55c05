"""The time-limit table: each default of domain.md §5 as the shipped file
gives it, county overrides, the supervisor ladder, extensions, and every
problem the loader refuses, with its line. Working days follow the 2026
State Council notice (国庆节 1-7 Oct off, Sun 20 Sept and Sat 10 Oct worked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from county.calendar import load_calendar
from county.case_words import DemandType, Urgency
from county.config_file import ConfigFileError
from county.time_limits import Deadlines, Duration, extend, load_time_limits, parse_duration

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = Path(__file__).resolve().parents[2] / "case-config"
CALENDAR = load_calendar(CONFIG / "calendar")
LIMITS = load_time_limits(CONFIG / "time-limits.yaml")
NORMAL, URGENT = Urgency.NORMAL, Urgency.URGENT


def at(y: int, m: int, d: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=SHANGHAI)


def end_of(y: int, m: int, d: int) -> datetime:
    return at(y, m, d) + timedelta(days=1)


DISPATCHED = at(2026, 9, 30, 17)  # Wednesday, the eve of 国庆节


def deadlines(demand: DemandType, urgency: Urgency = NORMAL, utility: bool = False) -> Deadlines:
    return LIMITS.deadlines(demand, urgency, utility, DISPATCHED, CALENDAR)


# --- the defaults of domain.md §5 ---------------------------------------------------


def test_sign_for_is_24_hours_even_over_a_holiday() -> None:
    assert deadlines(DemandType.COMPLAINT).sign_for == at(2026, 10, 1, 17)


def test_urgent_matters_feed_back_in_2_hours_and_arrive_in_60_minutes() -> None:
    due = deadlines(DemandType.HELP, URGENT)
    assert due.feedback == at(2026, 9, 30, 19)
    assert due.arrive == at(2026, 9, 30, 18)


def test_normal_matters_have_no_feedback_or_arrival_clock() -> None:
    due = deadlines(DemandType.HELP)
    assert (due.feedback, due.arrive) == (None, None)


def test_water_power_gas_heating_feed_back_in_24_hours() -> None:
    assert deadlines(DemandType.HELP, utility=True).feedback == at(2026, 10, 1, 17)
    # An urgent utility matter keeps the stricter urgent limit.
    assert deadlines(DemandType.HELP, URGENT, utility=True).feedback == at(2026, 9, 30, 19)


@pytest.mark.parametrize(
    ("demand", "due"),
    [
        # 2wd: Thu 8, Fri 9 Oct.
        (DemandType.ENQUIRY, end_of(2026, 10, 9)),
        (DemandType.HELP, end_of(2026, 10, 9)),
        # 10wd: 8, 9, Sat 10, 12-16, 19, Tue 20 Oct.
        (DemandType.SUGGESTION, end_of(2026, 10, 20)),
        (DemandType.COMPLAINT, end_of(2026, 10, 20)),
        # 15wd: ... 21, 22, 23, 26, Tue 27 Oct.
        (DemandType.REPORT, end_of(2026, 10, 27)),
    ],
)
def test_closure_in_working_days(demand: DemandType, due: datetime) -> None:
    assert deadlines(demand).close == due
    assert deadlines(demand, URGENT).close == due


def test_police_rows() -> None:
    alarm = deadlines(DemandType.POLICE_REPORT, URGENT)
    assert alarm.sign_for == at(2026, 9, 30, 17, 10)
    assert alarm.arrive == at(2026, 9, 30, 17, 30)
    assert alarm.feedback == at(2026, 9, 30, 19)
    assert alarm.close == at(2026, 10, 1, 17)
    assert deadlines(DemandType.POLICE_HELP).arrive is None
    assert deadlines(DemandType.POLICE_COMPLAINT).close == end_of(2026, 10, 20)


def test_deadlines_are_aware_utc() -> None:
    due = deadlines(DemandType.ENQUIRY)
    assert due.close.tzinfo is UTC
    assert due.close == datetime(2026, 10, 9, 16, tzinfo=UTC)


def test_every_kind_of_case_has_limits() -> None:
    for demand in DemandType:
        for urgency in Urgency:
            for utility in (False, True):
                assert LIMITS.limits(demand, urgency, utility).close is not None


# --- the ladder and extensions ----------------------------------------------------------


def test_reminder_4_hours_before() -> None:
    assert LIMITS.reminder_at(end_of(2026, 10, 9)) == at(2026, 10, 9, 20)


def test_notice_the_working_day_after_the_deadline_passes() -> None:
    # Due end of Fri 9 Oct; Sat 10 Oct is a make-up working day.
    assert LIMITS.notice_at(end_of(2026, 10, 9), CALENDAR) == at(2026, 10, 10)
    # Due end of an ordinary Friday: the notice goes out on Monday.
    assert LIMITS.notice_at(end_of(2026, 3, 13), CALENDAR) == at(2026, 3, 16)
    # Due Wed 30 Sept 19:00: the next working day is Thu 8 Oct.
    assert LIMITS.notice_at(at(2026, 9, 30, 19), CALENDAR) == at(2026, 10, 8)


def test_bulletin_5_working_days_after_the_notice() -> None:
    # Notice on Sat 10 Oct: Mon 12 ... Fri 16 Oct.
    assert LIMITS.bulletin_at(at(2026, 10, 10), CALENDAR) == end_of(2026, 10, 16)
    # Notice on Mon 16 March 09:30: Tue 17 ... Mon 23 March.
    assert LIMITS.bulletin_at(at(2026, 3, 16, 9, 30), CALENDAR) == end_of(2026, 3, 23)


def test_extension_counts_from_the_day_the_deadline_falls_due() -> None:
    due = end_of(2026, 10, 9)  # Fri 9 Oct 24:00
    # Sat 10 (make-up), Mon 12, Tue 13, Wed 14, Thu 15.
    assert extend(due, parse_duration("5wd"), CALENDAR) == end_of(2026, 10, 15)
    assert extend(due, parse_duration("2h"), CALENDAR) == at(2026, 10, 10, 2)


# --- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", Duration(30, "m")), ("2h", Duration(2, "h")), ("10wd", Duration(10, "wd"))],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["0h", "2d", "1.5h", "", "h", "-2h", "2 wd"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_working_days_are_no_clock_time() -> None:
    assert parse_duration("90m").clock() == timedelta(minutes=90)
    with pytest.raises(ValueError, match="working days"):
        parse_duration("2wd").clock()


# --- a county's own file ---------------------------------------------------------------------

GOOD = """\
defaults:
  sign_for: 24h
utility:
  feedback: 24h
by_urgency:
  urgent:
    feedback: 2h
    arrive: 45m
by_demand_type:
  enquiry: {close: 2wd}
  help: {close: 2wd}
  suggestion: {close: 10wd}
  complaint:
    close: 10wd
    urgent:
      close: 5wd
      arrive: null
  report: {close: 15wd}
  police_report: {close: 24h, sign_for: 10m}
  police_help: {close: 24h}
  police_complaint: {close: 10wd}
ladder:
  reminder_before: 4h
  notice_after: 1wd
  bulletin_after: 5wd
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "time-limits.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_county_overrides_per_demand_type_and_urgency(tmp_path: Path) -> None:
    limits = load_time_limits(write(tmp_path, GOOD))
    complaint = limits.deadlines(DemandType.COMPLAINT, URGENT, False, DISPATCHED, CALENDAR)
    assert complaint.close == end_of(2026, 10, 13)  # Thu 8, Fri 9, Sat 10, Mon 12, Tue 13
    assert complaint.arrive is None
    help_ = limits.deadlines(DemandType.HELP, URGENT, False, DISPATCHED, CALENDAR)
    assert help_.arrive == at(2026, 9, 30, 17, 45)


def problems(tmp_path: Path, text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigFileError) as caught:
        load_time_limits(write(tmp_path, text))
    return [(p.line, p.message) for p in caught.value.problems]


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(
    ("old", "new", "expected", "on_line_with"),
    [
        ("  help: {", "  enquery: {}\n  help: {", "unknown demand type 'enquery'", "enquery"),
        ("  enquiry: {close: 2wd}\n", "", "missing row for 'enquiry'", "by_demand_type:"),
        ("  urgent:\n    feedback", "  critical:\n    feedback", "unknown urgency", "critical"),
        ("    urgent:\n      close", "    critical:\n      close", "unknown key", "critical"),
        ("report: {close: 15wd}", "report: {close: 15d}", "close: '15d' is not", "report:"),
        ("  sign_for: 24h", "  sign_for: 24", "sign_for: 24 is not a duration", "sign_for: 24"),
        ("report: {close: 15wd}", "report: {sign_for: 2h}", "report: no close limit", "report:"),
        ("  feedback: 24h", "  feedback: 24h\n  finish: 2h", "unknown key 'finish'", "finish"),
        ("ladder:", "extras: 1\nladder:", "unknown key 'extras'", "extras"),
        ("  notice_after: 1wd\n", "", "ladder: notice_after missing", "ladder:"),
        ("  reminder_before: 4h", "  reminder_before: 1wd", "use minutes or hours", "reminder_"),
        ("  bulletin_after: 5wd", "  bulletin_after: 5wd\n  escalate: 1h", "unknown key", "escal"),
        ("report: {close: 15wd}", "report: 15wd", "report: expected a mapping", "report:"),
        ("report: {close: 15wd}", "report:", "report: no close limit", "report:"),
        ("utility:\n  feedback: 24h", "utility: 24h", "utility: expected a mapping", "utility"),
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


def test_missing_sections_and_many_problems_at_once(tmp_path: Path) -> None:
    text = "defaults:\n  sign_for: soon\nby_urgency:\n  urgent: {arrive: 1h}\n  panic: {}\n"
    found = problems(tmp_path, text)
    assert found == [
        (1, "by_demand_type: missing or not a mapping"),
        (1, "ladder: missing or not a mapping"),
        (2, "sign_for: 'soon' is not a duration (write e.g. 30m, 2h, 2wd)"),
        (5, "unknown urgency 'panic' (expected ['normal', 'urgent'])"),
    ]


def test_a_clock_switched_off_for_all_is_reported_on_each_row_that_needs_it(
    tmp_path: Path,
) -> None:
    text = GOOD.replace("  sign_for: 24h", "  sign_for: null")
    found = problems(tmp_path, text)
    rows = [d for d in DemandType if d is not DemandType.POLICE_REPORT]  # it has its own
    assert found == sorted(
        (line_of(text, f"  {d}:"), f"{d}: no sign_for limit (required for every urgency)")
        for d in rows
    )


def test_archiving_waits_seven_working_days_unless_the_county_says_otherwise(
    tmp_path: Path,
) -> None:
    assert str(LIMITS.ladder.archive_after) == "7wd"
    shipped = (CONFIG / "time-limits.yaml").read_text(encoding="utf-8")
    path = tmp_path / "time-limits.yaml"
    path.write_text(shipped.replace("archive_after: 7wd", "archive_after: 3wd"), encoding="utf-8")
    assert str(load_time_limits(path).ladder.archive_after) == "3wd"
    without = "\n".join(line for line in shipped.splitlines() if "archive_after" not in line)
    path.write_text(without, encoding="utf-8")
    assert str(load_time_limits(path).ladder.archive_after) == "7wd"  # the default
    # Closed on the eve of 国庆节: 8, 9, 10 (Saturday, a make-up day), 12, 13, 14, 15 October.
    closed = at(2026, 9, 30, 17)
    assert LIMITS.archive_at(closed, CALENDAR) == end_of(2026, 10, 15)
