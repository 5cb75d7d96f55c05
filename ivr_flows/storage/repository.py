"""Reading and writing the desks' tables (one session, the caller's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr_flows.core.desk_events import MenuStep
from ivr_flows.core.desk_figures import Period
from ivr_flows.core.operators import Operator
from ivr_flows.core.waits import Wait, WaitOutcome
from ivr_flows.storage.tables import MenuStepRecord, OperatorPeriod, QueueWait


class DeskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save_wait(self, wait: Wait) -> None:
        """Insert or overwrite the wait whole (saving is idempotent)."""
        await self.session.merge(
            QueueWait(
                id=wait.wait_id,
                call_id=wait.call_id,
                uniqueid=wait.uniqueid,
                desk=wait.desk,
                via=wait.via,
                priority=wait.priority,
                position=wait.position,
                outcome=wait.outcome,
                joined_at=wait.joined_at,
                left_at=wait.left_at,
                answered_at=wait.answered_at,
                operator=wait.operator,
                talk_s=wait.talk_s,
                ended_by=wait.ended_by,
            )
        )

    async def enter_state(self, op: Operator) -> None:
        """The phone's open period ends where its new state begins."""
        assert op.since is not None
        await self.session.execute(
            update(OperatorPeriod)
            .where(OperatorPeriod.phone == op.phone, OperatorPeriod.ended_at.is_(None))
            .values(ended_at=op.since)
        )
        self.session.add(
            OperatorPeriod(
                phone=op.phone,
                desk=op.desk,
                state=op.state,
                reason=op.reason,
                started_at=op.since,
            )
        )

    async def add_step(self, step: MenuStep) -> None:
        """A step on the call's record, unless it is there already (the same
        event sent again to a server that restarted: its walks start empty)."""
        known = await self.session.scalar(
            select(MenuStepRecord.id).where(
                MenuStepRecord.call_id == step.call_id,
                MenuStepRecord.uniqueid == step.uniqueid,
                MenuStepRecord.at == step.at,
                MenuStepRecord.node == step.node,
                MenuStepRecord.key == step.key,
                MenuStepRecord.mark == step.mark,
            )
        )
        if known is not None:
            return
        self.session.add(
            MenuStepRecord(
                call_id=step.call_id,
                uniqueid=step.uniqueid,
                at=step.at,
                menu=step.menu,
                node=step.node,
                key=step.key,
                mark=step.mark,
            )
        )

    async def steps_of_call(self, call_id: str) -> list[MenuStep]:
        rows = await self.session.scalars(
            select(MenuStepRecord)
            .where(MenuStepRecord.call_id == call_id)
            .order_by(MenuStepRecord.at, MenuStepRecord.id)
        )
        return [MenuStep(r.at, r.uniqueid, r.call_id, r.menu, r.node, r.key, r.mark) for r in rows]

    async def waits_of_call(self, call_id: str) -> list[Wait]:
        rows = await self.session.scalars(
            select(QueueWait).where(QueueWait.call_id == call_id).order_by(QueueWait.joined_at)
        )
        return [_wait(row) for row in rows]

    async def recent_waits(self, since: datetime) -> list[Wait]:
        """The waits still open and those that began from `since` on (what a
        restarted server knows of the desks' lines)."""
        rows = await self.session.scalars(
            select(QueueWait)
            .where(or_(QueueWait.outcome == WaitOutcome.WAITING, QueueWait.joined_at >= since))
            .order_by(QueueWait.joined_at)
        )
        return [_wait(row) for row in rows]

    async def last_record_at(self) -> datetime | None:
        """The time of the desks' latest record: a wait's join, answer or
        end, or an operator's change of state."""
        times = [
            await self.session.scalar(select(func.max(column)))
            for column in (
                QueueWait.joined_at,
                QueueWait.answered_at,
                QueueWait.left_at,
                OperatorPeriod.started_at,
            )
        ]
        known = [t for t in times if t is not None]
        return max(known) if known else None

    async def waits_for_figures(
        self, start: datetime, end: datetime, desk: str | None = None
    ) -> list[Wait]:
        """The waits that began in [start, end) at `desk` (or any desk), with
        every other wait of their calls: a caller put back in line after an
        overflow may have joined again after `end`, or first before `start`
        (ivr_flows/core/desk_figures.py chains them). Uses the indexes on
        (desk, joined_at) and call_id."""
        began = select(QueueWait.call_id).where(
            QueueWait.joined_at >= start, QueueWait.joined_at < end
        )
        if desk is not None:
            began = began.where(QueueWait.desk == desk)
        query = select(QueueWait).where(QueueWait.call_id.in_(began))
        rows = await self.session.scalars(query.order_by(QueueWait.joined_at, QueueWait.id))
        return [_wait(row) for row in rows]

    async def periods_between(
        self, start: datetime, end: datetime, desk: str | None = None
    ) -> list[Period]:
        """Every operator period that overlaps [start, end) (at `desk`)."""
        query = select(OperatorPeriod).where(
            OperatorPeriod.started_at < end,
            (OperatorPeriod.ended_at.is_(None)) | (OperatorPeriod.ended_at > start),
        )
        if desk is not None:
            query = query.where(OperatorPeriod.desk == desk)
        rows = await self.session.scalars(
            query.order_by(OperatorPeriod.started_at, OperatorPeriod.id)
        )
        return [Period(r.phone, r.desk, r.state, r.reason, r.started_at, r.ended_at) for r in rows]


def _wait(row: QueueWait) -> Wait:
    return Wait(
        wait_id=row.id,
        uniqueid=row.uniqueid,
        call_id=row.call_id,
        desk=row.desk,
        via=row.via,
        priority=row.priority,
        position=row.position,
        caller_number=None,  # not kept: the call says who called
        joined_at=row.joined_at,
        outcome=row.outcome,
        left_at=row.left_at,
        answered_at=row.answered_at,
        operator=row.operator,
        talk_s=row.talk_s,
        ended_by=row.ended_by,
    )
