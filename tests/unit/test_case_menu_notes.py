"""The voice menu's lines on a case, as pure data: the Chinese line an
operator reads, the entry's data (no caller number in it), the case page's
hint and emergency flag, a step recognised when it comes again, the entry's
name in the API, and no line on a case that is no longer open."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.vocabulary import Desk, Role
from records.core.case_file import Actor, CaseFile, note
from records.core.lifecycle import CaseState, Command
from records.core.menu_notes import (
    MenuNote,
    MenuOutcome,
    PathStep,
    already_recorded,
    entry_name,
    menu_summary,
    note_data,
    note_text,
)

AT = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def menu_note(outcome: MenuOutcome, **more: object) -> MenuNote:
    fields: dict[str, object] = {
        "step_id": "u.1@t",
        "call_id": "u.1",
        "at": AT,
        "menu": "12345",
        "desk": "12345",
        "outcome": outcome,
        "node": "main",
        "key": None,
        "path": (PathStep("greeting"), PathStep("main")),
        **more,
    }
    return MenuNote(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("note_", "line"),
    [
        (
            menu_note(MenuOutcome.CHOICE, key="2", hint="help", hint_label="求助", to_desk="12345"),
            "语音导航：按2选择「求助」，转12345人工受理",
        ),
        (
            menu_note(MenuOutcome.EMERGENCY, key="0", to_desk="110"),
            "语音导航紧急键：按0，12345 → 110，紧急",
        ),
        (menu_note(MenuOutcome.OPERATOR, key="*", reason="key"), "语音导航：按*转人工"),
        (
            menu_note(MenuOutcome.OPERATOR, reason="no_choice", invalid_keys=1, timeouts=2),
            "语音导航：未做有效选择（无效按键1次，超时2次），转人工",
        ),
        (
            menu_note(MenuOutcome.OPERATOR, reason="lookup_failed"),
            "语音导航：办理进度查询不可用，转人工",
        ),
        (
            menu_note(
                MenuOutcome.CASE_STATUS,
                reason="found",
                path=(PathStep("case_status", None, typed=10),),
            ),
            "语音导航：输入工单编号查询办理进度，已告知办理进度",
        ),
        (
            menu_note(MenuOutcome.CASE_STATUS, reason="not_found"),
            "语音导航：按来电号码查询办理进度，未找到其工单",
        ),
        (menu_note(MenuOutcome.HUNG_UP, reason="caller"), "语音导航：来电人在「main」处挂断"),
        (menu_note(MenuOutcome.HUNG_UP, reason="menu"), "语音导航结束通话"),
    ],
)
def test_each_line_reads_what_the_caller_did(note_: MenuNote, line: str) -> None:
    assert note_text(note_) == line


def test_the_entry_data_has_the_step_and_its_path_and_no_caller() -> None:
    data = note_data(
        menu_note(
            MenuOutcome.CHOICE,
            key="3",
            hint="complaint_report",
            hint_label="投诉举报",
            to_desk="12345",
        )
    )
    assert data["call"] == "u.1" and data["note"].startswith("语音导航")
    menu = data["menu"]
    assert (menu["id"], menu["outcome"], menu["hint"], menu["hint_label"]) == (
        "u.1@t",
        "choice",
        "complaint_report",
        "投诉举报",
    )
    assert menu["path"] == [
        {"node": "greeting", "key": None, "typed": 0},
        {"node": "main", "key": None, "typed": 0},
    ]
    assert "caller_number" not in repr(data) and "caller_name" not in repr(data)


def test_the_case_page_shows_the_latest_choice_and_any_emergency() -> None:
    enquiry = note_data(menu_note(MenuOutcome.CHOICE, hint="enquiry", hint_label="咨询"))
    help_ = note_data(menu_note(MenuOutcome.CHOICE, hint="help", hint_label="求助"))
    emergency = note_data(menu_note(MenuOutcome.EMERGENCY, to_desk="110"))
    opening = {"source": "call", "desk": "12345"}
    assert menu_summary([opening]) is None
    assert menu_summary([opening, enquiry, help_]) == {
        "hint": "help",
        "hint_label": "求助",
        "emergency": False,
    }
    assert menu_summary([opening, emergency]) == {
        "hint": None,
        "hint_label": None,
        "emergency": True,
    }


def test_a_step_already_on_the_timeline_is_recognised() -> None:
    data = note_data(menu_note(MenuOutcome.OPERATOR, reason="key"))
    assert already_recorded([{"source": "call"}, data], "u.1@t")
    assert not already_recorded([{"source": "call"}, data], "u.1@other")
    assert not already_recorded([{"menu": "not an object"}], "u.1@t")


def test_entries_are_named_by_command_else_open_or_menu() -> None:
    assert entry_name(None, 0) == "open"
    assert entry_name(None, 3) == "menu"
    assert entry_name(Command.REFER_TO_110, 1) == "refer_to_110"


@pytest.mark.parametrize("state", list(CaseState))
def test_a_menu_line_goes_only_on_an_open_case(state: CaseState) -> None:
    case = CaseFile(desk=Desk.D12345, state=state, seq_start=2)
    entry = note(case, Actor("12345语音导航", Role.SYSTEM), AT, {"note": "x"})
    if state in (CaseState.CLOSED, CaseState.ARCHIVED, CaseState.MERGED, CaseState.CANCELLED):
        assert entry is None and case.timeline == []
        return
    assert entry is not None
    assert (entry.seq, entry.command, entry.from_state, entry.to_state) == (2, None, state, state)
    assert case.state is state
