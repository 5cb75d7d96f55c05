"""Reading one flow file's fields — prompts, keys, numbers, destinations —
with a problem on the field's own line for every mistake (unknown prompt,
bad key, key used twice, out-of-range timeout, unknown desk, typo in a field
name). Destinations are only collected here, as edges; whether they name a
node is decided once the whole file is read (`flow_graph`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from county.config_file import LineDict, LineList, Problems
from ivr_flows.core.flow_model import (
    HANGUP,
    KEYS,
    NODE_ID,
    OPERATOR,
    OPERATOR_WORDS,
    PROMPT_ID,
    QUEUE_PREFIX,
    Key,
    desk_queue_id,
)

DESTINATION_FORMS = "a node id, operator (or queue), queue:<desk> or hangup"


@dataclass(frozen=True)
class Edge:
    """One way from a node to another: a key, or a way taken with no key
    pressed (`silent`: after the prompts, after the retries, after a lookup)."""

    source: str
    target: str  # a node id, or an implicit node's id (operator, hangup, queue_<desk>)
    line: int
    silent: bool
    written: str  # as the file has it, for messages


@dataclass
class Reader:
    """What every field reader of one file needs: where problems go, the known
    prompt ids and desks, and where the edges found so far are kept."""

    problems: Problems
    prompt_ids: frozenset[str]
    desks: frozenset[str]
    edges: list[Edge] = field(default_factory=list)
    # Some way out could not be read (a missing or bad destination, a node of
    # no known kind): which nodes are reached is then unknown.
    incomplete: bool = False

    def fields(
        self,
        item: LineDict,
        what: str,
        required: tuple[str, ...],
        optional: tuple[str, ...],
        line: int,
    ) -> None:
        """Unknown fields (with the likely meant one), repeated ones, and missing
        ones (reported on `line`, where the mapping is named)."""
        allowed = required + optional
        for key in item:
            if key not in allowed:
                guess = difflib.get_close_matches(key, allowed, n=1)
                hint = f" — did you mean “{guess[0]}”?" if guess else ""
                known = ", ".join(allowed)
                self.add(item.line_of(key), f"{what}: unknown field “{key}”{hint} ({known})")
        for key in required:
            if key not in item:
                self.add(line, f"{what}: “{key}” is required")
        for key, line in item.repeated:
            self.add(line, f"{what}: “{key}” given twice (first on line {item.line_of(key)})")

    def add(self, line: int | None, message: str) -> None:
        self.problems.add(line, message)

    def text(self, item: LineDict, key: str, what: str) -> str:
        value = item.get(key, "")
        if not isinstance(value, str):
            self.add(item.line_of(key), f"{what}: {key}: text is expected")
            return ""
        return value.strip()

    def prompts(self, item: LineDict, key: str, what: str) -> tuple[str, ...]:
        """A prompt id, or a list of them played in order; each must be in the catalogue."""
        if key not in item:
            return ()
        value, line = item[key], item.line_of(key)
        if isinstance(value, str):
            values, lines = [value], [line]
        elif isinstance(value, LineList) and value:
            values, lines = list(value), [value.line_of(i) for i in range(len(value))]
        else:
            self.add(line, f"{what}: {key}: a prompt id or a list of prompt ids is expected")
            return ()
        found: list[str] = []
        for prompt, at in zip(values, lines, strict=True):
            if not isinstance(prompt, str) or prompt not in self.prompt_ids:
                self.add(at, f"{what}: {key}: unknown prompt “{prompt}” (not in the catalogue)")
            elif not PROMPT_ID.fullmatch(prompt):
                self.add(
                    at,
                    f"{what}: {key}: prompt id “{prompt}” cannot be named in the dialplan "
                    "(letters, digits, _ and - only)",
                )
            else:
                found.append(prompt)
        return tuple(found)

    def integer(
        self, item: LineDict, key: str, what: str, default: int, low: int, high: int
    ) -> int:
        value = item.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(item.line_of(key), f"{what}: {key}: a whole number {low}–{high} is expected")
            return default
        return value

    def flag(self, item: LineDict, key: str, what: str) -> bool:
        value = item.get(key, False)
        if not isinstance(value, bool):
            self.add(item.line_of(key), f"{what}: {key}: true or false is expected")
            return False
        return value

    def desk(self, value: Any, line: int, what: str) -> str | None:
        desk = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
        if desk not in self.desks:
            self.add(line, f"{what}: unknown desk “{value}” ({', '.join(sorted(self.desks))})")
            return None
        return desk

    def destination(self, item: LineDict, key: str, source: str, *, silent: bool, what: str) -> str:
        """The node id a destination field leads to (implicit ones included);
        "" when it is missing or malformed (a problem is then added)."""
        if key not in item:
            self.incomplete = True  # `fields` said it is required
            return ""
        return self._destination(item[key], item.line_of(key), source, silent, f"{what}: {key}")

    def _destination(self, value: Any, line: int, source: str, silent: bool, what: str) -> str:
        written = str(value)
        if written in OPERATOR_WORDS:
            target = OPERATOR
        elif written == HANGUP:
            target = HANGUP
        elif isinstance(value, str) and value.startswith(QUEUE_PREFIX):
            desk = self.desk(value.removeprefix(QUEUE_PREFIX), line, what)
            if desk is None:
                self.incomplete = True
                return ""
            target = desk_queue_id(desk)
        elif isinstance(value, str) and NODE_ID.fullmatch(value):
            target = value
        else:
            self.add(line, f"{what}: unknown destination “{written}” ({DESTINATION_FORMS})")
            self.incomplete = True
            return ""
        self.edges.append(Edge(source, target, line, silent, written))
        return target

    def keys(self, item: LineDict, source: str, what: str) -> tuple[Key, ...]:
        """The `keys:` mapping: key → destination, each key once."""
        if "keys" not in item:
            return ()
        table, line = item["keys"], item.line_of("keys")
        if not isinstance(table, LineDict):
            self.add(line, f"{what}: keys: “key: destination” lines are expected")
            self.incomplete = True
            return ()
        for key, at in table.repeated:
            first = table.line_of(key)
            self.add(at, f"{what}: key “{key}” is used twice (first on line {first})")
        found: list[Key] = []
        for key, value in table.items():
            at = table.line_of(key)
            if len(key) != 1 or key not in KEYS:
                self.add(at, f"{what}: bad key “{key}”: one of 0-9, * or # (quote * and #)")
                self.incomplete = True
                continue
            target = self._destination(value, at, source, False, f"{what}: key {key}")
            if target:
                found.append(Key(key, target, at))
        return tuple(found)
