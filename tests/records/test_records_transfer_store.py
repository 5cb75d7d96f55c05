"""The transfer service's store: a database that refuses loses no transfer
and no step; a transfer that moves on during a save is saved again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from records_testkit import at
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from test_records_transfers import load, request

from transfer.core.events import TargetRinging
from transfer.core.machine import Transfer
from transfer.core.states import TransferState
from transfer.storage.repository import TransferRepository
from transfer.storage.store import TransferStore


class Refusing:
    """A session factory whose first `refusals` sessions fail, as a database
    that is down does; the ones after are the real thing."""

    def __init__(self, real: async_sessionmaker[AsyncSession], refusals: int) -> None:
        self.real = real
        self.refusals = refusals

    def __call__(self) -> Any:
        if self.refusals > 0:
            self.refusals -= 1
            raise ConnectionRefusedError("the database is down")
        return self.real()


def started(transfer_id: str) -> Transfer:
    transfer, _ = Transfer.start(request(transfer_id, 0))
    return transfer


async def test_a_refusing_database_loses_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = TransferStore(Refusing(sessions, refusals=2))  # type: ignore[arg-type]
    transfer = started("xfer-down")
    store.mark(transfer)
    assert await store.flush() is False
    transfer.handle(TargetRinging(at(10)))  # it goes on while the database is down
    store.mark(transfer)
    assert await store.flush() is False
    assert await store.get("xfer-down") is transfer  # still found, from memory
    assert await store.flush() is True
    assert store.unsaved == {}
    stored = await load(sessions, "xfer-down")
    assert [s.to_state for s in stored.timeline] == [TransferState.REQUESTED, TransferState.RINGING]


async def test_the_saver_task_retries_until_the_database_answers(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: Any
) -> None:
    monkeypatch.setattr("transfer.storage.store.SAVE_RETRY_S", 0.05)
    store = TransferStore(Refusing(sessions, refusals=3))  # type: ignore[arg-type]
    saver = asyncio.create_task(store.run())
    try:
        store.mark(started("xfer-retry"))
        await until(lambda: not store.unsaved)
    finally:
        saver.cancel()
    assert (await load(sessions, "xfer-retry")).state is TransferState.REQUESTED


async def test_a_transfer_that_moves_on_during_a_save_stays_marked(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: Any
) -> None:
    store = TransferStore(sessions)
    transfer = started("xfer-moving")
    save = TransferRepository.save

    async def save_while_it_moves_on(repo: TransferRepository, saving: Transfer) -> None:
        await save(repo, saving)
        if len(saving.timeline) == 1:  # the worker applies a step meanwhile
            saving.handle(TargetRinging(at(10)))

    monkeypatch.setattr(TransferRepository, "save", save_while_it_moves_on)
    store.mark(transfer)
    assert await store.flush() is True
    assert store.unsaved == {"xfer-moving": transfer}  # its new step is not saved yet
    assert await store.flush() is True
    assert store.unsaved == {}
    assert len((await load(sessions, "xfer-moving")).timeline) == 2


async def until(done: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not done():  # noqa: ASYNC110 - the store offers no event to wait on
            await asyncio.sleep(0.01)


async def test_at_shutdown_the_last_save_is_retried_until_it_goes_through(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: Any
) -> None:
    """Seen in CI: at shutdown SQLite was locked by the call-record writer for
    a moment, the one save failed, and the transfer's last steps were lost."""
    monkeypatch.setattr("transfer.storage.store.SHUTDOWN_RETRY_S", 0.01)
    store = TransferStore(Refusing(sessions, refusals=3))  # type: ignore[arg-type]
    transfer = started("xfer-shutdown")
    transfer.handle(TargetRinging(at(10)))
    store.mark(transfer)
    assert await store.flush_within(5.0) is True
    assert store.unsaved == {}
    stored = await load(sessions, "xfer-shutdown")
    assert [s.to_state for s in stored.timeline] == [TransferState.REQUESTED, TransferState.RINGING]


async def test_at_shutdown_a_database_that_stays_away_is_given_up_on_in_time(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: Any
) -> None:
    monkeypatch.setattr("transfer.storage.store.SHUTDOWN_RETRY_S", 0.01)
    store = TransferStore(Refusing(sessions, refusals=10**6))  # type: ignore[arg-type]
    store.mark(started("xfer-gone"))
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert await store.flush_within(0.2) is False
    assert loop.time() - began < 1.0  # shutdown does not hang
    assert "xfer-gone" in store.unsaved  # and says what it could not save
