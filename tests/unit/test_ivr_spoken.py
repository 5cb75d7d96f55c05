"""Data spoken at call time: case numbers, numbers, counts, dates, times, waits,
queue places and case states as prompt ids — checked by the Chinese they spell
out, and against the shipped catalogue (every id they give has a text)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr_flows.core import spoken
from ivr_flows.core.prompt_catalogue import load_catalogue
from records.core.lifecycle import CaseState

CATALOGUE = load_catalogue(
    Path(__file__).resolve().parents[2] / "ivr_flows" / "prompts" / "prompts.yaml"
)


def said(prompt_ids: list[str]) -> str:
    """What a caller hears: the catalogue's texts, one after another."""
    return "".join(CATALOGUE[prompt_id].text for prompt_id in prompt_ids)


def test_a_case_number_digit_by_digit_with_yao() -> None:
    assert said(spoken.digits_of("2026000123")) == "二零二六零零零幺二三"
    assert spoken.digits_of("07") == ["digits/0", "digits/7"]


@pytest.mark.parametrize("bad", ["", "12a", "１２", "-1", "1.5"])
def test_only_ascii_digits_are_read_as_a_case_number(bad: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        spoken.digits_of(bad)


@pytest.mark.parametrize(
    ("n", "chinese"),
    [
        (0, "零"),
        (2, "二"),
        (10, "十"),
        (15, "十五"),
        (20, "二十"),
        (23, "二十三"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (200, "二百"),
        (1005, "一千零五"),
        (1010, "一千零一十"),
        (1200, "一千二百"),
        (10_010, "一万零一十"),
        (20_000, "二万"),
        (99_999, "九万九千九百九十九"),
    ],
)
def test_numbers(n: int, chinese: str) -> None:
    assert said(spoken.number(n)) == chinese


@pytest.mark.parametrize(
    ("n", "chinese"),
    [
        (2, "两"),
        (12, "十二"),
        (22, "二十二"),
        (200, "两百"),
        (2_200, "两千二百"),
        (20_000, "两万"),
        (22_000, "两万二千"),
        (3, "三"),
    ],
)
def test_counts_say_liang_for_a_leading_two(n: int, chinese: str) -> None:
    assert said(spoken.quantity(n)) == chinese


@pytest.mark.parametrize("bad", [-1, 100_000, True, 2.0])
def test_numbers_out_of_range_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="99999"):
        spoken.number(bad)


def test_ordinal_date_and_time() -> None:
    assert said(spoken.ordinal(3)) == "第三"
    assert said(spoken.date(dt.date(2026, 12, 2))) == "二零二六年十二月二日"
    assert said(spoken.date(dt.date(2031, 1, 10))) == "二零三一年一月十日"
    assert said(spoken.time_of_day(dt.time(2, 0))) == "两点"
    assert said(spoken.time_of_day(dt.time(14, 5))) == "十四点零五分"
    assert said(spoken.time_of_day(dt.time(0, 30))) == "零点三十分"


@pytest.mark.parametrize(
    ("seconds", "chinese"),
    [
        (0, "十秒"),
        (7, "十秒"),
        (20, "二十秒"),
        (21, "三十秒"),
        (50, "五十秒"),
        (51, "一分钟"),
        (61, "两分钟"),
        (120, "两分钟"),
        (600, "十分钟"),
    ],
)
def test_an_expected_wait_is_rounded_up(seconds: float, chinese: str) -> None:
    assert said(spoken.wait_time(seconds)) == chinese


def test_queue_place_and_minutes() -> None:
    assert said(spoken.queue_position(2)) == "您前面还有两位"
    assert said(spoken.queue_position(12)) == "您前面还有十二位"
    assert said(spoken.duration_minutes(2)) == "两分钟"


def test_every_case_state_has_its_spoken_text() -> None:
    assert said(spoken.case_state(CaseState.CLOSED)) == "已办结"
    assert said(spoken.case_state(CaseState.SIGNED)).startswith("承办单位已签收")
    for state in CaseState:
        assert CATALOGUE[spoken.state_id(state)].text


def test_the_catalogue_holds_every_id_the_functions_can_give() -> None:
    assert CATALOGUE.missing(spoken.SPOKEN_IDS) == []


@given(
    n=st.integers(0, spoken.MAX_NUMBER),
    digits=st.text("0123456789", min_size=1, max_size=20),
    day=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
    at=st.times(),
    wait=st.floats(0, 100_000 * 60 - 60, allow_nan=False),
)
def test_every_output_uses_only_ids_of_the_catalogue(
    n: int, digits: str, day: dt.date, at: dt.time, wait: float
) -> None:
    outputs = [
        spoken.number(n),
        spoken.quantity(n),
        spoken.ordinal(n),
        spoken.queue_position(n),
        spoken.duration_minutes(n),
        spoken.digits_of(digits),
        spoken.date(day),
        spoken.time_of_day(at),
        spoken.wait_time(wait),
    ]
    for ids in outputs:
        assert ids and set(ids) <= spoken.SPOKEN_IDS <= CATALOGUE.keys()


@given(st.integers(0, spoken.MAX_NUMBER))
def test_a_number_reads_back_to_itself(n: int) -> None:
    assert _value(said(spoken.number(n))) == n
    assert _value(said(spoken.quantity(n)).replace("两", "二")) == n


def _value(chinese: str) -> int:
    """An independent reader of 0..99999 in characters, to check the readings."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    places = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
    total, digit = 0, None
    for char in chinese:
        if char in digits:
            digit = digits[char]
        else:
            total += (1 if digit is None else digit) * places[char]
            digit = None
    return total + (digit or 0)
