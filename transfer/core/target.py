"""Where a caller is handed: the other desk ("110", "12345") or a member unit."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from common.vocabulary import Desk
from transfer.core.errors import BadTarget

UNIT_PREFIX = "unit:"
# ASCII digits only: str.isdigit() would also take full-width and other scripts' digits.
_UNIT_CODE = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True, slots=True)
class Target:
    """Exactly one of `desk` or `unit`. A unit code is kept as written ("07" is not "7")."""

    desk: Desk | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        if (self.desk is None) == (self.unit is None):
            raise BadTarget(f"desk={self.desk}, unit={self.unit}", "give one of a desk or a unit")
        if self.unit is not None and not _UNIT_CODE.fullmatch(self.unit):
            raise BadTarget(UNIT_PREFIX + self.unit, "the unit code must be 1 to 6 digits")

    def __str__(self) -> str:
        return self.desk.value if self.desk is not None else f"{UNIT_PREFIX}{self.unit}"


def parse_target(text: str) -> Target:
    """ "110", "12345" or "unit:<code>", exactly (no spaces, no other numbers)."""
    if text in (Desk.D110.value, Desk.D12345.value):
        return Target(desk=Desk(text))
    if text.startswith(UNIT_PREFIX):
        code = text.removeprefix(UNIT_PREFIX)
        if not _UNIT_CODE.fullmatch(code):
            raise BadTarget(text, "the unit code must be 1 to 6 digits")
        return Target(unit=code)
    if text.strip() != text:
        raise BadTarget(text, "it has spaces around it")
    raise BadTarget(text, "it is neither a desk nor a unit")


def check_unit_line(target: Target, line_known: Callable[[str], bool] | None) -> None:
    """A unit target must be a line the roster has: Asterisk would otherwise be
    asked to ring an endpoint that does not exist. None: no roster to check against."""
    if target.unit is not None and line_known is not None and not line_known(target.unit):
        raise BadTarget(str(target), f"no unit of the roster is on PBX line {target.unit}")
