"""A year of cases as a county's two desks would leave them, for the supervision views.

Every case is played through the service's own move, `moves.move_record`:
`case_file.act` decides (so every state, hand-over and wrong-transfer record
is one the table allows), `case_effects.apply_effects` fills in due times, the
e-reply, satisfaction and the ladder, and the timeline entry is stored as
`CaseRepository.add_event` stores it. Nothing goes through a session:
the rows are collected and bulk-inserted with SQLAlchemy core (`insert_dataset`).

The supervisor ladder is played in continuous time from the committed rules
(`time_limits.reminder_at / notice_at / bulletin_at`): a reminder 4 h before a
running deadline, a notice once it has passed, a bulletin if still overdue —
so a late unit collects exactly the ladder steps the server would have given.

The mix (of all cases; "hotline flow" = classify → dispatch → sign → [arrive]
→ [feed back] → reply → approve → close → [follow-up] → [archive]):

- 58 %  opened at 12345 and dispatched (hotline flow); inside it, 3 % ask to
  return the case (re-dispatched or refused), 3 % ask for an extension, 3 %
  have their reply rejected once, 1.5 % are reopened after closing, 0.8 %
  stall after signing (never replied: long-overdue open cases)
- 12 %  enquiries answered at the 12345 desk
- 8 %   opened at 110, referred to 12345 (1 in 8 sent back: a wrong transfer)
- 4 %   classified at 12345 as police matters and referred to 110 (15 % sent
  back; the rest closed by the police or fed back and then dispatched)
- 14.5 % police matters the 110 desk takes itself
- 2 %   cancelled, 1.5 % merged into an earlier case

Cases are created over the year before `now` (more by day than by night);
cases still in progress at `now` stay open where they are. The generator is
seeded: the same arguments give the same rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from common.vocabulary import Desk, Role
from county.calendar import COUNTY_TZ
from county.case_rules import CaseRules
from county.case_words import DemandType, Route, Urgency
from county.routing import TOWNSHIP_LEAD, Category, RoutingCatalogue, Suggestion
from records.core.case_file import Actor, TimelineEntry
from records.core.lifecycle import OPEN_STATES, TRANSITIONS, CaseState, Command
from records.core.payloads import validate
from records.service.clocks import running_clocks
from records.service.moves import move_record, new_record, opening_entry
from records.storage.repository import jsonable
from records.storage.tables import CaseCounter, CaseEvent, CaseRecord

C = Command
S = CaseState
ON_THE_CLOCK = frozenset(TRANSITIONS[C.REMIND])
DEADLINE_LABELS = {"sign_for": "签收", "arrive": "到场", "feedback": "反馈", "close": "办结"}
# Local hour of day → weight: calls come by day, few at night.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 4, 7, 9, 9, 8, 5, 5, 8, 9, 9, 8, 6, 5, 4, 3, 2, 1]
CASE_COLUMNS = tuple(column.key for column in CaseRecord.__table__.columns)
INSERT_CHUNK = 5000


class Reached(Exception):
    """The next move would lie after `now`: the case stays where it is."""


@dataclass
class Dataset:
    now: datetime
    cases: list[dict[str, Any]]
    events: list[dict[str, Any]]
    counters: dict[int, int]
    seconds: float  # to generate
    states: Counter[str] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)

    @property
    def open_cases(self) -> int:
        return sum(n for state, n in self.states.items() if state in OPEN_STATES)

    def describe(self) -> str:
        ladder = ", ".join(f"{c} {self.commands[c]:,}" for c in ("remind", "notice", "bulletin"))
        counted = ("request_return", "reopen", "send_back", "refer_to_110", "refer_to_12345")
        others = ", ".join(f"{c} {self.commands[c]:,}" for c in counted)
        return (
            f"{len(self.cases):,} cases over the year to {self.now:%Y-%m-%d %H:%M} UTC, "
            f"{len(self.events):,} timeline rows ({len(self.events) / len(self.cases):.1f} per "
            f"case); {self.open_cases:,} open at `now`; ladder: {ladder}; {others}"
        )


class Staff:
    """The people who give the commands."""

    def __init__(self, rules: CaseRules) -> None:
        self.op110 = [Actor(f"110接警员{i:02d}", Role.OPERATOR_110) for i in range(1, 7)]
        self.op12345 = [Actor(f"12345话务员{i:02d}", Role.OPERATOR_12345) for i in range(1, 11)]
        self.units = {
            code: Actor(f"{unit.name}经办人", Role.UNIT, code)
            for code, unit in rules.roster.units.items()
        }
        self.supervisor = Actor("督查局", Role.SUPERVISOR)
        self.ladder = Actor("督办系统", Role.SYSTEM)


class CasePlay:
    """One case played move by move, as the service would store it."""

    def __init__(
        self,
        world: World,
        number: str,
        desk: Desk,
        opener: Actor,
        created: datetime,
        fields: dict[str, Any],
    ) -> None:
        self.world = world
        self.record = unmapped(new_record(number, desk, "call", opener, created, dict(fields)))
        self.entries = [opening_entry(self.record, opener, created, "call", {})]
        self.at = created

    # -- moves

    def move(self, command: Command, actor: Actor, body: dict[str, Any], after: timedelta) -> None:
        self.move_at(command, actor, body, self.at + after)

    def move_at(self, command: Command, actor: Actor, body: dict[str, Any], at: datetime) -> None:
        at = max(at, self.at + timedelta(seconds=30))
        self._ladder_until(at)
        self._apply(command, actor, body, at)

    def _apply(self, command: Command, actor: Actor, body: dict[str, Any], at: datetime) -> None:
        if at > self.world.now:
            raise Reached
        data = validate(command, body)
        entry = move_record(
            self.record, len(self.entries), command, actor, at, data, self.world.rules
        )
        self.entries.append(entry)
        self.at = at

    def finish(self) -> None:
        """The case as it stands at `now`: ladder steps up to now, then stop."""
        with contextlib.suppress(Reached):
            self._ladder_until(self.world.now)

    # -- the supervisor ladder, in continuous time

    def _ladder_until(self, until: datetime) -> None:
        while True:
            step = self._next_ladder_step()
            if step is None:
                return
            when, command, deadline, due = step
            if when >= until:
                return
            note = f"{DEADLINE_LABELS[deadline]}时限 {due.isoformat(timespec='minutes')}"
            self._apply(
                command, self.world.staff.ladder, {"deadline": deadline, "note": note}, when
            )

    def _next_ladder_step(self) -> tuple[datetime, Command, str, datetime] | None:
        record = self.record
        if record.state not in ON_THE_CLOCK or record.dispatched_at is None:
            return None
        limits, calendar = self.world.rules.time_limits, self.world.rules.calendar
        done = record.ladder or {}
        best: tuple[datetime, Command, str, datetime] | None = None
        for deadline, due in running_clocks(record):
            key = f"{deadline}:"
            notice_sent = done.get(key + C.NOTICE.value)
            if notice_sent is None:
                remind_at = limits.reminder_at(due)
                started = remind_at >= record.dispatched_at
                if key + C.REMIND.value not in done and started and max(remind_at, self.at) < due:
                    step = (max(remind_at, self.at), C.REMIND, deadline, due)
                else:
                    step = (max(limits.notice_at(due, calendar), self.at), C.NOTICE, deadline, due)
            elif key + C.BULLETIN.value not in done:
                sent = datetime.fromisoformat(notice_sent)
                when = max(limits.bulletin_at(sent, calendar), self.at)
                step = (when, C.BULLETIN, deadline, due)
            else:
                continue
            if best is None or step[0] < best[0]:
                best = step
        return best

    # -- rows

    def case_row(self) -> dict[str, Any]:
        row = {name: getattr(self.record, name) for name in CASE_COLUMNS}
        row["version"] = len(self.entries)
        return row

    def event_rows(self) -> Iterator[dict[str, Any]]:
        number = self.record.number
        for entry in self.entries:
            yield event_row(number, entry)


class Unmapped:
    """A case record's columns as plain attributes. The lifecycle and effects
    code only reads and sets attributes; without the ORM's bookkeeping on each
    of ~40 sets per case, a hundred thousand cases are made in half the time."""


def unmapped(record: CaseRecord) -> CaseRecord:
    plain = Unmapped()
    plain.__dict__.update({name: getattr(record, name) for name in CASE_COLUMNS})
    return cast(CaseRecord, plain)


def event_row(number: str, entry: TimelineEntry) -> dict[str, Any]:
    """As `CaseRepository.add_event` stores it."""
    return {
        "case_number": number,
        "seq": entry.seq,
        "at": entry.at,
        "command": entry.command,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "actor": entry.actor,
        "role": entry.role,
        "unit": entry.unit,
        "data": jsonable(entry.data),
    }


class RememberingCatalogue(RoutingCatalogue):
    """The routing catalogue with its answers remembered: the generator asks
    the same few hundred questions a hundred thousand times."""

    def suggest(
        self,
        *,
        desk: Desk,
        text: str,
        demand_type: DemandType | None = None,
        category: str | None = None,
        township: str | None = None,
    ) -> Suggestion:
        key = (id(self), desk, text, demand_type, category, township)
        found = _SUGGESTIONS.get(key)
        if found is None:
            found = _SUGGESTIONS[key] = super().suggest(
                desk=desk, text=text, demand_type=demand_type, category=category, township=township
            )
        return found


_SUGGESTIONS: dict[tuple[Any, ...], Suggestion] = {}


def remembering(rules: CaseRules) -> CaseRules:
    routing = rules.routing
    fields = {f.name: getattr(routing, f.name) for f in dataclasses.fields(routing)}
    return dataclasses.replace(rules, routing=RememberingCatalogue(**fields))


class World:
    """The rules, the people, the clock and the dice."""

    def __init__(self, rules: CaseRules, now: datetime, seed: int) -> None:
        self.rules = remembering(rules)
        self.now = now
        self.rng = random.Random(seed)
        self.staff = Staff(rules)
        self.townships = sorted(rules.roster.townships())
        self.dispatchable = [c for c in rules.routing.categories if not c.answerable]
        self.answerable = [c for c in rules.routing.categories if c.answerable]
        self.departments = [code for code, u in rules.roster.units.items() if u.township is None]

    # -- dice

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def lognormal_minutes(self, median: float, sigma: float, cap: float) -> timedelta:
        return timedelta(minutes=min(self.rng.lognormvariate(0, sigma) * median, cap))

    def pick(self, items: Sequence[Actor]) -> Actor:
        return self.rng.choice(items)

    def created_times(self, count: int) -> list[datetime]:
        """`count` times over the year before `now`, by the hour-of-day weights."""
        rng, times = self.rng, list[datetime]()
        hours = list(range(24))
        first_day = (self.now - timedelta(days=365)).astimezone(COUNTY_TZ).date()
        while len(times) < count:
            day = first_day + timedelta(days=rng.randrange(366))
            hour = rng.choices(hours, HOUR_WEIGHTS)[0]
            local = datetime(day.year, day.month, day.day, hour, tzinfo=COUNTY_TZ)
            at = (local + timedelta(seconds=rng.randrange(3600))).astimezone(UTC)
            if self.now - timedelta(days=365) <= at < self.now:
                times.append(at)
        times.sort()
        return times

    # -- what a case is about

    def lead_of(self, category: Category, township: str) -> tuple[str, list[str]]:
        lead = category.by_township.get(township, category.lead) or self.rng.choice(
            self.departments
        )
        if lead == TOWNSHIP_LEAD:
            lead = township
        co = [township if u == TOWNSHIP_LEAD else u for u in category.co_units]
        return lead, [u for u in dict.fromkeys(co) if u != lead]

    def caller(self) -> dict[str, Any]:
        rng = self.rng
        name = rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(("先生", "女士"))
        return {"caller_name": name, "caller_number": f"139{rng.randrange(10**8):08d}"}

    # -- the flows

    def play(self, number: str, created: datetime, previous: str | None) -> CasePlay:
        roll = self.rng.random()
        if roll < 0.58:
            return self._hotline(number, created)
        if roll < 0.70:
            return self._answered(number, created)
        if roll < 0.78:
            return self._from_110(number, created)
        if roll < 0.82:
            return self._to_110(number, created)
        if roll < 0.965 or previous is None:
            return self._police(number, created)
        return self._withdrawn(number, created, previous)

    def _open(self, number: str, created: datetime, desk: Desk, about: str) -> CasePlay:
        opener = self.pick(self.staff.op110 if desk is Desk.D110 else self.staff.op12345)
        fields = {**self.caller(), "description": about}
        if self.chance(0.05):
            fields["urgency"] = Urgency.URGENT
        return CasePlay(self, number, desk, opener, created, fields)

    def _classify_body(self, category: Category, township: str, route: Route) -> dict[str, Any]:
        demand = self.rng.choices(
            [
                DemandType.HELP,
                DemandType.COMPLAINT,
                DemandType.REPORT,
                DemandType.SUGGESTION,
                DemandType.ENQUIRY,
            ],
            [40, 30, 10, 5, 15],
        )[0]
        return {
            "demand_type": demand.value,
            "route": route.value,
            "category": category.code,
            "township": township,
            "address": f"{self.rules.roster.units[township].name}某村",
        }

    def _hotline(self, number: str, created: datetime) -> CasePlay:
        category = self.rng.choice(self.dispatchable)
        township = self.rng.choice(self.townships)
        play = self._open(number, created, Desk.D12345, f"市民反映{category.name}方面的问题")
        op = self.pick(self.staff.op12345)
        try:
            body = self._classify_body(category, township, Route.HOTLINE)
            play.move(C.CLASSIFY, op, body, self.minutes(1, 8))
            self._unit_work(play, op, category, township)
        except Reached:
            pass
        play.finish()
        return play

    def _unit_work(self, play: CasePlay, op: Actor, category: Category, township: str) -> None:
        """Dispatch through close (and what may follow), from a classified case."""
        lead, co = self.lead_of(category, township)
        co_units = co if self.chance(0.3) else []
        play.move(C.DISPATCH, op, {"lead_unit": lead, "co_units": co_units}, self.minutes(3, 60))
        if self.chance(0.03):
            lead = self._return(play, op, lead)
        unit = self.staff.units[lead]
        if play.record.state is S.DISPATCHED:  # a rejected return leaves a signed case signed
            self._sign(play, unit)
        record = play.record
        if record.due_arrive or self.chance(0.4):
            play.move(C.ARRIVE, unit, {}, self.minutes(20, 360))
        if self.chance(0.008):
            return  # stalls: never replied
        if record.due_feedback or self.chance(0.6):
            if record.due_feedback and self.chance(0.85):
                late_by = (record.due_feedback - play.at) * self.rng.uniform(0.1, 0.9)
            else:
                late_by = self.minutes(60, 1440)
            play.move(C.FEED_BACK, unit, {"measures": "已安排人员核实处理"}, late_by)
        if (
            self.chance(0.03)
            and record.due_close
            and play.at < record.due_close - timedelta(hours=6)
        ):
            self._extension(play, unit)
        self._reply(play, unit)
        if self.chance(0.03):
            play.move(C.REJECT_REPLY, op, {"reason": "答复内容不完整"}, self.minutes(30, 600))
            play.move(C.FEED_BACK, unit, {"measures": "补充核实"}, self.minutes(60, 1440))
            self._reply(play, unit)
        reopened = self.chance(0.015)
        self._approve_and_close(play, op, aftercare=not reopened)
        if reopened:
            play.move(C.REOPEN, op, {"reason": "群众反映问题未解决"}, self.minutes(600, 14400))
            play.move(C.DISPATCH, op, {"lead_unit": lead}, self.minutes(5, 120))
            self._sign(play, unit)
            self._reply(play, unit)
            self._approve_and_close(play, op)

    def _sign(self, play: CasePlay, unit: Actor) -> None:
        roll = self.rng.random()
        if roll < 0.90:
            wait = self.lognormal_minutes(40, 1.0, 1100)
        elif roll < 0.98:
            wait = self.minutes(1200, 1440)  # within the day, after the reminder
        else:
            wait = self.minutes(1440, 4320)  # late: a notice, perhaps a bulletin
        play.move(C.SIGN, unit, {}, wait)

    def _return(self, play: CasePlay, op: Actor, lead: str) -> str:
        unit = self.staff.units[lead]
        if self.chance(0.4):
            self._sign(play, unit)
        play.move(C.REQUEST_RETURN, unit, {"reason": "不属于本单位职责"}, self.minutes(30, 600))
        if self.chance(0.75):
            other = self.rng.choice([d for d in self.departments if d != lead])
            play.move(C.REDISPATCH, op, {"lead_unit": other}, self.minutes(20, 480))
            return other
        play.move(C.REJECT_RETURN, op, {"reason": "属于本单位职责"}, self.minutes(20, 480))
        return lead

    def _extension(self, play: CasePlay, unit: Actor) -> None:
        days = self.rng.randrange(2, 11)
        play.move(
            C.REQUEST_EXTENSION,
            unit,
            {"days": days, "reason": "需协调多部门"},
            self.minutes(30, 300),
        )
        if self.chance(0.8):
            play.move(C.APPROVE_EXTENSION, self.pick(self.staff.op12345), {}, self.minutes(30, 300))
        else:
            body = {"reason": "可在时限内办结"}
            play.move(C.REFUSE_EXTENSION, self.staff.supervisor, body, self.minutes(30, 300))

    def _reply(self, play: CasePlay, unit: Actor) -> None:
        record = play.record
        assert record.dispatched_at is not None and record.due_close is not None
        span = record.due_close - record.dispatched_at
        # The share of the time allowed that the unit takes to reply (over 1: late).
        roll = self.rng.random()
        if roll < 0.85:
            factor = self.rng.uniform(0.05, 0.8)
        elif roll < 0.95:
            factor = self.rng.uniform(0.8, 1.0)
        elif roll < 0.99:
            factor = self.rng.uniform(1.0, 2.0)
        else:
            factor = self.rng.uniform(2.0, 5.0)
        body = {"measures": "现场处置", "result": "已处理完毕", "handler": "张某某"}
        play.move_at(C.REPLY, unit, body, record.dispatched_at + span * factor)

    def _approve_and_close(self, play: CasePlay, op: Actor, aftercare: bool = True) -> None:
        play.move(C.APPROVE_REPLY, op, {}, self.minutes(10, 600))
        play.move(C.CLOSE, op, {}, self.minutes(1, 60))
        if not aftercare:
            return
        if self.chance(0.5):
            rating = self.rng.choices([1, 2, 3, 4, 5], [40, 35, 15, 6, 4])[0]
            play.move(C.FOLLOW_UP, op, {"satisfaction": rating}, self.minutes(60, 4320))
        if self.chance(0.3):
            play.move(C.ARCHIVE, op, {}, self.minutes(7 * 1440, 30 * 1440))

    def _answered(self, number: str, created: datetime) -> CasePlay:
        category = self.rng.choice(self.answerable)
        play = self._open(number, created, Desk.D12345, "咨询办理居住证需要什么材料")
        op = self.pick(self.staff.op12345)
        try:
            body = {"demand_type": "enquiry", "route": "answer", "category": category.code}
            play.move(C.CLASSIFY, op, body, self.minutes(1, 5))
            play.move(C.ANSWER_DIRECTLY, op, {"answer": "已告知办理流程"}, self.minutes(1, 5))
            if self.chance(0.3):
                rating = self.rng.choices([1, 2, 3, 4, 5], [50, 30, 12, 5, 3])[0]
                play.move(C.FOLLOW_UP, op, {"satisfaction": rating}, self.minutes(60, 2880))
        except Reached:
            pass
        play.finish()
        return play

    def _from_110(self, number: str, created: datetime) -> CasePlay:
        """110 hands a non-police matter to 12345; 1 in 8 comes back."""
        category = self.rng.choice(self.dispatchable)
        township = self.rng.choice(self.townships)
        play = self._open(number, created, Desk.D110, f"群众反映{category.name}问题，非警务")
        p110, p12345 = self.pick(self.staff.op110), self.pick(self.staff.op12345)
        try:
            play.move(C.REFER_TO_12345, p110, {"note": "非警务，一键转12345"}, self.minutes(2, 10))
            if self.chance(1 / 8):
                play.move(C.SEND_BACK, p12345, {"reason": "属警务事项"}, self.minutes(2, 20))
                play.move(C.ACCEPT_POLICE, p110, {}, self.minutes(1, 10))
                result = {"result": "已出警处置"}
                play.move(C.POLICE_CLOSE, p110, result, self.minutes(30, 360))
            else:
                body = self._classify_body(category, township, Route.HOTLINE)
                play.move(C.CLASSIFY, p12345, body, self.minutes(2, 20))
                self._unit_work(play, p12345, category, township)
        except Reached:
            pass
        play.finish()
        return play

    def _to_110(self, number: str, created: datetime) -> CasePlay:
        """12345 refers a police (or unclear) matter to 110."""
        category = self.rng.choice(self.dispatchable)
        township = self.rng.choice(self.townships)
        play = self._open(number, created, Desk.D12345, "邻里纠纷，双方争吵")
        p110, p12345 = self.pick(self.staff.op110), self.pick(self.staff.op12345)
        try:
            route = Route.AMBIGUOUS if self.chance(0.6) else Route.POLICE
            body = self._classify_body(category, township, route)
            play.move(C.CLASSIFY, p12345, body, self.minutes(1, 5))
            play.move(C.REFER_TO_110, p12345, {}, self.minutes(1, 5))
            roll = self.rng.random()
            if roll < 0.15:
                play.move(C.SEND_BACK, p110, {"reason": "非警务事项"}, self.minutes(2, 30))
                self._unit_work(play, p12345, category, township)
            elif roll < 0.65:
                play.move(C.POLICE_CLOSE, p110, {"result": "已调解"}, self.minutes(30, 600))
            else:
                body = {"officer": "李警官", "findings": "非警务", "measures": "已劝解"}
                play.move(C.POLICE_FEEDBACK, p110, body, self.minutes(30, 600))
                self._unit_work(play, p12345, category, township)
        except Reached:
            pass
        play.finish()
        return play

    def _police(self, number: str, created: datetime) -> CasePlay:
        play = self._open(number, created, Desk.D110, "报警称有人打架")
        p110 = self.pick(self.staff.op110)
        try:
            ticket = {"police_ticket": f"JJ{number.replace('-', '')}"}
            play.move(C.ACCEPT_POLICE, p110, ticket, self.minutes(1, 5))
            play.move(C.POLICE_CLOSE, p110, {"result": "已出警处置"}, self.minutes(30, 360))
        except Reached:
            pass
        play.finish()
        return play

    def _withdrawn(self, number: str, created: datetime, previous: str) -> CasePlay:
        desk = Desk.D110 if self.chance(0.3) else Desk.D12345
        play = self._open(number, created, desk, "重复来电")
        op = self.pick(self.staff.op110 if desk is Desk.D110 else self.staff.op12345)
        try:
            if self.chance(0.57):
                play.move(C.CANCEL, op, {"reason": "来电人撤回诉求"}, self.minutes(1, 30))
            else:
                play.move(C.MERGE, op, {"into": previous}, self.minutes(1, 30))
        except Reached:
            pass
        play.finish()
        return play


def generate(
    rules: CaseRules,
    count: int,
    now: datetime,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> Dataset:
    started = time.perf_counter()
    world = World(rules, now, seed)
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    counters: dict[int, int] = {}
    states: Counter[str] = Counter()
    commands: Counter[str] = Counter()
    previous: str | None = None
    for index, created in enumerate(world.created_times(count)):
        year = created.astimezone(COUNTY_TZ).year
        counters[year] = counters.get(year, 0) + 1
        number = f"{year}-{counters[year]:06d}"
        play = world.play(number, created, previous)
        cases.append(play.case_row())
        for row in play.event_rows():
            events.append(row)
            if row["command"] is not None:
                commands[row["command"].value] += 1
        states[play.record.state.value] += 1
        previous = number
        if progress is not None and (index + 1) % 10_000 == 0:
            progress(index + 1)
    return Dataset(now, cases, events, counters, time.perf_counter() - started, states, commands)


async def insert_dataset(engine: AsyncEngine, data: Dataset) -> float:
    """Bulk insert through SQLAlchemy core, in chunks, one transaction; seconds taken."""
    started = time.perf_counter()
    async with engine.begin() as connection:
        for rows, statement in ((data.cases, insert(CaseRecord)), (data.events, insert(CaseEvent))):
            for first in range(0, len(rows), INSERT_CHUNK):
                await connection.execute(statement, rows[first : first + INSERT_CHUNK])
        counters = [{"year": year, "last": last} for year, last in sorted(data.counters.items())]
        await connection.execute(insert(CaseCounter), counters)
    return time.perf_counter() - started


async def vacuum_analyze(engine: AsyncEngine) -> float:
    """PostgreSQL: VACUUM (ANALYZE) after the load, as autovacuum soon would;
    done now so that autovacuum does not run while the views are timed."""
    started = time.perf_counter()
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE)"))
    return time.perf_counter() - started
