"""The masking rules (common/masking.py): at least half of a number's digits are
hidden whatever its length, words are never masked letter by letter, and a
whole output is masked wherever the caller appears in it."""

from __future__ import annotations

import pytest

from common.masking import HIDDEN, mask_number, masked


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("13912345678", "139******78"),
        ("13900001", "13****01"),
        ("037512345678", "037******678"),
        ("+8613912345678", "+861*******678"),
        ("139 1234-5678", "139******78"),
        ("8101", "8**1"),
        ("110", "1**"),
        ("7", "*"),
        ("anonymous", "anonymous"),
        ("Unknown", "Unknown"),
        ("张三", HIDDEN),
        ("op110-1", HIDDEN),
        ("13912345678 张三", HIDDEN),
        ("", ""),
        (None, None),
    ],
)
def test_mask_number(number: str | None, shown: str | None) -> None:
    assert mask_number(number) == shown


@pytest.mark.parametrize("length", range(1, 25))
def test_at_least_half_of_the_digits_are_hidden_at_any_length(length: int) -> None:
    number = "".join(str(i % 10) for i in range(1, length + 1))
    shown = mask_number(number)
    assert shown is not None and len(shown) == length
    assert shown.count("*") * 2 >= length


def test_a_whole_case_is_masked_wherever_the_caller_appears() -> None:
    case = {
        "number": "20261129-0001",  # the case's own number: not a caller's
        "caller": {"name": "王秘密", "number": "13912345678", "anonymous": True},
        "calls": [{"caller_number": "13912345678", "caller_name": "王秘密", "legs": []}],
        "timeline": [{"data": {"caller_name": "王秘密", "address": "幸福路1号"}}],
    }
    out = masked(case, anonymous=True)
    assert out["number"] == "20261129-0001"
    assert out["caller"] == {"name": "匿名", "number": "139******78", "anonymous": True}
    assert out["calls"][0]["caller_number"] == "139******78"
    assert out["calls"][0]["caller_name"] == "匿名"
    assert out["timeline"][0]["data"] == {"caller_name": "匿名", "address": "幸福路1号"}
    assert case["caller"]["name"] == "王秘密"  # a copy: the original is untouched
    # Not anonymous: the name stays, the number is still masked.
    assert masked(case)["caller"]["name"] == "王秘密"
