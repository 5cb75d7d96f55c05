"""Backoff: doubles, is capped, jitters downwards only, resets."""

from __future__ import annotations

import random

import pytest

from ami_client.backoff import Backoff


def test_delays_double_up_to_the_cap_without_jitter() -> None:
    backoff = Backoff(0.5, 4.0, jitter=0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_jitter_stays_within_a_quarter_below_the_base_and_never_above_the_cap() -> None:
    backoff = Backoff(0.5, 30.0, rng=random.Random(7))
    for _ in range(200):
        base = backoff.base_delay()
        delay = backoff.next_delay()
        assert 0.75 * base <= delay <= base <= 30.0


def test_jitter_actually_varies() -> None:
    delays = set()
    for seed in range(20):
        backoff = Backoff(1.0, 1.0, rng=random.Random(seed))
        delays.add(round(backoff.next_delay(), 6))
    assert len(delays) > 10


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(0.5, 30.0, jitter=0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_very_many_failures_do_not_overflow() -> None:
    backoff = Backoff(0.5, 30.0, jitter=0)
    for _ in range(5000):
        assert backoff.next_delay() <= 30.0


@pytest.mark.parametrize(("initial", "maximum"), [(0, 1), (2, 1), (-1, 1)])
def test_bad_bounds_are_refused(initial: float, maximum: float) -> None:
    with pytest.raises(ValueError):
        Backoff(initial, maximum)
