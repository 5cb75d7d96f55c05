"""The waiting-caller book: what became of each wait in a desk's queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr_flows.core import desk_events as de
from ivr_flows.core.waits import WaitBook, WaitOutcome

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def join(book: WaitBook, uid: str, s: float, desk: str = "110", **entry: object) -> None:
    if entry:
        book.handle(de.CallerEntered(at(s), uid, desk, str(entry["via"]), int(str(entry["prio"]))))
    book.handle(de.CallerJoined(at(s), uid, f"call-{uid}", desk, 1, "13900001"))


def test_answered_after_leaving_the_line_records_the_operator_and_the_wait() -> None:
    book = WaitBook()
    join(book, "u1", 0)
    [left] = book.handle(de.CallerLeft(at(12), "u1", "110"))
    assert left.outcome is WaitOutcome.LEFT
    [answered] = book.handle(de.OperatorConnected(at(12), "u1", "110", "op110-1", 12))
    assert (answered.outcome, answered.operator) == (WaitOutcome.ANSWERED, "op110-1")
    assert answered.waited_s == 12.0 and answered.wait_id == left.wait_id
    [done] = book.handle(de.OperatorCompleted(at(80), "u1", "110", "op110-1", 68, "caller"))
    assert (done.talk_s, done.ended_by) == (68, "caller")
    assert book.waiting() == []


def test_a_caller_who_hangs_up_in_line_is_abandoned_whichever_event_comes_first() -> None:
    for order in ("abandon-first", "leave-first"):
        book = WaitBook()
        join(book, "u1", 0)
        events: list[de.DeskEvent] = [
            de.CallerAbandoned(at(7), "u1", "110", 7),
            de.CallerLeft(at(7), "u1", "110"),
        ]
        if order == "leave-first":
            events.reverse()
        changes = [w for e in events for w in book.handle(e)]
        assert changes[-1].outcome is WaitOutcome.ABANDONED, order
        assert changes[-1].waited_s == 7.0


def test_the_line_is_served_by_priority_then_arrival_and_says_how_each_came() -> None:
    book = WaitBook()
    join(book, "u1", 0, via="citizen", prio=0)
    join(book, "u2", 1, via="citizen", prio=0)
    join(book, "u3", 2, via="emergency", prio=10)
    assert [w.uniqueid for w in book.waiting("110")] == ["u3", "u1", "u2"]
    assert [w.via for w in book.waiting("110")] == ["emergency", "citizen", "citizen"]
    assert book.waiting("12345") == []


def test_a_caller_back_in_line_after_an_overflow_has_a_second_wait() -> None:
    book = WaitBook()
    join(book, "u1", 0)
    book.handle(de.CallerLeft(at(30), "u1", "110"))
    join(book, "u1", 50)
    [wait] = book.waiting("110")
    assert wait.wait_id == "u1#2" and wait.joined_at == at(50)


def test_after_an_outage_callers_asterisk_no_longer_lists_stopped_waiting() -> None:
    book = WaitBook()
    join(book, "u1", 0)
    join(book, "u2", 1)
    [gone] = book.settle({"u2"}, at(40))
    assert (gone.uniqueid, gone.outcome, gone.left_at) == ("u1", WaitOutcome.LEFT, at(40))
    assert [w.uniqueid for w in book.waiting()] == ["u2"]


def test_a_caller_found_waiting_after_a_restart_waits_from_when_they_joined() -> None:
    book = WaitBook()
    [wait] = book.resume(de.CallerJoined(at(-25), "u9", "call-9", "12345", 3, None))
    assert wait.joined_at == at(-25) and wait.outcome is WaitOutcome.WAITING
    assert book.resume(de.CallerJoined(at(-25), "u9", "call-9", "12345", 3, None)) == []


def test_a_queue_time_that_is_up_is_reported_as_an_abandon_but_the_caller_went_on() -> None:
    """app_queue says QueueCallerAbandon when a caller's time in line is up
    (an overflow, a transfer's ring time): what the dialplan does next with
    the same channel shows they had not hung up."""
    for went_on in (
        de.DeskOverflowed(at(30), "u1", "110", "PJSIP/backup-110"),
        de.CallerWentOn(at(30), "u1"),
        de.CallerEntered(at(31), "u1", "110", "citizen", 1),
    ):
        book = WaitBook()
        join(book, "u1", 0)
        [abandoned] = book.handle(de.CallerAbandoned(at(30), "u1", "110", 30))
        assert abandoned.outcome is WaitOutcome.ABANDONED
        book.handle(de.CallerLeft(at(30), "u1", "110"))
        [left] = book.handle(went_on)
        assert (left.outcome, left.waited_s) == (WaitOutcome.LEFT, 30.0), went_on


def test_a_talk_time_asterisk_sends_without_the_callers_fields_finds_the_operators_call() -> None:
    """app_queue leaves the caller's fields out of AgentComplete when the
    caller's channel was gone first (seen once in 30 callers under load): the
    operator's phone says whose wait it ends."""
    from ami_client.message import AmiMessage

    book = WaitBook()
    join(book, "u1", 0)
    join(book, "u2", 1)
    book.handle(de.OperatorConnected(at(5), "u1", "110", "op110-1", 5))
    book.handle(de.OperatorConnected(at(6), "u2", "110", "op110-2", 5))
    book.forget("u2")  # the caller's Hangup came before the AgentComplete
    complete = AmiMessage(
        (
            ("Event", "AgentComplete"),
            ("Queue", "desk-110"),
            ("Interface", "PJSIP/op110-2"),
            ("TalkTime", "4"),
            ("Reason", "agent"),
        )
    )
    event = de.desk_event(complete, at(10))
    assert isinstance(event, de.OperatorCompleted) and event.uniqueid == ""
    [done] = book.handle(event)
    assert (done.uniqueid, done.operator, done.talk_s, done.ended_by) == (
        "u2",
        "op110-2",
        4,
        "agent",
    )
    assert book.last_ended("u1") is not None and book.last_ended("u1").talk_s is None
