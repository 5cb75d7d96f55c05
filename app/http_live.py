"""WS /api/v1/live: leg and call events as JSON, as they happen.

Authenticated like every endpoint (Authorization header on the upgrade
request); browsers from another origin are refused unless allowed.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSMsgType, web

from app.auth import ALL_ROLES, require
from app.errors import Forbidden
from app.keys import LIVE, SETTINGS
from app.live import LAGGED
from app.serialize import masked_event

log = logging.getLogger(__name__)


async def live(request: web.Request) -> web.WebSocketResponse:
    principal = require(request, *ALL_ROLES)
    _check_origin(request)
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    bus = request.app[LIVE]
    sub = bus.subscribe(f"{principal.name}@{request.remote}")
    reader = asyncio.create_task(_drain_client(ws), name="live-reader")
    try:
        await ws.send_json({"type": "hello", "data": {"role": principal.role.value}})
        while not ws.closed:
            getter = asyncio.ensure_future(sub.queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break  # the client went away
            message = getter.result()
            if message is LAGGED:
                await ws.close(code=1013, message=b"too slow; reconnect and reload")
                break
            assert isinstance(message, dict)
            if not principal.sees_full_numbers:
                message = masked_event(message)
            await ws.send_json(message, dumps=_dumps)
    finally:
        bus.unsubscribe(sub)
        reader.cancel()
        await ws.close()
    return ws


async def _drain_client(ws: web.WebSocketResponse) -> None:
    async for msg in ws:
        if msg.type == WSMsgType.ERROR:
            return


def _dumps(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _check_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser
    allowed = request.app[SETTINGS].allowed_origins
    same = origin.split("://", 1)[-1] == request.host
    if not same and origin not in allowed:
        raise Forbidden(f"origin {origin!r} is not allowed (LIANDONG_ALLOWED_ORIGINS)")
