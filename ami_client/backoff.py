"""Capped exponential backoff with jitter, as a tiny pure object (randomness injected)."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays initial, 2*initial, 4*initial ... capped at maximum, each shaved by up to
    `jitter` (a fraction) so that many clients restarted together do not reconnect in step.
    Never exceeds `maximum`. `reset()` after a good login."""

    def __init__(
        self,
        initial: float,
        maximum: float,
        *,
        jitter: float = 0.25,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < initial <= maximum:
            raise ValueError(f"need 0 < initial <= maximum, got {initial}, {maximum}")
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {jitter}")
        self._initial = initial
        self._maximum = maximum
        self._jitter = jitter
        self._rng = rng or random.Random()
        self._failures = 0

    @property
    def failures(self) -> int:
        return self._failures

    def base_delay(self) -> float:
        """The next delay before jitter."""
        # Cap the exponent too: 2**1000 is fine for ints but not for floats.
        return min(self._maximum, self._initial * 2.0 ** min(self._failures, 62))

    def next_delay(self) -> float:
        delay = self.base_delay() * (1 - self._jitter * self._rng.random())
        self._failures += 1
        return delay

    def reset(self) -> None:
        self._failures = 0
