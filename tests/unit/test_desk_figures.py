"""The desks' supervision figures from recorded waits and operator periods:
what a supervisor checks against the county's 15 s / 95 % targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ivr_flows.core.desk_figures import (
    Figures,
    Period,
    desk_tables,
    hours,
    offers,
    operator_figures,
)
from ivr_flows.core.desk_rules import COUNTY_TARGETS
from ivr_flows.core.operators import WRAP_UP_REASON, OperatorState
from ivr_flows.core.waits import Wait, WaitOutcome

TZ = ZoneInfo("Asia/Shanghai")
# A period from 22:00 to 02:00 county time: it crosses midnight.
START = datetime(2026, 3, 1, 22, 0, tzinfo=TZ).astimezone(UTC)
END = datetime(2026, 3, 2, 2, 0, tzinfo=TZ).astimezone(UTC)
A, W, L, AB = WaitOutcome.ANSWERED, WaitOutcome.WAITING, WaitOutcome.LEFT, WaitOutcome.ABANDONED


def wait(
    uid: str,
    joined: datetime,
    outcome: WaitOutcome,
    after_s: float | None = None,
    *,
    n: int = 1,
    desk: str = "110",
    via: str = "citizen",
    operator: str | None = "op110-1",
    talk_s: int | None = 60,
) -> Wait:
    end = None if after_s is None else joined + timedelta(seconds=after_s)
    answered = outcome is WaitOutcome.ANSWERED
    return Wait(
        wait_id=f"{uid}#{n}",
        uniqueid=uid,
        call_id=uid,
        desk=desk,
        via=via,
        priority=0,
        position=1,
        caller_number=None,
        joined_at=joined,
        outcome=outcome,
        left_at=end,
        answered_at=end if answered else None,
        operator=operator if answered else None,
        talk_s=talk_s if answered else None,
    )


def local(hour: int, minute: int = 0, second: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=TZ).astimezone(UTC)


def table(waits: list[Wait], desk: str = "110") -> tuple[list[Figures], Figures]:
    [result] = desk_tables(offers(waits), [desk], START, END, TZ, 15)
    return [slot.figures for slot in result.hours], result.total


def test_hours_are_county_hours_across_midnight() -> None:
    slots = hours(START, END, TZ)
    assert [f"{s.astimezone(TZ):%d %H:%M}-{e.astimezone(TZ):%H:%M}" for s, e in slots] == [
        "01 22:00-23:00",
        "01 23:00-00:00",
        "02 00:00-01:00",
        "02 01:00-02:00",
    ]
    # A period that starts or ends off the hour: its first and last hours are cut.
    cut = hours(START + timedelta(minutes=30), END - timedelta(minutes=15), TZ)
    assert cut[0][0] == START + timedelta(minutes=30) and cut[-1][1] == END - timedelta(minutes=15)
    assert len(cut) == 4


def test_a_wait_counts_in_the_county_hour_it_began() -> None:
    by_hour, total = table(
        [
            wait("a", local(23, 59, 59), A, 5),  # answered after midnight: still 23:00
            wait("b", local(0, 0, 0, day=2), A, 3),
            wait("c", local(1, 59, 59, day=2), AB, 20),
            wait("early", local(21, 59, 59), A, 1),  # before the period
            wait("late", local(2, 0, 0, day=2), A, 1),  # `to` is not in the period
        ]
    )
    assert [h.offered for h in by_hour] == [0, 1, 1, 1]
    assert total.offered == 3 and total.answered == 2 and total.abandoned == 1


def test_answered_at_exactly_15_s_is_in_time_and_just_after_is_not() -> None:
    _, total = table(
        [
            wait("on-the-dot", local(22, 1), A, 15.0),
            wait("a-hair-late", local(22, 2), A, 15.001),
            wait("quick", local(22, 3), A, 2),
        ]
    )
    assert total.answered == 3 and total.answered_in_time == 2
    assert total.service_level == 2 / 3 and total.connection_rate == 1.0
    assert total.longest_wait_s == 15.001
    assert total.average_answer_s is not None and round(total.average_answer_s, 3) == 10.667


def test_abandoned_and_left_are_told_apart_and_both_miss_the_connection_rate() -> None:
    _, total = table(
        [
            wait("hung-up", local(22, 1), AB, 40),
            # The backup post took them after 30 s; they never came back to the line.
            wait("overflowed", local(22, 2), L, 30),
            wait("given-back", local(22, 3), L, 20, via="transfer"),
            wait("answered", local(22, 4), A, 10),
        ]
    )
    assert (total.offered, total.answered, total.abandoned, total.left) == (4, 1, 1, 2)
    assert total.connection_rate == 0.25 and total.service_level == 0.25
    assert total.average_wait_s == (40 + 30 + 20 + 10) / 4 and total.longest_wait_s == 40
    assert total.by_via == {"citizen": 3, "transfer": 1}


def test_a_caller_back_in_line_after_an_overflow_is_one_offer() -> None:
    joined = local(22, 10)
    first = wait("x", joined, L, 30, n=1)  # overflowed after 30 s; the backup did not answer
    # Back in line 20 s later (the backup rang), answered 5 s after that.
    second = wait("x", joined + timedelta(seconds=50), A, 5, n=2, via="citizen")
    _, total = table([second, first])
    assert (total.offered, total.answered, total.left) == (1, 1, 0)
    assert total.answered_in_time == 0  # 55 s after the caller first joined
    assert total.longest_wait_s == 55
    # The same channel offered to the other desk later (a transfer) is a new offer.
    moved = wait("x", joined + timedelta(minutes=5), A, 3, n=3, desk="12345", via="transfer")
    [d110, d12345] = desk_tables(
        offers([first, second, moved]), ["110", "12345"], START, END, TZ, 15
    )
    assert d110.total.offered == 1 and d12345.total.offered == 1


def test_an_offer_that_began_before_the_period_is_not_in_it() -> None:
    first = wait("y", START - timedelta(seconds=20), L, 30, n=1)
    again = wait("y", START + timedelta(seconds=30), A, 4, n=2)
    _, total = table([first, again])
    assert total.offered == 0


def test_a_caller_still_waiting_is_offered_but_not_decided() -> None:
    _, total = table([wait("now", local(23, 30), W), wait("done", local(23, 31), A, 3)])
    assert total.offered == 2 and total.waiting == 1
    assert total.connection_rate == 1.0 and total.average_wait_s == 3


def test_an_empty_period_has_every_hour_with_nothing_to_judge() -> None:
    by_hour, total = table([])
    assert len(by_hour) == 4 and all(h.offered == 0 for h in by_hour)
    assert total.connection_rate is None and total.service_level is None
    assert total.average_wait_s is None and total.longest_wait_s is None
    assert total.meets(COUNTY_TARGETS) == (None, None)


def test_the_targets_are_met_at_95_percent_and_missed_below() -> None:
    fast = [wait(f"f{i}", local(22, i), A, 5) for i in range(19)]
    _, met = table([*fast, wait("slow", local(22, 30), A, 16)])
    assert met.service_level == 0.95 and met.meets(COUNTY_TARGETS) == (True, True)
    _, missed = table(
        [*fast[:18], wait("s1", local(22, 30), A, 16), wait("s2", local(22, 31), A, 16)]
    )
    assert missed.meets(COUNTY_TARGETS) == (True, False)


# ------------------------------------------------------------------ per operator


def period(
    phone: str, state: OperatorState, start: datetime, end: datetime | None, reason: str = ""
) -> Period:
    return Period(phone, "110" if phone.startswith("op110") else "12345", state, reason, start, end)


def test_operator_time_is_clipped_to_the_period_and_pauses_are_by_reason() -> None:
    P, S = OperatorState, START
    periods = [
        period("op110-1", P.IDLE, S - timedelta(hours=1), S + timedelta(minutes=10)),
        period("op110-1", P.PAUSED, S + timedelta(minutes=10), S + timedelta(minutes=25), "小休"),
        period("op110-1", P.TALKING, S + timedelta(minutes=25), S + timedelta(minutes=30)),
        period(
            "op110-1",
            P.WRAP_UP,
            S + timedelta(minutes=30),
            S + timedelta(minutes=31),
            WRAP_UP_REASON,
        ),
        period("op110-1", P.LOGGED_OUT, S + timedelta(minutes=31), S + timedelta(minutes=40)),
        # Still paused: counts until now, never past the period's end.
        period("op110-2", P.PAUSED, END - timedelta(minutes=5), None, "培训"),
    ]
    answered = [
        wait("c1", S + timedelta(minutes=25), A, 4, talk_s=300),
        wait("c2", S + timedelta(minutes=50), A, 4, talk_s=None),  # still talking
        wait("c3", S + timedelta(minutes=55), A, 4, operator="op110-2", talk_s=20),
    ]
    phones = {"op110-1": "110", "op110-2": "110", "op12345-1": "12345"}
    now = END + timedelta(hours=1)
    rows, total = operator_figures(offers(answered), periods, phones, START, END, now)
    one, two, other = rows
    assert (one.answered, one.talk_s, one.average_talk_s) == (2, 300, 300)
    assert one.state_s[P.IDLE] == 600 and one.pause_s == {"小休": 900, WRAP_UP_REASON: 60}
    assert one.logged_in_s == 600 + 900 + 300 + 60 and one.paused_s == 960
    assert two.pause_s == {"培训": 300} and two.answered == 1
    assert other.phone == "op12345-1" and other.answered == 0 and other.logged_in_s == 0
    assert total.answered == 3 and total.pause_s["小休"] == 900 and total.talk_known == 2
    # A state still running counts until now when now is inside the period.
    rows, _ = operator_figures([], periods, phones, START, END, END - timedelta(minutes=1))
    assert rows[1].pause_s == {"培训": 240}


def test_a_phone_only_in_the_records_is_listed_after_the_desks_phones() -> None:
    gone = period("op110-9", OperatorState.IDLE, START, START + timedelta(minutes=1))
    rows, _ = operator_figures([], [gone], {"op110-1": "110"}, START, END, END)
    assert [r.phone for r in rows] == ["op110-1", "op110-9"] and rows[1].desk == "110"


def test_a_callback_is_neither_lost_nor_an_extra_answered_offer() -> None:
    """The caller who left the line to be called back is offered once and
    not decided here; the stand-in that held their place is no offer."""
    t0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    booked = Wait(
        "cit#1",
        "cit",
        "call-1",
        "12345",
        "menu",
        0,
        3,
        None,
        t0,
        outcome=WaitOutcome.LEFT,
        left_at=t0 + timedelta(seconds=70),
        ended_by="callback",
    )
    stand_in = Wait(
        "loc#1",
        "loc",
        "call-2",
        "12345",
        "callback",
        0,
        3,
        None,
        t0 + timedelta(seconds=75),
        outcome=WaitOutcome.ANSWERED,
        answered_at=t0 + timedelta(seconds=90),
        left_at=t0 + timedelta(seconds=90),
        operator="op12345-1",
    )
    plain = Wait(
        "p#1",
        "p",
        "call-3",
        "12345",
        "citizen",
        0,
        1,
        None,
        t0,
        outcome=WaitOutcome.ANSWERED,
        answered_at=t0 + timedelta(seconds=5),
        left_at=t0 + timedelta(seconds=5),
        operator="op12345-2",
    )
    figures = Figures()
    for offer in offers([booked, stand_in, plain]):
        figures.add(offer, 15)
    assert (figures.offered, figures.called_back, figures.answered, figures.left) == (2, 1, 1, 0)
    assert figures.connection_rate == 1.0 and figures.service_level == 1.0
