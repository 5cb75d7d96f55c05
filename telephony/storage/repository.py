"""Reading calls and their legs for the API. Like every repository it takes a
session and never commits: the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from telephony.storage.tables import BridgeMembership, Call, Leg

# Merges chain (A into B, B into C); the writer keeps them one hop deep, this is
# only a guard against a cycle in hand-edited data.
_MAX_MERGE_HOPS = 16


class CallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list_calls(
        self,
        *,
        active: bool | None = None,
        since: datetime | None = None,
        caller_number: str | None = None,
        limit: int = 100,
    ) -> list[Call]:
        """Newest first, with legs; calls merged into another are left out.

        active: True = not ended yet, False = ended, None = both.
        since: only calls started at or after this (aware) time.
        caller_number: only calls from this number, as the network gave it.
        """
        query = (
            select(Call)
            .where(Call.merged_into.is_(None))
            .options(selectinload(Call.legs))
            .order_by(Call.started_at.desc(), Call.id.desc())
            .limit(limit)
        )
        if active is not None:
            query = query.where(Call.ended_at.is_(None) if active else Call.ended_at.is_not(None))
        if since is not None:
            query = query.where(Call.started_at >= since)
        if caller_number is not None:
            query = query.where(Call.caller_number == caller_number)
        return list((await self._session.scalars(query)).all())

    async def get_call(self, call_id: str) -> Call | None:
        """The call, or the call it was merged into; legs and their bridges loaded."""
        seen: set[str] = set()
        current = call_id
        while len(seen) < _MAX_MERGE_HOPS:
            seen.add(current)
            call = await self._session.scalar(
                select(Call)
                .where(Call.id == current)
                .options(selectinload(Call.legs).selectinload(Leg.bridges))
            )
            if call is None or call.merged_into is None or call.merged_into in seen:
                return call
            current = call.merged_into
        return None

    async def open_legs(self) -> list[Leg]:
        """Legs not ended yet: what reconciliation compares with Asterisk's channels."""
        query = select(Leg).where(Leg.ended_at.is_(None)).order_by(Leg.created_at, Leg.uniqueid)
        return list((await self._session.scalars(query)).all())

    async def open_bridge_stays(self) -> dict[str, set[str]]:
        """Bridges each open leg is still in (uniqueid -> bridge ids)."""
        query = (
            select(BridgeMembership.uniqueid, BridgeMembership.bridge_id)
            .join(Leg, Leg.uniqueid == BridgeMembership.uniqueid)
            .where(Leg.ended_at.is_(None), BridgeMembership.left_at.is_(None))
        )
        stays: dict[str, set[str]] = {}
        for uniqueid, bridge_id in (await self._session.execute(query)).all():
            stays.setdefault(uniqueid, set()).add(bridge_id)
        return stays
