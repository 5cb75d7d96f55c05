"""The linkage notices in the API: the notices under way (the supervisor's
wall, a desk watching a dispatch go out), or every notice of a case, each
with its calls, and a declining unit's spoken reason; the follow-up calls
and a citizen's recorded comment. A member unit reads only the notices it
was called with, and no follow-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from common.principal import Principal
from common.vocabulary import DESK_ROLES, TOKEN_ROLES, Role
from notify.core.notices import Notice
from notify.core.recordings import recording_file
from notify.service.follow_ups import FollowUpService
from notify.service.notices import NoticeService
from notify.shapes import follow_up_json, notice_json, try_json
from records.service.cases import CaseNotFound
from web.auth import require
from web.errors import NotFound
from web.json_out import json_response
from web.period_query import known_params

NOTICES: web.AppKey[NoticeService] = web.AppKey("notices")
FOLLOW_UPS: web.AppKey[FollowUpService] = web.AppKey("follow_ups")


# The recordings' folder as the server reads it (LIANDONG_NOTICE_RECORDINGS_DIR).
RECORDINGS_DIR: web.AppKey[Path] = web.AppKey("recordings_dir")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/notices", list_notices)
    app.router.add_get("/api/v1/notices/{id}/calls/{try}/recording", notice_recording)
    app.router.add_get("/api/v1/follow-ups", list_follow_ups)
    app.router.add_get("/api/v1/follow-ups/{id}/recording", follow_up_recording)


# The citizen's follow-up is the desks' and the supervisors' business.
FOLLOW_UP_READERS = (*DESK_ROLES, Role.SUPERVISOR, Role.ADMIN)


async def list_follow_ups(request: web.Request) -> web.Response:
    """The follow-up calls waiting or on the phone now, soonest first; with
    `case`, every follow-up of that case."""
    require(request, *FOLLOW_UP_READERS)
    known_params(request, ("case",))
    service = request.app[FOLLOW_UPS]
    number = request.query.get("case")
    if number is None:
        found = service.open_ones()
    else:
        try:
            await service.cases.record(number)
        except CaseNotFound:
            raise NotFound(f"no case {number!r}") from None
        found = await service.store.of_case(number)
    return json_response({"follow_ups": [follow_up_json(f) for f in found]})


async def follow_up_recording(request: web.Request) -> web.StreamResponse:
    """The citizen's comment after their rating, as Asterisk recorded it."""
    require(request, *FOLLOW_UP_READERS)
    found = await request.app[FOLLOW_UPS].store.one(_number(request, "id"))
    if found is None:
        raise NotFound(f"no follow-up {request.match_info['id']}")
    return _recording(request, found.recording, "follow-up")


async def notice_recording(request: web.Request) -> web.StreamResponse:
    """A unit's spoken reason for declining a notice (key 9, then speech)."""
    principal = require(request, *TOKEN_ROLES)
    found = await request.app[NOTICES].store.one(_number(request, "id"))
    if found is None or not _may_see(principal, found[0]):
        raise NotFound(f"no notice {request.match_info['id']}")
    number = _number(request, "try")
    tried = next((t for t in found[1] if t.number == number), None)
    if tried is None:
        raise NotFound(f"notice {found[0].notice_id} has no call {number}")
    return _recording(request, tried.recording, "notice")


def _number(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit():
        raise NotFound(f"{name} must be a number, not {raw!r}")
    return int(raw)


def _recording(request: web.Request, told: str | None, kind: str) -> web.StreamResponse:
    name = recording_file(told, kind)
    if name is None:
        raise NotFound("no recording was made on this call")
    path = request.app[RECORDINGS_DIR] / name
    if not path.is_file():
        raise NotFound(f"the recording {name} is not (or no longer) on this machine")
    # Voices: never kept by a browser or a proxy.
    headers = {"Content-Type": "audio/wav", "Cache-Control": "no-store"}
    return web.FileResponse(path, headers=headers)


def _may_see(principal: Principal, notice: Notice) -> bool:
    return principal.role is not Role.UNIT or principal.unit == notice.unit


async def list_notices(request: web.Request) -> web.Response:
    """The notices waiting or on the phone now, oldest first; with `case`,
    every notice of that case. Each with every call made for it."""
    principal = require(request, *TOKEN_ROLES)
    known_params(request, ("case",))
    service = request.app[NOTICES]
    number = request.query.get("case")
    if number is None:
        notices = [n for n, _ in service.open_with_tries()]
        tries = await service.store.tries_of([n.notice_id for n in notices])
        found = [(n, tries.get(n.notice_id, [])) for n in notices]
    else:
        try:
            await service.cases.record(number)
        except CaseNotFound:
            raise NotFound(f"no case {number!r}") from None
        found = await service.store.of_case(number)
    body: list[dict[str, Any]] = [
        notice_json(notice, calls[-1] if calls else None) | {"calls": [try_json(t) for t in calls]}
        for notice, calls in found
        if _may_see(principal, notice)
    ]
    return json_response({"notices": body})


# ------------------------------------------------ for the supervision views


def unit_notices(
    app: web.Application,
) -> Callable[[datetime, datetime], Awaitable[dict[str, dict[str, int]]]]:
    """Per unit, the notices made in a period (records.supervision.UNIT_NOTICES)."""

    async def figures(start: datetime, end: datetime) -> dict[str, dict[str, int]]:
        return await app[NOTICES].store.unit_figures(start, end)

    return figures


def case_notice_states(app: web.Application) -> Callable[[list[str]], Awaitable[dict[str, str]]]:
    """Each case's latest notice's state (records.supervision.CASE_NOTICES)."""

    async def states(numbers: list[str]) -> dict[str, str]:
        return await app[NOTICES].store.latest_states(numbers)

    return states
