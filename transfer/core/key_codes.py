"""liandong's in-call key codes, read from the one place they are defined:
the applicationmap of Asterisk's features.conf (`asterisk-config/`).

Asterisk detects them in a two-party bridge (raising `UserEvent: LdKey`);
where nothing detects features (an operator's own Dial, a three-way room) the
server matches the digits as they are released (`KeyDetector`). Which one is
acted on when: `transfer/core/keys.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# ld_key_blind => *1,self,UserEvent(LdKey,Key: blind)
# ld_key_unit_01 => *41,self,UserEvent(LdKey,Key: unit,Unit: 01)
_LINE = re.compile(
    r"^ld_key_\w+\s*=>\s*(?P<code>[0-9*#]+)\s*,\s*self\s*,\s*UserEvent\(LdKey\s*,\s*"
    r"Key:\s*(?P<key>\w+)(?:\s*,\s*Unit:\s*(?P<unit>[0-9]+))?\)\s*$"
)


class KeyCodesError(ValueError):
    """features.conf cannot be read, or its applicationmap has no liandong keys."""


@dataclass(frozen=True, slots=True)
class KeyPress:
    key: str  # blind | attended | cancel | conference | unit
    unit: str | None = None


def load_key_codes(path: Path) -> dict[str, KeyPress]:
    """Code ("*1") -> what it means, from the [applicationmap] section."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyCodesError(f"{path}: cannot read the key codes: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise KeyCodesError(f"{path}: not UTF-8 text: {exc.reason}") from None
    codes: dict[str, KeyPress] = {}
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section != "applicationmap" or not line.startswith("ld_key_"):
            continue
        found = _LINE.match(line)
        if found is None:
            raise KeyCodesError(f"{path}:{number}: not a liandong key: {raw.strip()!r}")
        codes[found["code"]] = KeyPress(found["key"], found["unit"])
    if not codes:
        raise KeyCodesError(f"{path}: no ld_key_* entries in [applicationmap]")
    return codes


class KeyDetector:
    """Matches each channel's digits against the codes as they are pressed.

    A code fires on its last digit if no longer code begins with it; digits
    further apart than `gap_s` start over (Asterisk's featuredigittimeout).
    """

    def __init__(self, codes: dict[str, KeyPress], gap_s: float = 1.5) -> None:
        self.codes = codes
        self.gap_s = gap_s
        self._prefixes = {code[:n] for code in codes for n in range(1, len(code))}
        self._typed: dict[str, tuple[str, float]] = {}  # uniqueid -> (digits, last at)

    def digit(self, uniqueid: str, digit: str, now: float) -> KeyPress | None:
        typed, last = self._typed.get(uniqueid, ("", now))
        typed = (typed if now - last <= self.gap_s else "") + digit
        while typed and typed not in self.codes and typed not in self._prefixes:
            typed = typed[1:]  # not the start of a code: drop the oldest digit
        if typed in self.codes and typed not in self._prefixes:
            self._typed.pop(uniqueid, None)
            return self.codes[typed]
        self._typed[uniqueid] = (typed, now)
        return None

    def forget(self, uniqueid: str) -> None:
        self._typed.pop(uniqueid, None)
