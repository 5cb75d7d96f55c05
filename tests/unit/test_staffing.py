"""A desk left unstaffed with callers waiting: when the supervisor is told,
and which callers the server sends to the backup post, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr_flows.core.staffing import StaffingWatch

T0 = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def watch() -> StaffingWatch:
    w = StaffingWatch({"110": 30})
    assert not w.seen("110", logged_in=2, waiting=0, now=T0)
    return w


def test_the_last_operator_leaving_waiting_callers_alerts_once_and_overflows_after_the_time() -> (
    None
):
    w = watch()
    assert not w.seen("110", logged_in=1, waiting=2, now=T0)  # still staffed
    assert w.seen("110", logged_in=0, waiting=2, now=T0 + S)  # the last one left: alert
    assert not w.seen("110", logged_in=0, waiting=3, now=T0 + 2 * S)  # once per spell
    assert w.next_due(T0 + 2 * S) == T0 + 31 * S
    assert w.due({"110": ["a", "b"]}, T0 + 30 * S) == {}
    assert w.due({"110": ["a", "b"]}, T0 + 31 * S) == {"110": ["a", "b"]}
    w.withdrawn("110", "a")
    w.withdrawn("110", "b")
    assert w.due({"110": ["a", "b", "c"]}, T0 + 32 * S) == {"110": ["c"]}  # slipped in late
    assert w.next_due(T0 + 32 * S) is None  # nothing pending: no busy wake-ups


def test_callers_the_dialplan_times_itself_are_left_to_it() -> None:
    w = watch()
    assert w.seen("110", logged_in=0, waiting=1, now=T0)
    w.timed_by_dialplan("110", "met-the-empty-desk")
    assert w.due({"110": ["met-the-empty-desk"]}, T0 + 60 * S) == {}


def test_an_empty_desk_a_caller_finds_is_the_dialplans_alert_not_ours() -> None:
    w = StaffingWatch({"110": 30})
    assert not w.seen("110", logged_in=0, waiting=0, now=T0)
    assert not w.seen("110", logged_in=0, waiting=1, now=T0 + S)  # LdDeskEmpty said it
    assert w.due({"110": ["x"]}, T0 + 40 * S) == {"110": ["x"]}  # unless not timed by it


def test_an_operator_logging_in_or_the_line_emptying_ends_the_spell() -> None:
    w = watch()
    assert w.seen("110", logged_in=0, waiting=1, now=T0)
    assert not w.seen("110", logged_in=1, waiting=1, now=T0 + 5 * S)
    assert w.due({"110": ["a"]}, T0 + 60 * S) == {}
    assert w.seen("110", logged_in=0, waiting=1, now=T0 + 61 * S)  # a new spell, a new alert
    assert not w.seen("110", logged_in=0, waiting=0, now=T0 + 62 * S)
    assert w.due({"110": []}, T0 + 200 * S) == {} and w.next_due(T0) is None


def test_desks_without_an_overflow_are_not_watched() -> None:
    w = StaffingWatch({"110": 30})
    assert not w.seen("12345", logged_in=2, waiting=0, now=T0)
    assert not w.seen("12345", logged_in=0, waiting=5, now=T0 + S)
    assert w.due({"12345": ["a"]}, T0 + 999 * S) == {}
