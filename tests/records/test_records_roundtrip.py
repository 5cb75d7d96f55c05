"""A whole call through the writer, read back through the repositories."""

from __future__ import annotations

from datetime import UTC, datetime

from records_testkit import at, simple_call, snapshot
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common.vocabulary import Desk
from telephony.core.events import Direction, LegRole
from telephony.storage.repository import CallRepository
from telephony.storage.writer import RecordWriter


async def test_whole_call_round_trip(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    writer = RecordWriter(sessions)
    await writer.start()
    for event in simple_call("1740794400.1", 0.4):
        writer.submit(event)
    await writer.flush(timeout=10)
    await writer.stop()

    async with sessions() as session:
        call = await CallRepository(session).get_call("1740794400.1")
    assert call is not None
    assert call.trunk is Desk.D110
    assert call.caller_number == "13800000000"
    assert call.caller_name == "张三"
    assert call.started_at == datetime(2025, 3, 1, 2, 0, 0, 0, tzinfo=UTC)
    assert call.answered_at == at(3001)
    assert call.ended_at == at(60002)
    assert call.merged_into is None
    citizen, operator = call.legs
    assert citizen.uniqueid == "1740794400.1.1"
    assert citizen.role is LegRole.CITIZEN
    assert citizen.direction is Direction.INBOUND
    assert citizen.caller_name == "张三"
    assert citizen.created_at == datetime(2025, 3, 1, 2, 0, 0, 0, tzinfo=UTC)
    assert citizen.answered_at == at(3001)
    assert citizen.ended_at == at(60001)
    assert (citizen.hangup_cause, citizen.hangup_cause_text) == (16, "Normal Clearing")
    assert citizen.reconciled is False
    assert operator.role is LegRole.OPERATOR_110
    assert operator.endpoint == "desk110-1"
    assert operator.caller_name == "接警员"
    assert operator.created_at == datetime(2025, 3, 1, 2, 0, 0, 10_000, tzinfo=UTC)
    assert operator.ringing_at == at(20)
    [stay] = citizen.bridges
    assert (stay.bridge_id, stay.joined_at, stay.left_at) == (
        "br-1740794400.1",
        at(3002),
        at(60000),
    )
    for value in (call.started_at, citizen.ended_at, stay.left_at):
        assert value is not None
        assert value.tzinfo is UTC
        assert value.microsecond % 1000 == 0
    print(await snapshot(engine))
