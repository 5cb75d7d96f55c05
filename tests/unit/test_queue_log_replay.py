"""After an outage, the queue_log tells what the queue's events would have:
the waits that began and ended unseen, how the open ones ended, and the
operators' pauses, each at its time; what the server already knows is not
applied again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr_flows.core import desk_events as de
from ivr_flows.core.operators import WRAP_UP_REASON, OperatorBoard, OperatorState
from ivr_flows.core.queue_log import parse_lines
from ivr_flows.core.queue_log_replay import Replayed, replay
from ivr_flows.core.waits import WaitBook, WaitOutcome

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # the last event seen before the drop
E0 = int(T0.timestamp())
DROP = T0 + timedelta(seconds=0.4)
U1, U2 = "liandong-1795930660.1", "liandong-1795930660.2"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def desks() -> tuple[WaitBook, OperatorBoard]:
    board = OperatorBoard(
        {"110": ("op110-1", "op110-2"), "12345": ("op12345-1",)}, {"110": 0, "12345": 10}
    )
    for phone, desk in (("op110-1", "110"), ("op110-2", "110"), ("op12345-1", "12345")):
        board.handle(de.MemberChanged(at(-600), desk, phone, True, False, "", "NOT_INUSE"))
    return WaitBook(), board


def log(*lines: str) -> list[str]:
    """queue_log lines, each `+seconds|rest` after T0."""
    out = []
    for line in lines:
        offset, rest = line.split("|", 1)
        out.append(f"{E0 + int(offset)}|{rest}")
    return out


def run(book: WaitBook, board: OperatorBoard, lines: list[str], **kw: object) -> Replayed:
    return replay(
        parse_lines(lines).entries,
        since=kw.pop("since", DROP),  # type: ignore[arg-type]
        book=book,
        board=board,
        **kw,  # type: ignore[arg-type]
    )


def test_a_wait_entirely_during_the_outage_is_recorded_answered() -> None:
    book, board = desks()
    lines = log(
        f"5|{U1}|desk-110|NONE|ENTERQUEUE||13912345678|1",
        f"14|{U1}|desk-110|op110-2|CONNECT|9|liandong-1795930674.3|2",
        f"75|{U1}|desk-110|op110-2|COMPLETEAGENT|9|61|1",
    )
    done = run(book, board, lines, call_ids={U1: "call-1"})
    [wait] = done.waits
    assert wait.wait_id == f"{U1}#1" and wait.call_id == "call-1" and wait.desk == "110"
    assert (wait.outcome, wait.operator) == (WaitOutcome.ANSWERED, "op110-2")
    assert (wait.joined_at, wait.answered_at, wait.waited_s) == (at(5), at(14), 9.0)
    assert (wait.talk_s, wait.ended_by, wait.position) == (61, "agent", 1)
    # The operator talked from the answer to the end of the call.
    talking = [(op.state, op.since) for op in done.operators if op.phone == "op110-2"]
    assert talking == [(OperatorState.TALKING, at(14)), (OperatorState.IDLE, at(75))]
    assert book.waiting() == []
    # The same lines again (a second reconnect, a live event after): nothing new.
    again = run(book, board, lines, call_ids={U1: "call-1"})
    assert (again.waits, again.operators, again.applied) == ([], [], 0)


def test_a_wait_open_at_the_drop_and_answered_during_it() -> None:
    book, board = desks()
    [open_wait] = book.handle(de.CallerJoined(at(0.2), U1, "call-1", "110", 1, "139"))
    lines = log(
        f"-20|{U2}|desk-110|NONE|ENTERQUEUE||139|2",  # before the last event seen
        f"0|{U1}|desk-110|NONE|ENTERQUEUE||139|1",  # seen live, in the drop's second
        f"8|{U1}|desk-110|op110-1|CONNECT|8|liandong-1795930668.5|1",
    )
    done = run(book, board, lines)
    [wait] = done.waits
    assert wait.wait_id == open_wait.wait_id  # the same wait, closed, not a second one
    assert (wait.outcome, wait.operator, wait.answered_at) == (
        WaitOutcome.ANSWERED,
        "op110-1",
        at(8),
    )
    assert wait.joined_at == at(0.2)  # the live event's time stands
    assert done.earlier == 1


def test_a_caller_who_hangs_up_during_the_outage_is_abandoned_with_the_wait() -> None:
    book, board = desks()
    lines = log(
        f"3|{U2}|desk-12345|NONE|ENTERQUEUE||13800000002|4",
        f"30|{U2}|desk-12345|NONE|ABANDON|2|4|27",
    )
    [wait] = run(book, board, lines).waits
    assert (wait.desk, wait.outcome, wait.waited_s) == ("12345", WaitOutcome.ABANDONED, 27.0)
    assert wait.call_id == U2  # a call the server never saw keeps the caller's uniqueid


def test_a_caller_whose_time_was_up_left_alive_and_says_how() -> None:
    book, board = desks()
    book.handle(de.CallerJoined(at(-25), U1, U1, "110", 1, None))
    # Seen live just before the drop: app_queue reports a time up as an abandon.
    book.handle(de.CallerAbandoned(at(0), U1, "110", 25))
    [wait] = run(book, board, log(f"0|{U1}|desk-110|NONE|EXITWITHTIMEOUT|1|1|25")).waits
    assert (wait.outcome, wait.ended_by, wait.left_at) == (WaitOutcome.LEFT, "timeout", at(0))
    lines = log(
        f"2|{U2}|desk-12345|NONE|ENTERQUEUE||1380|1",
        f"9|{U2}|desk-12345|NONE|EXITWITHKEY|5|1|1|7",
    )
    [keyed] = run(book, board, lines).waits
    assert (keyed.outcome, keyed.ended_by, keyed.waited_s) == (WaitOutcome.LEFT, "key", 7.0)


def test_an_operator_paused_during_the_outage_from_when_they_paused() -> None:
    book, board = desks()
    lines = log(
        "10|NONE|desk-110|op110-1|PAUSE|小休",
        "300|NONE|desk-110|op110-1|UNPAUSE|",
        "310|NONE|desk-110|op110-2|PAUSE|培训",
        "320|MANAGER|desk-12345|op12345-1|REMOVEMEMBER|",
    )
    done = run(book, board, lines)
    assert [(op.phone, op.state, op.reason, op.since) for op in done.operators] == [
        ("op110-1", OperatorState.PAUSED, "小休", at(10)),
        ("op110-1", OperatorState.IDLE, "", at(300)),
        ("op110-2", OperatorState.PAUSED, "培训", at(310)),
        ("op12345-1", OperatorState.LOGGED_OUT, "", at(320)),
    ]
    op = board.get("op110-2")
    assert op is not None and (op.state, op.reason) == (OperatorState.PAUSED, "培训")
    assert run(book, board, lines).operators == []


def test_a_member_known_by_a_chinese_name_is_its_phone_and_a_stranger_is_counted() -> None:
    book, board = desks()
    lines = log(
        "10|NONE|desk-110|张三|PAUSE|小休",
        "11|NONE|desk-110|李四|PAUSE|小休",
        "12|NONE|desk-110|PJSIP/op110-2|PAUSE|培训",
    )
    done = run(book, board, lines, member_phones={"张三": "op110-1"})
    assert [(op.phone, op.reason) for op in done.operators] == [
        ("op110-1", "小休"),
        ("op110-2", "培训"),
    ]
    assert done.unknown_members == {"李四": 1}


def test_a_wrap_up_found_in_the_log_ends_its_time_after_it_began() -> None:
    book, board = desks()
    run(book, board, log(f"40|NONE|desk-12345|op12345-1|PAUSE|{WRAP_UP_REASON}"))
    op = board.get("op12345-1")
    assert op is not None and op.state is OperatorState.WRAP_UP
    assert op.wrap_up_until == at(50)  # the desk's 10 s, from the pause


def test_asterisk_restarted_in_the_outage_no_caller_of_before_waits_on() -> None:
    book, board = desks()
    book.handle(de.CallerJoined(at(-5), U1, U1, "110", 1, None))
    lines = log(
        "60|NONE|NONE|NONE|QUEUESTART|",
        f"70|{U2}|desk-110|NONE|ENTERQUEUE||1380|1",
    )
    done = run(book, board, lines)
    gone = next(w for w in done.waits if w.uniqueid == U1)
    assert (gone.outcome, gone.ended_by, gone.left_at) == (WaitOutcome.LEFT, "restart", at(60))
    assert [w.uniqueid for w in book.waiting()] == [U2]


def test_other_queues_and_earlier_lines_change_nothing() -> None:
    book, board = desks()
    lines = log(
        f"-3|{U1}|desk-110|NONE|ENTERQUEUE||1|1",
        f"5|{U2}|sales|NONE|ENTERQUEUE||1|1",
        "6|NONE|sales|op110-1|PAUSE|lunch",
    )
    done = run(book, board, lines)
    assert (done.waits, done.operators, done.earlier, done.not_ours) == ([], [], 1, 2)


def test_a_live_join_after_the_replay_is_the_same_wait() -> None:
    book, board = desks()
    run(book, board, log(f"5|{U1}|desk-110|NONE|ENTERQUEUE||139|1"))
    # The live QueueCallerJoin of the same join, applied late by the ingest.
    assert book.handle(de.CallerJoined(at(5.7), U1, U1, "110", 1, "139")) == []
    assert len(book.waiting()) == 1
