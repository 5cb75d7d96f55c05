"""Figures for the supervision bureau (督查): open and overdue cases, each
unit's record over a period, and wrong transfers (错转) between the desks.

Queries select plain columns (no ORM objects) and narrow by indexed columns
first: open cases through `closed_at IS NULL` (ix_cases_open) and the state,
a period's cases through `case_events.at`. Counting is done in Python, which
also keeps JSON fields out of SQL (SQLite and PostgreSQL read them differently).

Durations are minutes from `dispatched_at`. The median is `statistics.median`
(the mean of the two middle values for an even count); p90 is the nearest rank:
the ⌈0.9·n⌉-th smallest value, always one that was observed.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from records.cases.lifecycle import OPEN_STATES, TRANSITIONS, CaseState, Command
from records.cases.models import CaseEvent, CaseRecord
from records.cases.vocabulary import Desk

C, E = CaseRecord, CaseEvent
LADDER = (Command.REMIND, Command.NOTICE, Command.BULLETIN)
DISPATCHES = (Command.DISPATCH, Command.REDISPATCH)
REFERS = (Command.REFER_TO_110, Command.REFER_TO_12345)
# On a unit's clock: the states where the ladder runs and deadlines bind the unit.
ON_THE_CLOCK = frozenset(TRANSITIONS[Command.REMIND])
# Each deadline: its name, the due column, the column that meets it.
DEADLINES = (
    ("sign_for", C.due_sign, C.signed_at),
    ("arrive", C.due_arrive, C.arrived_at),
    ("feedback", C.due_feedback, C.fed_back_at),
    ("close", C.due_close, C.closed_at),
)
# Each step a unit takes after dispatch, timed from `dispatched_at`.
STEPS = tuple((name, done) for name, _, done in DEADLINES)


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1] if ordered else None


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


# ------------------------------------------------------------------ open cases


@dataclass(frozen=True)
class Deadline:
    name: str  # sign_for | arrive | feedback | close
    due: datetime
    done_at: datetime | None
    overdue_minutes: float | None  # None: not overdue now


@dataclass(frozen=True)
class LadderStep:
    command: Command
    deadline: str | None
    at: datetime


@dataclass(frozen=True)
class OpenCase:
    number: str
    state: CaseState
    desk: Desk
    category: str | None
    urgency: str
    township: str | None
    lead_unit: str | None
    created_at: datetime
    dispatched_at: datetime | None
    deadlines: tuple[Deadline, ...]
    ladder: tuple[LadderStep, ...]

    @property
    def overdue_minutes(self) -> float | None:
        late = [d.overdue_minutes for d in self.deadlines if d.overdue_minutes is not None]
        return max(late) if late else None


async def open_cases(
    session: AsyncSession, now: datetime, *, unit: str | None = None, overdue_only: bool = False
) -> list[OpenCase]:
    """Open cases, the most overdue first, then by closing deadline. A deadline
    is overdue while the case is on its unit's clock, past due and not met."""
    where: list[Any] = [C.closed_at.is_(None), C.state.in_(sorted(OPEN_STATES))]
    if unit is not None:
        where.append(C.lead_unit == unit)
    if overdue_only:
        late = [and_(due < now, done.is_(None)) for _, due, done in DEADLINES]
        where += [C.state.in_(sorted(ON_THE_CLOCK)), or_(*late)]
    columns: list[Any] = [C.number, C.state, C.desk, C.category, C.urgency, C.township]
    columns += [C.lead_unit, C.created_at, C.dispatched_at]
    columns += [column for _, due, done in DEADLINES for column in (due, done)]
    rows = (await session.execute(select(*columns).where(*where))).all()
    steps = await _ladder_steps(session, select(C.number).where(*where))
    cases = [_open_case(row, now, steps.get(row.number, ())) for row in rows]
    cases.sort(key=_most_overdue_first)
    return cases


