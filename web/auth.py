"""Bearer-token authentication on every endpoint but health, and role checks.

Tokens are random strings shown once by `liandong token create`; only their
SHA-256 is stored. What each role may read of a caller: common/principal.py.
"""

from __future__ import annotations

from aiohttp import web

from common.principal import Principal
from common.vocabulary import Role
from web.app_state import SESSIONS
from web.errors import Forbidden, Handler, Unauthorized
from web.tokens import TokenRepository

PUBLIC_PATHS = frozenset({"/api/v1/health"})
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("missing 'Authorization: Bearer <token>' header")
    principal = await authenticate(request.app, token)
    if principal is None:
        raise Unauthorized("unknown or revoked token")
    if principal.role is Role.UNIT and principal.unit is None:
        # Made before unit tokens had to name their unit (migration 0004): it
        # would otherwise see every unit's cases. Nothing is safe to show it.
        raise Forbidden(
            "this unit token names no member unit; ask an administrator for a new one "
            "(liandong token create --role unit --unit <roster code>) and revoke this one"
        )
    request[PRINCIPAL] = principal
    return await handler(request)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    if not value.isascii():
        # Our tokens are URL-safe ASCII; bytes that are not UTF-8 arrive here
        # as surrogates, which could not even be hashed.
        raise Unauthorized(
            "the Authorization header's token must be ASCII (as issued)",
            {"header": "Authorization"},
        )
    return value.strip()


async def authenticate(app: web.Application, token: str) -> Principal | None:
    async with app[SESSIONS]() as session:
        row = await TokenRepository(session).authenticate(token)
    if row is None:
        return None
    return Principal(
        token_id=row.id, name=row.name, role=Role(row.role), phone=row.phone, unit=row.unit
    )


def require(request: web.Request, *roles: Role) -> Principal:
    principal = request[PRINCIPAL]
    if principal.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(f"role '{principal.role.value}' may not do this (allowed: {allowed})")
    return principal
