"""Bearer-token authentication on every endpoint but health, and role checks.

Tokens are random strings shown once by `liandong token create`; only their
SHA-256 is stored. Caller numbers are masked for roles that don't need them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from app.errors import Forbidden, Handler, Unauthorized
from app.keys import SESSIONS
from records.models import TokenRole
from records.repositories import TokenRepository

PUBLIC_PATHS = frozenset({"/api/v1/health"})
# Member units and the supervision bureau work on cases, not on who called:
# they see caller numbers masked. Desks and admins see them whole.
MASKED_ROLES = frozenset({TokenRole.UNIT, TokenRole.SUPERVISOR})
ALL_ROLES = frozenset(TokenRole)


@dataclass(frozen=True)
class Principal:
    token_id: int
    name: str
    role: TokenRole
    phone: str | None = None  # operators: the desk phone they act from
    unit: str | None = None  # unit staff: the member unit (roster code) they act for

    @property
    def sees_full_numbers(self) -> bool:
        return self.role not in MASKED_ROLES


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
    request[PRINCIPAL] = principal
    return await handler(request)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


async def authenticate(app: web.Application, token: str) -> Principal | None:
    async with app[SESSIONS]() as session:
        row = await TokenRepository(session).authenticate(token)
    if row is None:
        return None
    return Principal(
        token_id=row.id, name=row.name, role=TokenRole(row.role), phone=row.phone, unit=row.unit
    )


def require(request: web.Request, *roles: TokenRole) -> Principal:
    principal = request[PRINCIPAL]
    if principal.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(f"role '{principal.role.value}' may not do this (allowed: {allowed})")
    return principal


def mask_number(number: str | None) -> str | None:
    """13912345678 → 139****5678; short numbers keep only their last digit."""
    if not number:
        return number
    if len(number) >= 8:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return "*" * (len(number) - 1) + number[-1]
