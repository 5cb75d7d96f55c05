"""Transfer targets as the API and the keys give them: "110", "12345", "unit:<code>"."""

from __future__ import annotations

import pytest

from common.vocabulary import Desk
from transfer.core.errors import BadTarget
from transfer.core.target import Target, parse_target


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("110", Target(desk=Desk.D110)),
        ("12345", Target(desk=Desk.D12345)),
        ("unit:07", Target(unit="07")),
        ("unit:7", Target(unit="7")),
        ("unit:123456", Target(unit="123456")),
    ],
)
def test_parse_and_print_back(text: str, target: Target) -> None:
    assert parse_target(text) == target
    assert str(target) == text


def test_a_unit_code_keeps_its_leading_zero() -> None:
    assert parse_target("unit:07") != parse_target("unit:7")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("119", "neither a desk nor a unit"),
        ("", "neither a desk nor a unit"),
        ("12345 ", "spaces"),
        (" 110", "spaces"),
        ("unit:", "1 to 6 digits"),
        ("unit:ab", "1 to 6 digits"),
        ("unit:1234567", "1 to 6 digits"),
        ("unit:０７", "1 to 6 digits"),  # full-width digits are digits to str.isdigit()
        ("unit:07 ", "1 to 6 digits"),
        ("UNIT:07", "neither a desk nor a unit"),
        ("desk:110", "neither a desk nor a unit"),
    ],
)
def test_anything_else_is_a_bad_target_with_a_clear_message(text: str, why: str) -> None:
    with pytest.raises(BadTarget) as bad:
        parse_target(text)
    assert bad.value.text == text and why in str(bad.value)
    assert repr(text) in str(bad.value) and '"unit:<code>"' in str(bad.value)
    assert bad.value.code == "bad_target"


@pytest.mark.parametrize("kwargs", [{}, {"desk": Desk.D110, "unit": "07"}, {"unit": "7a"}], ids=str)
def test_a_target_is_exactly_one_valid_desk_or_unit(kwargs: dict[str, object]) -> None:
    with pytest.raises(BadTarget):
        Target(**kwargs)  # type: ignore[arg-type]
