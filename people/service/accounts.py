"""People's accounts at run time: made and changed by an admin (the command
line or the API), signed in to by the person, resolved on every request.

A password is checked in a thread (service/hashing.py); every answer to a
failed sign-in is the same whether the login exists or not. Ending sign-ins
(sign-out, disable, a new password) tells `on_ended` at once, so that this
process closes their live sockets without waiting for the revocation watch.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.principal import Principal
from database.engine import WRITE_TRANSACTION
from people.core.accounts import (
    AccountDraft,
    disabling_problem,
    draft_problem,
    password_problem,
)
from people.core.sign_ins import NO_FAILURES, Ended, Failures, still_holds
from people.service.hashing import Hasher
from people.storage.repository import PeopleRepository
from people.storage.tables import SignIn, User

log = logging.getLogger(__name__)

DEFAULT_SIGN_IN_HOURS = 12  # a shift and a half; then the person signs in again
_MAX_COOKIE = 256  # ours are 43 characters; don't hash megabytes for a forged one

Clock = Callable[[], datetime]
OnEnded = Callable[[list[int]], None]
# A check made in the change's transaction before the account's row is locked
# (it may lock other rows first, in an order of its own).
Guard = Callable[[PeopleRepository], Awaitable[None]]


class AccountProblem(ValueError):
    """What an admin asked for cannot be: the message says why; `field` names the input."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class NoSuchUser(LookupError):
    pass


class AccountConflict(Exception):
    """The change cannot be made to the account as it is (the message says why)."""


class SignInRefused(Exception):
    """Wrong login or password (never which), locked, or disabled."""

    def __init__(self, why: str, locked_until: datetime | None = None) -> None:
        super().__init__(why)
        self.why = why  # "wrong" | "locked" | "disabled"
        self.locked_until = locked_until


@dataclass(frozen=True)
class NewSignIn:
    user: User
    sign_in: SignIn
    cookie: str  # goes to the browser once; only its SHA-256 is kept


@dataclass(frozen=True)
class Resolved:
    principal: Principal
    login: str
    csrf_token: str
    expires_at: datetime


