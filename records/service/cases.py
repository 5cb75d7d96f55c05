"""The case service: opens cases, moves them through the lifecycle, links
calls, and keeps the records and the live bus in step.

Each move is one transaction: load the case, let `case_file.act` decide,
copy the outcome and its side effects (due times, e-reply, ...) onto the
record, append the timeline entry, commit. A concurrent move of the same
case fails the version check and is refused with "reload and retry" rather
than silently overwriting; nothing is half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from common.vocabulary import DESK_ROLE, Desk, Role
from county.case_rules import CaseRules
from county.case_words import Urgency
from database.engine import WRITE_TRANSACTION
from records.core import callback_notes, follow_up_notes, notice_notes
from records.core.callback_notes import CALLBACK_ENTRY, CallbackNote
from records.core.case_file import (
    Actor,
    IllegalMove,
    NotPermitted,
    Refused,
    TimelineEntry,
    note,
    record,
)
from records.core.follow_up_notes import FOLLOW_UP_ENTRY, FollowUpNote
from records.core.keyed_notes import already_recorded as already_noted
from records.core.lifecycle import OPEN_STATES, CaseState, Command
from records.core.menu_notes import (
    MenuNote,
    MenuOutcome,
    already_recorded,
    entry_name,
    note_data,
)
from records.core.notice_notes import NOTICE_ENTRY, NoticeNote
from records.core.payloads import CREATE_FIELDS, InvalidField, validate, validate_fields
from records.service.moves import move_record, new_record, opening_entry
from records.storage.repository import CaseFilter, CaseRepository, case_file_of, jsonable
from records.storage.tables import CaseEvent, CaseRecord

log = logging.getLogger(__name__)

# Who the server's follow-up calls act as on a case (the rating, a re-opening).
FOLLOW_UP_ACTOR = "回访电话"

Publish = Callable[[dict[str, Any]], None]


class CaseNotFound(LookupError):
    pass


class CaseChanged(Exception):
    """Someone else moved the case between our read and our write."""


@dataclass(frozen=True)
class CaseView:
    record: CaseRecord
    events: list[CaseEvent]
    call_ids: list[str]
    merged: list[str]  # cases merged into this one


class CaseService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rules: CaseRules,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        publish: Publish = lambda message: None,
    ) -> None:
        self.sessions = sessions
        self.rules = rules
        engine = sessions.kw.get("bind")
        sqlite = engine is not None and engine.dialect.name == "sqlite"
        self._turns: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if sqlite else contextlib.nullcontext()
        )
        self.clock = clock
        self.publish = publish
        # Told every announcement the live feed gets (the linkage notices
        # watch dispatches and the moves that make a notice moot).
        self.listeners: list[Publish] = []

    async def open_case(
        self,
        actor: Actor,
        body: dict[str, Any],
        *,
        source: str = "api",
        call_id: str | None = None,
    ) -> CaseView:
        """A new case in `received`, at the actor's desk (or the one the body names)."""
        fields = validate_fields(CREATE_FIELDS, body, "a new case")
        if source == "api" and not fields.get("description"):
            # A call brings its recording and legs; a web form has only its words.
            raise InvalidField("description", "required: what the matter is")
        desk = fields.pop("desk", None) or actor.desk
        if desk is None:
            raise InvalidField("desk", "required: 110 or 12345")
        if actor.desk is not None and desk != actor.desk:
            raise InvalidField(
                "desk",
                f"an operator opens cases at their own desk ({actor.desk.value}); "
                "hand it over with refer_to_110 / refer_to_12345",
            )
        self._check_references(fields)
        at = self.clock()
        async with self._writing() as session:
            repo = CaseRepository(session)
            number = await repo.next_number(at)
            record = new_record(number, Desk(desk), source, actor, at, dict(fields))
            session.add(record)
            await session.flush()
            # Not the number: units read the timeline, and see numbers masked.
            given = {k: v for k, v in fields.items() if k != "caller_number"}
            repo.add_event(number, opening_entry(record, actor, at, source, given))
            if call_id is not None:
                await repo.link_call(number, call_id, at)
        self._announce("case.opened", record, at, actor)
        return await self.view(number)

    async def act(
        self, number: str, command: Command, actor: Actor, body: Any
    ) -> tuple[CaseView, TimelineEntry]:
        data = validate(command, body)
        self._check_references(data)
        at = self.clock()
        try:
            async with self._writing() as session:
                repo = CaseRepository(session)
                record = await self._get(repo, number)
                if command is Command.MERGE:
                    data["into"] = await self._merge_target(repo, record, data["into"])
                stored = await repo.event_count(number)
                entry = move_record(record, stored, command, actor, at, data, self.rules)
                repo.add_event(number, entry)
                survivor = None
                if command is Command.MERGE:
                    for call_id in await repo.call_ids(number):
                        await repo.link_call(data["into"], call_id, at)
                    survivor = await self._record_on(
                        repo, data["into"], Command.ABSORB, actor, at, {"case": number}
                    )
        except (StaleDataError, IntegrityError) as exc:
            log.info("case %s changed under %s: %s", number, command.value, exc)
            raise CaseChanged(f"case {number} was changed meanwhile; reload and retry") from None
        self._announce("case.moved", record, at, actor, entry)
        if survivor is not None:
            self._announce("case.moved", survivor[0], at, actor, survivor[1])
        return await self.view(number), entry

    async def attach_call(self, number: str, call_id: str, actor: Actor) -> None:
        """An operator attaches a call to the case: linked, and on its timeline."""
        at = self.clock()
        async with self._writing() as session:
            repo = CaseRepository(session)
            await self._get(repo, number)
            if not await repo.link_call(number, call_id, at):
                return  # already there
            attached = {"call": call_id}
            target, entry = await self._record_on(
                repo, number, Command.LINK_CALL, actor, at, attached
            )
        self._announce("case.moved", target, at, actor, entry)

    async def _record_on(
        self,
        repo: CaseRepository,
        number: str,
        command: Command,
        actor: Actor,
        at: datetime,
        data: dict[str, Any],
    ) -> tuple[CaseRecord, TimelineEntry]:
        """A RECORDED entry on case `number`, in the caller's transaction."""
        target = await self._get(repo, number)
        case = case_file_of(target, await repo.event_count(number))
        entry = record(case, command, actor, at, data)
        target.updated_at = at  # and its version: a concurrent move of it is refused
        repo.add_event(number, entry)
        return target, entry

    async def record_menu(self, number: str, step: MenuNote) -> TimelineEntry | None:
        """What the caller did in a voice menu, on the case's timeline, once
        (a step already there is skipped: a retry, a replayed event). A caller
        the menu puts in the other desk's queue takes the case along, as a
        one-key transfer does (`refer_to_110`, by the menu's desk); the
        emergency key also flags it urgent. A case no longer open takes
        nothing. None if nothing was recorded."""
        at = self.clock()
        data = note_data(step)
        if step.outcome is MenuOutcome.EMERGENCY:
            data["urgency"] = Urgency.URGENT
        async with self._writing() as session:
            repo = CaseRepository(session)
            target = await self._get(repo, number)
            events = await repo.events(number)
            if already_recorded((e.data for e in events), step.step_id):
                return None
            actor = Actor(f"{step.menu}语音导航", DESK_ROLE[Desk(target.desk)])
            entry = self._menu_referral(target, len(events), step, actor, at, data)
            if entry is None:
                actor = Actor(actor.name, Role.SYSTEM)  # recorded, not a move
                entry = note(case_file_of(target, len(events)), actor, at, data)
                if entry is None:
                    log.info(
                        "case %s is %s: menu step %s not recorded",
                        number,
                        target.state,
                        step.step_id,
                    )
                    return None
                if step.outcome is MenuOutcome.EMERGENCY:
                    target.urgency = Urgency.URGENT
                target.updated_at = at  # and its version: a concurrent move is refused
            repo.add_event(number, entry)
        self._announce("case.moved", target, at, actor, entry)
        return entry

    async def record_callback(self, number: str, cb: CallbackNote) -> TimelineEntry | None:
        """A callback's booking or outcome on the case's timeline, once (a
        change told again is skipped); a case no longer open takes nothing.
        None if nothing was recorded."""
        return await self._note_once(
            number,
            Actor(f"{cb.desk}回拨", Role.SYSTEM),
            callback_notes.note_data(cb),
            lambda entries: already_noted(entries, CALLBACK_ENTRY, cb.note_id),
            f"callback {cb.note_id}",
        )

    async def record_notice(self, number: str, n: NoticeNote) -> TimelineEntry | None:
        """A linkage notice's call, or its alert, on the case's timeline, once."""
        return await self._note_once(
            number,
            Actor("联动通知", Role.SYSTEM),
            notice_notes.note_data(n),
            lambda entries: already_noted(entries, NOTICE_ENTRY, n.note_id),
            f"notice {n.note_id}",
        )

    async def record_follow_up(self, number: str, n: FollowUpNote) -> TimelineEntry | None:
        """A follow-up call not answered, on the case's timeline, once."""
        return await self._note_once(
            number,
            Actor(FOLLOW_UP_ACTOR, Role.SYSTEM),
            follow_up_notes.note_data(n),
            lambda entries: already_noted(entries, FOLLOW_UP_ENTRY, n.note_id),
            f"follow-up {n.note_id}",
            closed_too=True,
        )

    async def _note_once(
        self,
        number: str,
        actor: Actor,
        data: dict[str, Any],
        seen: Callable[[Iterable[dict[str, Any]]], bool],
        what: str,
        *,
        closed_too: bool = False,
    ) -> TimelineEntry | None:
        at = self.clock()
        async with self._writing() as session:
            repo = CaseRepository(session)
            target = await self._get(repo, number)
            events = await repo.events(number)
            if seen(e.data for e in events):
                return None
            case = case_file_of(target, len(events))
            entry = note(case, actor, at, data, closed_too=closed_too)
            if entry is None:
                log.info("case %s is %s: %s not recorded", number, target.state, what)
                return None
            target.updated_at = at  # and its version: a concurrent move is refused
            repo.add_event(number, entry)
        self._announce("case.moved", target, at, actor, entry)
        return entry

    def _menu_referral(
        self,
        target: CaseRecord,
        stored: int,
        step: MenuNote,
        actor: Actor,
        at: datetime,
        data: dict[str, Any],
    ) -> TimelineEntry | None:
        """The case handed to the desk whose queue the menu put the caller in,
        if that is the other desk and the lifecycle allows it now."""
        if step.to_desk is None or step.to_desk == target.desk.value:
            return None
        if step.outcome is MenuOutcome.HUNG_UP or CaseState(target.state) not in OPEN_STATES:
            return None
        command = Command.REFER_TO_110 if step.to_desk == Desk.D110 else Command.REFER_TO_12345
        try:
            return move_record(target, stored, command, actor, at, dict(data), self.rules)
        except (IllegalMove, NotPermitted, Refused) as exc:
            # e.g. already in police handling: recorded as a step, the desk decides
            log.info("case %s not referred to %s by the menu: %s", target.number, step.to_desk, exc)
            return None

    async def link_call(self, number: str, call_id: str) -> bool:
        async with self._writing() as session:
            repo = CaseRepository(session)
            await self._get(repo, number)
            linked = await repo.link_call(number, call_id, self.clock())
        return linked

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction. On SQLite they take turns in the process first:
        waiting in SQLite's busy handler (which sleeps and is not fair) made
        single moves take seconds under load (benchmarks/cases/RESULTS.md)."""
        async with self._turns, self.sessions() as session, session.begin():
            await session.connection(execution_options=WRITE_TRANSACTION)
            yield session

    async def find(self, where: CaseFilter) -> list[CaseRecord]:
        async with self.sessions() as session:
            return await CaseRepository(session).find(where)

    async def put_there_since(
        self, state: CaseState, commands: Iterable[Command], since: datetime, limit: int = 1000
    ) -> list[tuple[str, int]]:
        """The cases now in `state` that one of `commands` put there since
        `since` (dispatched and not signed; closed), each with that move's
        seq: what a linkage notice or a follow-up call is made for, looked
        for again after a restart."""
        async with self.sessions() as session:
            return await CaseRepository(session).put_there_since(state, commands, since, limit)

    async def cases_of_caller(self, caller_number: str, limit: int = 20) -> list[CaseRecord]:
        """The cases a calling number opened, newest first (the 12345 menu
        tells a caller only their own)."""
        return await self.find(CaseFilter(caller_number=caller_number, limit=limit))

    async def record(self, number: str) -> CaseRecord:
        """The case row alone (who may see it, its state), without its timeline."""
        async with self.sessions() as session:
            return await self._get(CaseRepository(session), number)

    async def view(self, number: str) -> CaseView:
        async with self.sessions() as session:
            repo = CaseRepository(session)
            record = await self._get(repo, number)
            return CaseView(
                record,
                await repo.events(number),
                await repo.call_ids(number),
                await repo.merged_into(number),
            )

    async def _get(self, repo: CaseRepository, number: str) -> CaseRecord:
        record = await repo.get(number)
        if record is None:
            raise CaseNotFound(f"no case {number!r}")
        return record

    async def _merge_target(self, repo: CaseRepository, record: CaseRecord, into: str) -> str:
        target = await repo.get(into)
        if target is None:
            raise InvalidField("into", f"no case {into!r}")
        if target.number == record.number:
            raise InvalidField("into", "a case cannot be merged into itself")
        if target.state not in OPEN_STATES:
            raise Refused(f"case {into} is {target.state.value}; merge into an open case")
        return target.number

    def _check_references(self, data: dict[str, Any]) -> None:
        """Unit, township and category codes must be the rule book's."""
        roster = self.rules.roster
        for name in ("lead_unit", "township"):
            code = data.get(name)
            if code is not None and roster.get(code) is None:
                raise InvalidField(name, f"unknown unit {code!r} (see the roster)")
        if data.get("township") and data["township"] not in roster.townships():
            raise InvalidField("township", f"{data['township']!r} is not a township unit")
        for code in data.get("co_units", ()):
            if roster.get(code) is None:
                raise InvalidField("co_units", f"unknown unit {code!r} (see the roster)")
        category = data.get("category")
        if category is not None and self.rules.routing.category(category) is None:
            raise InvalidField("category", f"unknown category {category!r} (see routing.yaml)")

    def suggestion_for(self, record: CaseRecord, draft: dict[str, Any]) -> dict[str, Any]:
        """What the routing catalogue suggests for the case, with what the
        operator has typed so far (`draft`: text, demand_type, category,
        township) taking the place of what the case holds."""
        self._check_references(draft)
        text = draft.get("text") or " ".join(filter(None, (record.description, record.address)))
        category = draft.get("category", record.category)
        if category is not None and self.rules.routing.category(category) is None:
            category = None  # the catalogue changed since the case was classified
        found = self.rules.routing.suggest(
            desk=Desk(record.desk),
            text=text,
            demand_type=draft.get("demand_type", record.demand_type),
            category=category,
            township=draft.get("township", record.township),
        )
        suggestion: dict[str, Any] = jsonable(dataclasses.asdict(found))
        return suggestion

    def _announce(
        self,
        kind: str,
        record: CaseRecord,
        at: datetime,
        actor: Actor,
        entry: TimelineEntry | None = None,
    ) -> None:
        data: dict[str, Any] = {
            "case": record.number,
            "state": record.state.value,
            "desk": record.desk.value,
            "lead_unit": record.lead_unit,
            "co_units": list(record.co_units or ()),
            "at": at.isoformat(),
            "actor": actor.name,
            "role": actor.role.value,
        }
        if entry is not None:
            data |= {
                "seq": entry.seq,
                "command": entry_name(entry.command, entry.seq, entry.data),
                "from": entry.from_state.value if entry.from_state else None,
            }
        # The live feed's shape: {"type", "data"}, like the call and transfer events.
        message = {"type": kind, "data": data}
        self.publish(message)
        for listener in self.listeners:
            try:
                listener(message)
            except Exception:  # a listener's bug must not fail the move made
                log.exception("case %s: a listener failed", record.number)
