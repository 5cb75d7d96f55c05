"""A linkage notice's story on its case: each call made for it (whom, how it
ended) and, at the end of the ladder with nobody reached, the alert. The
signing (key 1) and the return request (key 9) are the case's own moves,
made in the name of the person reached; these lines say how the unit was
reached.

Why on the case: the supervision bureau scores a unit that could not be
reached ("buck-passing"), and a desk reading a dispatched case must see at a
glance whether the unit has been told. The lines name the contact and their
role, never a citizen's number. Like the callbacks' lines these entries carry
no command (the API names them `notice`); each is keyed (`note_id`) so a
change told twice, or again after a restart, is recorded once. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

NOTICE_ENTRY = "notice"

CONTACT_WORDS = {
    "staff": "工作人员",
    "office": "承办科室",
    "leader": "分管领导",
    "duty": "值班电话",
}
RESULT_WORDS = {
    "accepted": "按1签收",
    "declined": "按9申请退单",
    "no_key": "接通后未按键",
    "hung_up": "接通后挂断",
    "busy": "忙",
    "no_answer": "无应答",
    "failed": "无法接通",
    "lost": "呼叫中断",
    "called_off": "工单已另行处理，呼叫撤回",
}
# A co-unit's keys: 1 says it will go (only the lead unit signs), 9 that the
# matter is not its own (only the lead unit asks for a return).
CO_UNIT_RESULT_WORDS = {
    "accepted": "按1确认接收",
    "declined": "按9反馈非本单位事项",
}


@dataclass(frozen=True)
class NoticeNote:
    notice_id: int
    case_number: str
    unit: str  # the unit's code
    unit_name: str
    at: datetime
    try_number: int  # 0 for the notice's end (unreached)
    contact: str | None = None
    name: str | None = None
    result: str | None = None  # TryResult's value; None for the unreached alert
    call_id: str | None = None
    tries: int = 0  # for the alert: how many calls were made
    co_unit: bool = False  # a co-unit (协办单位): its key 1 acknowledges, its 9 is a reason
    reason: str | None = None  # a co-unit's 9: why (the lead unit's is its return request)

    @property
    def note_id(self) -> str:
        if self.result is None:
            return f"{self.notice_id}:unreached"
        return f"{self.notice_id}:{self.try_number}"

    @property
    def unreached(self) -> bool:
        return self.result is None


def note_text(note: NoticeNote) -> str:
    """The line a desk or a supervisor reads (Chinese first)."""
    unit = f"协办单位{note.unit_name}" if note.co_unit else note.unit_name
    if note.unreached and note.tries == 0:
        return f"联动通知未能送达{unit}：名册中没有可拨打的电话，已告警督办"
    if note.unreached:
        return f"联动通知未能送达{unit}：{note.tries}次呼叫均无人按键确认，已告警督办"
    who = CONTACT_WORDS.get(note.contact or "", note.contact or "")
    words = CO_UNIT_RESULT_WORDS if note.co_unit else RESULT_WORDS
    said = words.get(note.result or "") or RESULT_WORDS.get(note.result or "", note.result or "")
    if note.reason:
        said = f"{said}（{note.reason}）"
    return f"联动通知第{note.try_number}次呼叫{unit}{who} {note.name}：{said}"


def note_data(note: NoticeNote) -> dict[str, Any]:
    return {
        "note": note_text(note),
        "call": note.call_id,
        "notice": {
            "id": note.notice_id,
            "note_id": note.note_id,
            "unit": note.unit,
            "co_unit": note.co_unit,
            "try": note.try_number,
            "contact": note.contact,
            "name": note.name,
            "result": note.result,
            "unreached": note.unreached,
            "at": note.at,
        },
    }
