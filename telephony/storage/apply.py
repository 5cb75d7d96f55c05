"""How each domain event changes the call record rows: a pure core, no I/O.

The writer loads every row a batch can touch (`needs`), replays the batch on
those rows in memory in submission order (`Batch.apply`), and writes back what
changed. Because the rules run on exactly the rows the database holds, a batch
gives the same result as committing its events one at a time.

Rules (each is idempotent, so a replayed sequence leaves the same rows):

- LegStarted creates the leg, or updates an existing one: call, channel and
  direction are overwritten; role unless the new one is `unknown`; endpoint,
  trunk and caller id unless the new value is None; created_at keeps the
  earliest. It creates a minimal call row if the call is unknown.
- LegRinging / LegAnswered / CallAnswered keep the earliest time; but an
  answer somebody saw (an AMI event, CEL) replaces a bound (`at_bound`), and
  a bound never replaces a seen answer.
- LegEnded: the first end wins, except that an end seen on a real Hangup
  replaces one made up by reconciliation (which knows no more than CEL, or
  only a bound), and an end CEL recorded replaces a bound. A later reconciled
  end never overwrites anything. Ending a leg also closes its open bridge
  memberships at the leg's end time.
- CallEnded keeps the first end. CallStarted keeps the earliest start and
  fills trunk and caller id where given.
- CallMerged moves the merged call's legs to the survivor, points the merged
  call (and calls merged into it earlier) at the survivor, and widens the
  survivor's times: earliest start, earliest answer, still open if either was.
- A bridge join is keyed by (bridge, leg, join time): replaying it is a no-op.
  A leave closes the leg's open stays in that bridge.
- An event about a leg the database has never seen, or CallAnswered,
  CallEnded or CallMerged about an unknown call, is skipped and reported,
  never raised: one bad event must not block the queue behind it forever.
  (LegStarted and CallStarted create missing calls; a merge creates a
  missing survivor.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, assert_never

from common.vocabulary import Desk
from database.types import to_utc_ms
from telephony.core.events import (
    CallAnswered,
    CallEnded,
    CallMerged,
    CallStarted,
    Direction,
    DomainEvent,
    LegAnswered,
    LegEnded,
    LegJoinedBridge,
    LegLeftBridge,
    LegRinging,
    LegRole,
    LegStarted,
    LegUpdated,
)


class CallRow(TypedDict):
    id: str
    trunk: Desk | None
    caller_number: str | None
    caller_name: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    merged_into: str | None


class LegRow(TypedDict):
    uniqueid: str
    call_id: str
    channel: str
    endpoint: str | None
    role: LegRole
    direction: Direction
    trunk: Desk | None
    caller_number: str | None
    caller_name: str | None
    created_at: datetime
    ringing_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    reconciled: bool
    answered_at_bound: bool
    ended_at_bound: bool


class MembershipRow(TypedDict):
    bridge_id: str
    uniqueid: str
    joined_at: datetime
    left_at: datetime | None


@dataclass(frozen=True, slots=True)
class Needs:
    """The rows a batch can touch, to be loaded before applying it."""

    call_ids: frozenset[str]
    leg_ids: frozenset[str]
    # Merges change every leg and call pointing at these, not only named rows.
    merged_call_ids: frozenset[str]
    membership_leg_ids: frozenset[str]


def needs(events: Iterable[DomainEvent]) -> Needs:
    call_ids: set[str] = set()
    leg_ids: set[str] = set()
    merged: set[str] = set()
    membership_legs: set[str] = set()
    for event in events:
        match event:
            case LegStarted():
                leg_ids.add(event.uniqueid)
                call_ids.add(event.call_id)
            case LegUpdated() | LegRinging() | LegAnswered():
                leg_ids.add(event.uniqueid)
            case LegEnded() | LegJoinedBridge() | LegLeftBridge():
                leg_ids.add(event.uniqueid)
                membership_legs.add(event.uniqueid)
            case CallStarted() | CallAnswered() | CallEnded():
                call_ids.add(event.call_id)
            case CallMerged():
                call_ids.update((event.merged, event.into))
                merged.add(event.merged)
            case _:
                assert_never(event)
    return Needs(
        frozenset(call_ids), frozenset(leg_ids), frozenset(merged), frozenset(membership_legs)
    )


class Batch:
    """The loaded rows, changed in memory one event at a time."""

    def __init__(
        self,
        calls: Iterable[CallRow],
        legs: Iterable[LegRow],
        memberships: Iterable[MembershipRow],
    ) -> None:
        self.calls: dict[str, CallRow] = {row["id"]: row for row in calls}
        self.legs: dict[str, LegRow] = {row["uniqueid"]: row for row in legs}
        self.stays: dict[str, dict[tuple[str, datetime], MembershipRow]] = {}
        for stay in memberships:
            self._stays_of(stay["uniqueid"])[stay["bridge_id"], stay["joined_at"]] = stay
        self._calls_before = {key: row.copy() for key, row in self.calls.items()}
        self._legs_before = {key: row.copy() for key, row in self.legs.items()}
        self._stays_before = {_stay_key(stay) for stay in self._all_stays()}

    # -- results -------------------------------------------------------------

    def changed_calls(self) -> list[CallRow]:
        changed = [row for key, row in self.calls.items() if self._calls_before.get(key) != row]
        # Survivors first: a merged call's foreign key must find its survivor row.
        return sorted(changed, key=lambda row: row["merged_into"] is not None)

    def changed_legs(self) -> list[LegRow]:
        return [row for key, row in self.legs.items() if self._legs_before.get(key) != row]

    def changed_memberships(self) -> list[MembershipRow]:
        return [stay for stay in self._all_stays() if _stay_key(stay) not in self._stays_before]

    # -- events --------------------------------------------------------------

    def apply(self, event: DomainEvent) -> bool:
        """Apply one event; False if it was skipped (it names an unknown row)."""
        at = to_utc_ms(event.at)
        match event:
            case LegStarted():
                self._leg_started(event, at)
                return True
            case LegUpdated():
                return self._leg_updated(event)
            case LegRinging():
                leg = self.legs.get(event.uniqueid)
                if leg is not None:
                    leg["ringing_at"] = _earliest(leg["ringing_at"], at)
                return leg is not None
            case LegAnswered():
                return self._leg_answered(event, at)
            case LegEnded():
                return self._leg_ended(event, at)
            case CallStarted():
                self._call_started(event, at)
                return True
            case CallAnswered():
                call = self.calls.get(event.call_id)
                if call is not None:
                    call["answered_at"] = _earliest(call["answered_at"], at)
                return call is not None
            case CallEnded():
                call = self.calls.get(event.call_id)
                if call is not None and call["ended_at"] is None:
                    call["ended_at"] = at
                return call is not None
            case CallMerged():
                return self._call_merged(event)
            case LegJoinedBridge():
                return self._joined(event, at)
            case LegLeftBridge():
                return self._left(event, at)
            case _:
                assert_never(event)

    def _leg_started(self, event: LegStarted, at: datetime) -> None:
        if event.call_id not in self.calls:
            self.calls[event.call_id] = _new_call(event.call_id, at)
        leg = self.legs.get(event.uniqueid)
        if leg is None:
            self.legs[event.uniqueid] = LegRow(
                uniqueid=event.uniqueid,
                call_id=event.call_id,
                channel=_text(event.channel),
                endpoint=_opt_text(event.endpoint),
                role=event.role,
                direction=event.direction,
                trunk=event.trunk,
                caller_number=_opt_text(event.caller_number),
                caller_name=_opt_text(event.caller_name),
                created_at=at,
                ringing_at=None,
                answered_at=None,
                ended_at=None,
                hangup_cause=None,
                hangup_cause_text=None,
                reconciled=False,
                answered_at_bound=False,
                ended_at_bound=False,
            )
            return
        leg["call_id"] = event.call_id
        leg["channel"] = _text(event.channel)
        leg["direction"] = event.direction
        if event.role is not LegRole.UNKNOWN:
            leg["role"] = event.role
        if event.endpoint is not None:
            leg["endpoint"] = _text(event.endpoint)
        if event.trunk is not None:
            leg["trunk"] = event.trunk
        if event.caller_number is not None:
            leg["caller_number"] = _text(event.caller_number)
        if event.caller_name is not None:
            leg["caller_name"] = _text(event.caller_name)
        leg["created_at"] = min(leg["created_at"], at)

    def _leg_updated(self, event: LegUpdated) -> bool:
        leg = self.legs.get(event.uniqueid)
        if leg is None:
            return False
        leg["channel"] = _text(event.channel)
        leg["caller_number"] = _opt_text(event.caller_number)
        leg["caller_name"] = _opt_text(event.caller_name)
        # Role and trunk are None when unchanged (learned from channel variables).
        if event.role is not None:
            leg["role"] = event.role
        if event.trunk is not None:
            leg["trunk"] = event.trunk
        return True

    def _leg_answered(self, event: LegAnswered, at: datetime) -> bool:
        leg = self.legs.get(event.uniqueid)
        if leg is None:
            return False
        if leg["answered_at"] is None or (leg["answered_at_bound"] and not event.at_bound):
            leg["answered_at"], leg["answered_at_bound"] = at, event.at_bound
        elif leg["answered_at_bound"] == event.at_bound:
            leg["answered_at"] = _earliest(leg["answered_at"], at)
        return True

    def _leg_ended(self, event: LegEnded, at: datetime) -> bool:
        leg = self.legs.get(event.uniqueid)
        if leg is None:
            return False
        if (
            leg["ended_at"] is None
            or (leg["reconciled"] and not event.reconciled)
            or (leg["ended_at_bound"] and not event.at_bound)
        ):
            leg["ended_at"] = at
            leg["hangup_cause"] = event.cause
            leg["hangup_cause_text"] = _opt_text(event.cause_text)
            leg["reconciled"] = event.reconciled
            leg["ended_at_bound"] = event.at_bound
        ended_at = leg["ended_at"]
        for stay in self._stays_of(event.uniqueid).values():
            if stay["left_at"] is None:
                stay["left_at"] = ended_at
        return True

    def _call_started(self, event: CallStarted, at: datetime) -> None:
        call = self.calls.get(event.call_id)
        if call is None:
            call = self.calls[event.call_id] = _new_call(event.call_id, at)
        call["started_at"] = min(call["started_at"], at)
        if event.trunk is not None:
            call["trunk"] = event.trunk
        if event.caller_number is not None:
            call["caller_number"] = _text(event.caller_number)
        if event.caller_name is not None:
            call["caller_name"] = _text(event.caller_name)

    def _call_merged(self, event: CallMerged) -> bool:
        merged = self.calls.get(event.merged)
        if merged is None:
            return False
        if event.merged == event.into:
            return True
        survivor = self.calls.get(event.into)
        if survivor is None:
            survivor = self.calls[event.into] = _new_call(event.into, merged["started_at"])
        for leg in self.legs.values():
            if leg["call_id"] == event.merged:
                leg["call_id"] = event.into
        for call in self.calls.values():
            if call["merged_into"] == event.merged and call["id"] != event.into:
                call["merged_into"] = event.into
        survivor["merged_into"] = None
        survivor["started_at"] = min(survivor["started_at"], merged["started_at"])
        survivor["answered_at"] = _earliest(survivor["answered_at"], merged["answered_at"])
        if survivor["ended_at"] is None or merged["ended_at"] is None:
            survivor["ended_at"] = None
        else:
            survivor["ended_at"] = max(survivor["ended_at"], merged["ended_at"])
        if survivor["trunk"] is None:
            survivor["trunk"] = merged["trunk"]
        if survivor["caller_number"] is None:
            survivor["caller_number"] = merged["caller_number"]
        if survivor["caller_name"] is None:
            survivor["caller_name"] = merged["caller_name"]
        merged["merged_into"] = event.into
        return True

    def _joined(self, event: LegJoinedBridge, at: datetime) -> bool:
        if event.uniqueid not in self.legs:
            return False
        stays = self._stays_of(event.uniqueid)
        key = (event.bridge_id, at)
        if key not in stays:
            stays[key] = MembershipRow(
                bridge_id=event.bridge_id, uniqueid=event.uniqueid, joined_at=at, left_at=None
            )
        return True

    def _left(self, event: LegLeftBridge, at: datetime) -> bool:
        if event.uniqueid not in self.legs:
            return False
        for stay in self._stays_of(event.uniqueid).values():
            if stay["bridge_id"] == event.bridge_id and stay["left_at"] is None:
                stay["left_at"] = at
        return True

    def _stays_of(self, uniqueid: str) -> dict[tuple[str, datetime], MembershipRow]:
        return self.stays.setdefault(uniqueid, {})

    def _all_stays(self) -> Iterable[MembershipRow]:
        for stays in self.stays.values():
            yield from stays.values()


def apply_all(batch: Batch, events: Sequence[DomainEvent]) -> list[DomainEvent]:
    """Apply events in order; return the skipped ones."""
    return [event for event in events if not batch.apply(event)]


def _new_call(call_id: str, started_at: datetime) -> CallRow:
    return CallRow(
        id=call_id,
        trunk=None,
        caller_number=None,
        caller_name=None,
        started_at=started_at,
        answered_at=None,
        ended_at=None,
        merged_into=None,
    )


def _stay_key(stay: MembershipRow) -> tuple[str, str, datetime, datetime | None]:
    return (stay["uniqueid"], stay["bridge_id"], stay["joined_at"], stay["left_at"])


def _earliest(current: datetime | None, new: datetime | None) -> datetime | None:
    if current is None:
        return new
    if new is None:
        return current
    return min(current, new)


def _text(value: str) -> str:
    # PostgreSQL refuses NUL in text and both databases refuse lone surrogates;
    # either would fail the batch on every retry and block the queue for good.
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _opt_text(value: str | None) -> str | None:
    return None if value is None else _text(value)
