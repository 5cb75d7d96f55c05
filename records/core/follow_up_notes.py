"""A follow-up call's story on its case, beside the rating itself (the
`follow_up` move, made by 回访电话): a call not answered (and when the next
one is), and the end of the tries with no rating. The lines never carry the
citizen's number. Keyed (`note_id`) so a change told twice is recorded once;
the API names these entries `follow_up_call`. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from county.calendar import COUNTY_TZ

FOLLOW_UP_ENTRY = "follow_up_call"

RESULT_WORDS = {
    "no_key": "接通后未评价",
    "hung_up": "接通后挂断",
    "busy": "忙",
    "no_answer": "无应答",
    "failed": "无法接通",
    "lost": "呼叫中断",
}


@dataclass(frozen=True)
class FollowUpNote:
    follow_up_id: int
    case_number: str
    at: datetime
    try_number: int
    result: str  # the call's result (CallResult's value)
    call_id: str | None
    next_at: datetime | None = None  # None: no more tries (not reached)

    @property
    def note_id(self) -> str:
        return f"{self.follow_up_id}:{self.try_number}"


def note_text(note: FollowUpNote) -> str:
    said = RESULT_WORDS.get(note.result, note.result)
    line = f"回访电话第{note.try_number}次：{said}"
    if note.next_at is not None:
        return f"{line}，下次 {note.next_at.astimezone(COUNTY_TZ):%m-%d %H:%M}"
    return f"{line}；回访未能联系到市民"


def note_data(note: FollowUpNote) -> dict[str, Any]:
    return {
        "note": note_text(note),
        "call": note.call_id,
        "follow_up_call": {
            "id": note.follow_up_id,
            "note_id": note.note_id,
            "try": note.try_number,
            "result": note.result,
            "next_at": note.next_at,
            "at": note.at,
        },
    }
