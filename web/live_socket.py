"""WS /api/v1/live: leg and call events as JSON, as they happen.

Authenticated like every endpoint: a program's Authorization header on the
upgrade request, or a person's sign-in cookie. Browsers from another origin
are refused unless allowed, and a cookie's upgrade must name its origin (a
cookie is sent whoever opens the socket). A socket whose token is revoked or
whose sign-in ends meanwhile is closed with 4001 (web/revocation.py);
every message is masked for the principal's role (common/masking.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import WSMsgType, web

from common.principal import Principal
from common.vocabulary import TOKEN_ROLES, Role
from web.app_state import ALLOWED_ORIGINS, LIVE
from web.auth import our_origin, require
from web.errors import Forbidden
from web.json_out import dumps
from web.live import Subscription
from web.revocation import app_credentials, watch_revocations

log = logging.getLogger(__name__)

# How long closing a cut-off subscriber may wait for its client's close reply.
CUT_CLOSE_TIMEOUT_S = 5.0


async def live(request: web.Request) -> web.WebSocketResponse:
    principal = require(request, *TOKEN_ROLES)
    _check_origin(request, principal)
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    bus = request.app[LIVE]
    # The token or sign-in id, not the name: log lines name the credential, not the person.
    credential = principal.credential
    sub = bus.subscribe(f"{credential}@{request.remote}", credential)
    watch_revocations(bus, app_credentials(request.app))
    reader = asyncio.create_task(_drain_client(ws), name="live-reader")
    sender = asyncio.create_task(_send_events(ws, sub, principal), name="live-sender")
    cut = asyncio.create_task(sub.cut.wait(), name="live-cut")
    tasks = (reader, sender, cut)
    try:
        # Until the client goes away, a send fails, or the bus cuts this
        # subscriber off (it fell behind, or its token was revoked), which may
        # happen while a send to a client that reads nothing is stuck: the
        # sender is cancelled then.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if sub.cut.is_set():
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            code, reason = sub.close_with
            # Don't wait for the send buffer to drain: the close frame goes
            # behind what is already buffered, and a stuck client is given up on.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CUT_CLOSE_TIMEOUT_S):
                    await ws.close(code=code, message=reason.encode(), drain=False)
    finally:
        bus.unsubscribe(sub)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await ws.close()
    return ws


async def _send_events(ws: web.WebSocketResponse, sub: Subscription, principal: Principal) -> None:
    await ws.send_json({"type": "hello", "data": {"role": principal.role.value}})
    while not ws.closed:
        message = await sub.queue.get()
        if sub.cut.is_set():
            return  # cut off (revoked) while this message waited: nothing more for it
        if principal.role is Role.UNIT and not _units_business(message, principal.unit):
            continue
        await ws.send_json(principal.shown(message), dumps=dumps)


DESKS_ONLY = ("transfer", "queue.", "operator.", "menu.", "desk.", "callback.", "follow_up.")


def _units_business(message: dict[str, Any], unit: str | None) -> bool:
    """Hand-overs between the desks, the desks' queues, operators and menus
    are not a member unit's business, and of the cases and linkage notices
    only its own are."""
    kind = message["type"]
    if kind.startswith(DESKS_ONLY):
        return False
    if kind.startswith("case."):
        case = message["data"]
        return unit is not None and (case["lead_unit"] == unit or unit in case["co_units"])
    if kind.startswith("notice."):  # a unit sees the notices it is called with
        return unit is not None and message["data"].get("unit") == unit
    return True


async def _drain_client(ws: web.WebSocketResponse) -> None:
    async for msg in ws:
        if msg.type == WSMsgType.ERROR:
            return


def _check_origin(request: web.Request, principal: Principal) -> None:
    origin = request.headers.get("Origin")
    if principal.sign_in_id is not None:
        # WebSockets have no same-origin rule: any page could open one with
        # our cookie. Browsers always send Origin on a WebSocket upgrade.
        if origin is None or not our_origin(request, origin):
            raise Forbidden(
                f"a signed-in live feed must come from this server's own pages (origin {origin!r})"
            )
        return
    if origin is None:
        return  # not a browser
    allowed = request.app[ALLOWED_ORIGINS]
    same = origin.split("://", 1)[-1] == request.host
    if not same and origin not in allowed:
        raise Forbidden(f"origin {origin!r} is not allowed (LIANDONG_ALLOWED_ORIGINS)")
