"""The case service on SQLite and PostgreSQL: numbers under concurrency,
concurrent moves of one case, a unit's view of co-assigned cases, the roster
history — nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.vocabulary import Role
from county.case_rules import load_rules
from records.core.case_file import Actor, IllegalMove
from records.core.lifecycle import Command
from records.service.cases import CaseChanged, CaseService
from records.storage.repository import CaseFilter
from records.storage.roster_history import record_roster, roster_at
from startup.settings import DEFAULT_CASE_CONFIG

RULES = load_rules(DEFAULT_CASE_CONFIG)
HOTLINE = Actor("李话务", Role.OPERATOR_12345)
WATER = Actor("供水值班", Role.UNIT, "water")


def service(sessions: async_sessionmaker[AsyncSession]) -> CaseService:
    return CaseService(sessions, RULES)


async def test_cases_opened_at_once_get_distinct_numbers_in_sequence(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cases = service(sessions)
    views = await asyncio.gather(
        *(cases.open_case(HOTLINE, {"description": f"第{i}件"}) for i in range(20))
    )
    numbers = sorted(v.record.number for v in views)
    [year] = {n[:5] for n in numbers}
    assert numbers == [f"{year}{i:06d}" for i in range(1, 21)]


async def test_two_desks_moving_one_case_at_once_leave_one_move_not_two(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cases = service(sessions)
    number = (await cases.open_case(HOTLINE, {"description": "路灯不亮"})).record.number
    body = {"demand_type": "help", "route": "hotline"}
    results = await asyncio.gather(
        *(cases.act(number, Command.CLASSIFY, HOTLINE, body) for _ in range(2)),
        cases.act(number, Command.CANCEL, HOTLINE, {"reason": "重复"}),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(f, CaseChanged | IllegalMove) for f in failures), failures
    view = await cases.view(number)
    # The timeline and the record agree: every accepted move is there once.
    assert len(view.events) == 1 + len(results) - len(failures)
    assert view.events[-1].to_state == view.record.state
    assert [e.seq for e in view.events] == list(range(len(view.events)))


async def test_a_unit_finds_the_cases_it_co_handles(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cases = service(sessions)
    number = (await cases.open_case(HOTLINE, {"description": "停水"})).record.number
    await cases.act(number, Command.CLASSIFY, HOTLINE, {"demand_type": "help", "route": "hotline"})
    await cases.act(
        number, Command.DISPATCH, HOTLINE, {"lead_unit": "housing", "co_units": ["water"]}
    )
    assert [r.number for r in await cases.find(CaseFilter(unit="water"))] == [number]
    assert await cases.find(CaseFilter(unit="wat_r")) == []  # "_" is no wildcard
    await cases.act(number, Command.SIGN, Actor("住建值班", Role.UNIT, "housing"), {})
    view, _ = await cases.act(number, Command.ARRIVE, WATER, {"note": "co-unit on site"})
    assert view.events[-1].unit == "water"


async def test_the_roster_history_answers_who_was_on_duty(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with sessions() as session, session.begin():
        assert await record_roster(session, RULES.roster, start) == len(RULES.roster.units)
    async with sessions() as session, session.begin():
        assert await record_roster(session, RULES.roster, start + timedelta(days=1)) == 0
    async with sessions() as session:
        before = await roster_at(session, start - timedelta(seconds=1))
        during = await roster_at(session, start + timedelta(days=30))
    assert before == [] and {u.code for u in during} == set(RULES.roster.units)
