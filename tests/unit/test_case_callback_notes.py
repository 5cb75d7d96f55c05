"""A callback's lines on its case, as pure data: which change of a callback
makes which line (booked, connected, not reached, failed; nothing for a
stand-in back in line), the Chinese line a desk reads (the next try in the
county's time), the entry's data without the caller's number, the same
change recognised when it is told again, and the entry's name in the API."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ivr_flows.core import callbacks as cbs
from ivr_flows.core.callbacks import Callback, CallbackState
from ivr_flows.core.desk_rules import Callback as Rule
from records.core.callback_notes import (
    CALLBACK_ENTRY,
    CallbackNote,
    CallbackOutcome,
    callback_booked,
    note_data,
    note_text,
)
from records.core.keyed_notes import already_recorded
from records.core.menu_notes import entry_name
from records.storage.repository import jsonable

NUMBER = "13912345678"
T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 14:00 in the county
RULE = Rule(after_s=60, attempts=3, retry_gap_s=120, ring_s=30, trunk="trunk-12345")


def booked(position: int = 4) -> Callback:
    return Callback(7, "call-1", "12345", NUMBER, position, T0, updated_at=T0)


def dialled(cb: Callback, status: str, at: datetime, op: str = "op12345-1") -> Callback:
    if cb.state is CallbackState.RETRY:
        cb = cbs.requeued(cb, at)
    taken = cbs.dialling(cb, op, at, "dial-call")
    assert taken is not None
    ended = cbs.dial_ended(taken, status, at + timedelta(seconds=20), RULE)
    assert ended is not None
    return ended


def line(cb: Callback) -> str | None:
    note = cbs.case_note(cb)
    return note_text(note) if note is not None and note.on_timeline else None


def test_booking_says_the_place_kept() -> None:
    note = cbs.case_note(booked(position=4))
    assert note is not None and note.outcome is CallbackOutcome.BOOKED
    assert note_text(note) == "市民选择回拨，保留排队位置（第4位）"
    assert (note.call_id, note.at, note.note_id) == ("call-1", T0, "7:booked")


def test_connected_names_the_operator_and_the_call_that_reached_the_caller() -> None:
    done = dialled(booked(), "ANSWER", T0 + timedelta(minutes=3))
    note = cbs.case_note(done)
    assert note is not None and note.outcome is CallbackOutcome.CONNECTED
    assert note_text(note) == "回拨接通，话务员 op12345-1"
    assert note.dial_call_id == "dial-call" and note.note_id == "7:connected:1"


def test_an_attempt_not_reached_says_why_which_and_the_next_try_in_county_time() -> None:
    again = dialled(booked(), "BUSY", T0)  # ended 14:00:20; next try 2 minutes later
    assert line(again) == "回拨未接通（忙），第1次，下次 14:02"
    twice = dialled(again, "NOANSWER", T0 + timedelta(minutes=3))
    assert line(twice) == "回拨未接通（无应答），第2次，下次 14:05"
    note = cbs.case_note(twice)
    assert note is not None and note.note_id == "7:not_reached:2"


def test_failed_after_the_last_attempt() -> None:
    cb = booked()
    for i in range(RULE.attempts):
        cb = dialled(cb, "NOANSWER", T0 + timedelta(minutes=5 * i))
    assert cb.state is CallbackState.FAILED
    assert line(cb) == "回拨 3 次均未接通（最后一次：无应答）"
    connected_late = dialled(dialled(booked(), "BUSY", T0), "ANSWER", T0 + timedelta(minutes=3))
    assert line(connected_late) == "第2次回拨接通，话务员 op12345-1"


def test_a_stand_in_back_in_line_is_nothing_new_for_the_case() -> None:
    lost = cbs.stand_in_lost(booked(), T0, RULE)  # Asterisk dropped it before anyone took it
    assert lost is not None and cbs.case_note(lost) is None
    back = cbs.requeued(lost, T0 + timedelta(seconds=5))
    # Waiting again, never dialled: the same booking, recognised by its id.
    note = cbs.case_note(back)
    assert note is not None and note.note_id == "7:booked"
    retry = dialled(booked(), "BUSY", T0)
    assert cbs.case_note(cbs.requeued(retry, T0)) is None  # in line again after a try


def test_dialling_links_its_call_and_writes_no_line() -> None:
    taken = cbs.dialling(booked(), "op12345-2", T0, "dial-call")
    assert taken is not None
    note = cbs.case_note(taken)
    assert note is not None and note.outcome is CallbackOutcome.DIALLING
    assert not note.on_timeline and note.dial_call_id == "dial-call"
    assert cbs.requeued(replace(taken, state=CallbackState.RETRY), T0).dial_call_id is None


def test_the_data_says_the_callback_and_never_the_callers_number() -> None:
    retry = dialled(booked(), "BUSY", T0)
    note = cbs.case_note(retry)
    assert note is not None
    data = jsonable(note_data(note))
    assert data["note"] == "回拨未接通（忙），第1次，下次 14:02"
    assert data["call"] == "call-1"
    assert data["callback"] == {
        "id": 7,
        "note_id": "7:not_reached:1",
        "outcome": "not_reached",
        "at": "2026-12-03T06:00:20.000Z",
        "desk": "12345",
        "state": "retry",
        "position_kept": 1,
        "attempts": 1,
        "last_status": "BUSY",
        "operator": None,
        "next_try_at": "2026-12-03T06:02:20.000Z",
        "dial_call": "dial-call",
    }
    for cb in (booked(), retry, dialled(booked(), "ANSWER", T0)):
        made = cbs.case_note(cb)
        assert made is not None
        assert NUMBER not in json.dumps(jsonable(note_data(made)), ensure_ascii=False)


def test_a_change_told_again_is_recognised_and_a_booking_is_seen() -> None:
    note = cbs.case_note(booked())
    assert note is not None
    entries = [{"note": "opened"}, jsonable(note_data(note))]
    assert already_recorded(entries, CALLBACK_ENTRY, "7:booked")
    assert not already_recorded(entries, CALLBACK_ENTRY, "7:connected:1")
    assert not already_recorded([{"menu": {"id": "7:booked"}}], CALLBACK_ENTRY, "7:booked")
    assert callback_booked(entries) and not callback_booked(entries[:1])


def test_a_withdrawn_booking_is_said_once_and_no_longer_keeps_the_case() -> None:
    withdrawn = cbs.withdrawn(booked(), T0 + timedelta(seconds=4))
    assert withdrawn is not None
    note = cbs.case_note(withdrawn)
    assert note is not None and note.outcome is CallbackOutcome.WITHDRAWN
    assert note_text(note) == "回拨未能及时登记，已撤销；市民继续排队"
    assert note.note_id == "7:withdrawn" and note.on_timeline
    booking = cbs.case_note(booked())
    assert booking is not None
    entries = [jsonable(note_data(booking)), jsonable(note_data(note))]
    assert callback_booked(entries[:1]) and not callback_booked(entries)


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("CONGESTION", "线路拥塞"),
        ("CHANUNAVAIL", "无法接通"),
        ("CANCEL", "话务员先挂断"),
        ("LOST", "呼叫中断"),
        ("WHATEVER", "WHATEVER"),
    ],
)
def test_each_dial_status_is_said_in_chinese(status: str, said: str) -> None:
    note = CallbackNote(1, "c", T0, "12345", CallbackOutcome.NOT_REACHED, "retry", 1, 1, status)
    assert note_text(note) == f"回拨未接通（{said}），第1次"


def test_the_api_names_callback_entries() -> None:
    note = cbs.case_note(booked())
    assert note is not None
    assert entry_name(None, 2, jsonable(note_data(note))) == "callback"
    assert entry_name(None, 2, {"menu": {"id": "x"}}) == "menu"
    assert entry_name(None, 0, jsonable(note_data(note))) == "open"
