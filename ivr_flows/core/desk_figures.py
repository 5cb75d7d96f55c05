"""The desks' supervision figures, computed from the recorded waits and
operator periods: per desk and per county hour, offered, answered, answered
in time, abandoned, left, wait times, connection rate and service level;
per operator, answered calls, talk time and time in each state, pauses by
reason.

What is counted (the county's reading of its targets):

- An **offer** is one caller put in one desk's line. A caller whom the
  dialplan puts back in the same line after an overflow (no operator logged
  in: the backup post rang, nobody took them there) is the same offer, not a
  new one: the waits of one channel at one desk that each follow a wait of
  it that ended "left" are chained into one offer, which waited from the
  first join to its final end. (Otherwise a caller waiting five minutes for
  an empty desk would count as five offers, four of them lost.) Every other
  wait is its own offer: a caller transferred into a desk (`via` transfer)
  is offered to it like any other caller.
- An offer counts in the hour (county time) its first wait began, and in the
  period if that moment lies in [from, to).
- Its outcome is its last wait's: **answered** (an operator took it),
  **abandoned** (the caller hung up in line) or **left** (the caller went on
  elsewhere and did not come back to this line: answered or still ringing at
  the backup post, a transfer's ring time over and the caller given back, a
  caller moved out by a transfer, or gone while the server could not see).
  A left offer was not answered by the desk: it counts against the
  connection rate like an abandoned one.
- **Answered in time**: answered at most `answer_within_s` seconds after the
  first join (exactly 15 s is in time).
- **Callbacks**: a caller who left the line to be called back (their wait
  ended `left` by `callback`) is offered and counted `called_back`, not
  decided here (the callback's own outcome is on the case); the stand-in
  call that then holds their place (`via` callback) is no offer at all.
- A caller **still waiting** is offered but not yet decided: left out of the
  rates and the wait times until their wait ends.
- connection rate = answered / decided offers; service level = answered in
  time / decided offers; None when nothing was decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from ivr_flows.core.desk_rules import Targets
from ivr_flows.core.operators import WRAP_UP_REASON, OperatorState
from ivr_flows.core.waits import CALLBACK, Wait, WaitOutcome

HOUR = timedelta(hours=1)
# The longest period the figures take: every hour is listed (a leap year's
# 8784 rows a desk fit a spreadsheet).
MAX_PERIOD_DAYS = 366
# Floating-point rates: 19/20 meets 95 % however the division rounds.
_EPSILON = 1e-9


@dataclass(frozen=True)
class Offer:
    desk: str
    via: str  # how the caller first came: citizen, menu, emergency, transfer, desk
    joined_at: datetime  # the first wait's join
    outcome: WaitOutcome  # the last wait's
    ended_at: datetime | None  # answered, or out of line for good
    answered_at: datetime | None
    operator: str | None
    talk_s: int | None
    waits: int = 1
    ended_by: str | None = None

    @property
    def called_back(self) -> bool:
        return self.outcome is WaitOutcome.LEFT and self.ended_by == CALLBACK

    @property
    def waited_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return max(0.0, (self.ended_at - self.joined_at).total_seconds())

    def in_time(self, within_s: int) -> bool:
        answered = self.answered_at
        return answered is not None and (answered - self.joined_at).total_seconds() <= within_s


def offers(waits: Iterable[Wait]) -> list[Offer]:
    """The waits chained into offers (see the module's note), by first join."""
    chains: list[list[Wait]] = []
    last: dict[str, tuple[int, Wait, list[Wait]]] = {}  # uniqueid → its latest wait, chain
    for wait in sorted(waits, key=lambda w: (w.uniqueid, _number(w), w.joined_at)):
        if wait.via == CALLBACK:
            continue  # a stand-in holding a caller's place, not a caller
        n = _number(wait)
        before = last.get(wait.uniqueid)
        if (
            before is not None
            and before[0] == n - 1
            and before[1].desk == wait.desk
            and before[1].outcome is WaitOutcome.LEFT
        ):
            chain = before[2]
            chain.append(wait)
        else:
            chain = [wait]
            chains.append(chain)
        last[wait.uniqueid] = (n, wait, chain)
    out = [_offer(chain) for chain in chains]
    return sorted(out, key=lambda o: o.joined_at)


def _number(wait: Wait) -> int:
    """The n of a wait id "<uniqueid>#<n>" (the caller's n-th wait)."""
    _, _, n = wait.wait_id.rpartition("#")
    return int(n) if n.isdigit() else 0


def _offer(chain: list[Wait]) -> Offer:
    first, final = chain[0], chain[-1]
    waiting = final.outcome is WaitOutcome.WAITING
    return Offer(
        desk=first.desk,
        via=first.via,
        joined_at=first.joined_at,
        outcome=final.outcome,
        ended_at=None if waiting else (final.answered_at or final.left_at),
        answered_at=final.answered_at,
        operator=final.operator,
        talk_s=final.talk_s,
        waits=len(chain),
        ended_by=final.ended_by,
    )


# ------------------------------------------------------------------ per desk


@dataclass
class Figures:
    """The offers of one desk in one stretch of time."""

    offered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    left: int = 0
    waiting: int = 0
    called_back: int = 0  # left the line to be called back: not decided here
    wait_total_s: float = 0.0
    longest_wait_s: float | None = None
    answer_total_s: float = 0.0
    by_via: dict[str, int] = field(default_factory=dict)

    def add(self, offer: Offer, within_s: int) -> None:
        self.offered += 1
        self.by_via[offer.via] = self.by_via.get(offer.via, 0) + 1
        waited = offer.waited_s
        if offer.outcome is WaitOutcome.WAITING or waited is None:
            self.waiting += 1
            return
        if offer.called_back:
            self.called_back += 1
            return
        self.wait_total_s += waited
        self.longest_wait_s = max(self.longest_wait_s or 0.0, waited)
        if offer.outcome is WaitOutcome.ANSWERED:
            self.answered += 1
            self.answer_total_s += waited
            self.answered_in_time += offer.in_time(within_s)
        elif offer.outcome is WaitOutcome.ABANDONED:
            self.abandoned += 1
        else:
            self.left += 1

    @property
    def decided(self) -> int:
        return self.offered - self.waiting - self.called_back

    @property
    def average_wait_s(self) -> float | None:
        return self.wait_total_s / self.decided if self.decided else None

    @property
    def average_answer_s(self) -> float | None:
        return self.answer_total_s / self.answered if self.answered else None

    @property
    def connection_rate(self) -> float | None:
        return self.answered / self.decided if self.decided else None

    @property
    def service_level(self) -> float | None:
        return self.answered_in_time / self.decided if self.decided else None

    def meets(self, targets: Targets) -> tuple[bool | None, bool | None]:
        """(connection rate met, service level met); None: nothing to judge."""
        return _met(self.connection_rate, targets.connection_rate), _met(
            self.service_level, targets.service_level
        )


def _met(rate: float | None, target: float) -> bool | None:
    return None if rate is None else rate + _EPSILON >= target


@dataclass(frozen=True)
class Slot:
    """One county hour of the period (clipped to it at its edges)."""

    start: datetime
    end: datetime
    figures: Figures


@dataclass(frozen=True)
class DeskTable:
    desk: str
    hours: list[Slot]
    total: Figures


def hours(start: datetime, end: datetime, zone: tzinfo) -> list[tuple[datetime, datetime]]:
    """The county hours of [start, end), in UTC, the first and last clipped."""
    at = start.astimezone(zone).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    out: list[tuple[datetime, datetime]] = []
    while at < end:
        out.append((max(at, start), min(at + HOUR, end)))
        at += HOUR
    return out


def desk_tables(
    offered: Sequence[Offer],
    desks: Sequence[str],
    start: datetime,
    end: datetime,
    zone: tzinfo,
    within_s: int,
) -> list[DeskTable]:
    """Each desk's hours and total over [start, end), every hour listed."""
    edges = hours(start, end, zone)
    first = edges[0][0].astimezone(zone).replace(minute=0, second=0, microsecond=0)
    tables = {
        desk: DeskTable(desk, [Slot(s, e, Figures()) for s, e in edges], Figures())
        for desk in desks
    }
    for offer in offered:
        table = tables.get(offer.desk)
        if table is None or not start <= offer.joined_at < end:
            continue
        index = int((offer.joined_at - first) // HOUR)
        table.hours[index].figures.add(offer, within_s)
        table.total.add(offer, within_s)
    return list(tables.values())


# ------------------------------------------------------------------ per operator


@dataclass(frozen=True)
class Period:
    """A phone in one state from `started_at` to `ended_at` (None: still)."""

    phone: str
    desk: str
    state: OperatorState
    reason: str
    started_at: datetime
    ended_at: datetime | None


@dataclass
class OperatorFigures:
    phone: str | None  # None: the total
    desk: str | None
    answered: int = 0
    talk_s: int = 0
    talk_known: int = 0  # answered calls whose talk time is known (ended)
    state_s: dict[OperatorState, float] = field(default_factory=dict)
    pause_s: dict[str, float] = field(default_factory=dict)  # reason → seconds

    @property
    def average_talk_s(self) -> float | None:
        return self.talk_s / self.talk_known if self.talk_known else None

    @property
    def logged_in_s(self) -> float:
        return sum(s for state, s in self.state_s.items() if state is not OperatorState.LOGGED_OUT)

    @property
    def paused_s(self) -> float:
        return sum(self.pause_s.values())

    def add_answer(self, offer: Offer) -> None:
        self.answered += 1
        if offer.talk_s is not None:
            self.talk_s += offer.talk_s
            self.talk_known += 1

    def add_time(self, state: OperatorState, reason: str, seconds: float) -> None:
        self.state_s[state] = self.state_s.get(state, 0.0) + seconds
        if state is OperatorState.WRAP_UP:
            reason = WRAP_UP_REASON
        if state in (OperatorState.PAUSED, OperatorState.WRAP_UP):
            self.pause_s[reason] = self.pause_s.get(reason, 0.0) + seconds

    def absorb(self, other: OperatorFigures) -> None:
        self.answered += other.answered
        self.talk_s += other.talk_s
        self.talk_known += other.talk_known
        for state, seconds in other.state_s.items():
            self.state_s[state] = self.state_s.get(state, 0.0) + seconds
        for reason, seconds in other.pause_s.items():
            self.pause_s[reason] = self.pause_s.get(reason, 0.0) + seconds


def operator_figures(
    offered: Sequence[Offer],
    periods: Sequence[Period],
    phones: dict[str, str],
    start: datetime,
    end: datetime,
    now: datetime,
) -> tuple[list[OperatorFigures], OperatorFigures]:
    """Each phone's figures over [start, end) and their total. `phones`:
    the desks' phones (phone → desk) in the order a supervisor reads them;
    a phone found only in the records (since removed) follows them.
    Answered calls are the offers first offered in the period (so they add
    up to the desks' `answered`); state times are clipped to the period, a
    state still running counts until `now`."""
    rows = {phone: OperatorFigures(phone, desk) for phone, desk in phones.items()}
    for offer in offered:
        answered = offer.outcome is WaitOutcome.ANSWERED
        if answered and offer.operator and start <= offer.joined_at < end:
            row = rows.setdefault(offer.operator, OperatorFigures(offer.operator, offer.desk))
            row.add_answer(offer)
    for period in periods:
        began = max(period.started_at, start)
        ended = min(period.ended_at or now, end)
        if ended <= began:
            continue
        row = rows.setdefault(period.phone, OperatorFigures(period.phone, period.desk))
        row.add_time(period.state, period.reason, (ended - began).total_seconds())
    total = OperatorFigures(None, None)
    for row in rows.values():
        total.absorb(row)
    return list(rows.values()), total
