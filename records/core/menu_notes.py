"""What a caller did in a voice menu, as the case records it: one timeline
entry per step that means something to whoever reads the case — the demand
type chosen (the case's first classification hint), the emergency key, a
caller put through to an operator (and why), a case-status lookup's outcome,
a hang-up in the menu. The nodes entered and keys pressed since the last such
entry ride along in it (`path`), so every key and node is on the case without
one line per prompt played.

Why one entry per meaningful step, not one per step: a plain walk is five or
six steps (greeting entered, main entered, a key, the queue entered) and a
caller who fumbles makes a dozen; a supervisor reading a timeline wants what
the caller chose and why they reached who they reached. The call's page keeps
every step on its own (`menu_steps`).

Why not one entry per walk, written when the caller leaves the menu: the
emergency key must act at once (the case goes to 110 with the caller), and a
lookup's outcome is worth a line even when the caller goes on in the menu.

Entries made here carry no command (`command` None, like the opening entry;
the API names them `menu`): a new `Command` value would change the CHECK
constraint of `case_events.command`, a schema change. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from records.core import keyed_notes
from records.core.callback_notes import CALLBACK_ENTRY
from records.core.follow_up_notes import FOLLOW_UP_ENTRY
from records.core.keyed_notes import facts, kind_of
from records.core.lifecycle import Command
from records.core.notice_notes import NOTICE_ENTRY

# The name the API gives an entry no command made after the opening one.
MENU_ENTRY = "menu"
OPEN_ENTRY = "open"


class MenuOutcome(StrEnum):
    CHOICE = "choice"  # 选择诉求类型: the case's first classification hint
    EMERGENCY = "emergency"  # 紧急键: to 110 at once, urgent
    OPERATOR = "operator"  # 转人工 without a choice (a key, no choice, a failed lookup)
    CASE_STATUS = "case_status"  # 查询办理进度
    HUNG_UP = "hung_up"  # the caller hung up in the menu, or the menu ended the call


# Why an operator (OPERATOR), how a lookup ended (CASE_STATUS), who hung up (HUNG_UP).
REASONS: dict[MenuOutcome, tuple[str, ...]] = {
    MenuOutcome.OPERATOR: ("key", "no_choice", "lookup_failed", "next"),
    MenuOutcome.CASE_STATUS: ("found", "not_found", "unavailable"),
    MenuOutcome.HUNG_UP: ("caller", "menu"),
}


@dataclass(frozen=True)
class PathStep:
    """A node entered (`key` None) or a key pressed in it. Digits typed at a
    case-status node are counted, not kept: a caller may type anything there
    (their own phone number), and units read the timeline."""

    node: str
    key: str | None = None
    typed: int = 0


@dataclass(frozen=True)
class MenuNote:
    step_id: str  # the menu step that made it: the same step is never recorded twice
    call_id: str
    at: datetime  # when the caller did it (Asterisk's time)
    menu: str  # the flow's name ("12345")
    desk: str  # the menu's desk
    outcome: MenuOutcome
    node: str  # where it happened
    key: str | None  # the key that did it, if one did
    path: tuple[PathStep, ...]  # since the last note of this walk, this step included
    hint: str | None = None  # the demand type's code (the flow's hints)
    hint_label: str | None = None  # its name (the flow's hints)
    to_desk: str | None = None  # the desk queue the caller went to
    reason: str | None = None  # REASONS
    invalid_keys: int = 0  # no_choice: wrong keys and silences at the menu
    timeouts: int = 0

    @property
    def typed(self) -> bool:
        return any(step.typed for step in self.path)


_LOOKUP = {"found": "已告知办理进度", "not_found": "未找到其工单", "unavailable": "查询暂不可用"}


def note_text(note: MenuNote) -> str:
    """The line a desk operator reads on the timeline (Chinese first)."""
    pressed = f"按{note.key}" if note.key else ""
    if note.outcome is MenuOutcome.CHOICE:
        return (
            f"语音导航：{pressed}选择「{note.hint_label or note.hint}」，转{note.to_desk}人工受理"
        )
    if note.outcome is MenuOutcome.EMERGENCY:
        return f"语音导航紧急键：{pressed}，{note.desk} → {note.to_desk}，紧急"
    if note.outcome is MenuOutcome.OPERATOR:
        if note.reason == "key":
            return f"语音导航：{pressed}转人工"
        if note.reason == "no_choice":
            return (
                f"语音导航：未做有效选择（无效按键{note.invalid_keys}次，"
                f"超时{note.timeouts}次），转人工"
            )
        if note.reason == "lookup_failed":
            return "语音导航：办理进度查询不可用，转人工"
        return "语音导航：转人工"
    if note.outcome is MenuOutcome.CASE_STATUS:
        how = "输入工单编号" if note.typed else "按来电号码"
        return f"语音导航：{how}查询办理进度，{_LOOKUP.get(note.reason or '', note.reason)}"
    if note.reason == "menu":
        return "语音导航结束通话"
    return f"语音导航：来电人在「{note.node}」处挂断"


def note_data(note: MenuNote) -> dict[str, Any]:
    """The timeline entry's data: the line to read, the call, and the step."""
    return {
        "note": note_text(note),
        "call": note.call_id,
        "menu": {
            "id": note.step_id,
            "name": note.menu,
            "outcome": note.outcome.value,
            "at": note.at,
            "node": note.node,
            "key": note.key,
            "hint": note.hint,
            "hint_label": note.hint_label,
            "to_desk": note.to_desk,
            "reason": note.reason,
            "invalid_keys": note.invalid_keys,
            "timeouts": note.timeouts,
            "path": [{"node": s.node, "key": s.key, "typed": s.typed} for s in note.path],
        },
    }


def already_recorded(entries: Iterable[dict[str, Any]], step_id: str) -> bool:
    """Whether a timeline (its entries' data) has the step already: after a
    retry or a replayed event it is not applied twice."""
    return keyed_notes.already_recorded(entries, MENU_ENTRY, step_id, id_key="id")


def menu_summary(entries: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """What the case's menu entries say, for the case's page: the demand type
    the caller chose (the latest choice: the matter the desk faces now) — a
    hint, not a classification — and whether they pressed the emergency key.
    None if no call of the case walked a menu."""
    menus = [m for data in entries if (m := facts(data, MENU_ENTRY)) is not None]
    if not menus:
        return None
    chosen = [m for m in menus if m.get("hint")]
    latest = chosen[-1] if chosen else {}
    return {
        "hint": latest.get("hint"),
        "hint_label": latest.get("hint_label"),
        "emergency": any(m.get("outcome") == MenuOutcome.EMERGENCY for m in menus),
    }


def entry_name(command: Command | None, seq: int, data: dict[str, Any] | None = None) -> str:
    """A timeline entry's name in the API: its command's, else `open` for the
    first entry, `callback` for a callback's (`callback_notes`), `notice`
    for a linkage notice's (`notice_notes`) and `menu` for the voice menu's."""
    if command is not None:
        return command.value
    if seq == 0:
        return OPEN_ENTRY
    kind = kind_of(data, (CALLBACK_ENTRY, NOTICE_ENTRY, FOLLOW_UP_ENTRY)) if data else None
    return kind or MENU_ENTRY
