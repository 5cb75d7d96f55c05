"""One section of a county YAML file read key by key, every problem on its
line (see `config_file`).

A section may be switched (`enabled: true | false`): when on, every key must
be written; when off, a key left out takes the value of `off`, the settings
the section has when nothing is said (a key that is written is still checked,
so a county switching a feature on later meets no old mistakes). Every reader
returns a usable value (`off`'s after reporting a problem), so one pass over
the file finds all its problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from county.config_file import LineDict, LineList, Problems, check_keys

# What `Section.raw` returns for a key not written.
MISSING: Any = object()


@dataclass
class Section:
    name: str
    data: LineDict
    line: int  # where the section is named: keys it lacks are reported there
    off: Any  # the section's settings when nothing is said (a dataclass)
    required: bool  # every key must be written
    problems: Problems

    def bad(self, key: str, message: str, line: int | None = None) -> None:
        self.problems.add(line or self.data.line_of(key), f"{self.name}.{key}: {message}")

    def raw(self, key: str, expect: str) -> Any:
        """The written value, or `MISSING` (a problem when required)."""
        if key in self.data:
            return self.data[key]
        if self.required:
            self.problems.add(self.line, f"{self.name}.{key}: missing ({expect})")
        return MISSING

    def default(self, key: str) -> Any:
        return getattr(self.off, key)

    def number(self, key: str, low: int, high: int, unit: str = " seconds") -> int:
        expect = f"a whole number {low} to {high}{unit}"
        value = self.raw(key, expect)
        if value is MISSING:
            return int(self.default(key))
        if type(value) is not int or not low <= value <= high:
            self.bad(key, f"{expect}, not {value!r}")
            return int(self.default(key))
        return value

    def flag(self, key: str) -> bool:
        value = self.raw(key, "true or false")
        if value is MISSING:
            return bool(self.default(key))
        if not isinstance(value, bool):
            self.bad(key, f"true or false, not {value!r}")
            return bool(self.default(key))
        return value

    def items(self, key: str, expect: str) -> list[tuple[Any, int]] | None:
        """The list's items with their lines; None when missing or not a list."""
        value = self.raw(key, expect)
        if value is MISSING:
            return None
        if not isinstance(value, LineList):
            self.bad(key, f"a list ({expect}), not {value!r}")
            return None
        return [(item, value.line_of(i)) for i, item in enumerate(value)]

    def once(self, key: str, value: object, line: int, seen: set[Any]) -> bool:
        """False (and a problem) when `value` was already listed under `key`."""
        if value in seen:
            self.bad(key, f"{value} is listed twice", line)
            return False
        seen.add(value)
        return True


def section(
    data: LineDict,
    name: str,
    keys: tuple[str, ...],
    off: Any,
    problems: Problems,
    *,
    switched: bool,
    needed: bool = True,
) -> Section:
    """`data[name]` as a Section; `switched`: it has `enabled` and is required
    only when that is true. A section left out is a problem when `needed`."""
    raw, line = data.get(name), data.line_of(name)
    if raw is None and needed:
        hint = f"write `{name}: {{enabled: false}}` for none" if switched else ", ".join(keys)
        problems.add(line, f"{name}: missing ({hint})")
    elif raw is not None and not isinstance(raw, LineDict):
        problems.add(line, f"{name}: expected a mapping of its settings, not {raw!r}")
    if not isinstance(raw, LineDict):
        empty = LineDict()
        empty.key_lines = {}
        return Section(name, empty, line, off, False, problems)
    check_keys(raw, keys, problems)
    if not switched:
        return Section(name, raw, line, off, True, problems)
    found = Section(name, raw, line, off, False, problems)
    if "enabled" not in raw:
        problems.add(line, f"{name}.enabled: missing (true or false)")
    found.required = found.flag("enabled")
    return found
