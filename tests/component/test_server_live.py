"""WS /api/v1/live: authenticated, origin-checked, masked per role, and a subscriber
that stops reading is cut off (1013) without holding anyone else back."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, WSServerHandshakeError

from common.vocabulary import TOKEN_ROLES, Role
from tests.component.conftest import (
    DEADLINE_S,
    Liandong,
    StartLiandong,
    make_tokens,
    replace_values,
    trace,
)
from tests.fakes.fake_ami import event_message
from web.app_state import LIVE

CALL = "liandong-1795930660.0"
CITIZEN_NUMBER = "13900000001"
MASKED = "139******01"
LIVE_PATH = "/api/v1/live"
SLOW_TEST_START = 1795931000  # 2026-11-29T05:43:20Z


async def receive_until(
    ws: aiohttp.ClientWebSocketResponse, last_type: str, last_id: str
) -> list[dict[str, Any]]:
    """Messages up to and including the first `last_type` about `last_id`."""
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(DEADLINE_S):
        while True:
            message = await ws.receive_json()
            out.append(message)
            data = message["data"]
            if message["type"] == last_type and last_id in (
                data.get("call_id"),
                data.get("uniqueid"),
            ):
                return out


async def test_live_events_of_a_call_in_order_with_names_intact(
    start_liandong: StartLiandong, db_url: str
) -> None:
    server = await start_liandong()
    tokens = await make_tokens(db_url, list(TOKEN_ROLES))
    subscribers = {}
    for role in (Role.OPERATOR_110, Role.UNIT, Role.SUPERVISOR):
        ws = await server.client.ws_connect(LIVE_PATH, headers=server.auth(tokens[role]))
        assert await ws.receive_json() == {"type": "hello", "data": {"role": role.value}}
        subscribers[role] = ws

    server.push(replace_values(trace("answered_110"), "13900001", CITIZEN_NUMBER))
    seen = {role: await receive_until(ws, "call.ended", CALL) for role, ws in subscribers.items()}

    desk = seen[Role.OPERATOR_110]
    types = [m["type"] for m in desk]
    assert types[:2] == ["call.started", "leg.started"]
    assert types[-1] == "call.ended"
    assert types.count("leg.started") == 3
    assert types.count("leg.ended") == 3
    assert types.count("call.answered") == 1
    assert types.index("call.answered") < types.index("leg.ended")
    started = desk[0]["data"]
    assert started["call_id"] == CALL
    assert started["caller_name"] == "张三丰"
    assert started["caller_number"] == CITIZEN_NUMBER
    assert started["trunk"] == "110"
    desk_names = {m["data"]["caller_name"] for m in desk if m["type"] == "leg.started"}
    assert desk_names == {"张三丰", "110坐席1", "110坐席2"}
    ended = [m["data"] for m in desk if m["type"] == "leg.ended"]
    assert sorted(e["cause"] for e in ended) == [16, 16, 26]
    assert all(e["reconciled"] is False for e in ended)

    # Unit and supervisor see the same events, with caller numbers masked and
    # nothing else changed.
    masked = {CITIZEN_NUMBER: MASKED, "8101": "8**1", "8102": "8**2"}
    for role in (Role.UNIT, Role.SUPERVISOR):
        assert len(seen[role]) == len(desk), role
        for theirs, ours in zip(seen[role], desk, strict=True):
            if ours["data"].get("caller_number") is not None:
                number = ours["data"]["caller_number"]
                assert theirs["data"] == {**ours["data"], "caller_number": masked[number]}
            else:
                assert theirs == ours
        assert CITIZEN_NUMBER not in str(seen[role])
    for ws in subscribers.values():
        await ws.close()


async def test_live_refuses_missing_token_and_foreign_origins(
    start_liandong: StartLiandong,
) -> None:
    server = await start_liandong(allowed_origins=("https://console.example.gov.cn",))
    url = LIVE_PATH

    with pytest.raises(WSServerHandshakeError) as refused:
        await server.client.ws_connect(url)
    assert refused.value.status == 401
    with pytest.raises(WSServerHandshakeError) as refused:
        await server.client.ws_connect(url, headers={"Authorization": "Bearer nope"})
    assert refused.value.status == 401

    with pytest.raises(WSServerHandshakeError) as refused:
        await server.client.ws_connect(
            url, headers={**server.auth(), "Origin": "https://evil.example.com"}
        )
    assert refused.value.status == 403

    # A listed origin, the server's own origin, and no Origin (not a browser) are fine.
    own = f"http://{server.client.host}:{server.client.port}"
    for headers in (
        {"Origin": "https://console.example.gov.cn"},
        {"Origin": own},
        {},
    ):
        ws = await server.client.ws_connect(url, headers={**server.auth(), **headers})
        assert (await ws.receive_json())["type"] == "hello"
        await ws.close()


# ------------------------------------------------------------------ slow subscriber


def short_call(number: int) -> bytes:
    """A 12345 call that rings and is abandoned: four live events (call and leg
    started, leg and call ended)."""
    uid = f"liandong-1795931000.{number}"
    channel = f"PJSIP/trunk-12345-{number:08x}"
    stamp = f"{SLOW_TEST_START + number / 1000:.6f}"
    common = {"Timestamp": stamp, "Channel": channel, "Uniqueid": uid, "Linkedid": uid}
    return event_message(
        "Newchannel",
        {
            **common,
            "ChannelState": "4",
            "CallerIDNum": f"1380000{number:04d}",
            "CallerIDName": "市民" * 100,  # a long name: fewer events fill the pipe
            "Context": "from-trunk-12345",
        },
    ) + event_message("Hangup", {**common, "Cause": "16", "Cause-txt": "Normal Clearing"})


def thin_client_socket(addr_info: Any) -> socket.socket:
    family, type_, proto, _, _ = addr_info
    sock = socket.socket(family, type_, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


@pytest.fixture
async def thin_session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client on a thin link: tiny receive buffer."""
    connector = aiohttp.TCPConnector(socket_factory=thin_client_socket)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


