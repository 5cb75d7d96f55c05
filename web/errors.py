"""Typed API errors and the one middleware that turns every error into
`{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from web.json_out import json_response

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}  # e.g. Retry-After


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class Unavailable(ApiError):
    status = 503
    code = "unavailable"


def error_body(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return json_response(body, status=status, headers=headers or None)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_body(exc.status, exc.code, exc.message, exc.details, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        # A 405 must say which methods are allowed (RFC 9110 §15.5.6).
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_body(exc.status, code, exc.reason, headers=allow)
    except Exception as exc:
        if database_down(exc):
            # Not a bug here: the database is unreachable. Say so, as health does
            # (the exception type only; host and port are in the server log).
            log.warning("%s %s: database unavailable: %r", request.method, request.path, exc)
            return error_body(
                503,
                "database_unavailable",
                "the database is unavailable; try again shortly (GET /api/v1/health tells when)",
                {"reason": _reason(exc)},
                headers={"Retry-After": "5"},
            )
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_body(500, "internal_error", "internal error; see the server log")


# PostgreSQL shutting down or starting, or out of connections.
_SERVER_GOING_AWAY = frozenset({"57P01", "57P02", "57P03", "53300"})


def database_down(exc: BaseException) -> bool:
    """The database cannot be reached (refused, dropped, timed out, pool exhausted),
    as opposed to a statement that failed: the driver's OSError, or SQLAlchemy's
    word that the connection is gone."""
    if isinstance(exc, OSError | DisconnectionError | PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        code = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        return (
            exc.connection_invalidated
            or isinstance(exc.orig, OSError)
            or code.startswith("08")  # connection exception
            or code in _SERVER_GOING_AWAY
        )
    return False


def _reason(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return type(cause).__name__