def _open_case(row: Any, now: datetime, steps: Sequence[LadderStep]) -> OpenCase:
    clock_runs = row.state in ON_THE_CLOCK
    deadlines = []
    for name, due_column, done_column in DEADLINES:
        due, done = getattr(row, due_column.key), getattr(row, done_column.key)
        if due is None:
            continue
        late = clock_runs and done is None and due < now
        deadlines.append(Deadline(name, due, done, minutes(now, due) if late else None))
    return OpenCase(
        *(row.number, row.state, row.desk, row.category, row.urgency.value, row.township),
        *(row.lead_unit, row.created_at, row.dispatched_at, tuple(deadlines), tuple(steps)),
    )


def _most_overdue_first(case: OpenCase) -> tuple[float, float, str]:
    late, due = case.overdue_minutes, case.deadlines[-1] if case.deadlines else None
    close = due.due.timestamp() if due and due.name == "close" else math.inf
    return (-late if late is not None else math.inf, close, case.number)


async def _ladder_steps(session: AsyncSession, numbers: Any) -> dict[str, list[LadderStep]]:
    query = (
        select(E.case_number, E.command, E.at, E.data)
        .where(E.command.in_(LADDER), E.case_number.in_(numbers))
        .order_by(E.case_number, E.seq)
    )
    steps: dict[str, list[LadderStep]] = {}
    for row in await session.execute(query):
        step = LadderStep(row.command, (row.data or {}).get("deadline"), row.at)
        steps.setdefault(row.case_number, []).append(step)
    return steps


# ------------------------------------------------------------------ per unit


@dataclass
class UnitFigures:
    """One unit's cases dispatched in a period (or all units': the total)."""

    unit: str | None
    dispatched: int = 0
    closed: int = 0
    open: int = 0
    closed_on_time: int = 0  # closed at or before due_close (or with no close limit)
    durations: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n, _ in STEPS})
    events: Counter[Command] = field(default_factory=Counter)
    ratings: list[int] = field(default_factory=list)

    @property
    def on_time_rate(self) -> float | None:
        return ratio(self.closed_on_time, self.closed)

    @property
    def satisfied(self) -> int:
        return sum(1 for r in self.ratings if r <= 2)

    def add_case(self, row: Any) -> None:
        """A row of CASE_COLUMNS."""
        _, state, dispatched, due_close, rating, *done = row
        self.dispatched += 1
        self.open += state in OPEN_STATES
        closed = done[-1]
        if closed is not None:
            self.closed += 1
            self.closed_on_time += due_close is None or closed <= due_close
        for (name, _), at in zip(STEPS, done, strict=True):
            if at is not None:
                self.durations[name].append(minutes(at, dispatched))
        if rating is not None:
            self.ratings.append(rating)

    def add(self, other: UnitFigures) -> None:
        self.dispatched += other.dispatched
        self.closed += other.closed
        self.open += other.open
        self.closed_on_time += other.closed_on_time
        for name, values in other.durations.items():
            self.durations[name] += values
        self.events.update(other.events)
        self.ratings += other.ratings


CASE_COLUMNS: tuple[Any, ...] = (C.lead_unit, C.state, C.dispatched_at, C.due_close)
CASE_COLUMNS += (C.satisfaction, *(column for _, column in STEPS))
COUNTED = (Command.REQUEST_RETURN, Command.REOPEN, Command.REQUEST_EXTENSION, *LADDER)


