"""Asterisk's queue_log lines as typed entries. The sample lines are built
from Asterisk's documentation of each event's fields (Asterisk 12 and later:
app_queue's `epoch|callid|queue|agent|EVENT|data…`)."""

from __future__ import annotations

from datetime import UTC, datetime

from ivr_flows.core import queue_log as ql

T = 1795930660
CALLER = "liandong-1795930660.0"


def one(line: str) -> ql.QueueLogEntry:
    entry = ql.parse_line(line)
    assert entry is not None, line
    return entry


def test_a_wait_from_entering_to_the_end_of_the_answered_call() -> None:
    entered = one(f"{T}|{CALLER}|desk-110|NONE|ENTERQUEUE||13912345678|2")
    assert entered == ql.Entered(
        datetime.fromtimestamp(T, UTC), CALLER, "desk-110", "NONE", "13912345678", 2
    )
    # Asterisk 20+ adds the caller's name ("|" in it written as "_").
    named = one(f"{T}|{CALLER}|desk-110|NONE|ENTERQUEUE||13912345678|1|张_三")
    assert isinstance(named, ql.Entered) and named.position == 1
    anonymous = one(f"{T}|{CALLER}|desk-110|NONE|ENTERQUEUE|||1")
    assert isinstance(anonymous, ql.Entered) and anonymous.caller_number is None
    connected = one(f"{T + 9}|{CALLER}|desk-110|op110-1|CONNECT|9|liandong-1795930669.4|3")
    assert isinstance(connected, ql.Connected)
    assert (connected.agent, connected.hold_s) == ("op110-1", 9)
    by_caller = one(f"{T + 70}|{CALLER}|desk-110|op110-1|COMPLETECALLER|9|61|2")
    by_agent = one(f"{T + 70}|{CALLER}|desk-110|op110-1|COMPLETEAGENT|9|61|2")
    assert by_caller == ql.Completed(by_caller.at, CALLER, "desk-110", "op110-1", 9, 61, "caller")
    assert isinstance(by_agent, ql.Completed) and by_agent.ended_by == "agent"


def test_transfers_end_the_answered_call_with_its_talk_time() -> None:
    for line in (
        f"{T}|{CALLER}|desk-110|op110-1|BLINDTRANSFER|8200|unit-keys|9|40|1",
        f"{T}|{CALLER}|desk-110|op110-1|ATTENDEDTRANSFER|BRIDGE|b-1|9|40|1",
        f"{T}|{CALLER}|desk-110|op110-1|TRANSFER|8200|unit-keys|9|40|1",  # before Asterisk 12
    ):
        entry = one(line)
        assert isinstance(entry, ql.Completed), line
        assert (entry.hold_s, entry.talk_s, entry.ended_by) == (9, 40, "transfer"), line


def test_a_caller_who_hangs_up_or_leaves_the_line_alive() -> None:
    abandoned = one(f"{T}|{CALLER}|desk-12345|NONE|ABANDON|3|4|27")
    assert isinstance(abandoned, ql.Abandoned) and abandoned.wait_s == 27
    exits = {
        "EXITWITHTIMEOUT|1|1|30": ("timeout", 30),
        "EXITWITHKEY|5|2|3|44": ("key", 44),
        "EXITEMPTY|1|1|6": ("empty", 6),
        "WITHDRAW|1|1|12|callback": ("withdraw", 12),
    }
    for tail, (how, wait_s) in exits.items():
        entry = one(f"{T}|{CALLER}|desk-110|NONE|{tail}")
        assert isinstance(entry, ql.Exited), tail
        assert (entry.how, entry.wait_s) == (how, wait_s), tail


def test_member_facts_with_a_chinese_member_name_and_reason() -> None:
    added = one(f"{T}|MANAGER|desk-110|张三|ADDMEMBER|")
    assert isinstance(added, ql.MemberAdded) and (added.agent, added.paused) == ("张三", False)
    paused_added = one(f"{T}|MANAGER|desk-110|PJSIP/op110-1|ADDMEMBER|PAUSED")
    assert isinstance(paused_added, ql.MemberAdded) and paused_added.paused
    pause = one(f"{T}|NONE|desk-110|张三|PAUSE|小休")
    assert pause == ql.MemberPaused(pause.at, "NONE", "desk-110", "张三", True, "小休")
    unpause = one(f"{T}|NONE|desk-110|张三|UNPAUSE|")
    assert isinstance(unpause, ql.MemberPaused) and not unpause.paused
    removed = one(f"{T}|{CALLER}|desk-110|op110-1|REMOVEMEMBER|")
    assert isinstance(removed, ql.MemberRemoved)


def test_windows_line_endings_and_the_file_as_bytes_decoded() -> None:
    text = (
        f"{T}|NONE|NONE|NONE|QUEUESTART|\r\n"
        f"{T + 1}|{CALLER}|desk-110|NONE|ENTERQUEUE||13912345678|1\r\n"
        f"{T + 2}|NONE|desk-110|王五|PAUSE|培训\r\n"
    )
    parsed = ql.parse_lines(text.split("\n"))
    assert parsed.garbage == 0
    started, entered, paused = parsed.entries
    assert isinstance(started, ql.QueueStarted)
    assert isinstance(entered, ql.Entered) and entered.position == 1
    assert isinstance(paused, ql.MemberPaused) and paused.reason == "培训"


def test_garbage_and_unknown_events_are_counted_never_raised() -> None:
    lines = [
        "",  # blank lines are nothing
        "not a queue log line",
        "abc|x|desk-110|NONE|ENTERQUEUE||1|1",  # no time
        f"{T}|x|desk-110",  # too few fields
        f"{T}|x|desk-110|NONE|",  # no event
        f"{T}|x|desk-110|NONE|ENTER QUEUE|",  # not an event name
        "\x00\x01\x02",
        f"{T}|{CALLER}|desk-110|op110-1|RINGNOANSWER|15000",
        f"{T}|NONE|NONE|op110-1|PAUSEALL|小休",
        f"{T}|{CALLER}|desk-110|NONE|LDCUSTOM|a|b",
        f"{T}|{CALLER}|desk-110|NONE|LDCUSTOM|c",
        f"{T}|{CALLER}|desk-110|op110-1|CONNECT|x|y|z",  # fields not numbers: kept, unknown
    ]
    parsed = ql.parse_lines(lines)
    assert parsed.garbage == 6
    assert parsed.unknown == {"LDCUSTOM": 2}
    kinds = [type(e).__name__ for e in parsed.entries]
    assert kinds == ["Ignored", "Ignored", "Unknown", "Unknown", "Connected"]
    connect = parsed.entries[-1]
    assert isinstance(connect, ql.Connected) and connect.hold_s is None
