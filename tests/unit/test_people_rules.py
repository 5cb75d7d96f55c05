"""What an account may be, and the lock-out and sign-in rules (people/core)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from common.vocabulary import Role
from people.core.accounts import AccountDraft, draft_problem, login_problem, password_problem
from people.core.sign_ins import LOCK, MAX_FAILURES, NO_FAILURES, WINDOW, Ended, still_holds

UNITS = frozenset({"water", "urban"})
T0 = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def test_logins_are_short_lower_case_words() -> None:
    for good in ("zhang110", "li.si", "w_1", "op-12345"):
        assert login_problem(good) is None, good
    for bad in ("", "a", "Zhang", "li si", "张三", "-x", "x" * 65, "a\n"):
        assert login_problem(bad) is not None, bad


def test_each_role_is_bound_as_the_api_needs() -> None:
    ok = {
        AccountDraft("a1", "管理员", Role.ADMIN),
        AccountDraft("op", "坐席", Role.OPERATOR_110, phone="op110-1"),
        AccountDraft("w1", "值班员", Role.UNIT, unit="water"),
    }
    for draft in ok:
        assert draft_problem(draft, UNITS) is None, draft
    refused = {
        AccountDraft("op", "坐席", Role.OPERATOR_12345): "phone",
        AccountDraft("w1", "值班员", Role.UNIT): "unit",
        AccountDraft("w1", "值班员", Role.UNIT, unit="atlantis"): "unit",
        AccountDraft("s1", "督查", Role.SUPERVISOR, unit="water"): "unit",
        AccountDraft("s1", "督查", Role.SUPERVISOR, phone="op110-1"): "phone",
        AccountDraft("s1", "  ", Role.SUPERVISOR): "name",
        AccountDraft("s1", "服务器", Role.SYSTEM): "role",
        AccountDraft("S 1", "督查", Role.SUPERVISOR): "login",
    }
    for draft, field in refused.items():
        found = draft_problem(draft, UNITS)
        assert found is not None and found[0] == field, draft


def test_passwords_a_guesser_tries_first_are_refused() -> None:
    assert password_problem("长城-Great-Wall-2026", "zhang110") is None
    for weak in ("short-1", "1234567890123", "zhang110-password", "aaaaaaaaaaaa", "x" * 257):
        assert password_problem(weak, "zhang110") is not None, weak


def test_the_fifth_wrong_password_within_the_window_locks_for_a_quarter_hour() -> None:
    failures = NO_FAILURES
    for minute in range(MAX_FAILURES - 1):
        failures = failures.after_failure(T0 + timedelta(minutes=minute))
        assert not failures.locked_at(T0 + timedelta(minutes=minute))
    fifth = T0 + timedelta(minutes=10)
    failures = failures.after_failure(fifth)
    assert failures.locked_at(fifth) and failures.locked_until == fifth + LOCK
    assert not failures.locked_at(fifth + LOCK)


def test_wrong_passwords_spread_wider_than_the_window_never_lock() -> None:
    failures = NO_FAILURES
    for n in range(20):
        at = T0 + n * (WINDOW / (MAX_FAILURES - 1) + timedelta(seconds=1))
        failures = failures.after_failure(at)
        assert not failures.locked_at(at), n


@given(st.lists(st.integers(min_value=0, max_value=3600), min_size=1, max_size=30))
def test_a_lock_comes_only_after_max_failures_within_one_window(gaps: list[int]) -> None:
    failures, at, window_start, count = NO_FAILURES, T0, None, 0
    for gap in gaps:
        at += timedelta(seconds=gap)
        if window_start is None or at - window_start > WINDOW:
            window_start, count = at, 0
        count += 1
        failures = failures.after_failure(at)
        if count == MAX_FAILURES:
            assert failures.locked_until == at + LOCK
            window_start, count = None, 0
        else:
            assert failures.locked_until is None


def test_a_sign_in_holds_until_it_expires_or_ends() -> None:
    expires = T0 + timedelta(hours=12)
    assert still_holds(expires, None, T0) is None
    assert still_holds(expires, None, expires) is Ended.EXPIRED
    assert still_holds(expires, Ended.SIGNED_OUT, T0) is Ended.SIGNED_OUT
