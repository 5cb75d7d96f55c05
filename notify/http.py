"""The linkage notices in the API: the notices under way (the supervisor's
wall, a desk watching a dispatch go out), or every notice of a case, each
with its calls. A member unit reads only the notices it was called with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from common.principal import Principal
from common.vocabulary import DESK_ROLES, TOKEN_ROLES, Role
from notify.core.notices import Notice
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


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/notices", list_notices)
    app.router.add_get("/api/v1/follow-ups", list_follow_ups)


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
