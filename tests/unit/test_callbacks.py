"""Callbacks instead of waiting: every move of a callback, as a supervisor
would read its outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr_flows.core import callbacks as cbs
from ivr_flows.core.callbacks import Callback, CallbackState
from ivr_flows.core.desk_rules import Callback as Rule

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
RULE = Rule(after_s=60, attempts=3, retry_gap_s=120, ring_s=30, trunk="trunk-12345")


def booked(position: int = 4) -> Callback:
    return Callback(7, "call-1", "12345", "13912345678", position, T0)


def test_a_callback_answered_on_the_first_try() -> None:
    cb = cbs.dialling(booked(), "op12345-1", T0 + timedelta(seconds=90))
    assert cb is not None and cb.state is CallbackState.DIALLING and cb.operator == "op12345-1"
    done = cbs.dial_ended(cb, "ANSWER", T0 + timedelta(seconds=100), RULE)
    assert done is not None and done.state is CallbackState.CONNECTED
    assert done.attempts == 1 and not done.open


@pytest.mark.parametrize("status", ["NOANSWER", "BUSY", "CONGESTION", "CHANUNAVAIL"])
def test_not_reached_is_tried_again_at_the_head_of_the_line(status: str) -> None:
    cb = cbs.dialling(booked(position=4), "op12345-1", T0)
    assert cb is not None
    again = cbs.dial_ended(cb, status, T0 + timedelta(seconds=30), RULE)
    assert again is not None and again.state is CallbackState.RETRY and again.open
    assert again.next_try_at == T0 + timedelta(seconds=150)  # the retry gap after the try
    assert again.position == 1 and again.operator is None and again.last_status == status
    assert not cbs.due(again, T0 + timedelta(seconds=149))
    assert cbs.due(again, T0 + timedelta(seconds=150))
    assert cbs.requeued(again, T0).state is CallbackState.WAITING


def test_it_fails_after_the_last_attempt() -> None:
    cb: Callback | None = booked()
    for attempt in range(1, RULE.attempts + 1):
        assert cb is not None
        if cb.state is CallbackState.RETRY:
            cb = cbs.requeued(cb, T0)
        cb = cbs.dialling(cb, "op12345-2", T0)
        assert cb is not None
        cb = cbs.dial_ended(cb, "NOANSWER", T0, RULE)
        assert cb is not None and cb.attempts == attempt
    assert cb is not None and cb.state is CallbackState.FAILED and not cb.open


def test_a_lost_stand_in_goes_back_in_line_or_counts_as_not_reached() -> None:
    waiting = cbs.stand_in_lost(booked(), T0, RULE)
    assert waiting is not None and waiting.state is CallbackState.RETRY and waiting.attempts == 0
    assert not cbs.due(waiting, T0) and cbs.due(waiting, T0 + cbs.STAND_IN_RETRY)
    dialling = cbs.dialling(booked(), None, T0)
    assert dialling is not None
    lost = cbs.stand_in_lost(dialling, T0, RULE)
    assert lost is not None and lost.attempts == 1 and lost.last_status == "LOST"


def test_late_and_repeated_events_change_nothing() -> None:
    cb = cbs.dialling(booked(), "op12345-1", T0)
    assert cb is not None and cbs.dialling(cb, "op12345-2", T0) is None
    done = cbs.dial_ended(cb, "ANSWER", T0, RULE)
    assert done is not None and cbs.dial_ended(done, "ANSWER", T0, RULE) is None
    assert cbs.stand_in_lost(done, T0, RULE) is None


@pytest.mark.parametrize(
    ("number", "offered"),
    [
        ("13912345678", True),
        ("+8613912345678", True),
        ("110", True),
        ("", False),
        (None, False),
        ("anonymous", False),
        ("12", False),
    ],
)
def test_only_a_caller_with_a_number_is_offered_a_callback(
    number: str | None, offered: bool
) -> None:
    assert cbs.can_offer(number) is offered


def test_a_dial_end_without_its_start_still_counts() -> None:
    """The link was down when the operator took it: the end alone tells."""
    done = cbs.dial_ended(booked(), "ANSWER", T0, RULE, attempt=1)
    assert done is not None and done.state is CallbackState.CONNECTED and done.attempts == 1


def test_an_end_told_again_for_an_earlier_attempt_changes_nothing() -> None:
    cb = cbs.dialling(booked(), "op12345-1", T0)
    assert cb is not None
    again = cbs.dial_ended(cb, "BUSY", T0, RULE, attempt=1)
    assert again is not None and again.attempts == 1
    requeued = cbs.requeued(again, T0)
    assert cbs.dial_ended(requeued, "BUSY", T0, RULE, attempt=1) is None
    assert cbs.dial_ended(requeued, "ANSWER", T0, RULE, attempt=2) is not None


def test_the_operator_leaving_before_the_caller_answers_is_no_attempt() -> None:
    cb = cbs.dialling(booked(position=3), "op12345-1", T0)
    assert cb is not None
    back = cbs.dial_ended(cb, "CANCEL", T0, RULE)
    assert back is not None and back.state is CallbackState.RETRY and back.attempts == 0
    assert back.position == 1 and cbs.due(back, T0)
