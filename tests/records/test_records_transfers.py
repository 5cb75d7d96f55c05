"""Transfers in the database: driven through the real machine, saved, read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from alembic.script import ScriptDirectory
from records_testkit import T0, at
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from database.migrate import alembic_config, downgrade, upgrade
from transfer.core.events import (
    CancelRequested,
    OperatorLeft,
    Requested,
    TargetAnswered,
    TargetRinging,
)
from transfer.core.machine import Transfer
from transfer.core.states import By, Reason, TransferMode, TransferState
from transfer.core.target import parse_target
from transfer.storage.repository import TransferRepository
from transfer.storage.tables import TransferRecord, TransferStep

BEIJING = timezone(timedelta(hours=8))


def request(
    transfer_id: str,
    ms: float,
    *,
    mode: TransferMode = TransferMode.BLIND,
    target: str = "12345",
    by: By = By.KEY,
    when: datetime | None = None,
) -> Requested:
    return Requested(
        transfer_id=transfer_id,
        call_id=f"call-{transfer_id}",
        caller_uniqueid=f"{transfer_id}.1",
        operator_uniqueid=f"{transfer_id}.2",
        mode=mode,
        target=parse_target(target),
        ring_timeout_s=30,
        by=by,
        at=when or at(ms),
    )


async def save(sessions: async_sessionmaker[AsyncSession], transfer: Transfer) -> None:
    """One transaction per save, as the server does it."""
    async with sessions() as session, session.begin():
        await TransferRepository(session).save(transfer)


async def load(sessions: async_sessionmaker[AsyncSession], transfer_id: str) -> Transfer:
    async with sessions() as session:
        loaded = await TransferRepository(session).get(transfer_id)
    assert loaded is not None
    return loaded


async def rows(engine: AsyncEngine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Transfer and step rows as the column types read them (aware UTC, enums)."""
    async with engine.connect() as connection:
        transfers = await connection.execute(
            select(TransferRecord.__table__).order_by(TransferRecord.id)
        )
        steps = await connection.execute(
            select(TransferStep.__table__).order_by(TransferStep.transfer_id, TransferStep.seq)
        )
        return [dict(r._mapping) for r in transfers], [dict(r._mapping) for r in steps]


def same(a: Transfer, b: Transfer) -> None:
    assert (a.id, a.call_id, a.target_uniqueid) == (b.id, b.call_id, b.target_uniqueid)
    assert (a.state, a.mode, a.allowed()) == (b.state, b.mode, b.allowed())
    assert a.timeline == b.timeline
    assert a.request == b.request