async def unit_statistics(
    session: AsyncSession, start: datetime, end: datetime, *, units: Iterable[str] = ()
) -> tuple[list[UnitFigures], UnitFigures]:
    """Per lead unit (sorted by code; `units` adds rows even without cases),
    and the total, for the cases whose latest dispatch lies in [start, end).

    Returns, reminders, re-handles and extension requests of those cases count
    against the unit that led the case when they happened, so a unit that
    returned a case keeps its return after the case went elsewhere."""
    dispatched = select(E.case_number).where(E.at >= start, E.at < end, E.command.in_(DISPATCHES))
    where = (C.number.in_(dispatched), C.dispatched_at >= start, C.dispatched_at < end)
    by_unit: dict[str | None, UnitFigures] = {code: UnitFigures(code) for code in units}
    for row in await session.execute(select(*CASE_COLUMNS).where(*where)):
        _figures(by_unit, row[0]).add_case(row)
    events = (
        select(E.case_number, E.command, E.unit, E.data)
        .where(E.case_number.in_(select(C.number).where(*where)))
        .where(E.command.in_((*DISPATCHES, *COUNTED)))
        .order_by(E.case_number, E.seq)
    )
    case, lead = None, None
    for number, command, unit, data in await session.execute(events):
        if number != case:
            case, lead = number, None
        if command in DISPATCHES:
            lead = (data or {}).get("lead_unit")
        else:
            _figures(by_unit, unit or lead).events[command] += 1
    total = UnitFigures(None)
    for figures in by_unit.values():
        total.add(figures)
    return [by_unit[code] for code in sorted(filter(None, by_unit))], total


def _figures(by_unit: dict[str | None, UnitFigures], unit: str | None) -> UnitFigures:
    """The unit's figures; None (an event of no known unit) counts in the total only."""
    if unit not in by_unit:
        by_unit[unit] = UnitFigures(unit)
    return by_unit[unit]


# ------------------------------------------------------------------ wrong transfers


@dataclass
class TransferCount:
    handovers: int = 0
    sent_back: int = 0

    @property
    def rate(self) -> float | None:
        return ratio(self.sent_back, self.handovers)

    def add(self, other: TransferCount) -> None:
        self.handovers += other.handovers
        self.sent_back += other.sent_back


# (sending operator, the desk it sent from, category at the hand-over)
TransferKey = tuple[str, Desk, str | None]


async def wrong_transfers(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[TransferKey, TransferCount]:
    """Hand-overs between the desks made in [start, end) and send-backs made
    in [start, end), per sending operator, desk and category. Each event counts
    in the period it happened in, so near a period's edge a send-back may fall
    in the period after its hand-over.

    A send-back names its hand-over's category. A hand-over's own category is
    the one the case had then: its latest `classify` before it; with none, the
    case's category if it was never classified at all, else none."""
    period = (E.at >= start, E.at < end)
    is_refer = (*period, E.command.in_(REFERS))
    counts: dict[TransferKey, TransferCount] = {}
    categories = await _categories_then(session, select(E.case_number).where(*is_refer))
    refers = select(E.case_number, E.seq, E.actor, E.command).where(*is_refer)
    for row in await session.execute(refers):
        desk = Desk.HOTLINE if row.command is Command.REFER_TO_110 else Desk.POLICE
        category = categories(row.case_number, row.seq)
        counts.setdefault((row.actor, desk, category), TransferCount()).handovers += 1
    send_backs = select(E.data).where(*period, E.command == Command.SEND_BACK)
    for (data,) in await session.execute(send_backs):
        wrong = (data or {}).get("wrong_transfer") or {}
        key = (str(wrong.get("by")), Desk(str(wrong.get("from_desk"))), wrong.get("category"))
        counts.setdefault(key, TransferCount()).sent_back += 1
    return counts


async def _categories_then(session: AsyncSession, numbers: Any) -> Callable[[str, int], str | None]:
    """A function (case, seq) → the case's category just before entry `seq`."""
    classified: dict[str, list[tuple[int, str | None]]] = {}
    query = (
        select(E.case_number, E.seq, E.data)
        .where(E.command == Command.CLASSIFY, E.case_number.in_(numbers))
        .order_by(E.case_number, E.seq)
    )
    for row in await session.execute(query):
        category = (row.data or {}).get("category")
        classified.setdefault(row.case_number, []).append((row.seq, category))
    now = select(C.number, C.category).where(C.number.in_(numbers))
    current = {row.number: row.category for row in await session.execute(now)}

    def category_at(number: str, seq: int) -> str | None:
        history = classified.get(number)
        if not history:
            return current.get(number)
        before = [category for at, category in history if at < seq]
        return before[-1] if before else None

    return category_at
