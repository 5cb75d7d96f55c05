"""Reading the county's data files (routing catalogue, unit roster, calendars,
time limits) so that every problem is reported with its file and line.

A bad file is refused whole: the loaders collect every problem they find and
raise one `ConfigFileError` listing them all, so whoever edits the file can
fix it in one pass instead of one error per restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    line: int | None  # 1-based; None when the problem is the file as a whole
    message: str

    def render(self, path: Path | str) -> str:
        return f"{path}:{self.line}: {self.message}" if self.line else f"{path}: {self.message}"


class ConfigFileError(ValueError):
    def __init__(self, path: Path | str, problems: list[Problem]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(p.render(path) for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s), nothing loaded:\n{lines}")


@dataclass
class Problems:
    """Collects problems while a loader walks a file."""

    path: Path | str
    found: list[Problem] = field(default_factory=list)

    def add(self, line: int | None, message: str) -> None:
        self.found.append(Problem(line, message))

    def raise_if_any(self) -> None:
        if self.found:
            raise ConfigFileError(self.path, sorted(self.found, key=lambda p: p.line or 0))


class LineDict(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its keys are."""

    line: int = 0
    key_lines: dict[str, int]
    # With `read_yaml(…, keep_duplicates=True)`: each key written again after
    # its first occurrence, with the line of the repeat (the first value is kept).
    repeated: tuple[tuple[str, int], ...] = ()

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that remembers where it and each of its items are."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(yaml.SafeLoader):
    keep_duplicates = False


class _KeepingLineLoader(_LineLoader):
    keep_duplicates = True


def _mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            if loader.keep_duplicates:
                result.repeated += ((key, key_node.start_mark.line + 1),)
                continue
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(item, deep=True) for item in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [item.start_mark.line + 1 for item in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def read_yaml(path: Path | str, *, keep_duplicates: bool = False) -> Any:
    """The file's YAML with `LineDict` / `LineList` in place of dict / list.

    Unreadable files, bad UTF-8 and YAML syntax errors become a
    `ConfigFileError` with the line where the parser stopped. A key written
    twice in one mapping (which YAML itself would silently resolve to the
    last value) is such an error too, unless `keep_duplicates`: then the
    first value is kept and the repeats are listed in `LineDict.repeated`,
    for a loader that reports them along with its other problems.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigFileError(path, [Problem(None, f"cannot read: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigFileError(path, [Problem(None, f"not UTF-8 text: {exc.reason}")]) from None
    try:
        loader = _KeepingLineLoader if keep_duplicates else _LineLoader
        return yaml.load(text, Loader=loader)  # a SafeLoader subclass: no arbitrary objects
    except ValueError as exc:
        # An impossible date (2026-02-30) escapes the YAML library as a bare ValueError.
        line = _impossible_date_line(text)
        raise ConfigFileError(path, [Problem(line, f"not a real date: {exc}")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigFileError(path, [Problem(line, f"YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(path, [Problem(None, f"YAML: {exc}")]) from None
    except RecursionError:  # the parser recurses once per nested [ { or indented list
        problem = Problem(None, "nested too deeply to read (lists and mappings within each other)")
        raise ConfigFileError(path, [problem]) from None


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _impossible_date_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        for found in _ISO_DATE.finditer(line):
            try:
                date.fromisoformat(found.group())
            except ValueError:
                return number
    return None


def check_keys(data: LineDict, known: tuple[str, ...], problems: Problems) -> None:
    """One problem for each key of `data` not in `known`, on the key's line."""
    for key in data:
        if key not in known:
            problems.add(data.line_of(key), f"unknown key {key!r} (expected {', '.join(known)})")
