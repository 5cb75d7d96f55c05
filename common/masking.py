"""What the masked roles (member units, the supervision bureau) may read of a
caller: one policy, applied once to each whole output (a call, a case with its
calls and timeline, a live event) just before it leaves, so that no field
shaped somewhere else can slip past it.

The rules, for every JSON key anywhere in the output:
- `caller_number` (and a case's `caller.number`) is masked: at least half of
  its digits hidden, whatever its length;
- a caller "number" that is not a number is not masked letter by letter: the
  network's markers for a withheld number (anonymous, unknown, ...) say
  nothing about the caller and pass; any other text (a SIP name, a typed name)
  is hidden whole, since it may identify the caller in words;
- where the case is anonymous (匿名), `caller_name` (and `caller.name`) is
  replaced by 匿名, in the timeline's entries and the case's calls too.
"""

from __future__ import annotations

import re
from typing import Any

ANONYMOUS = "匿名"
HIDDEN = "***"
WITHHELD = frozenset({"anonymous", "unknown", "restricted", "private", "unavailable"})
NUMBER_KEYS = frozenset({"caller_number"})
NAME_KEYS = frozenset({"caller_name"})
_NUMBER = re.compile(r"\+?[0-9]+")


def mask_number(value: str | None) -> str | None:
    """13912345678 → 139******78, 13900001 → 13****01, 8101 → 8**1: the shown
    digits are never more than half, split between the start and the end."""
    if not value:
        return value
    compact = value.replace(" ", "").replace("-", "")
    if not _NUMBER.fullmatch(compact):
        return value if value.strip().lower() in WITHHELD else HIDDEN
    plus, digits = ("+", compact[1:]) if compact.startswith("+") else ("", compact)
    shown = len(digits) // 2
    head, tail = (shown + 1) // 2, shown // 2
    return plus + digits[:head] + "*" * (len(digits) - shown) + digits[len(digits) - tail :]


def masked(value: dict[str, Any], *, anonymous: bool = False) -> dict[str, Any]:
    """`value` (a JSON object: a call, a case, a live event) as a masked role
    may read it; a copy."""
    return {key: _field(key, item, anonymous) for key, item in value.items()}


def _field(key: str, value: Any, anonymous: bool) -> Any:
    if key in NUMBER_KEYS and isinstance(value, str):
        return mask_number(value)
    if key in NAME_KEYS and anonymous and value:
        return ANONYMOUS
    if key == "caller" and isinstance(value, dict):
        return _caller(value, anonymous)
    return _walk(value, anonymous)


def _walk(value: Any, anonymous: bool) -> Any:
    if isinstance(value, list):
        return [_walk(item, anonymous) for item in value]
    if isinstance(value, dict):
        return masked(value, anonymous=anonymous)
    return value


def _caller(caller: dict[str, Any], anonymous: bool) -> dict[str, Any]:
    """A case's `caller` object: {"name", "number", "anonymous"}."""
    out = masked(caller, anonymous=anonymous)
    if isinstance(out.get("number"), str):
        out["number"] = mask_number(out["number"])
    if anonymous:
        out["name"] = ANONYMOUS
    return out
