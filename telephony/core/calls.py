"""Calls keyed by Linkedid, and the other Linkedids that name the same call.

Asterisk rewrites a channel's Linkedid when bridges join calls (a transfer, a
three-way call). A leg that reports the Linkedid of another live call merges
its call into that one; a Linkedid no live call has is a new name (an alias)
for the leg's own call. An alias lives as long as the call it names.

A Linkedid can outlive every leg of its call (a Local channel that dials one
phone after another keeps it, and so does a leg transferred out of the call):
a call id that has ended is never started again, so the book remembers the
most recent ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from telephony.core import events as ev
from telephony.core.state import Call, Leg

# How many ended call ids to remember (they are never reused).
ENDED_MEMORY = 10_000


class CallBook:
    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self._alias: dict[str, str] = {}  # a Linkedid -> the live call it names
        self._names: dict[str, set[str]] = {}  # call id -> its aliases
        self._ended: dict[str, None] = {}  # insertion-ordered set, oldest first

    def has_ended(self, call_id: str) -> bool:
        return call_id in self._ended

    def resolve(self, linkedid: str) -> str:
        """The call id a Linkedid stands for (itself unless it is an alias)."""
        return self._alias.get(linkedid, linkedid)

    def add_alias(self, linkedid: str, call_id: str) -> None:
        if linkedid == call_id or linkedid in self.calls:
            return
        previous = self._alias.get(linkedid)
        if previous is not None:
            self._names.get(previous, set()).discard(linkedid)
        self._alias[linkedid] = call_id
        self._names.setdefault(call_id, set()).add(linkedid)

    def merge(
        self, merged: str, into: str, legs: Mapping[str, Leg], at: datetime
    ) -> list[ev.DomainEvent]:
        """Move every leg of `merged` into `into`; `merged` becomes an alias."""
        old = self.calls.pop(merged)
        survivor = self.calls[into]
        for uniqueid in old.legs:
            legs[uniqueid].call_id = into
        survivor.legs |= old.legs
        survivor.answered_legs += old.answered_legs
        for alias in self._names.pop(merged, set()):
            self.add_alias(alias, into)
        self.add_alias(merged, into)
        out: list[ev.DomainEvent] = [ev.CallMerged(merged, into, at)]
        if not survivor.answered and (old.answered or survivor.answered_legs >= 2):
            survivor.answered = True
            out.append(ev.CallAnswered(into, at))
        return out

    def close(self, call_id: str) -> None:
        """The call ended: forget it and every name it had."""
        del self.calls[call_id]
        for alias in self._names.pop(call_id, set()):
            self._alias.pop(alias, None)
        self._ended[call_id] = None
        if len(self._ended) > ENDED_MEMORY:
            del self._ended[next(iter(self._ended))]
