"""A follow-up call's time and moves: only within the county's calling hours
(and working days if it says so), tried again after the gap, rated or not
reached at the end; a case that moved on calls it off."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from county.calendar import CalendarYear, WorkCalendar
from county.outbound import OFF
from notify.core import follow_ups as fu
from notify.core.follow_ups import CallResult, FollowUp, FollowUpState

RULES = replace(
    OFF.follow_up,
    enabled=True,
    after=timedelta(hours=2),
    hours=(time(8, 30), time(20, 0)),
    tries=2,
    retry_gap_s=1800,
)
CALENDAR = WorkCalendar()


def county(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in December 2026, county time (UTC+8), as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.mark.parametrize(
    ("closed", "first"),
    [
        (county(3, 10), county(3, 12)),  # 10:00 + 2 h: within the hours
        (county(3, 19), county(4, 8, 30)),  # 21:00 would be too late: the next morning
        (county(3, 5), county(3, 8, 30)),  # 07:00 is too early: at opening
        (county(3, 18), county(4, 8, 30)),  # 20:00 sharp is closed
    ],
)
def test_the_first_call_waits_for_the_calling_hours(closed: datetime, first: datetime) -> None:
    assert fu.first_due(closed, RULES, CALENDAR) == first


def test_working_days_only_skips_the_weekend_and_holidays() -> None:
    rules = replace(RULES, working_days_only=True)
    friday_evening = county(4, 19)  # Friday 4 Dec 2026, 21:00 with the delay
    assert fu.first_due(friday_evening, rules, CALENDAR) == county(7, 8, 30)  # Monday
    holiday = WorkCalendar([CalendarYear(2026, "test", {date(2026, 12, 7): "测试假日"}, {})])
    assert fu.first_due(friday_evening, rules, holiday) == county(8, 8, 30)


def follow_up() -> FollowUp:
    at = county(3, 12)
    return FollowUp(1, "2026-000123", 9, "13912345678", at, at)


def test_rated_on_the_first_call() -> None:
    calling = fu.started(follow_up(), county(3, 12))
    assert calling is not None and calling.tries == 1
    rated = fu.ended(calling, 1, CallResult.RATED, county(3, 12, 1), RULES, CALENDAR, rating=2)
    assert rated is not None and (rated.state, rated.rating) == (FollowUpState.RATED, 2)


def test_not_reached_is_tried_again_within_the_hours_then_given_up() -> None:
    calling = fu.started(follow_up(), county(3, 19, 50))
    assert calling is not None
    again = fu.ended(calling, 1, CallResult.NO_ANSWER, county(3, 19, 51), RULES, CALENDAR)
    assert again is not None and again.state is FollowUpState.SCHEDULED
    assert again.due_at == county(4, 8, 30)  # 19:51 + 30 min is past 20:00
    second = fu.started(again, county(4, 8, 30))
    assert second is not None
    done = fu.ended(second, 2, CallResult.BUSY, county(4, 8, 31), RULES, CALENDAR)
    assert done is not None and (done.state, done.last_result) == (
        FollowUpState.UNREACHED,
        CallResult.BUSY,
    )


def test_a_rating_out_of_range_is_no_rating_and_an_old_end_changes_nothing() -> None:
    calling = fu.started(follow_up(), county(3, 12))
    assert calling is not None
    odd = fu.ended(calling, 1, CallResult.RATED, county(3, 12, 1), RULES, CALENDAR, rating=7)
    assert odd is not None and (odd.state, odd.last_result) == (
        FollowUpState.SCHEDULED,
        CallResult.NO_KEY,
    )
    assert fu.ended(odd, 1, CallResult.BUSY, county(3, 12, 2), RULES, CALENDAR) is None


def test_a_case_that_moved_on_calls_it_off() -> None:
    assert fu.cancelled(follow_up(), county(3, 11)) is not None
    calling = fu.started(follow_up(), county(3, 12))
    assert calling is not None
    rated = fu.ended(calling, 1, CallResult.RATED, county(3, 12, 1), RULES, CALENDAR, rating=1)
    assert rated is not None and fu.cancelled(rated, county(3, 13)) is None