async def test_blind_transfer_saved_step_by_step(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    transfer, _ = Transfer.start(request("t1", 0))
    await save(sessions, transfer)
    transfer.handle(TargetRinging(at(500)))
    await save(sessions, transfer)
    assert (await load(sessions, "t1")).state is TransferState.RINGING
    transfer.handle(TargetAnswered(at(4_250), target_uniqueid="t1.3"))  # two steps at once
    await save(sessions, transfer)
    await save(sessions, transfer)  # again: nothing new

    (row,), steps = await rows(engine)
    assert row == {
        "id": "t1",
        "call_id": "call-t1",
        "caller_uniqueid": "t1.1",
        "operator_uniqueid": "t1.2",
        "target_uniqueid": "t1.3",
        "requested_mode": TransferMode.BLIND,
        "mode": TransferMode.BLIND,
        "target": "12345",
        "state": TransferState.COMPLETED,
        "requested_by": By.KEY,
        "ring_timeout_s": 30,
        "requested_at": at(0),
        "updated_at": at(4_250),
        "ended_at": at(4_250),
    }
    S = TransferState
    assert [
        (s["seq"], s["at"], s["from_state"], s["to_state"], s["event"], s["reason"], s["by"])
        for s in steps
    ] == [
        (0, at(0), None, S.REQUESTED, "Requested", "requested", By.KEY),
        (1, at(500), S.REQUESTED, S.RINGING, "TargetRinging", "target_ringing", None),
        (2, at(4_250), S.RINGING, S.ANSWERED, "TargetAnswered", "target_answered", None),
        (3, at(4_250), S.ANSWERED, S.COMPLETED, "TargetAnswered", "handed_over", None),
    ]
    assert {s["mode"] for s in steps} == {TransferMode.BLIND}
    assert all(s["at"].tzinfo is UTC for s in steps)

    loaded = await load(sessions, "t1")
    same(loaded, transfer)
    assert loaded.ended and loaded.allowed() == ()


async def test_times_are_stored_in_utc_milliseconds(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    local = datetime(2025, 3, 1, 10, 0, 0, 123_456, tzinfo=BEIJING)
    transfer, _ = Transfer.start(request("t1", 0, when=local, target="unit:07"))
    await save(sessions, transfer)
    (row,), (step,) = await rows(engine)
    expected = datetime(2025, 3, 1, 2, 0, 0, 123_000, tzinfo=UTC)
    assert row["requested_at"] == row["updated_at"] == step["at"] == expected
    assert step["at"].tzinfo is UTC and row["ended_at"] is None
    loaded = await load(sessions, "t1")
    assert loaded.request.at == expected
    assert loaded.request.target == parse_target("unit:07")
    assert str(loaded.request.target) == "unit:07"


async def test_a_restored_transfer_goes_on(sessions: async_sessionmaker[AsyncSession]) -> None:
    transfer, _ = Transfer.start(request("t1", 0, mode=TransferMode.ATTENDED, by=By.API))
    transfer.handle(TargetRinging(at(300)))
    await save(sessions, transfer)  # two steps in the first save
    loaded = await load(sessions, "t1")
    same(loaded, transfer)
    for t in (transfer, loaded):
        t.handle(TargetAnswered(at(2_000), target_uniqueid="t1.3"))
        t.handle(CancelRequested(at(9_000), by=By.API))
    same(loaded, transfer)
    await save(sessions, loaded)
    same(await load(sessions, "t1"), transfer)
    assert (await load(sessions, "t1")).state is TransferState.CANCELLED


async def test_attended_that_became_blind(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    transfer, _ = Transfer.start(request("t1", 0, mode=TransferMode.ATTENDED))
    transfer.handle(TargetRinging(at(300)))
    transfer.handle(OperatorLeft(at(1_000)))
    await save(sessions, transfer)
    assert transfer.mode is TransferMode.BLIND and transfer.state is TransferState.RINGING

    (row,), steps = await rows(engine)
    assert (row["requested_mode"], row["mode"]) == (TransferMode.ATTENDED, TransferMode.BLIND)
    assert row["ended_at"] is None
    assert [(s["mode"], s["reason"], s["by"]) for s in steps] == [
        (TransferMode.ATTENDED, "requested", By.KEY),
        (TransferMode.ATTENDED, "target_ringing", None),
        (TransferMode.BLIND, Reason.BECAME_BLIND.value, By.HANGUP),
    ]
    loaded = await load(sessions, "t1")
    same(loaded, transfer)
    assert loaded.request.mode is TransferMode.ATTENDED and loaded.mode is TransferMode.BLIND


async def test_running_and_list_since(sessions: async_sessionmaker[AsyncSession]) -> None:
    # t0 .. t3 a minute apart; t1 and t3 end.
    transfers = []
    for i in range(4):
        transfer, _ = Transfer.start(request(f"t{i}", i * 60_000))
        transfer.handle(TargetRinging(at(i * 60_000 + 100)))
        if i % 2:
            transfer.handle(TargetAnswered(at(i * 60_000 + 200), target_uniqueid=f"t{i}.3"))
        transfers.append(transfer)
        await save(sessions, transfer)

    async with sessions() as session:
        repository = TransferRepository(session)
        running = await repository.running()
        newest = await repository.list_since(None, 10)
        assert await repository.get("nope") is None
        assert [t.id for t in await repository.list_since(None, 2)] == ["t3", "t2"]
        since = T0 + timedelta(minutes=1)
        assert [t.id for t in await repository.list_since(since, 10)] == ["t3", "t2", "t1"]
        assert await repository.list_since(T0 + timedelta(hours=1), 10) == []

    assert [t.id for t in running] == ["t0", "t2"]
    assert all(t.running and t.state is TransferState.RINGING for t in running)
    assert [t.id for t in newest] == ["t3", "t2", "t1", "t0"]
    for loaded in newest:
        same(loaded, transfers[int(loaded.id[1:])])


async def test_call_merge_and_double_save_in_one_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    transfer, _ = Transfer.start(request("t1", 0))
    await save(sessions, transfer)
    transfer.call_merged("call-t1", "call-x")
    transfer.handle(TargetRinging(at(100)))
    async with sessions() as session, session.begin():  # twice in one transaction
        await TransferRepository(session).save(transfer)
        await TransferRepository(session).save(transfer)
    assert (await load(sessions, "t1")).call_id == "call-x"


async def test_downgrade_to_0001_drops_only_the_transfer_tables(
    db_url: str, engine: AsyncEngine
) -> None:
    def tables(connection: Any) -> set[str]:
        return set(inspect(connection).get_table_names())

    await downgrade(db_url, "0001")
    try:
        async with engine.connect() as connection:
            left = await connection.run_sync(tables)
        assert "transfers" not in left and "transfer_steps" not in left
        assert {"calls", "legs", "bridge_memberships", "api_tokens"} <= left
    finally:
        await upgrade(db_url)
    async with engine.connect() as connection:
        assert {"transfers", "transfer_steps"} <= await connection.run_sync(tables)
        version = await connection.execute(text("SELECT version_num FROM alembic_version"))
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert version.scalar() == head
