"""When a sign-in holds and when an account is locked (pure: every time is passed in).

Lock-out: after MAX_FAILURES wrong passwords within WINDOW the account is
locked for LOCK, whoever types next: a guesser gets five tries a quarter of
an hour. A right password resets the count. An admin can unlock at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


class Ended(StrEnum):
    """Why a sign-in no longer holds (the live feed and a 401 say which)."""

    SIGNED_OUT = "signed_out"
    DISABLED = "disabled"
    EXPIRED = "expired"
    PASSWORD_CHANGED = "password_changed"


@dataclass(frozen=True)
class Failures:
    """An account's recent wrong passwords."""

    count: int = 0
    first_at: datetime | None = None
    locked_until: datetime | None = None

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime) -> Failures:
        """The count after one more wrong password at `now` (locking at the fifth)."""
        if self.first_at is None or now - self.first_at > WINDOW:
            count, first = 1, now  # a new window
        else:
            count, first = self.count + 1, self.first_at
        if count >= MAX_FAILURES:
            return Failures(0, None, now + LOCK)
        return Failures(count, first, None)


NO_FAILURES = Failures()


def still_holds(expires_at: datetime, ended: Ended | None, now: datetime) -> Ended | None:
    """Why a sign-in no longer holds at `now`, or None while it does."""
    if ended is not None:
        return ended
    if now >= expires_at:
        return Ended.EXPIRED
    return None
