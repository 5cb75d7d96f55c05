"""The member-unit roster (成员单位名册): every township government and county
department a case can be dispatched to, and whom there to phone at any hour.

The county document (seed §二(四)2-3) asks each unit for one leader in charge
(分管领导), one office (承办科室) and one staff contact (专兼职工作人员), all
reachable 24 hours, so each of the three must come with a phone.

The file is a CSV that county staff keep in Excel or WPS: a BOM is accepted and
the type may be written in Chinese. `load_roster` refuses a bad file whole,
listing every problem with its line, so it can be fixed in one pass.
`Roster.digest` and `Roster.changes_from` let the server see what a reload
changed and keep the roster's history.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path

from county.case_words import UnitType
from county.config_file import ConfigFileError, Problem, Problems

OPTIONAL_COLUMNS = frozenset({"duty_phone", "line"})
# Each person the document asks for, with the column holding their phone.
CONTACTS = (("leader", "leader_phone"), ("office", "office_phone"), ("staff", "staff_phone"))
PHONE_COLUMNS = ("leader_phone", "office_phone", "staff_phone", "duty_phone")

CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
# The unit's phone line on the PBX: endpoint unit-<line>, transfer target unit:<line>.
LINE = re.compile(r"[0-9]{1,6}")
PHONE = re.compile(r"\+?[0-9]+(?:-[0-9]+)*")
# Several phones in one cell: ASCII or full-width semicolon, or the Chinese 、.
PHONE_SEPARATOR = re.compile(r"[;；、]")
TYPE_NAMES = {
    "township": UnitType.TOWNSHIP,
    "department": UnitType.DEPARTMENT,
    "other": UnitType.OTHER,
    "乡镇": UnitType.TOWNSHIP,
    "部门": UnitType.DEPARTMENT,
    "其他": UnitType.OTHER,
}


@dataclass(frozen=True)
class Unit:
    """One member unit; phone fields hold one or more numbers in file order."""

    code: str
    name: str
    type: UnitType
    township: str | None  # the township a township unit covers (its own code)
    leader: str
    leader_phone: tuple[str, ...]
    office: str
    office_phone: tuple[str, ...]
    staff: str
    staff_phone: tuple[str, ...]
    duty_phone: tuple[str, ...] = ()
    line: str | None = None  # its phone line on the PBX ("04": endpoint unit-04, key *44)


# The CSV's columns are the unit's fields, in the same order.
COLUMNS = tuple(f.name for f in fields(Unit))


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class UnitChange:
    """One unit's difference between two rosters; `fields` names changed columns."""

    kind: ChangeKind
    code: str
    fields: tuple[str, ...] = ()
    before: Unit | None = None
    after: Unit | None = None


@dataclass(frozen=True, eq=False)
class Roster:
    """The units by code, in file order. Compare rosters by `digest`."""

    units: dict[str, Unit]
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        # Hash the parsed content, not the bytes: re-saving the file from Excel
        # (BOM, line endings, row order) is not a change.
        canonical = [asdict(self.units[code]) for code in sorted(self.units)]
        text = json.dumps(canonical, ensure_ascii=False, sort_keys=True)
        object.__setattr__(self, "digest", hashlib.sha256(text.encode()).hexdigest())

    def get(self, code: str) -> Unit | None:
        return self.units.get(code)

    def on_line(self, line: str) -> Unit | None:
        """The unit whose PBX line this is."""
        return next((u for u in self.units.values() if u.line == line), None)

    def townships(self) -> dict[str, Unit]:
        """Township code → the township unit covering it."""
        return {u.township: u for u in self.units.values() if u.township is not None}

    def changes_from(self, older: Roster) -> list[UnitChange]:
        """What changed from `older` to this roster, one entry per unit, by code."""
        changes: list[UnitChange] = []
        for code in sorted(self.units.keys() | older.units.keys()):
            before, after = older.units.get(code), self.units.get(code)
            if before is None:
                changes.append(UnitChange(ChangeKind.ADDED, code, after=after))
            elif after is None:
                changes.append(UnitChange(ChangeKind.REMOVED, code, before=before))
            elif before != after:
                changed = _changed_fields(before, after)
                changes.append(UnitChange(ChangeKind.CHANGED, code, changed, before, after))
        return changes


def _changed_fields(before: Unit, after: Unit) -> tuple[str, ...]:
    return tuple(f.name for f in fields(Unit) if getattr(before, f.name) != getattr(after, f.name))


