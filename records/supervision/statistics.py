"""Figures for the supervision bureau (督查): open and overdue cases, each
unit's record over a period, and wrong transfers (错转) between the desks.

Queries select plain columns (no ORM objects) and narrow by indexed columns
first: open cases through `closed_at IS NULL` (ix_cases_open) and the state,
a period's cases through `dispatched_at` (ix_cases_dispatched_at), a period's
hand-overs and send-backs through `case_events (command, at)`.

Per unit, the cases are read one row each (lead unit, state, rating and the
step times, no JSON) and added up in Python, as the medians need every
duration; their returns, reminders, re-handles and extension requests, and
the hand-overs and send-backs between the desks, are counted by the database
(GROUP BY). statistics_events.py has those statements; on PostgreSQL they run
without JIT compilation (see `without_jit`).

Durations are minutes from `dispatched_at`. The median is `statistics.median`
(the mean of the two middle values for an even count); p90 is the nearest rank:
the ⌈0.9·n⌉-th smallest value, always one that was observed.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.vocabulary import Desk
from records.core.lifecycle import ON_THE_CLOCK as LIFECYCLE_CLOCK
from records.core.lifecycle import OPEN_STATES, CaseState, Command
from records.storage.tables import CaseEvent, CaseRecord
from records.supervision import statistics_events as queries

C, E = CaseRecord, CaseEvent
LADDER = queries.LADDER  # the supervisor ladder's commands
# On a unit's clock: the states where the ladder runs and deadlines bind the unit.
ON_THE_CLOCK = frozenset(LIFECYCLE_CLOCK)
# Each deadline: its name, the due column, the column that meets it.
DEADLINES = (
    ("sign_for", C.due_sign, C.signed_at),
    ("arrive", C.due_arrive, C.arrived_at),
    ("feedback", C.due_feedback, C.fed_back_at),
    ("close", C.due_close, C.closed_at),
)
# Each step a unit takes after dispatch, timed from `dispatched_at`.
STEPS = tuple((name, done) for name, _, done in DEADLINES)
OPEN_VALUES = frozenset(state.value for state in OPEN_STATES)


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
    # Ratings given (follow_up entries): by the server's follow-up calls, by hand.
    rated_by_call: int = 0
    rated_by_hand: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return ratio(self.closed_on_time, self.closed)

    @property
    def satisfied(self) -> int:
        return sum(1 for r in self.ratings if r <= 2)

    def add_cases(self, rows: Sequence[Any]) -> None:
        """Rows of `statistics_events.case_rows`, all led by this unit."""
        if not rows:
            return
        _, states, ratings, dispatched, due_close, *done = zip(*rows, strict=True)
        self.dispatched += len(rows)
        self.open += sum(state in OPEN_VALUES for state in states)
        closed = zip(done[-1], due_close, strict=True)  # (closed_at, due_close)
        for at, due in closed:
            if at is not None:
                self.closed += 1
                self.closed_on_time += due is None or at <= due
        for (name, _), step_done in zip(STEPS, done, strict=True):
            values = zip(step_done, dispatched, strict=True)
            self.durations[name] += [minutes(at, began) for at, began in values if at is not None]
        self.ratings += [rating for rating in ratings if rating is not None]

    def add(self, other: UnitFigures) -> None:
        self.dispatched += other.dispatched
        self.closed += other.closed
        self.open += other.open
        self.closed_on_time += other.closed_on_time
        for name, values in other.durations.items():
            self.durations[name] += values
        self.events.update(other.events)
        self.ratings += other.ratings
        self.rated_by_call += other.rated_by_call
        self.rated_by_hand += other.rated_by_hand


async def unit_statistics(
    session: AsyncSession, start: datetime, end: datetime, *, units: Iterable[str] = ()
) -> tuple[list[UnitFigures], UnitFigures]:
    """Per lead unit (sorted by code; `units` adds rows even without cases),
    and the total, for the cases whose latest dispatch lies in [start, end):
    those whose `dispatched_at` does, as each dispatch sets it to its own time
    (case_effects, its only writer).

    Returns, reminders, re-handles and extension requests of those cases count
    against the unit that led the case when they happened, so a unit that
    returned a case keeps its return after the case went elsewhere."""
    await queries.without_jit(session)
    by_unit: dict[str | None, UnitFigures] = {code: UnitFigures(code) for code in units}
    for unit, rows in (await _cases_by_lead_unit(session, start, end)).items():
        _figures(by_unit, unit).add_cases(rows)
    counted = queries.counted_events(start, end, session.get_bind().dialect.name)
    for unit, command, count in await session.execute(counted):
        _figures(by_unit, unit).events[command] += count
    for unit, by_call, count in await session.execute(queries.ratings_by_source(start, end)):
        figures = _figures(by_unit, unit)
        if by_call:
            figures.rated_by_call += count
        else:
            figures.rated_by_hand += count
    total = UnitFigures(None)
    for figures in by_unit.values():
        total.add(figures)
    return [by_unit[code] for code in sorted(filter(None, by_unit))], total


async def _cases_by_lead_unit(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[str | None, list[Any]]:
    """The period's rows of `queries.case_rows`, by lead unit (in the order met)."""
    rows = await session.execute(queries.case_rows(start, end, [done for _, done in STEPS]))
    cases: dict[str | None, list[Any]] = {}
    for row in rows.all():  # all at once: iterating the result fetches row by row
        cases.setdefault(row[0], []).append(row)
    return cases


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

    A send-back names its hand-over's category. A hand-over records its own:
    the case's category then or, unclassified, the code of the catalogue entry
    its words match (`CaseService._matter_code`). Older hand-overs without one
    count under the case's latest `classify` before them; with none, the
    case's category if it was never classified at all, else none."""
    await queries.without_jit(session)
    counts: dict[TransferKey, TransferCount] = {}
    for actor, command, category, count in await session.execute(queries.handovers(start, end)):
        desk = Desk.D12345 if command is Command.REFER_TO_110 else Desk.D110
        counts.setdefault((actor, desk, category), TransferCount()).handovers += count
    for by, from_desk, category, count in await session.execute(queries.send_backs(start, end)):
        key = (str(by), Desk(str(from_desk)), category)
        counts.setdefault(key, TransferCount()).sent_back += count
    return counts
