"""A case's running clocks: the deadlines it still owes, as the supervisor
ladder and the supervisor's own 提醒/催办/通报 see them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from records.core.lifecycle import CaseState
from records.storage.tables import CaseRecord


def running_clocks(record: CaseRecord) -> Iterator[tuple[str, datetime]]:
    """(deadline, due) still open for this case: a clock stops when its step is done."""
    if record.due_sign and record.state is CaseState.DISPATCHED:
        yield "sign_for", record.due_sign
    if record.due_arrive and record.arrived_at is None:
        yield "arrive", record.due_arrive
    if record.due_feedback and record.fed_back_at is None:
        yield "feedback", record.due_feedback
    if record.due_close:
        yield "close", record.due_close