def stop_reading(server: Liandong, ws: aiohttp.ClientWebSocketResponse) -> None:
    """The client stops reading, and the server's side of its socket gets a small
    send buffer (so kernel buffers don't hide a client that reads nothing)."""
    assert ws._response.connection is not None
    transport = ws._response.connection.transport
    assert transport is not None
    transport.pause_reading()
    ours = transport.get_extra_info("sockname")
    runner = server.client.server.runner
    assert runner is not None and runner.server is not None
    (handler,) = [
        h
        for h in runner.server.connections
        if h.transport is not None and h.transport.get_extra_info("peername") == ours
    ]
    assert handler.transport is not None
    handler.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)


def resume_reading(ws: aiohttp.ClientWebSocketResponse) -> None:
    assert ws._response.connection is not None
    transport = ws._response.connection.transport
    assert transport is not None
    transport.resume_reading()


async def test_subscriber_that_stops_reading_is_cut_off_with_1013(
    start_liandong: StartLiandong, thin_session: aiohttp.ClientSession
) -> None:
    server = await start_liandong()
    bus = server.app[LIVE]
    slow = await thin_session.ws_connect(server.client.make_url(LIVE_PATH), headers=server.auth())
    assert (await slow.receive_json())["type"] == "hello"
    stop_reading(server, slow)
    fast = await server.client.ws_connect(LIVE_PATH, headers=server.auth())
    assert (await fast.receive_json())["type"] == "hello"
    assert bus.subscriber_count == 2

    # Calls arrive in bursts; the reading subscriber keeps up with every one.
    received: list[dict[str, Any]] = []
    calls = 0
    while bus.subscriber_count == 2:
        assert calls < 4000, "the subscriber that reads nothing was never cut off"
        server.fake.push_bytes(b"".join(short_call(calls + i) for i in range(50)))
        calls += 50
        async with asyncio.timeout(DEADLINE_S):
            while len(received) < 4 * calls:
                received.append(await fast.receive_json())
    assert len(received) > 1000

    # The reading subscriber got every event, in order, none lost.
    started = [m["data"]["uniqueid"] for m in received if m["type"] == "leg.started"]
    assert started == [f"liandong-1795931000.{n}" for n in range(calls)]

    # The pipeline and the other subscriber go on.
    server.push(trace("busy_110"))
    busy = trace("busy_110")[0]["Linkedid"]
    await receive_until(fast, "call.ended", busy)
    await server.call_where(busy, lambda c: not c["active"], "call after the cut-off ended")
    await server.written()
    listed = await server.calls(limit="1000", since="2026-11-29T05:43:20Z")
    assert len(listed) == min(calls, 1000)
    assert listed[0]["id"] == f"liandong-1795931000.{calls - 1}"  # newest first
    assert listed[0]["caller_name"] == "市民" * 100
    assert not any(c["active"] for c in listed)
    status, health = await server.health()
    assert status == 200
    assert health["database"]["pending_writes"] == 0

    # When the slow client reads again, it finds what it was sent and then the
    # close: 1013 "try again later", reload from the REST API.
    resume_reading(slow)
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(DEADLINE_S):
        while (message := await slow.receive()).type == WSMsgType.TEXT:
            got.append(message.json())
    assert message.type == WSMsgType.CLOSE, message
    assert slow.close_code == 1013
    assert "reload" in message.extra
    # What it did get is the stream without gaps, up to where it fell behind.
    assert 0 < len(got) < len(received)
    assert got == received[: len(got)]
    await fast.close()
