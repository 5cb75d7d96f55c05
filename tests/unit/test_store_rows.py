"""The stores that turn a feature's dataclass into a table's row field by
field (database/rows.py): every field is a column and every column a field,
save the ones each store names, so that nothing is saved without a word
and lost after a restart."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from database.rows import item_of, row_of
from ivr_flows.core.callbacks import Callback
from ivr_flows.storage import callbacks as callback_store
from ivr_flows.storage.tables import CallbackRecord
from notify.core.follow_ups import FollowUp
from notify.core.notices import Notice, NoticeState, Try
from notify.storage import follow_up_store, store
from notify.storage.tables import FollowUpRecord, NoticeRecord, NoticeTryRecord

MAPPED: list[tuple[type[Any], type[Any], dict[str, str], tuple[str, ...]]] = [
    (Notice, NoticeRecord, store._IDS, ()),
    (Try, NoticeTryRecord, {}, ()),
    (FollowUp, FollowUpRecord, follow_up_store._IDS, ()),
    (Callback, CallbackRecord, callback_store._IDS, callback_store._NOT_KEPT),
]


@pytest.mark.parametrize(
    ("kind", "table", "renames", "skip"), MAPPED, ids=lambda v: getattr(v, "__name__", "")
)
def test_every_field_is_a_column_and_every_column_a_field(
    kind: type[Any], table: type[Any], renames: dict[str, str], skip: tuple[str, ...]
) -> None:
    fields = {renames.get(f.name, f.name) for f in dataclasses.fields(kind) if f.name not in skip}
    assert fields == set(table.__table__.columns.keys())


def test_a_row_read_back_is_the_item_it_was_made_from() -> None:
    at = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    notice = Notice(
        7, "2026-000001", "urban", 4, True, 3, at, NoticeState.CALLING, 2, None, "罗某", at, True
    )
    assert item_of(Notice, row_of(NoticeRecord, notice, store._IDS), store._IDS) == notice
