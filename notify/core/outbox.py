"""Which queued notices are dialled now: those due, urgent ones first, then
in order of arrival, while the limits on simultaneous calls allow — overall,
and per trunk (a unit's own PBX line counts under "line") — so a burst of
dispatches never takes the lines citizens need. Pure: no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime

from county.outbound import Limits
from notify.core.notices import Notice, due


def to_dial(
    queued: Iterable[Notice],
    calling_on: Counter[str],
    limits: Limits,
    now: datetime,
    trunk_of: Callable[[Notice], str | None],
) -> list[Notice]:
    """The notices to dial now. `calling_on` counts the calls under way per
    trunk; `trunk_of` says which trunk a notice's next try takes (None: it
    cannot be dialled, skipped)."""
    busy = Counter(calling_on)
    chosen: list[Notice] = []
    ready = sorted(
        (n for n in queued if due(n, now)),
        key=lambda n: (not n.urgent, n.created_at, n.notice_id),
    )
    for notice in ready:
        if busy.total() >= limits.max_calls:
            break
        trunk = trunk_of(notice)
        if trunk is None or busy[trunk] >= limits.max_calls_per_trunk:
            continue
        busy[trunk] += 1
        chosen.append(notice)
    return chosen
