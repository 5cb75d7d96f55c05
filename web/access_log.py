"""The HTTP access log, without personal data.

aiohttp's default line prints the request line whole, query string included,
so `GET /api/v1/cases?caller_number=13912345678` would put a caller's number
in the log. Here a request is logged by its path and the names of its query
parameters; only the values of parameters known to hold no personal data
(times, limits, states, ...) are kept, any other value is shown as `…`, and
so is a parameter name with digits in it (a number typed in the wrong place).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

# Query parameters of the API whose values never identify a person.
HARMLESS = frozenset(
    {"active", "since", "limit", "state", "desk", "open", "overdue", "format", "from", "to", "at"}
)
ELIDED = "…"


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d %.6fs',
            request.remote,
            request.method,
            loggable_target(request),
            request.version.major,
            request.version.minor,
            response.status,
            response.body_length,
            time,
        )


def loggable_target(request: web.BaseRequest) -> str:
    """The path, and the query with every value not known to be harmless elided."""
    if not request.query:
        return request.path
    query = "&".join(
        f"{_name(name)}={value if name in HARMLESS else ELIDED}"
        for name, value in request.query.items()
    )
    return f"{request.path}?{query}"


def _name(name: str) -> str:
    plain = name.isascii() and name.isidentifier() and not any(c.isdigit() for c in name)
    return name if plain else ELIDED
