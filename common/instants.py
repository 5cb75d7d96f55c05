"""One reader for the times people type: query parameters (`since`, `at`,
`from`, `to`) and body fields (an e-reply's `finished_at`) all go through
`parse_instant`, so they all refuse the same things with the same words.

Python's datetime stops at years 1 and 9999: `0001-01-01T00:00:00+01:00`
parses but cannot be turned into UTC, and a time in the last day of 9999
overflows as soon as it is shown in county time or a day is added to it.
Such a time means nothing to a county hotline, so it is refused here rather
than failing later, deep in a query or a serializer.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# A day of margin either side: any UTC offset, and a day's arithmetic, still fit.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
# An unescaped '+' in a query string arrives as a space, so '?since=
# 2026-11-29T08:00:00+08:00' (as typed, and as our own error message suggests)
# reads '... 08:00'. The space before a trailing UTC offset can only be its '+'.
_PLUS_AS_SPACE = re.compile(r"(?<=\d) (?=\d{2}(?::?\d{2})?$)")


class BadInstant(ValueError):
    """Why a text is not a usable time; the caller names the field."""


def iso(value: datetime | None) -> str | None:
    """A time as every output writes it: UTC, milliseconds, `Z`."""
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z") if value else None


def parse_instant(text: str, *, plus_as_space: bool = False) -> datetime:
    """`text` as an aware datetime in UTC; BadInstant says what is wrong.
    `plus_as_space`: read a space before a trailing offset as its '+' (query strings)."""
    normalised = text.replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(normalised)
    except ValueError:
        if not plus_as_space:
            raise BadInstant(f"not an ISO 8601 time: {text!r}") from None
        try:
            value = datetime.fromisoformat(_PLUS_AS_SPACE.sub("+", normalised))
        except ValueError:
            raise BadInstant(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise BadInstant("give a time zone (e.g. 2026-11-29T08:00:00+08:00)")
    return to_utc(value, text)


def to_utc(value: datetime, shown: str) -> datetime:
    """An aware `value` in UTC, if it is within EARLIEST..LATEST; `shown` is what
    the user typed, for the message."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        first, last = EARLIEST.date().isoformat(), LATEST.date().isoformat()
        raise BadInstant(f"out of range: {shown!r} (from {first} to {last} UTC)")
    return utc
