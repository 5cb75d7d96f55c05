"""The routing catalogue's entries and how they are read from YAML.

Kept apart from `routing` (which decides a suggestion) so that each stays
short. Every problem is collected with its line; nothing is half-loaded. The
file format is documented at the top of `case-config/routing.yaml`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from county.case_words import DemandType
from county.config_file import LineDict, LineList, Problems
from county.roster import CODE, PHONE

TOWNSHIP_LEAD = "@township"  # "the township unit of the case's township"


def normalize(text: str) -> str:
    """What keywords are matched against: NFKC (full-width → half-width), no
    whitespace, case-folded — so typing habits don't change the outcome."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


@dataclass(frozen=True)
class Keyword:
    """A word to find in the text; "A+B" means A and B both occur, in any order."""

    text: str
    parts: tuple[str, ...]

    def found_in(self, normalized_text: str) -> bool:
        return all(part in normalized_text for part in self.parts)


@dataclass(frozen=True)
class UnitRef:
    """A unit or township code a category names, with its line for cross-checks."""

    line: int
    code: str
    township: bool  # True: a township code (a by_township key); False: a unit code


@dataclass(frozen=True)
class PoliceRule:
    code: str
    name: str
    demand: DemandType
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True)
class Exclusion:
    code: str
    name: str
    keywords: tuple[Keyword, ...]
    answer: str  # 话术 the operator reads to the caller
    transfer_to: str | None = None  # the emergency number to hand the call to


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    keywords: tuple[Keyword, ...]
    lead: str | None  # unit code or TOWNSHIP_LEAD; None only for answerable enquiries
    by_township: dict[str, str] = field(default_factory=dict)  # township → lead unit
    co_units: tuple[str, ...] = ()
    utility: bool = False  # water / power / gas / heating: 24 h feedback limit
    answerable: bool = False  # a pure enquiry the desk answers itself
    refs: tuple[UnitRef, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class AmbiguousRule:
    code: str
    name: str
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True)
class Entries:
    version: str
    police: tuple[PoliceRule, ...]
    exclusions: tuple[Exclusion, ...]
    categories: tuple[Category, ...]
    ambiguous: tuple[AmbiguousRule, ...]


_COMMON = {"code", "name", "keywords"}
_KEYS = {  # section → (required keys, optional keys)
    "police": (_COMMON | {"demand"}, set()),
    "exclusions": (_COMMON | {"answer"}, {"transfer_to"}),
    "categories": (_COMMON, {"lead", "by_township", "co_units", "utility", "answerable"}),
    "ambiguous": (_COMMON, set()),
}
_E = TypeVar("_E")


def parse_entries(data: Any, problems: Problems) -> Entries | None:
    """The catalogue in `data` (from `read_yaml`), or None with problems added."""
    if not isinstance(data, LineDict):
        problems.add(None, "the file must be a YAML mapping with version: and the sections")
        return None
    for key in data:
        if key != "version" and key not in _KEYS:
            problems.add(data.line_of(key), f"unknown key “{key}”")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.add(data.line_of("version"), "version: a quoted, non-empty string is required")
    seen: dict[str, int] = {}  # code → line: codes are unique across all sections
    entries = Entries(
        str(version).strip(),
        _section(data, "police", seen, problems, _police),
        _section(data, "exclusions", seen, problems, _exclusion),
        _section(data, "categories", seen, problems, _category),
        _section(data, "ambiguous", seen, problems, _ambiguous),
    )
    return None if problems.found else entries


_Parse = Callable[[LineDict, Problems], _E | None]


def _section(
    data: LineDict, name: str, seen: dict[str, int], problems: Problems, parse: _Parse[_E]
) -> tuple[_E, ...]:
    items = data.get(name)
    if items is None:
        return ()
    if not isinstance(items, LineList):
        problems.add(data.line_of(name), f"{name}: a list of entries is expected")
        return ()
    required, optional = _KEYS[name]
    parsed: list[_E] = []
    for index, item in enumerate(items):
        if not isinstance(item, LineDict):
            problems.add(items.line_of(index), f"{name}: each entry must be a mapping")
            continue
        for key in item.keys() - required - optional:
            problems.add(item.line_of(key), f"{name}: unknown key “{key}”")
        for key in sorted(required - item.keys()):
            problems.add(item.line, f"{name}: entry lacks “{key}”")
        _check_code(item, seen, problems)
        entry = parse(item, problems)  # even when keys lack: the other problems are wanted too
        if entry is not None:
            parsed.append(entry)
    return tuple(parsed)


def _check_code(item: LineDict, seen: dict[str, int], problems: Problems) -> None:
    code = item.get("code")
    if code is None:
        return
    line = item.line_of("code")
    if not isinstance(code, str) or not CODE.fullmatch(code):
        problems.add(line, f"bad code “{code}”: 1-32 letters, digits, _ or -")
    elif code in seen:
        problems.add(line, f"duplicate code “{code}” (first on line {seen[code]})")
    else:
        seen[code] = line


