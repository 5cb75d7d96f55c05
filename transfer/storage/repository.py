"""Transfers (`transfer.core.machine.Transfer`) in the database: the row as the
machine stands now, plus its append-only timeline, one row per step.

The repository takes a session and never commits: the caller owns the
transaction. Times are stored at millisecond precision in UTC (`UtcDateTime`),
so a transfer read back has its step times truncated to the millisecond.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from database.types import to_utc_ms
from transfer.core.events import Requested
from transfer.core.machine import Step, Transfer
from transfer.core.states import Reason
from transfer.core.target import parse_target
from transfer.storage.tables import TransferRecord, TransferStep


class TransferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, transfer: Transfer) -> None:
        """Upsert the transfer's row and add the steps not stored yet.

        Idempotent: saving the same transfer again writes nothing new. Steps are
        numbered by their place on the timeline (0 = the request); the timeline
        only grows, so the stored ones are never rewritten.
        """
        timeline = transfer.timeline
        last = timeline[-1]
        record = await self._session.get(TransferRecord, transfer.id)
        if record is None:
            record = TransferRecord(id=transfer.id)
            self._session.add(record)
        request = transfer.request
        record.call_id = transfer.call_id  # the current one, after any merge
        record.caller_uniqueid = request.caller_uniqueid
        record.operator_uniqueid = request.operator_uniqueid
        record.target_uniqueid = transfer.target_uniqueid
        record.requested_mode = request.mode
        record.mode = transfer.mode
        record.target = str(request.target)
        record.state = transfer.state
        record.requested_by = request.by
        record.ring_timeout_s = request.ring_timeout_s
        record.requested_at = to_utc_ms(request.at)
        record.updated_at = to_utc_ms(last.at)
        record.ended_at = to_utc_ms(last.at) if transfer.ended else None

        stored = await self._session.scalar(
            select(func.count()).where(TransferStep.transfer_id == transfer.id)
        )
        for seq in range(stored or 0, len(timeline)):
            step = timeline[seq]
            self._session.add(
                TransferStep(
                    transfer_id=transfer.id,
                    seq=seq,
                    at=to_utc_ms(step.at),
                    from_state=step.from_state,
                    to_state=step.to_state,
                    event=step.event,
                    reason=step.reason.value,
                    mode=step.mode,
                    by=step.by,
                )
            )
        await self._session.flush()

    async def get(self, transfer_id: str) -> Transfer | None:
        record = await self._session.get(TransferRecord, transfer_id)
        if record is None:
            return None
        return (await self._restore([record]))[0]

    async def running(self) -> list[Transfer]:
        """Transfers not ended: what a restart reconciles with Asterisk, oldest first."""
        query = (
            select(TransferRecord)
            .where(TransferRecord.ended_at.is_(None))
            .order_by(TransferRecord.requested_at, TransferRecord.id)
        )
        return await self._restore((await self._session.scalars(query)).all())

    async def list_since(self, since: datetime | None, limit: int) -> list[Transfer]:
        """Newest first; only those requested at or after `since` (aware), if given."""
        query = (
            select(TransferRecord)
            .order_by(TransferRecord.requested_at.desc(), TransferRecord.id.desc())
            .limit(limit)
        )
        if since is not None:
            query = query.where(TransferRecord.requested_at >= since)
        return await self._restore((await self._session.scalars(query)).all())

    async def _restore(self, records: Sequence[TransferRecord]) -> list[Transfer]:
        if not records:
            return []
        query = (
            select(TransferStep)
            .where(TransferStep.transfer_id.in_([r.id for r in records]))
            .order_by(TransferStep.transfer_id, TransferStep.seq)
        )
        steps: dict[str, list[Step]] = {r.id: [] for r in records}
        for row in (await self._session.scalars(query)).all():
            steps[row.transfer_id].append(
                Step(
                    at=row.at,
                    from_state=row.from_state,
                    to_state=row.to_state,
                    event=row.event,
                    reason=Reason(row.reason),
                    mode=row.mode,
                    by=row.by,
                )
            )
        return [_transfer(record, steps[record.id]) for record in records]


def _transfer(record: TransferRecord, timeline: list[Step]) -> Transfer:
    if not timeline:
        raise ValueError(f"transfer {record.id} has no stored steps")
    request = Requested(
        transfer_id=record.id,
        call_id=record.call_id,
        caller_uniqueid=record.caller_uniqueid,
        operator_uniqueid=record.operator_uniqueid,
        mode=record.requested_mode,
        target=parse_target(record.target),
        ring_timeout_s=record.ring_timeout_s,
        by=record.requested_by,
        at=timeline[0].at,  # the request's own step
    )
    return Transfer.restore(request, timeline, record.target_uniqueid)
