"""Transfers in the database, for the transfer service: saves that survive a
database hiccup (kept and saved again, whole: saving is idempotent), and the
reads the service needs."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.engine import WRITE_TRANSACTION
from telephony.service.lookup import get_leg
from transfer.core.machine import Transfer
from transfer.storage.repository import TransferRepository

log = logging.getLogger(__name__)

SAVE_RETRY_S = 2.0
SHUTDOWN_RETRY_S = 0.2


class TransferStore:
    """Saves run in their own task: a hand-over never waits for the database,
    and a database that is down only delays the records."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.unsaved: dict[str, Transfer] = {}
        self._dirty = asyncio.Event()

    def mark(self, transfer: Transfer) -> None:
        """The transfer changed: save it soon."""
        self.unsaved[transfer.id] = transfer
        self._dirty.set()

    async def run(self) -> None:
        """Save whatever is marked, forever; after a failure, wait and try again."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if not await self.flush():
                await asyncio.sleep(SAVE_RETRY_S)
                self._dirty.set()

    async def flush(self) -> bool:
        """Save every marked transfer (whole: saving is idempotent); False if the
        database refused, and they stay marked."""
        if not self.unsaved:
            return True
        batch = list(self.unsaved.values())
        steps: dict[str, int] = {}
        try:
            async with self.sessions() as session:
                # A write transaction from the start: SQLite would refuse a
                # read transaction's later write if the record writer wrote between.
                await session.connection(execution_options=WRITE_TRANSACTION)
                repo = TransferRepository(session)
                for transfer in batch:
                    steps[transfer.id] = len(transfer.timeline)  # what this save covers
                    await repo.save(transfer)
                await session.commit()
        except Exception as exc:  # the database is down: keep them, try again
            log.error("could not save %d transfers (will retry): %s", len(self.unsaved), exc)
            return False
        for transfer in batch:  # unless it moved on meanwhile (saved again next time)
            if len(transfer.timeline) == steps[transfer.id]:
                self.unsaved.pop(transfer.id, None)
        return True

    async def flush_within(self, seconds: float) -> bool:
        """Flush, retrying while the database refuses (locked by the record
        writer, or briefly away) for up to `seconds`: for shutdown, where no
        later save will come. False if some are still unsaved."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not await self.flush():
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(SHUTDOWN_RETRY_S, left))
        return True

    async def running(self) -> list[Transfer]:
        async with self.sessions() as session:
            return await TransferRepository(session).running()

    async def get(self, transfer_id: str) -> Transfer | None:
        if transfer_id in self.unsaved:
            return self.unsaved[transfer_id]
        async with self.sessions() as session:
            return await TransferRepository(session).get(transfer_id)

    async def list_since(self, since: datetime | None, limit: int) -> list[Transfer]:
        async with self.sessions() as session:
            return await TransferRepository(session).list_since(since, limit)

    async def endpoint_of(self, uniqueid: str) -> str | None:
        """The phone of a leg in the call records (one that ended while we were away)."""
        try:
            async with self.sessions() as session:
                leg = await get_leg(session, uniqueid)
        except Exception as exc:
            log.error("cannot read leg %s from the records: %s", uniqueid, exc)
            return None
        return leg.endpoint if leg is not None else None
