"""Test modules are imported by their file name (the tiers are folders, not
packages): two of the same name in two tiers stop the whole run at
collection. It happened twice in one session; this says so at once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_modules_share_a_name() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []
