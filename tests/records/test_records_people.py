"""People's accounts and sign-ins kept on SQLite and PostgreSQL: a password only
as its Argon2id hash, a cookie only as its SHA-256, lock-outs and ended
sign-ins that hold across processes (another AccountService on the same
database sees them)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.vocabulary import Role
from people.core.accounts import AccountDraft
from people.core.sign_ins import Ended
from people.service.accounts import (
    AccountProblem,
    AccountService,
    Resolved,
    SignInRefused,
    cookie_hash,
)
from people.storage.tables import SignIn, User

PASSWORD = "长城-Great-Wall-2026"
UNITS = frozenset({"water"})
OPERATOR = AccountDraft("zhang110", "110坐席 张警官", Role.OPERATOR_110, "op110-1")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def service(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> AccountService:
    return AccountService(sessions, lambda: UNITS, clock=clock)


async def test_an_account_keeps_only_hashes_and_resolves_its_cookie(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    accounts = service(sessions, clock)
    user = await accounts.create(OPERATOR, PASSWORD, created_by="cli")
    made = await accounts.sign_in("zhang110", PASSWORD, "127.0.0.1")
    async with sessions() as session:
        stored = await session.get(User, user.id)
        sign_in = await session.scalar(select(SignIn))
    assert stored is not None and sign_in is not None
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    assert sign_in.cookie_hash == cookie_hash(made.cookie) != made.cookie
    assert sign_in.expires_at == clock.now + timedelta(hours=12)

    # Another process (another service on the same database) resolves it too.
    resolved = await service(sessions, clock).resolve(made.cookie)
    assert isinstance(resolved, Resolved)
    assert (resolved.principal.name, resolved.principal.phone) == ("110坐席 张警官", "op110-1")
    assert resolved.principal.sign_in_id == sign_in.id and resolved.principal.token_id is None
    assert await accounts.resolve(made.cookie[:-1] + "x") is None
    assert await accounts.name_on_phone("op110-1") == "110坐席 张警官"

    clock.now += timedelta(hours=12)
    assert await accounts.resolve(made.cookie) is Ended.EXPIRED
    assert await accounts.live_sign_ins(frozenset({sign_in.id})) == frozenset()


async def test_a_lock_and_a_disabling_hold_for_every_process(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    first, second = service(sessions, clock), service(sessions, clock)
    user = await first.create(OPERATOR, PASSWORD, created_by="cli")
    made = await first.sign_in("zhang110", PASSWORD, None)
    for n in range(5):
        with pytest.raises(SignInRefused) as refused:
            await (first if n % 2 else second).sign_in("zhang110", "guess-guess-1", None)
    assert refused.value.why == "locked"
    with pytest.raises(SignInRefused) as refused:
        await second.sign_in("zhang110", PASSWORD, None)
    assert refused.value.why == "locked"
    await first.unlock(user.id)
    again = await second.sign_in("zhang110", PASSWORD, None)

    ended: list[list[int]] = []
    first.on_ended.append(ended.append)
    await first.disable(user.id)
    assert sorted(ended[0]) == sorted([made.sign_in.id, again.sign_in.id])
    assert await second.resolve(again.cookie) is Ended.DISABLED
    assert await second.live_sign_ins(frozenset({made.sign_in.id, again.sign_in.id})) == set()
    assert await second.name_on_phone("op110-1") is None  # a disabled person hands nobody over
    with pytest.raises(SignInRefused) as refused:
        await second.sign_in("zhang110", PASSWORD, None)
    assert refused.value.why == "disabled"


async def test_the_database_refuses_what_the_service_would(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    accounts = service(sessions, Clock())
    await accounts.create(OPERATOR, PASSWORD, created_by="cli")
    with pytest.raises(AccountProblem) as taken:
        await accounts.create(OPERATOR, PASSWORD, created_by="cli")
    assert taken.value.field == "login"
    # A unit account without its unit, written past the service: the CHECK holds.
    async with sessions() as session:
        with pytest.raises(IntegrityError):
            async with session.begin():
                await session.execute(
                    text(
                        "INSERT INTO users (login, name, role, password_hash, "
                        "password_changed_at, created_at, created_by, failed_sign_ins) "
                        "VALUES ('w1', 'x', 'unit', 'h', :t, :t, 'cli', 0)"
                    ),
                    {"t": datetime.now(UTC)},
                )


async def test_wrong_passwords_at_the_same_moment_are_each_counted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A guesser sending five at once is locked as one sending them in turn."""
    accounts = service(sessions, Clock())
    await accounts.create(OPERATOR, PASSWORD, created_by="cli")
    guesses = [accounts.sign_in("zhang110", f"guess-guess-{n}", None) for n in range(5)]
    refusals = await asyncio.gather(*guesses, return_exceptions=True)
    assert all(isinstance(r, SignInRefused) for r in refusals), refusals
    with pytest.raises(SignInRefused) as refused:
        await accounts.sign_in("zhang110", PASSWORD, None)
    assert refused.value.why == "locked"


async def test_two_admins_disabling_each_other_at_once_leave_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    accounts = service(sessions, Clock())
    one = await accounts.create(AccountDraft("admin1", "管理员 一", Role.ADMIN), PASSWORD, "cli")
    two = await accounts.create(AccountDraft("admin2", "管理员 二", Role.ADMIN), PASSWORD, "cli")
    both = await asyncio.gather(
        accounts.disable(one.id, by_admin=two.id),
        accounts.disable(two.id, by_admin=one.id),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in both) == ["AccountConflict", "User"], both
    assert sum(u.disabled_at is None for u in await accounts.users()) == 1
