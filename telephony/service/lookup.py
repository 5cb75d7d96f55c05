"""Calls as the other features read them: a call with its legs by id, one leg
by its Uniqueid. The rows are telephony's own (telephony/storage/tables.py):
other features read them through here and never write them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from telephony.storage.repository import CallRepository
from telephony.storage.tables import Call, Leg

__all__ = ["Call", "Leg", "get_call", "get_leg"]


async def get_call(session: AsyncSession, call_id: str) -> Call | None:
    """The call (following merges) with its legs and their bridges, or None."""
    return await CallRepository(session).get_call(call_id)


async def get_leg(session: AsyncSession, uniqueid: str) -> Leg | None:
    return await session.get(Leg, uniqueid)
