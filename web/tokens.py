"""API bearer tokens: the table (only a token's SHA-256 is kept), and issuing,
checking and revoking them; the roles a token may carry are
`common.vocabulary.TOKEN_ROLES`. The repository takes a session and never
commits: the caller owns the transaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from common.vocabulary import TOKEN_ROLES, Role
from database.base import Base, str_enum
from database.types import UtcDateTime

NameOnPhone = Callable[[str], Awaitable[str | None]]
# A longer "token" cannot be one of ours; don't hash megabytes for it.
_MAX_TOKEN_LENGTH = 256


class ApiToken(Base):
    """A bearer token for the REST/WebSocket API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String)
    # Never "system" (the server itself): the column refuses it like any unknown role.
    role: Mapped[Role] = mapped_column(str_enum(Role, "token_role", only=TOKEN_ROLES))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The desk phone (PJSIP endpoint, e.g. "op110-1") an operator acts from: an
    # operator may transfer only calls that phone is on.
    phone: Mapped[str | None] = mapped_column(String)
    # The member unit (roster code) a unit token acts for: it sees that unit's cases only.
    unit: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class IssuedToken(NamedTuple):
    token: ApiToken
    plain: str  # shown once to whoever asked for it; never stored


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        name: str,
        role: Role,
        *,
        phone: str | None = None,
        unit: str | None = None,
        now: datetime | None = None,
    ) -> IssuedToken:
        if Role(role) not in TOKEN_ROLES:  # "system" is the server's, never a token's
            raise ValueError(f"{Role(role).value!r} is not a role a token may carry")
        plain = secrets.token_urlsafe(32)
        token = ApiToken(
            name=name,
            role=Role(role),
            token_hash=hash_token(plain),
            phone=phone,
            unit=unit,
            created_at=now or datetime.now(UTC),
        )
        self._session.add(token)
        await self._session.flush()
        return IssuedToken(token, plain)

    async def authenticate(self, plain: str) -> ApiToken | None:
        """The live token matching `plain`, else None.

        Looked up by its SHA-256: the database compares hashes, so response time
        says nothing about how much of a guessed token was right.
        """
        if not plain or len(plain) > _MAX_TOKEN_LENGTH:
            return None
        return await self._session.scalar(
            select(ApiToken).where(
                ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None)
            )
        )

    async def revoke(self, token_id: int, *, now: datetime | None = None) -> bool:
        """Revoke a token; False if there is no such live token."""
        token = await self._session.get(ApiToken, token_id)
        if token is None or token.revoked_at is not None:
            return False
        token.revoked_at = now or datetime.now(UTC)
        await self._session.flush()
        return True

    async def live_ids(self, ids: frozenset[int]) -> frozenset[int]:
        """Which of `ids` are tokens that exist and are not revoked (one query)."""
        if not ids:
            return frozenset()
        query = select(ApiToken.id).where(ApiToken.id.in_(ids), ApiToken.revoked_at.is_(None))
        return frozenset((await self._session.scalars(query)).all())

    async def name_on_phone(self, phone: str) -> str | None:
        """The name on the newest live token bound to a desk phone, if any."""
        return await self._session.scalar(
            select(ApiToken.name)
            .where(ApiToken.phone == phone, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id.desc())
            .limit(1)
        )

    async def list_tokens(self) -> list[ApiToken]:
        return list((await self._session.scalars(select(ApiToken).order_by(ApiToken.id))).all())


def names_on_phones(sessions: async_sessionmaker[AsyncSession]) -> NameOnPhone:
    """Who acts from a desk phone, by the tokens bound to it (for the case
    timeline: "who handed this caller over")."""

    async def name_on_phone(phone: str) -> str | None:
        async with sessions() as session:
            return await TokenRepository(session).name_on_phone(phone)

    return name_on_phone


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()
