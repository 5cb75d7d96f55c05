"""Data spoken at call time, as lists of prompt ids played one after another:
a case number digit by digit, a number, a date, a time of day, a wait, a place
in the queue, a case's state.

Readings follow how a Chinese hotline says them: 23 二十三, 10 十, 105 一百零五,
1010 一千零一十; a count before a measure word says 两 for 2 (两位, 两分钟,
两百); a case number is read digit by digit with 1 as 幺 (二零二六零零零幺二三);
a year digit by digit with 1 as 一 (二零二六年). Every id these functions can
give is in `SPOKEN_IDS`, which the prompt catalogue must hold.
"""

from __future__ import annotations

import datetime as dt
import math

from records.core.lifecycle import CaseState

DIGIT_IDS = tuple(f"digits/{d}" for d in range(10))
YAO = "digits/yao"  # 幺
LIANG = "digits/liang"  # 两
TEN, HUNDRED, THOUSAND, TEN_THOUSAND = (
    "number/ten",
    "number/hundred",
    "number/thousand",
    "number/ten_thousand",
)
ORDINAL = "number/ordinal"  # 第
YEAR, MONTH, DAY = "date/year", "date/month", "date/day"
HOUR, MINUTE_OF_HOUR = "time/hour", "time/minute"  # 点, 分
MINUTES, SECONDS = "unit/minute", "unit/second"  # 分钟, 秒
QUEUE_AHEAD, QUEUE_PERSON = "queue/ahead", "queue/person"  # 您前面还有 … 位
MAX_NUMBER = 99_999
_PLACES = ((10_000, TEN_THOUSAND), (1_000, THOUSAND), (100, HUNDRED), (10, TEN), (1, None))


def state_id(state: CaseState) -> str:
    return f"state/{state.value}"


SPOKEN_IDS = frozenset(
    {*DIGIT_IDS, YAO, LIANG, TEN, HUNDRED, THOUSAND, TEN_THOUSAND, ORDINAL}
    | {YEAR, MONTH, DAY, HOUR, MINUTE_OF_HOUR, MINUTES, SECONDS, QUEUE_AHEAD, QUEUE_PERSON}
    | {state_id(state) for state in CaseState}
)


def digits_of(text: str) -> list[str]:
    """A case or phone number digit by digit, 1 as 幺."""
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"not a string of digits: {text!r}")
    return [YAO if d == "1" else DIGIT_IDS[int(d)] for d in text]


def number(n: int) -> list[str]:
    """0..99999 read as a number: 二十三, 十, 一百零五, 二百."""
    return _reading(n, counting=False)


def quantity(n: int) -> list[str]:
    """0..99999 read as a count before a measure word: 两 for a leading 2 (两位, 两百)."""
    return _reading(n, counting=True)


def ordinal(n: int) -> list[str]:
    """第 and the number: 第三."""
    return [ORDINAL, *number(n)]


def date(day: dt.date) -> list[str]:
    """二零二六年十二月二日."""
    year = [DIGIT_IDS[int(d)] for d in f"{day.year:04d}"]
    return [*year, YEAR, *number(day.month), MONTH, *number(day.day), DAY]


def time_of_day(at: dt.time) -> list[str]:
    """两点, 十四点零五分, 十四点三十分 (hours and minutes; seconds are not said)."""
    said = [*quantity(at.hour), HOUR]
    if at.minute:
        zero = [DIGIT_IDS[0]] if at.minute < 10 else []
        said += [*zero, *number(at.minute), MINUTE_OF_HOUR]
    return said


def duration_minutes(minutes: int) -> list[str]:
    """两分钟."""
    return [*quantity(minutes), MINUTES]


def wait_time(seconds: float) -> list[str]:
    """An expected wait, rounded up: under a minute in tens of seconds (三十秒),
    then in whole minutes (两分钟). Never "zero": at least 十秒."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"not a wait: {seconds!r}")
    if seconds <= 50:
        return [*quantity(max(10, math.ceil(seconds / 10) * 10)), SECONDS]
    return duration_minutes(math.ceil(seconds / 60))


def queue_position(ahead: int) -> list[str]:
    """您前面还有 两 位."""
    return [QUEUE_AHEAD, *quantity(ahead), QUEUE_PERSON]


def case_state(state: CaseState) -> list[str]:
    """The state as a caller hears it (state/<state>: 已办结 …)."""
    return [state_id(state)]


def _reading(n: int, *, counting: bool) -> list[str]:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"a number 0..{MAX_NUMBER} can be said, not {n!r}")
    if n == 0:
        return [DIGIT_IDS[0]]
    if counting and n == 2:
        return [LIANG]
    said: list[str] = []
    zero_pending = False
    for value, place in _PLACES:
        digit = n // value % 10
        if digit == 0:
            zero_pending = zero_pending or bool(said)  # 一百零五; none at the end (一千二百)
            continue
        if zero_pending:
            said.append(DIGIT_IDS[0])
            zero_pending = False
        if place == TEN and digit == 1 and not said:
            pass  # 十, 十五: no 一 before a leading 十
        elif counting and digit == 2 and not said and value >= 100:
            said.append(LIANG)  # 两百, 两千, 两万
        else:
            said.append(DIGIT_IDS[digit])
        if place is not None:
            said.append(place)
    return said