class AccountService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        units: Callable[[], frozenset[str]],
        *,
        hasher: Hasher | None = None,
        sign_in_hours: int = DEFAULT_SIGN_IN_HOURS,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._units = units
        self._hasher = hasher or Hasher()
        self._lifetime = timedelta(hours=sign_in_hours)
        self._now = clock
        self.on_ended: list[OnEnded] = []

    # ---------------------------------------------------------------- admin

    async def create(self, draft: AccountDraft, password: str, created_by: str) -> User:
        if found := draft_problem(draft, self._units()):
            field, problem = found
            raise AccountProblem(problem, field)
        if weak := password_problem(password, draft.login):
            raise AccountProblem(weak, "password")
        now = self._now()
        user = User(
            login=draft.login,
            name=draft.name.strip(),
            role=draft.role,
            phone=draft.phone,
            unit=draft.unit,
            password_hash=await self._hasher.hash(password),
            password_changed_at=now,
            created_at=now,
            created_by=created_by,
            failed_sign_ins=0,
        )
        try:
            async with self._writing() as session:
                await PeopleRepository(session).add(user)
        except IntegrityError:
            raise AccountProblem(f"login {draft.login!r} is taken", "login") from None
        log.info("user %d created by %s (role %s)", user.id, created_by, user.role.value)
        return user

    async def users(self) -> list[User]:
        async with self._sessions() as session:
            return list(await PeopleRepository(session).users())

    async def find(self, login: str) -> User:
        async with self._sessions() as session:
            user = await PeopleRepository(session).by_login(login)
        if user is None:
            raise NoSuchUser(f"no user with login {login!r}")
        return user

    async def disable(self, user_id: int, *, by_admin: int | None = None) -> User:
        """The person can no longer sign in; every page and live feed of theirs ends now.
        `by_admin`: the admin asking through the API, who may not disable
        themselves nor the last admin (AccountConflict)."""

        async def guard(repo: PeopleRepository) -> None:
            if by_admin is None:
                return
            admins = await repo.enabled_admins()  # locks the admins' rows first
            user = await repo.user(user_id)
            if user is None or user.disabled_at is not None:
                return
            if problem := disabling_problem(user.role, user.id == by_admin, admins):
                raise AccountConflict(problem)

        return await self._change(user_id, _disable, ended=Ended.DISABLED, guard=guard)

    async def enable(self, user_id: int) -> User:
        return await self._change(user_id, _enable)

    async def unlock(self, user_id: int) -> User:
        """Lift a lock-out (and forget the wrong passwords that led to it)."""
        return await self._change(user_id, _unlock)

    async def set_password(self, user_id: int, password: str) -> User:
        """A new password; the sign-ins made with the old one end."""
        async with self._sessions() as session:
            user = await PeopleRepository(session).user(user_id)
        if user is None:
            raise NoSuchUser(f"no user {user_id}")
        if problem := password_problem(password, user.login):
            raise AccountProblem(problem, "password")
        hashed = await self._hasher.hash(password)

        def put(user: User, now: datetime) -> None:
            user.password_hash = hashed
            user.password_changed_at = now
            _unlock(user, now)

        return await self._change(user_id, put, ended=Ended.PASSWORD_CHANGED)

    # ---------------------------------------------------------------- the person

    async def sign_in(self, login: str, password: str, remote: str | None) -> NewSignIn:
        async with self._sessions() as session:
            user = await PeopleRepository(session).by_login(login)
        if user is None:
            await self._hasher.check_nobody(password)
            raise SignInRefused("wrong")
        now = self._now()
        failures = Failures(user.failed_sign_ins, user.first_failed_at, user.locked_until)
        if failures.locked_at(now):
            raise SignInRefused("locked", failures.locked_until)
        if not await self._hasher.check(user.password_hash, password):
            after = failures.after_failure(self._now())
            async with self._writing() as session:
                repo = PeopleRepository(session)
                row = await repo.user_to_change(user.id)
                if row is not None:
                    # Counted from the row as it is now: another wrong guess may
                    # have been counted while this one was being checked.
                    fresh = Failures(row.failed_sign_ins, row.first_failed_at, row.locked_until)
                    at = self._now()
                    after = fresh if fresh.locked_at(at) else fresh.after_failure(at)
                    await repo.set_failures(row, after)
            if after.locked_until is not None:
                log.warning(
                    "user %d locked until %s after wrong passwords", user.id, after.locked_until
                )
                raise SignInRefused("locked", after.locked_until)
            raise SignInRefused("wrong")
        if user.disabled_at is not None:
            raise SignInRefused("disabled")
        rehashed = (
            await self._hasher.hash(password)
            if self._hasher.needs_rehash(user.password_hash)
            else None
        )
        cookie = secrets.token_urlsafe(32)
        now = self._now()
        async with self._writing() as session:
            repo = PeopleRepository(session)
            row = await repo.user_to_change(user.id)
            if row is None or row.disabled_at is not None:  # disabled meanwhile
                raise SignInRefused("disabled")
            await repo.set_failures(row, NO_FAILURES)
            row.last_sign_in_at = now
            if rehashed is not None:
                row.password_hash = rehashed
            sign_in = await repo.add_sign_in(
                SignIn(
                    user_id=row.id,
                    cookie_hash=cookie_hash(cookie),
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + self._lifetime,
                    remote=(remote or "")[:64] or None,
                )
            )
        log.info("user %d signed in (sign-in %d)", row.id, sign_in.id)
        return NewSignIn(row, sign_in, cookie)

    async def resolve(self, cookie: str) -> Resolved | Ended | None:
        """Who a cookie stands for now, or why its sign-in ended; None: not ours."""
        if not cookie or len(cookie) > _MAX_COOKIE:
            return None
        async with self._sessions() as session:
            found = await PeopleRepository(session).sign_in_by_cookie(cookie_hash(cookie))
        if found is None:
            return None
        sign_in, user = found
        ended = Ended.DISABLED if user.disabled_at is not None else sign_in.ended_why
        if why := still_holds(sign_in.expires_at, ended, self._now()):
            return why
        return Resolved(
            principal_of(user, sign_in.id), user.login, sign_in.csrf_token, sign_in.expires_at
        )

    async def sign_out(self, sign_in_id: int) -> None:
        async with self._writing() as session:
            ended = await PeopleRepository(session).end_sign_ins(
                Ended.SIGNED_OUT, self._now(), sign_in_id=sign_in_id
            )
        self._tell(ended)

    async def live_sign_ins(self, ids: frozenset[int]) -> frozenset[int]:
        async with self._sessions() as session:
            return await PeopleRepository(session).live_sign_in_ids(ids, self._now())

    async def name_on_phone(self, phone: str) -> str | None:
        async with self._sessions() as session:
            return await PeopleRepository(session).name_on_phone(phone)

    # ---------------------------------------------------------------- helpers

    async def _change(
        self,
        user_id: int,
        change: Callable[[User, datetime], None],
        *,
        ended: Ended | None = None,
        guard: Guard | None = None,
    ) -> User:
        now = self._now()
        async with self._writing() as session:
            repo = PeopleRepository(session)
            if guard is not None:
                await guard(repo)
            user = await repo.user_to_change(user_id)
            if user is None:
                raise NoSuchUser(f"no user {user_id}")
            change(user, now)
            closed = await repo.end_sign_ins(ended, now, user_id=user_id) if ended else []
        self._tell(closed)
        return user

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction taken up front (SQLite: BEGIN IMMEDIATE; on
        PostgreSQL the account's row is locked as it is read, `user_to_change`):
        two wrong passwords at once are counted one after the other, each from
        the count the other left, instead of one failing on SQLite's lock or
        both writing the same count on PostgreSQL."""
        async with self._sessions() as session, session.begin():
            await session.connection(execution_options=WRITE_TRANSACTION)
            yield session

    def _tell(self, sign_in_ids: list[int]) -> None:
        if sign_in_ids:
            for listener in self.on_ended:
                listener(sign_in_ids)


def principal_of(user: User, sign_in_id: int) -> Principal:
    return Principal(
        token_id=None,
        name=user.name,
        role=user.role,
        phone=user.phone,
        unit=user.unit,
        user_id=user.id,
        sign_in_id=sign_in_id,
    )


def cookie_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


def _disable(user: User, now: datetime) -> None:
    if user.disabled_at is None:
        user.disabled_at = now


def _enable(user: User, now: datetime) -> None:
    user.disabled_at = None


def _unlock(user: User, now: datetime) -> None:
    user.failed_sign_ins = 0
    user.first_failed_at = None
    user.locked_until = None