def load_roster(path: Path | str) -> Roster:
    """The roster in the CSV at `path`; `ConfigFileError` lists every problem."""
    problems = Problems(path)
    rows = _rows(_read_text(path), problems)
    first = next(rows, None)
    if first is None:
        empty = "empty file: a header row and at least one unit are needed"
        raise ConfigFileError(path, problems.found or [Problem(None, empty)])
    columns = _header(*first, problems)
    units: dict[str, Unit] = {}
    code_lines: dict[str, int] = {}
    pbx_lines: dict[str, int] = {}
    seen_rows = 0
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue  # blank lines and Excel's trailing ",,,,"
        seen_rows += 1
        if columns is None:
            continue  # no use checking rows against a broken header
        if len(row) != len(columns):
            problems.add(line, f"expected {len(columns)} fields, found {len(row)}")
            continue
        values = {name: cell.strip() for name, cell in zip(columns, row, strict=True)}
        unit = _unit(line, values, problems)
        code = values["code"]
        if code in code_lines:
            problems.add(line, f"duplicate code “{code}” (first on line {code_lines[code]})")
        elif unit is not None:
            units[code] = unit
        if CODE.fullmatch(code):
            code_lines.setdefault(code, line)
        if pbx_line := values.get("line", ""):
            if pbx_line in pbx_lines:
                taken = f"PBX line “{pbx_line}” is already a unit's (on line {pbx_lines[pbx_line]})"
                problems.add(line, taken)
            pbx_lines.setdefault(pbx_line, line)
    if not seen_rows:
        problems.add(None, "no units in the file")
    problems.raise_if_any()
    return Roster(units)


def _read_text(path: Path | str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigFileError(path, [Problem(None, f"cannot read: {exc.strerror}")]) from None
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = "not UTF-8 text (save it as “CSV UTF-8”)"
        raise ConfigFileError(path, [Problem(line, hint)]) from None


def _rows(text: str, problems: Problems) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on (quoted cells may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.add(start, f"CSV: {exc}")
            return
        yield start, row
        start = reader.line_num + 1


def _header(line: int, row: list[str], problems: Problems) -> list[str] | None:
    """The column names in file order, or None when the header is unusable."""
    names = [cell.strip().lower() for cell in row]
    ok = True
    for index, name in enumerate(names):
        if name not in COLUMNS:
            problems.add(line, f"unknown column “{name}” in the header (column {index + 1})")
            ok = False
        elif names.index(name) != index:
            problems.add(line, f"column “{name}” appears twice in the header")
            ok = False
    missing = [c for c in COLUMNS if c not in names and c not in OPTIONAL_COLUMNS]
    if missing:
        problems.add(line, f"header lacks column(s): {', '.join(missing)}")
        ok = False
    return names if ok else None


def _unit(line: int, values: dict[str, str], problems: Problems) -> Unit | None:
    """The row as a unit, or None after adding its problems."""
    before = len(problems.found)
    code, name = values["code"], values["name"]
    if not CODE.fullmatch(code):
        problems.add(line, f"bad code “{code}”: 1-32 letters, digits, _ or -")
    if not name:
        problems.add(line, "empty name")
    unit_type = TYPE_NAMES.get(values["type"].lower())
    if unit_type is None:
        problems.add(
            line, f"bad type “{values['type']}”: township/department/other (乡镇/部门/其他)"
        )
    township = values["township"] or None
    if unit_type is UnitType.TOWNSHIP and township != code:
        problems.add(line, f"a township unit's township must be its own code “{code}”")
    elif unit_type is not UnitType.TOWNSHIP and township is not None:
        problems.add(line, "township is only for township units; leave it empty")
    phones = {col: _phones(line, col, values.get(col, ""), problems) for col in PHONE_COLUMNS}
    pbx_line = values.get("line") or None
    if pbx_line is not None and not LINE.fullmatch(pbx_line):
        problems.add(line, f"bad line “{pbx_line}”: the PBX line's 1-6 digits, as in unit-04")
    for person, phone in CONTACTS:
        if not values[person]:
            problems.add(line, f"missing {person} (the document asks for one, reachable 24 h)")
        if not phones[phone]:
            problems.add(line, f"missing {phone}")
    if len(problems.found) > before or unit_type is None:
        return None
    return Unit(
        code,
        name,
        unit_type,
        township,
        values["leader"],
        phones["leader_phone"],
        values["office"],
        phones["office_phone"],
        values["staff"],
        phones["staff_phone"],
        phones["duty_phone"],
        pbx_line,
    )


def _phones(line: int, column: str, cell: str, problems: Problems) -> tuple[str, ...]:
    """The phones in a cell; bad ones are reported (and still count as given)."""
    phones = tuple(p.strip() for p in PHONE_SEPARATOR.split(cell) if p.strip())
    for phone in phones:
        digits = sum(ch.isdigit() for ch in phone)
        if not PHONE.fullmatch(phone) or not 3 <= digits <= 20:
            problems.add(line, f"{column}: “{phone}” is not a phone number")
    return phones
