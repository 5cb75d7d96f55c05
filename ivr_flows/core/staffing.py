"""A desk left with nobody logged in while callers wait in its line.

The dialplan overflows a caller who reaches an empty desk by itself (it says
so with LdDeskEmpty, then waits with a time limit and rings the backup
post). A caller who came while operators were logged in waits with no limit:
if the last operator then logs out, only the server sees it. From that
moment (an "unstaffed spell") the supervisor is alerted, and after the
desk's overflow time each caller the dialplan is not already timing is
withdrawn from the line (QueueWithdrawCaller); the dialplan then rings the
backup post for them as for any overflow. A spell ends when an operator
logs in or the line empties. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class _Spell:
    since: datetime
    handled: set[str] = field(default_factory=set)  # timed by the dialplan, or withdrawn


class StaffingWatch:
    def __init__(self, overflow_after_s: Mapping[str, int]) -> None:
        self._after = {desk: timedelta(seconds=s) for desk, s in overflow_after_s.items()}
        self._spells: dict[str, _Spell] = {}
        self._staffed: dict[str, bool] = {}

    def seen(self, desk: str, *, logged_in: int, waiting: int, now: datetime) -> bool:
        """The desk as it is now. True when the last operator has just left
        waiting callers (a caller who finds the desk empty is the dialplan's
        own alert, LdDeskEmpty)."""
        if desk not in self._after:
            return False
        was_staffed = self._staffed.get(desk, False)
        self._staffed[desk] = logged_in > 0
        if logged_in > 0 or waiting == 0:
            self._spells.pop(desk, None)
            return False
        if desk in self._spells:
            return False
        self._spells[desk] = _Spell(now)
        return was_staffed

    def timed_by_dialplan(self, desk: str, uniqueid: str) -> None:
        """The caller met the empty desk (LdDeskEmpty): the dialplan overflows them."""
        spell = self._spells.get(desk)
        if spell is not None:
            spell.handled.add(uniqueid)

    def due(self, waiting: Mapping[str, Collection[str]], now: datetime) -> dict[str, list[str]]:
        """The callers to withdraw now, by desk (one who slipped into the line
        as the last operator left too)."""
        out: dict[str, list[str]] = {}
        for desk, spell in self._spells.items():
            if now < spell.since + self._after[desk]:
                continue
            uids = [u for u in waiting.get(desk, ()) if u not in spell.handled]
            if uids:
                out[desk] = uids
        return out

    def withdrawn(self, desk: str, uniqueid: str) -> None:
        """Asterisk took the caller out of the line: not again this spell."""
        spell = self._spells.get(desk)
        if spell is not None:
            spell.handled.add(uniqueid)

    def next_due(self, now: datetime) -> datetime | None:
        """When the next spell's overflow time is up, if after `now`."""
        times = (s.since + self._after[d] for d, s in self._spells.items())
        return min((t for t in times if t > now), default=None)
