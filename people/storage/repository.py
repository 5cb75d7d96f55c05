"""Reading and writing accounts and sign-ins. Takes a session and never
commits: the caller (people/service/accounts.py) owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.vocabulary import Role
from people.core.sign_ins import Ended, Failures
from people.storage.tables import SignIn, User


class PeopleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, user: User) -> User:
        self._session.add(user)
        await self._session.flush()
        return user

    async def user(self, user_id: int) -> User | None:
        return await self._session.get(User, user_id)

    async def user_to_change(self, user_id: int) -> User | None:
        """The account's row, locked until the transaction ends (PostgreSQL:
        FOR UPDATE; SQLite's write transaction already excludes every other
        writer), so two changes at once are made one after the other."""
        return await self._session.get(User, user_id, with_for_update=True, populate_existing=True)

    async def by_login(self, login: str) -> User | None:
        return await self._session.scalar(select(User).where(User.login == login))

    async def enabled_admins(self) -> int:
        """How many admins can sign in, their rows locked until the transaction
        ends (in id order, as every caller takes them: no deadlock), so that two
        admins disabling each other at once leave one."""
        query = (
            select(User.id)
            .where(User.role == Role.ADMIN, User.disabled_at.is_(None))
            .order_by(User.id)
            .with_for_update()
        )
        return len((await self._session.scalars(query)).all())

    async def users(self) -> Sequence[User]:
        return (await self._session.scalars(select(User).order_by(User.id))).all()

    async def set_failures(self, user: User, failures: Failures) -> None:
        user.failed_sign_ins = failures.count
        user.first_failed_at = failures.first_at
        user.locked_until = failures.locked_until
        await self._session.flush()

    async def add_sign_in(self, sign_in: SignIn) -> SignIn:
        self._session.add(sign_in)
        await self._session.flush()
        return sign_in

    async def sign_in_by_cookie(self, cookie_hash: str) -> tuple[SignIn, User] | None:
        row = (
            await self._session.execute(
                select(SignIn, User)
                .join(User, User.id == SignIn.user_id)
                .where(SignIn.cookie_hash == cookie_hash)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def end_sign_ins(
        self,
        why: Ended,
        now: datetime,
        *,
        user_id: int | None = None,
        sign_in_id: int | None = None,
    ) -> list[int]:
        """End the live sign-ins of a user, or one sign-in; the ids ended."""
        query = select(SignIn.id).where(SignIn.ended_at.is_(None))
        if user_id is not None:
            query = query.where(SignIn.user_id == user_id)
        if sign_in_id is not None:
            query = query.where(SignIn.id == sign_in_id)
        ids = list((await self._session.scalars(query)).all())
        if ids:
            await self._session.execute(
                update(SignIn).where(SignIn.id.in_(ids)).values(ended_at=now, ended_why=why)
            )
        return ids

    async def live_sign_in_ids(self, ids: frozenset[int], now: datetime) -> frozenset[int]:
        """Which of `ids` still hold: not ended, not expired, their user not disabled."""
        if not ids:
            return frozenset()
        query = (
            select(SignIn.id)
            .join(User, User.id == SignIn.user_id)
            .where(
                SignIn.id.in_(ids),
                SignIn.ended_at.is_(None),
                SignIn.expires_at > now,
                User.disabled_at.is_(None),
            )
        )
        return frozenset((await self._session.scalars(query)).all())

    async def name_on_phone(self, phone: str) -> str | None:
        """The name of the newest enabled account bound to a desk phone, if any."""
        return await self._session.scalar(
            select(User.name)
            .where(User.phone == phone, User.disabled_at.is_(None))
            .order_by(User.id.desc())
            .limit(1)
        )
