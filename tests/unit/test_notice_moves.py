"""A linkage notice's moves: down the ladder on every try not reached, signed
on key 1, declined on key 9, unreached after the last rung, called off when
the case moves on; an end told twice or for an earlier try changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify.core import notices as nt
from notify.core.notices import Notice, NoticeState, TryResult
from records.core.notice_notes import NoticeNote, note_text

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
GAP = timedelta(seconds=60)


def fresh(rungs: int = 3) -> Notice:
    return Notice(7, "2026-000123", "urban", 4, True, rungs, T0)


def calling(notice: Notice, at: datetime = T0) -> Notice:
    started = nt.started(notice, at)
    assert started is not None
    return started


def test_a_try_not_reached_queues_the_next_rung_after_the_gap() -> None:
    first = calling(fresh())
    assert (first.state, first.tries) == (NoticeState.CALLING, 1)
    later = T0 + timedelta(seconds=25)
    queued = nt.ended(first, 1, TryResult.NO_ANSWER, later, GAP)
    assert queued is not None
    assert (queued.state, queued.next_try_at) == (NoticeState.QUEUED, later + GAP)
    assert not nt.due(queued, later) and nt.due(queued, later + GAP)
    second = calling(queued, later + GAP)
    assert second.tries == 2 and second.next_try_at is None


@pytest.mark.parametrize(
    ("result", "state"),
    [(TryResult.ACCEPTED, NoticeState.ACCEPTED), (TryResult.DECLINED, NoticeState.DECLINED)],
)
def test_a_key_ends_the_notice_in_the_name_of_who_pressed_it(
    result: TryResult, state: NoticeState
) -> None:
    done = nt.ended(calling(fresh()), 1, result, T0, GAP, reached="何某")
    assert done is not None and (done.state, done.reached) == (state, "何某")
    assert not done.open


@pytest.mark.parametrize(
    "result",
    [TryResult.NO_KEY, TryResult.HUNG_UP, TryResult.BUSY, TryResult.FAILED, TryResult.LOST],
)
def test_the_last_rung_not_reached_leaves_the_notice_unreached(result: TryResult) -> None:
    notice = calling(fresh(rungs=1))
    done = nt.ended(notice, 1, result, T0, GAP)
    assert done is not None and done.state is NoticeState.UNREACHED
    assert nt.started(done, T0) is None  # nothing more is dialled


def test_an_end_told_twice_or_of_an_earlier_try_changes_nothing() -> None:
    first = calling(fresh())
    queued = nt.ended(first, 1, TryResult.BUSY, T0, GAP)
    assert queued is not None
    assert nt.ended(queued, 1, TryResult.BUSY, T0, GAP) is None
    second = calling(queued)
    assert nt.ended(second, 1, TryResult.ACCEPTED, T0, GAP) is None


def test_a_case_that_moved_on_calls_off_an_open_notice_only() -> None:
    queued = fresh()
    assert nt.cancelled(queued, T0) is not None
    assert nt.cancelled(calling(queued), T0) is not None
    accepted = nt.ended(calling(fresh()), 1, TryResult.ACCEPTED, T0, GAP)
    assert accepted is not None and nt.cancelled(accepted, T0) is None


def test_every_move_is_in_the_table() -> None:
    accepted = nt.ended(calling(fresh()), 1, TryResult.ACCEPTED, T0, GAP)
    assert accepted is not None
    with pytest.raises(ValueError, match="accepted → calling"):
        nt._move(accepted, NoticeState.CALLING, T0)


def test_the_alert_says_whether_calls_were_made_or_nobody_could_be_called() -> None:
    after_calls = NoticeNote(7, "2026-000123", "urban", "宝丰县城市管理局", T0, 0, tries=3)
    assert note_text(after_calls).endswith("3次呼叫均无人按键确认，已告警督办")
    no_phone = NoticeNote(7, "2026-000123", "housing", "宝丰县住房和城乡建设局", T0, 0)
    assert "名册中没有可拨打的电话" in note_text(no_phone)