# The field readers stay quiet about absent keys: `_section` reported them.


def _text(item: LineDict, key: str, problems: Problems) -> str:
    value = item.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if key in item:
        problems.add(item.line_of(key), f"{key}: non-empty text is expected")
    return ""


def _keywords(item: LineDict, problems: Problems) -> tuple[Keyword, ...]:
    words = item.get("keywords")
    line = item.line_of("keywords")
    if "keywords" not in item:
        return ()
    if not isinstance(words, LineList) or not words:
        problems.add(line, "keywords: a non-empty list is expected")
        return ()
    found: list[Keyword] = []
    for index, word in enumerate(words):
        parts = normalize(word).split("+") if isinstance(word, str) else []
        if all(parts) and parts:
            found.append(Keyword(word.strip(), tuple(parts)))
        else:
            problems.add(words.line_of(index), f"keywords: empty or malformed keyword “{word}”")
    return tuple(found)


def _police(item: LineDict, problems: Problems) -> PoliceRule | None:
    name, words = _text(item, "name", problems), _keywords(item, problems)
    demand = item.get("demand")
    police = [d.value for d in DemandType if d.is_police]
    if demand not in police:
        if "demand" in item:
            problems.add(item.line_of("demand"), f"demand “{demand}”: one of {', '.join(police)}")
        return None
    return PoliceRule(str(item.get("code")), name, DemandType(demand), words)


def _exclusion(item: LineDict, problems: Problems) -> Exclusion:
    phone = item.get("transfer_to")
    # Quoted on purpose: YAML would read 0375… as an octal number.
    if "transfer_to" in item and not (isinstance(phone, str) and PHONE.fullmatch(phone)):
        problems.add(item.line_of("transfer_to"), "transfer_to: a quoted phone number is expected")
    name, words = _text(item, "name", problems), _keywords(item, problems)
    answer = _text(item, "answer", problems)
    return Exclusion(str(item.get("code")), name, words, answer, phone)


def _ambiguous(item: LineDict, problems: Problems) -> AmbiguousRule:
    name, words = _text(item, "name", problems), _keywords(item, problems)
    return AmbiguousRule(str(item.get("code")), name, words)


def _category(item: LineDict, problems: Problems) -> Category:
    name, words = _text(item, "name", problems), _keywords(item, problems)
    utility, answerable = _flag(item, "utility", problems), _flag(item, "answerable", problems)
    refs: list[UnitRef] = []
    lead = None
    if "lead" in item:
        lead = _unit(item["lead"], item.line_of("lead"), refs, problems)
    elif not answerable:
        problems.add(item.line, "categories: lead is required unless answerable: true")
    return Category(
        str(item.get("code")),
        name,
        words,
        lead,
        _by_township(item, refs, problems),
        _co_units(item, refs, problems),
        utility,
        answerable,
        tuple(refs),
    )


def _by_township(item: LineDict, refs: list[UnitRef], problems: Problems) -> dict[str, str]:
    table = item.get("by_township")
    if table is None:
        return {}
    if not isinstance(table, LineDict):
        problems.add(item.line_of("by_township"), "by_township: township: unit lines expected")
        return {}
    leads: dict[str, str] = {}
    for township, unit in table.items():
        line = table.line_of(township)
        if not CODE.fullmatch(township):
            problems.add(line, f"by_township: bad township code “{township}”")
        refs.append(UnitRef(line, township, township=True))
        leads[township] = _unit(unit, line, refs, problems) or ""
    return leads


def _co_units(item: LineDict, refs: list[UnitRef], problems: Problems) -> tuple[str, ...]:
    units = item.get("co_units")
    if units is None:
        return ()
    if not isinstance(units, LineList):
        problems.add(item.line_of("co_units"), "co_units: a list of unit codes is expected")
        return ()
    found = [_unit(u, units.line_of(i), refs, problems) for i, u in enumerate(units)]
    return tuple(u for u in found if u)


def _unit(value: Any, line: int, refs: list[UnitRef], problems: Problems) -> str | None:
    """A unit code (remembered for the roster check) or TOWNSHIP_LEAD."""
    if value == TOWNSHIP_LEAD:
        return TOWNSHIP_LEAD
    if isinstance(value, str) and CODE.fullmatch(value):
        refs.append(UnitRef(line, value, township=False))
        return value
    problems.add(line, f"“{value}” is neither a unit code nor {TOWNSHIP_LEAD}")
    return None


def _flag(item: LineDict, key: str, problems: Problems) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        problems.add(item.line_of(key), f"{key}: true or false expected")
        return False
    return value
