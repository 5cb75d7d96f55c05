"""Signing in and out (/api/v1/session) and people's accounts (/api/v1/users).

Signing in is the one public POST: it checks the browser's Origin itself (a
login form on another site must not sign a browser in to somebody's account).
Every other change made with the cookie passes web/auth.py's CSRF check.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from common.principal import Credential, Principal
from common.vocabulary import Role
from people.core.accounts import AccountDraft
from people.service.accounts import (
    AccountConflict,
    AccountProblem,
    AccountService,
    NewSignIn,
    NoSuchUser,
    Resolved,
    SignInRefused,
    principal_of,
)
from people.service.hashing import Busy
from people.shapes import session_json, user_json
from web.app_state import LIVE
from web.auth import (
    COOKIE,
    PRINCIPAL,
    SECURE_COOKIE,
    SIGN_IN_RESOLVER,
    CsrfFailed,
    SignedIn,
    our_origin,
    require,
)
from web.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    Unavailable,
)
from web.json_in import json_object
from web.json_out import json_response
from web.revocation import LIVE_SIGN_INS

ACCOUNTS: web.AppKey[AccountService] = web.AppKey("accounts")
# The pages are served over TLS (directly, or LIANDONG_PUBLIC_URL is https behind a proxy).
SECURE_COOKIES: web.AppKey[bool] = web.AppKey("secure_cookies")


class SignInFailed(ApiError):
    status = 401
    code = "sign_in_failed"


class Locked(ApiError):
    status = 429
    code = "locked"


class TooBusy(Unavailable):
    code = "busy"


class AccountDisabled(Forbidden):
    code = "account_disabled"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/session", who_am_i)
    app.router.add_post("/api/v1/session", sign_in)
    app.router.add_delete("/api/v1/session", sign_out)
    app.router.add_get("/api/v1/users", list_users)
    app.router.add_post("/api/v1/users", create_user)
    for verb in ("disable", "enable", "unlock", "password"):
        app.router.add_post(f"/api/v1/users/{{id}}/{verb}", change_user)


def install(app: web.Application, accounts: AccountService) -> None:
    """Give the web what it asks of accounts: who a cookie is, which sign-ins hold."""
    app[ACCOUNTS] = accounts

    async def resolve(cookie: str) -> SignedIn | str | None:
        found = await accounts.resolve(cookie)
        if isinstance(found, Resolved):
            return SignedIn(found.principal, found.csrf_token)
        return None if found is None else found.value

    def close_feeds(sign_in_ids: list[int]) -> None:
        for sign_in_id in sign_in_ids:
            app[LIVE].revoke(_credential(sign_in_id))

    app[SIGN_IN_RESOLVER] = resolve
    app[LIVE_SIGN_INS] = accounts.live_sign_ins
    accounts.on_ended.append(close_feeds)


# ------------------------------------------------------------------ the session


async def sign_in(request: web.Request) -> web.Response:
    origin = request.headers.get("Origin")
    if origin is not None and not our_origin(request, origin):
        raise CsrfFailed(f"origin {origin!r} may not sign in here", {"header": "Origin"})
    body = await json_object(request)
    login, password = _text(body, "login"), _text(body, "password")
    try:
        made = await request.app[ACCOUNTS].sign_in(login.strip().lower(), password, request.remote)
    except SignInRefused as refused:
        raise _refusal(refused) from None
    except Busy:
        raise TooBusy(
            "登录请求过多，请稍后再试 (too many sign-ins at once; try again in a moment)",
            {"retry_after_s": 1},
            {"Retry-After": "1"},
        ) from None
    response = json_response(_new_session(made), status=201, headers={"Cache-Control": "no-store"})
    secure = request.secure or request.app.get(SECURE_COOKIES, False)
    response.set_cookie(
        SECURE_COOKIE if secure else COOKIE,
        made.cookie,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
    return response


async def who_am_i(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    if principal.sign_in_id is None:
        return json_response(session_json(principal))
    found = await request.app[ACCOUNTS].resolve(_cookie(request))
    if not isinstance(found, Resolved):  # ended between the middleware and here
        raise Unauthorized("this sign-in has ended; sign in again")
    body = session_json(
        principal, login=found.login, csrf_token=found.csrf_token, expires_at=found.expires_at
    )
    return json_response(body, headers={"Cache-Control": "no-store"})


async def sign_out(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    if principal.sign_in_id is None:
        raise Conflict(
            "a token is not a sign-in: revoke it with `liandong token revoke` instead",
            {"credential": "token"},
        )
    await request.app[ACCOUNTS].sign_out(principal.sign_in_id)
    response = web.Response(status=204)
    for name in (COOKIE, SECURE_COOKIE):
        if name in request.cookies:
            response.del_cookie(name, path="/")
    return response


# ------------------------------------------------------------------ accounts (admin)


async def list_users(request: web.Request) -> web.Response:
    require(request, Role.ADMIN)
    now = datetime.now(UTC)
    users = await request.app[ACCOUNTS].users()
    return json_response({"users": [user_json(u, now) for u in users]})


async def create_user(request: web.Request) -> web.Response:
    admin = require(request, Role.ADMIN)
    body = await json_object(request)
    try:
        role = Role(_text(body, "role"))
    except ValueError:
        raise BadRequest("role must be a person's role", {"field": "role"}) from None
    draft = AccountDraft(
        login=_text(body, "login"),
        name=_text(body, "name"),
        role=role,
        phone=_optional_text(body, "phone"),
        unit=_optional_text(body, "unit"),
    )
    try:
        user = await request.app[ACCOUNTS].create(draft, _text(body, "password"), _by(admin))
    except AccountProblem as problem:
        raise BadRequest(str(problem), {"field": problem.field}) from None
    return json_response(user_json(user, datetime.now(UTC)), status=201)


async def change_user(request: web.Request) -> web.Response:
    admin = require(request, Role.ADMIN)
    accounts = request.app[ACCOUNTS]
    user_id = _user_id(request)
    verb = request.path.rsplit("/", 1)[-1]
    try:
        if verb == "password":
            body = await json_object(request)
            user = await accounts.set_password(user_id, _text(body, "password"))
        elif verb == "disable":
            user = await accounts.disable(user_id, by_admin=admin.user_id or 0)
        else:
            user = await getattr(accounts, verb)(user_id)
    except NoSuchUser:
        raise NotFound(f"no user {user_id}") from None
    except AccountConflict as conflict:
        raise Conflict(str(conflict)) from None
    except AccountProblem as problem:
        raise BadRequest(str(problem), {"field": problem.field}) from None
    return json_response(user_json(user, datetime.now(UTC)))


# ------------------------------------------------------------------ helpers


def _new_session(made: NewSignIn) -> dict[str, Any]:
    return session_json(
        principal_of(made.user, made.sign_in.id),
        login=made.user.login,
        csrf_token=made.sign_in.csrf_token,
        expires_at=made.sign_in.expires_at,
    )


def _refusal(refused: SignInRefused) -> ApiError:
    if refused.why == "locked" and refused.locked_until is not None:
        wait = max(1, math.ceil((refused.locked_until - datetime.now(UTC)).total_seconds()))
        error: ApiError = Locked(
            "登录失败次数过多，账号已暂时锁定 (too many wrong passwords: locked for a while)",
            {"locked_until": refused.locked_until.isoformat(), "retry_after_s": wait},
        )
        return error
    if refused.why == "disabled":
        return AccountDisabled("账号已停用 (this account is disabled; ask an administrator)")
    return SignInFailed("用户名或密码错误 (wrong login or password)")


def _credential(sign_in_id: int) -> Credential:
    return Credential("sign-in", sign_in_id)


def _cookie(request: web.Request) -> str:
    return request.cookies.get(SECURE_COOKIE) or request.cookies.get(COOKIE) or ""


def _by(admin: Principal) -> str:
    return f"user {admin.user_id}" if admin.user_id is not None else f"token {admin.token_id}"


def _user_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise NotFound(f"no user {raw!r}")
    return int(raw)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} is required (a string)", {"field": name})
    return value


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", {"field": name})
    return value
