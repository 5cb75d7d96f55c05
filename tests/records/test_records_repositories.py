"""Reading calls back, and API tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from records_testkit import T0, at, leg_started, simple_call, write_in_batches
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common.vocabulary import Role
from telephony.core.events import CallEnded, CallMerged, CallStarted, DomainEvent
from telephony.storage.repository import CallRepository
from web.tokens import TokenRepository


@pytest.fixture
async def six_calls(sessions: async_sessionmaker[AsyncSession]) -> None:
    """c0..c4 one minute apart (c1, c3 ended), and m merged into c4."""
    events: list[DomainEvent] = []
    for i in range(5):
        events += [
            CallStarted(f"c{i}", None, None, None, at(i * 60_000)),
            leg_started(f"c{i}.1", f"c{i}", i * 60_000),
        ]
    events += [CallEnded("c1", at(70_000)), CallEnded("c3", at(190_000))]
    events += [CallStarted("m", None, None, None, at(500_000)), leg_started("m.1", "m", 500_000)]
    events += [CallMerged("m", "c4", at(500_001))]
    await write_in_batches(sessions, events, [len(events)])


async def _ids(sessions: async_sessionmaker[AsyncSession], **filters: object) -> list[str]:
    async with sessions() as session:
        calls = await CallRepository(session).list_calls(**filters)  # type: ignore[arg-type]
        assert all(call.legs for call in calls)  # loaded with the call, no lazy load
    return [call.id for call in calls]


@pytest.mark.usefixtures("six_calls")
async def test_list_calls_filters(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await _ids(sessions) == ["c4", "c3", "c2", "c1", "c0"]  # newest first, no "m"
    assert await _ids(sessions, active=True) == ["c4", "c2", "c0"]
    assert await _ids(sessions, active=False) == ["c3", "c1"]
    assert await _ids(sessions, since=T0 + timedelta(minutes=2)) == ["c4", "c3", "c2"]
    assert await _ids(sessions, limit=2) == ["c4", "c3"]
    assert await _ids(sessions, active=True, since=at(60_000), limit=1) == ["c4"]


@pytest.mark.usefixtures("six_calls")
async def test_get_call_and_open_legs(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        calls = CallRepository(session)
        assert await calls.get_call("nope") is None
        survivor = await calls.get_call("m")
        assert survivor is not None and survivor.id == "c4"
        assert [leg.uniqueid for leg in survivor.legs] == ["c4.1", "m.1"]
        open_legs = await calls.open_legs()
    assert [leg.uniqueid for leg in open_legs] == ["c0.1", "c1.1", "c2.1", "c3.1", "c4.1", "m.1"]


async def test_open_legs_leaves_out_ended_legs(sessions: async_sessionmaker[AsyncSession]) -> None:
    await write_in_batches(sessions, [*simple_call("done", 0), leg_started("live", "x", 5)], [])
    async with sessions() as session:
        assert [leg.uniqueid for leg in await CallRepository(session).open_legs()] == ["live"]


async def test_tokens_store_only_the_hash(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        issued = await TokenRepository(session).create("desk 1", Role.OPERATOR_110, now=at(0))
        other = await TokenRepository(session).create("unit", Role.UNIT)
    assert issued.plain != other.plain
    assert len(issued.plain) >= 43
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM api_tokens"))).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert issued.plain not in stored and other.plain not in stored
    assert hashlib.sha256(issued.plain.encode()).hexdigest() in stored

    async with sessions() as session:
        found = await TokenRepository(session).authenticate(issued.plain)
        assert found is not None
        assert (found.id, found.name, found.role, found.created_at) == (
            issued.token.id,
            "desk 1",
            Role.OPERATOR_110,
            at(0),
        )
        assert await TokenRepository(session).authenticate(issued.plain[:-1] + "x") is None
        assert await TokenRepository(session).authenticate("") is None
        assert await TokenRepository(session).authenticate("x" * 10_000) is None


async def test_revoked_token_no_longer_authenticates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        issued = await TokenRepository(session).create("supervisor", Role.SUPERVISOR)
    async with sessions() as session, session.begin():
        tokens = TokenRepository(session)
        assert await tokens.revoke(issued.token.id, now=at(5)) is True
        assert await tokens.revoke(issued.token.id) is False
        assert await tokens.revoke(999_999) is False
    async with sessions() as session:
        tokens = TokenRepository(session)
        assert await tokens.authenticate(issued.plain) is None
        [listed] = await tokens.list_tokens()
    assert listed.revoked_at == at(5)
