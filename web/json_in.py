"""Request bodies: one JSON object, or a 400 that says what is wrong with it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from web.errors import BadRequest


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object. No body at all reads as {}: most commands
    have no required fields, and the handler names any field that is missing."""
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:  # not JSON, not UTF-8, or an integer of over 4300 digits
        raise BadRequest(f"the body is not JSON: {exc}", {"field": "body"}) from None
    except RecursionError:  # json.loads recurses once per [ or {
        raise BadRequest(
            "the body is nested too deeply to read (arrays and objects within each other)",
            {"field": "body"},
        ) from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", {"field": "body"})
    return body
