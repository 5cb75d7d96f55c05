"""The member-unit roster: the shipped 宝丰县 file, every refusal with its line,
Excel's BOM, and what a reload changed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from county.case_words import UnitType
from county.config_file import ConfigFileError
from county.roster import COLUMNS, ChangeKind, Unit, load_roster

SHIPPED = Path(__file__).resolve().parents[2] / "case-config" / "units.csv"
# Without the optional `line` column: files from before it still load.
HEADER = ",".join(c for c in COLUMNS if c != "line")
TOWNSHIP = (
    "daying,大营镇,township,daying,张某某,13800000001,党政办公室,0375-00000002,李某,13900000003,"
)
WATER = (
    "water,宝丰县自来水公司,other,,王某某,13800000011,客户服务中心,0375-00000012,赵某,13900000013,"
)


def write(tmp_path: Path, *lines: str, bom: bool = False, encoding: str = "utf-8") -> Path:
    path = tmp_path / "units.csv"
    text = ("\ufeff" if bom else "") + "\n".join(lines) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def refusal(path: Path) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigFileError) as refused:
        load_roster(path)
    return [(p.line, p.message) for p in refused.value.problems]


def test_the_shipped_roster_loads_with_its_townships_and_departments() -> None:
    roster = load_roster(SHIPPED)
    townships = roster.townships()
    assert {"chengguan", "daying", "zhaozhuang", "xiaoqi", "guanyintang"} <= townships.keys()
    assert len(townships) == 13
    assert all(unit.code == code for code, unit in townships.items())
    departments = [u for u in roster.units.values() if u.type is UnitType.DEPARTMENT]
    assert len(departments) >= 12
    assert {"water", "power", "gas", "housing", "urban", "market", "hrss"} <= roster.units.keys()


def test_the_shipped_people_and_phones_are_placeholders() -> None:
    for unit in load_roster(SHIPPED).units.values():
        assert all("某" in person for person in (unit.leader, unit.staff)), unit.code
        phones = unit.leader_phone + unit.office_phone + unit.staff_phone + unit.duty_phone
        assert all(re.fullmatch(r"0375-0000\d{4}|13[89]0000\d{4}", p) for p in phones)


def test_a_row_becomes_a_unit_with_all_its_phones(tmp_path: Path) -> None:
    phones = "13800000021;0375-00000020,执法大队,0375-00000022、0375-00000023"
    row = f"urban,宝丰县城市管理局,部门,,王某某,{phones},赵某,13900000023,+86-13900000024"
    roster = load_roster(write(tmp_path, HEADER, row))
    unit = roster.get("urban")
    assert unit == Unit(
        "urban",
        "宝丰县城市管理局",
        UnitType.DEPARTMENT,
        None,
        "王某某",
        ("13800000021", "0375-00000020"),
        "执法大队",
        ("0375-00000022", "0375-00000023"),
        "赵某",
        ("13900000023",),
        ("+86-13900000024",),
    )
    assert roster.get("nobody") is None and roster.townships() == {}


def test_chinese_types_full_width_separators_and_no_duty_phone_column(tmp_path: Path) -> None:
    header = HEADER.removesuffix(",duty_phone")
    row = "daying,大营镇,乡镇,daying,张某某,13800000001；13800000002,党政办,0375-00000002,李某,139"
    gas = "gas,燃气公司,其他,,王某某,0375-00000031,办,0375-00000032,赵某,0375-00000033"
    unit = load_roster(write(tmp_path, header, row, gas)).units
    assert unit["daying"].type is UnitType.TOWNSHIP and unit["gas"].type is UnitType.OTHER
    assert unit["daying"].leader_phone == ("13800000001", "13800000002")
    assert unit["daying"].duty_phone == ()


def test_excels_bom_blank_lines_and_trailing_commas_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, TOWNSHIP, "", ",,,,,,,,,,", WATER, bom=True)
    assert list(load_roster(path).units) == ["daying", "water"]


@pytest.mark.parametrize(
    ("lines", "line", "fragment"),
    [
        ([HEADER.replace(",office,", ","), TOWNSHIP], 1, "lacks column(s): office"),
        ([HEADER + ",email", TOWNSHIP], 1, "unknown column “email”"),
        ([HEADER + ",name", TOWNSHIP], 1, "“name” appears twice"),
        ([HEADER, TOWNSHIP, TOWNSHIP], 3, "duplicate code “daying” (first on line 2)"),
        ([HEADER, WATER.replace("water,", "自来水,", 1)], 2, "bad code “自来水”"),
        ([HEADER, WATER.replace("water,", "w" * 33 + ",", 1)], 2, "bad code"),
        ([HEADER, WATER.replace("宝丰县自来水公司", "")], 2, "empty name"),
        ([HEADER, WATER.replace(",other,", ",县直,")], 2, "bad type “县直”"),
        ([HEADER, TOWNSHIP.replace(",daying,张", ",zhouzhuang,张")], 2, "must be its own code"),
        ([HEADER, TOWNSHIP.replace(",daying,张", ",,张")], 2, "must be its own code"),
        ([HEADER, WATER.replace(",other,,", ",other,daying,")], 2, "only for township units"),
        ([HEADER, WATER.replace("王某某", "")], 2, "missing leader"),
        ([HEADER, WATER.replace("客户服务中心", "")], 2, "missing office"),
        ([HEADER, WATER.replace("赵某", "")], 2, "missing staff"),
        ([HEADER, WATER.replace("13800000011", "")], 2, "missing leader_phone"),
        ([HEADER, WATER.replace("0375-00000012", " ; ")], 2, "missing office_phone"),
        ([HEADER, WATER.replace("13900000013", "")], 2, "missing staff_phone"),
        ([HEADER, WATER.replace("13800000011", "call me")], 2, "leader_phone: “call me” is not"),
        ([HEADER, WATER.replace("13800000011", "12")], 2, "“12” is not a phone"),
        ([HEADER, WATER.replace("13800000011", "0375--1234")], 2, "is not a phone"),
        ([HEADER, WATER.replace("13800000011", "1" * 21)], 2, "is not a phone"),
        ([HEADER, WATER.replace(",13900000013,", ",13900000013,12a")], 2, "duty_phone: “12a”"),
        ([HEADER, WATER + ",extra"], 2, "expected 11 fields, found 12"),
        ([HEADER, TOWNSHIP.rsplit(",", 3)[0]], 2, "expected 11 fields, found 8"),
        ([HEADER], None, "no units in the file"),
        ([HEADER, ",,,"], None, "no units in the file"),
    ],
)
def test_each_problem_is_reported_with_its_line(
    tmp_path: Path, lines: list[str], line: int | None, fragment: str
) -> None:
    found = refusal(write(tmp_path, *lines))
    assert any(at == line and fragment in message for at, message in found), found


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes(b"")
    assert refusal(path) == [(None, "empty file: a header row and at least one unit are needed")]


def test_a_file_saved_as_gbk_is_refused_at_the_first_bad_line(tmp_path: Path) -> None:
    ascii_row = "water,Water Co,other,,Wang,13800000011,Office,0375-00000012,Zhao,13900000013,"
    path = write(tmp_path, HEADER, ascii_row, TOWNSHIP, encoding="gbk")
    [(line, message)] = refusal(path)
    assert line == 3 and "not UTF-8" in message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    [(line, message)] = refusal(tmp_path / "nowhere.csv")
    assert line is None and message.startswith("cannot read")


def test_every_problem_is_listed_at_once_and_nothing_is_loaded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        WATER.replace(",other,", ",bad,"),
        TOWNSHIP.replace("13800000001", "x"),
        WATER.replace("water,", "power,").replace("王某某", ""),
    )
    with pytest.raises(ConfigFileError) as refused:
        load_roster(path)
    assert [p.line for p in refused.value.problems] == [2, 3, 4]
    text = str(refused.value)
    assert "3 problem(s), nothing loaded" in text and f"{path}:3: leader_phone" in text


def test_a_quoted_cell_across_lines_keeps_later_line_numbers_right(tmp_path: Path) -> None:
    multiline = WATER.replace("宝丰县自来水公司", '"宝丰县\n自来水公司"')
    found = refusal(write(tmp_path, HEADER, multiline, TOWNSHIP.replace(",daying,张", ",x,张")))
    assert [line for line, _ in found] == [4]


def test_rows_are_not_checked_against_a_broken_header(tmp_path: Path) -> None:
    found = refusal(write(tmp_path, HEADER + ",email", TOWNSHIP + ",a@b", "junk"))
    assert [line for line, _ in found] == [1]


def test_the_digest_follows_the_content_not_the_bytes(tmp_path: Path) -> None:
    plain = load_roster(write(tmp_path, HEADER, TOWNSHIP, WATER))
    (tmp_path / "units.csv").write_bytes(f"\ufeff{HEADER}\r\n{WATER}\r\n{TOWNSHIP}\r\n".encode())
    resaved = load_roster(tmp_path / "units.csv")
    assert resaved.digest == plain.digest and resaved.changes_from(plain) == []
    changed = load_roster(write(tmp_path, HEADER, TOWNSHIP, WATER.replace("赵某", "钱某")))
    assert changed.digest != plain.digest and len(plain.digest) == 64


def test_changes_from_names_added_removed_and_changed_units(tmp_path: Path) -> None:
    older = load_roster(write(tmp_path, HEADER, TOWNSHIP, WATER))
    gas = "gas,宝丰县燃气公司,other,,冯某某,13800000031,客服中心,0375-00000032,邓某,13900000033,"
    moved = TOWNSHIP.replace("张某某,13800000001", "孙某某,13800000009") + "0375-00000000"
    newer = load_roster(write(tmp_path, HEADER, moved, gas))
    changes = newer.changes_from(older)
    assert [(c.kind, c.code, c.fields) for c in changes] == [
        (ChangeKind.CHANGED, "daying", ("leader", "leader_phone", "duty_phone")),
        (ChangeKind.ADDED, "gas", ()),
        (ChangeKind.REMOVED, "water", ()),
    ]
    daying, gas_added, water_removed = changes
    assert daying.before == older.units["daying"] and daying.after == newer.units["daying"]
    assert gas_added.after == newer.units["gas"] and gas_added.before is None
    assert water_removed.before == older.units["water"] and water_removed.after is None
    assert older.changes_from(older) == []


def test_units_may_name_their_pbx_line_once_each(tmp_path: Path) -> None:
    header = ",".join(COLUMNS)
    roster = load_roster(write(tmp_path, header, WATER + ",04", TOWNSHIP + ","))
    assert roster.get("water").line == "04"  # type: ignore[union-attr]
    assert roster.get("daying").line is None  # type: ignore[union-attr]
    assert roster.on_line("04") is roster.get("water") and roster.on_line("05") is None
    other = WATER.replace("water,", "gas,", 1)
    assert refusal(write(tmp_path, header, WATER + ",04", other + ",04", TOWNSHIP + ",x4")) == [
        (3, "PBX line “04” is already a unit's (on line 2)"),
        (4, "bad line “x4”: the PBX line's 1-6 digits, as in unit-04"),
    ]


def test_the_shipped_lines_are_the_testbeds_unit_phones() -> None:
    lines = {u.line: u.code for u in load_roster(SHIPPED).units.values() if u.line}
    assert sorted(lines) == [f"0{n}" for n in range(1, 10)]  # unit-01 … unit-09, keys *41 … *49
