"""Who is asking, on every endpoint but health and signing in, and role checks.

Programs send `Authorization: Bearer <token>`: tokens are random strings shown
once by `liandong token create`; only their SHA-256 is stored. People's
browsers send the sign-in cookie their account got (people/): the web only
asks start-up's resolver what a cookie stands for, and checks CSRF on every
change a cookie asks for: the page must send back its sign-in's CSRF token in
`X-CSRF-Token`, and a browser's Origin must be ours. A Bearer request never
needs that: no browser adds an Authorization header for another site.
What each role may read of a caller: common/principal.py.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from aiohttp import web

from common.principal import Principal
from common.vocabulary import Role
from web.app_state import ALLOWED_ORIGINS, SESSIONS
from web.errors import Forbidden, Handler, Unauthorized
from web.tokens import TokenRepository

PUBLIC_PATHS = frozenset({"/api/v1/health"})
# The pages check the sign-in themselves (console/http.py): a page opened
# without one is sent to the sign-in page, not answered with a JSON 401.
PAGES = ("/", "/console/")
# Signing in is how a browser gets its credential (people/http.py checks its origin).
SIGN_IN = ("POST", "/api/v1/session")
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)

# The sign-in cookie: `__Host-` (and Secure) when the pages are served over
# TLS, so that no other host or plain-HTTP page can set or read it.
COOKIE = "ld_session"
SECURE_COOKIE = "__Host-ld_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignedIn(NamedTuple):
    principal: Principal
    csrf_token: str


# A cookie → the person signed in with it, or why that sign-in no longer
# holds ("signed_out", "disabled", "expired", "password_changed"), or None
# for a cookie that was never one of ours.
SignInResolver = Callable[[str], Awaitable[SignedIn | str | None]]
SIGN_IN_RESOLVER: web.AppKey[SignInResolver] = web.AppKey("sign_in_resolver")


class CsrfFailed(Forbidden):
    code = "csrf_failed"


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS or (request.method, request.path) == SIGN_IN:
        return await handler(request)
    if request.path == PAGES[0] or request.path.startswith(PAGES[1]):
        return await handler(request)
    token = bearer_token(request)
    if token is not None:
        principal = await authenticate(request.app, token)
        if principal is None:
            raise Unauthorized("unknown or revoked token")
    elif (cookie := sign_in_cookie(request)) is not None:
        principal = await signed_in(request, cookie)
    else:
        raise Unauthorized(
            "missing 'Authorization: Bearer <token>' header (people sign in: POST /api/v1/session)"
        )
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


def sign_in_cookie(request: web.Request) -> str | None:
    value = request.cookies.get(SECURE_COOKIE) or request.cookies.get(COOKIE)
    return value if value and value.isascii() else None


async def signed_in(request: web.Request, cookie: str) -> Principal:
    resolver = request.app.get(SIGN_IN_RESOLVER)
    found = None if resolver is None else await resolver(cookie)
    if found is None:
        raise Unauthorized("unknown sign-in; sign in again", {"reason": "unknown"})
    if isinstance(found, str):
        raise Unauthorized(f"this sign-in has ended ({found}); sign in again", {"reason": found})
    if request.method not in SAFE_METHODS:
        check_csrf(request, found.csrf_token)
    return found.principal


async def page_principal(request: web.Request) -> Principal | str | None:
    """Who opens a page: the person signed in, or why their sign-in ended
    (None: no sign-in cookie, or one never ours). Pages are only read (GET)."""
    cookie = sign_in_cookie(request)
    resolver = request.app.get(SIGN_IN_RESOLVER)
    if cookie is None or resolver is None:
        return None
    found = await resolver(cookie)
    return found.principal if isinstance(found, SignedIn) else found


def check_csrf(request: web.Request, expected: str) -> None:
    """A change asked for with a cookie must come from our own page."""
    sent = request.headers.get(CSRF_HEADER, "")
    # A header that is not ASCII cannot be our token (and could not be encoded to compare).
    if not sent.isascii() or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed(
            f"a change made with a sign-in cookie needs its CSRF token in {CSRF_HEADER} "
            "(GET /api/v1/session gives it)",
            {"header": CSRF_HEADER},
        )
    origin = request.headers.get("Origin")
    if origin is not None and not our_origin(request, origin):
        raise CsrfFailed(f"origin {origin!r} may not change anything here", {"header": "Origin"})


def our_origin(request: web.Request, origin: str) -> bool:
    """The page's origin is this server's (as the browser reached it) or one allowed."""
    return origin == f"{request.scheme}://{request.host}" or origin in request.app[ALLOWED_ORIGINS]


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
