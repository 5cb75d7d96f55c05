"""The operator board: each desk phone's state, and the wrap-up the server runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr_flows.core import desk_events as de
from ivr_flows.core.operators import (
    WRAP_UP_REASON,
    EndWrapUp,
    OperatorBoard,
    OperatorState,
    StartWrapUp,
)

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
S = OperatorState


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def board(wrap: int = 10) -> OperatorBoard:
    return OperatorBoard({"12345": ("op12345-1", "op12345-2")}, {"12345": wrap})


def member(
    s: float,
    *,
    logged_in: bool = True,
    paused: bool = False,
    reason: str = "",
    device: str = "NOT_INUSE",
    since: datetime | None = None,
) -> de.MemberChanged:
    return de.MemberChanged(at(s), "12345", "op12345-1", logged_in, paused, reason, device, since)


def state(b: OperatorBoard) -> OperatorState:
    op = b.get("op12345-1")
    assert op is not None
    return op.state


def test_every_phone_starts_logged_out_and_follows_asterisk() -> None:
    b = board()
    assert {op.state for op in b.operators("12345")} == {S.LOGGED_OUT}
    steps = [
        (member(0), S.IDLE),
        (member(1, device="RINGING"), S.RINGING),
        (member(2, device="INUSE"), S.TALKING),
        (member(3, paused=True, reason="小休"), S.PAUSED),
        (member(4), S.IDLE),
        (member(5, logged_in=False), S.LOGGED_OUT),
    ]
    for event, expected in steps:
        changed, _ = b.handle(event)
        assert [op.state for op in changed] == [expected]
        assert changed[0].since == event.at


def test_the_same_state_again_is_no_change_and_keeps_its_start() -> None:
    b = board()
    b.handle(member(0))
    changed, _ = b.handle(member(9))
    assert changed == [] and b.get("op12345-1").since == at(0)  # type: ignore[union-attr]


def test_a_queue_call_ends_in_a_wrap_up_the_board_starts_and_lifts() -> None:
    b = board(wrap=10)
    b.handle(member(0, device="INUSE"))
    _, commands = b.handle(de.OperatorCompleted(at(60), "u1", "12345", "op12345-1", 60, "caller"))
    assert commands == [StartWrapUp("op12345-1", "12345", at(70))]
    # The phone's hang-up is seen before the pause: the wrap-up still stands.
    b.handle(member(60.1))
    changed, _ = b.handle(member(60.2, paused=True, reason=WRAP_UP_REASON))
    assert [op.state for op in changed] == [S.WRAP_UP]
    assert b.expired(at(69)) == []
    assert b.expired(at(70)) == [EndWrapUp("op12345-1", "12345")]
    b.handle(member(70.1))
    assert state(b) is S.IDLE and b.next_expiry() is None


def test_an_operator_who_pauses_for_their_own_reason_in_wrap_up_is_not_unpaused() -> None:
    b = board(wrap=10)
    b.handle(member(0))
    b.handle(de.OperatorCompleted(at(5), "u1", "12345", "op12345-1", 5, "agent"))
    b.handle(member(5.1, paused=True, reason=WRAP_UP_REASON))
    b.handle(member(7, paused=True, reason="话后整理"))
    assert state(b) is S.PAUSED
    assert b.expired(at(60)) == []


def test_no_wrap_up_when_the_desk_has_none_or_the_phone_was_paused() -> None:
    b = board(wrap=0)
    b.handle(member(0))
    _, commands = b.handle(de.OperatorCompleted(at(5), "u1", "12345", "op12345-1", 5, None))
    assert commands == []
    b = board(wrap=10)
    b.handle(member(0, paused=True, reason="培训"))
    _, commands = b.handle(de.OperatorCompleted(at(5), "u1", "12345", "op12345-1", 5, None))
    assert commands == []


def test_a_wrap_up_asked_for_and_never_seen_is_dropped_when_due() -> None:
    b = board(wrap=10)
    b.handle(member(0))
    b.handle(de.OperatorCompleted(at(5), "u1", "12345", "op12345-1", 5, None))
    assert b.expired(at(15)) == [] and b.next_expiry() is None


def test_after_a_restart_a_running_wrap_up_ends_when_due_and_an_old_one_at_once() -> None:
    b = board(wrap=10)
    found = member(100, paused=True, reason=WRAP_UP_REASON, since=at(95))
    changed, commands = b.snapshot([found], at(100))
    assert [op.state for op in changed] == [S.WRAP_UP] and commands == []
    assert b.next_expiry() == at(105)
    b = board(wrap=10)
    old = member(100, paused=True, reason=WRAP_UP_REASON, since=at(50))
    _, commands = b.snapshot([old], at(100))
    assert commands == [EndWrapUp("op12345-1", "12345")]


def test_a_snapshot_logs_out_every_phone_asterisk_does_not_list() -> None:
    b = board()
    b.handle(member(0))
    b.handle(de.MemberChanged(at(0), "12345", "op12345-2", True, False, "", "NOT_INUSE"))
    changed, _ = b.snapshot([member(50)], at(50))
    assert [(op.phone, op.state) for op in changed] == [("op12345-2", S.LOGGED_OUT)]
    assert b.logged_in("12345") == 1
