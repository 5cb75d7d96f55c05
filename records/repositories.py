"""Read (and token write) access for the API. Repositories take a session and
never commit: the caller owns the transaction."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from records.models import ApiToken, BridgeMembership, Call, Leg, TokenRole

# Merges chain (A into B, B into C); the writer keeps them one hop deep, this is
# only a guard against a cycle in hand-edited data.
_MAX_MERGE_HOPS = 16
# A longer "token" cannot be one of ours; don't hash megabytes for it.
_MAX_TOKEN_LENGTH = 256


class CallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list_calls(
        self, *, active: bool | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[Call]:
        """Newest first, with legs; calls merged into another are left out.

        active: True = not ended yet, False = ended, None = both.
        since: only calls started at or after this (aware) time.
        """
        query = (
            select(Call)
            .where(Call.merged_into.is_(None))
            .options(selectinload(Call.legs))
            .order_by(Call.started_at.desc(), Call.id.desc())
            .limit(limit)
        )
        if active is not None:
            query = query.where(Call.ended_at.is_(None) if active else Call.ended_at.is_not(None))
        if since is not None:
            query = query.where(Call.started_at >= since)
        return list((await self._session.scalars(query)).all())

    async def get_call(self, call_id: str) -> Call | None:
        """The call, or the call it was merged into; legs and their bridges loaded."""
        seen: set[str] = set()
        current = call_id
        while len(seen) < _MAX_MERGE_HOPS:
            seen.add(current)
            call = await self._session.scalar(
                select(Call)
                .where(Call.id == current)
                .options(selectinload(Call.legs).selectinload(Leg.bridges))
            )
            if call is None or call.merged_into is None or call.merged_into in seen:
                return call
            current = call.merged_into
        return None

    async def open_legs(self) -> list[Leg]:
        """Legs not ended yet: what reconciliation compares with Asterisk's channels."""
        query = select(Leg).where(Leg.ended_at.is_(None)).order_by(Leg.created_at, Leg.uniqueid)
        return list((await self._session.scalars(query)).all())

    async def open_bridge_stays(self) -> dict[str, set[str]]:
        """Bridges each open leg is still in (uniqueid -> bridge ids)."""
        query = (
            select(BridgeMembership.uniqueid, BridgeMembership.bridge_id)
            .join(Leg, Leg.uniqueid == BridgeMembership.uniqueid)
            .where(Leg.ended_at.is_(None), BridgeMembership.left_at.is_(None))
        )
        stays: dict[str, set[str]] = {}
        for uniqueid, bridge_id in (await self._session.execute(query)).all():
            stays.setdefault(uniqueid, set()).add(bridge_id)
        return stays


class IssuedToken(NamedTuple):
    token: ApiToken
    plain: str  # shown once to whoever asked for it; never stored


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        name: str,
        role: TokenRole,
        *,
        phone: str | None = None,
        unit: str | None = None,
        now: datetime | None = None,
    ) -> IssuedToken:
        plain = secrets.token_urlsafe(32)
        token = ApiToken(
            name=name,
            role=TokenRole(role),
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

    async def list_tokens(self) -> list[ApiToken]:
        return list((await self._session.scalars(select(ApiToken).order_by(ApiToken.id))).all())


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()
