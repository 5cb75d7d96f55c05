"""The supervisor ladder: for every open case on a unit's clock, a reminder
(提醒) shortly before each deadline, a reminder notice (催办) once it has
passed, and a bulletin (通报) if the case is still overdue N working days
after the notice. Each step is a timeline entry (by the system) and a live
event, taken once per deadline.

`run_ladder(service, now)` does one pass; the server runs it every
LIANDONG_LADDER_INTERVAL seconds, tests call it with the time they want.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from common.vocabulary import Role
from records.core.case_file import Actor, IllegalMove, Refused
from records.core.lifecycle import ON_THE_CLOCK, CaseState, Command
from records.service.cases import CaseChanged, CaseService
from records.service.clocks import running_clocks
from records.storage.tables import CaseRecord

log = logging.getLogger(__name__)

LADDER = Actor("督办系统", Role.SYSTEM)
S = CaseState
LABELS = {"sign_for": "签收", "arrive": "到场", "feedback": "反馈", "close": "办结"}


@dataclass(frozen=True)
class Step:
    case: str
    command: Command
    deadline: str  # sign_for | arrive | feedback | close | archive
    due: datetime


async def run_ladder(service: CaseService, now: datetime) -> list[Step]:
    """Take every ladder step due at `now`, and archive the cases whose time
    after closing has run out; the steps taken."""
    async with service.sessions() as session:
        rows = (
            await session.scalars(select(CaseRecord).where(CaseRecord.state.in_(ON_THE_CLOCK)))
        ).all()
        closed = (
            await session.scalars(select(CaseRecord).where(CaseRecord.state == S.CLOSED))
        ).all()
    taken = await _archive(service, closed, now)
    for record in rows:
        for step in due_steps(service, record, now):
            note = f"{LABELS[step.deadline]}时限 {step.due.isoformat(timespec='minutes')}"
            body = {"deadline": step.deadline, "note": note}
            try:
                await service.act(step.case, step.command, LADDER, body)
            except (IllegalMove, Refused, CaseChanged) as exc:
                log.info("ladder step %s skipped: %s", step, exc)  # moved meanwhile
                continue
            taken.append(step)
    return taken


async def _archive(service: CaseService, closed: Sequence[CaseRecord], now: datetime) -> list[Step]:
    limits, calendar = service.rules.time_limits, service.rules.calendar
    archived = []
    for record in closed:
        if record.closed_at is None:
            continue
        due = limits.archive_at(record.closed_at, calendar)
        if now < due:
            continue
        note = f"办结后满{limits.ladder.archive_after}，入库备案"
        try:
            await service.act(record.number, Command.ARCHIVE, LADDER, {"note": note})
        except (IllegalMove, Refused, CaseChanged) as exc:
            log.info("archiving %s skipped: %s", record.number, exc)  # re-opened meanwhile
            continue
        archived.append(Step(record.number, Command.ARCHIVE, "archive", due))
    return archived


def due_steps(service: CaseService, record: CaseRecord, now: datetime) -> Iterator[Step]:
    limits, calendar = service.rules.time_limits, service.rules.calendar
    done = record.ladder or {}
    for deadline, due in running_clocks(record):
        key = f"{deadline}:"
        notice_sent = done.get(key + Command.NOTICE.value)
        if notice_sent is None:
            remind_at = limits.reminder_at(due)
            # A clock shorter than the reminder lead (a 2 h feedback) gets no reminder.
            started = record.dispatched_at is None or remind_at >= record.dispatched_at
            if now >= limits.notice_at(due, calendar):
                yield Step(record.number, Command.NOTICE, deadline, due)
            elif key + Command.REMIND.value not in done and started and remind_at <= now < due:
                yield Step(record.number, Command.REMIND, deadline, due)
        elif key + Command.BULLETIN.value not in done and now >= due:
            sent = datetime.fromisoformat(notice_sent)
            if now >= limits.bulletin_at(sent, calendar):
                yield Step(record.number, Command.BULLETIN, deadline, due)


async def ladder_task(service: CaseService, interval: float) -> None:
    """Run the ladder forever; a failed pass (database down) is retried next time."""
    while True:
        await asyncio.sleep(interval)
        try:
            steps = await run_ladder(service, service.clock())
        except Exception:
            log.exception("supervisor ladder pass failed; next pass in %.0f s", interval)
            continue
        if steps:
            log.info("supervisor ladder: %d step(s) taken", len(steps))
