"""Timeline entries the server writes itself, without a command — a voice
menu's step (`menu`), a callback (`callback`), a linkage notice's call
(`notice`), a follow-up call (`follow_up_call`): each keeps its facts under
its kind in the entry's data, with an id (`note_id`, a menu step's `id`),
so that a change told twice, or again after a restart, is recorded once.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def facts(data: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """An entry's facts of `kind`, or None if it is not such an entry."""
    found = data.get(kind)
    return found if isinstance(found, dict) else None


def kind_of(data: dict[str, Any], kinds: Iterable[str]) -> str | None:
    """Which of `kinds` an entry is, if any."""
    return next((kind for kind in kinds if facts(data, kind) is not None), None)


def already_recorded(
    entries: Iterable[dict[str, Any]], kind: str, note_id: str, id_key: str = "note_id"
) -> bool:
    """Whether a timeline (its entries' data) has this change already."""
    return any(
        (found := facts(data, kind)) is not None and found.get(id_key) == note_id
        for data in entries
    )
