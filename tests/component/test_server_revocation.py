"""A token revoked with `liandong token revoke` (another process: it only writes
the database) loses its open live feed within a few seconds, not only its REST
access; a database that cannot be asked closes nobody's feed."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType

from ami_client import AmiSettings
from startup import tokens_cli
from startup.settings import Settings
from tests.component.conftest import DEADLINE_S, Liandong, StartLiandong, replace_values, trace
from web.tokens import TokenRepository

CALL = "liandong-1795930660.0"
CITIZEN_NUMBER = "13900000001"
LIVE_PATH = "/api/v1/live"


async def cli_token(settings: Settings, name: str, capsys: pytest.CaptureFixture[str]) -> str:
    create = argparse.Namespace(verb="create", role="supervisor", name=name, phone=None)
    assert await tokens_cli.run(create, settings) == 0
    return capsys.readouterr().out.strip()


async def cli_token_id(settings: Settings, name: str, capsys: pytest.CaptureFixture[str]) -> int:
    assert await tokens_cli.run(argparse.Namespace(verb="list"), settings) == 0
    (line,) = [row for row in capsys.readouterr().out.splitlines() if name in row]
    return int(line.split("\t")[0])


async def open_feed(server: Liandong, token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await server.client.ws_connect(LIVE_PATH, headers=server.auth(token))
    assert (await ws.receive_json())["type"] == "hello"
    return ws


async def next_message(ws: aiohttp.ClientWebSocketResponse, within: float) -> aiohttp.WSMessage:
    async with asyncio.timeout(within):
        return await ws.receive()


async def call_started(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    async with asyncio.timeout(DEADLINE_S):
        while True:
            message = await ws.receive_json()
            if message["type"] == "call.started":
                return message  # type: ignore[no-any-return]


async def test_revoking_a_token_closes_its_open_live_feed(
    start_liandong: StartLiandong, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server = await start_liandong()
    settings = Settings(db_url=db_url, ami=AmiSettings())
    revoked = await cli_token(settings, "督查 王科长", capsys)
    kept = await cli_token(settings, "督查 李科长", capsys)
    revoked_feed = await open_feed(server, revoked)
    second_feed = await open_feed(server, revoked)  # both sockets of the token go
    kept_feed = await open_feed(server, kept)

    token_id = await cli_token_id(settings, "王科长", capsys)
    assert await tokens_cli.run(argparse.Namespace(verb="revoke", id=token_id), settings) == 0

    for feed in (revoked_feed, second_feed):
        closing = await next_message(feed, DEADLINE_S)
        assert (closing.type, closing.data, closing.extra) == (
            WSMsgType.CLOSE,
            4001,
            "token revoked",
        )
    assert (await server.get("/api/v1/calls", revoked))[0] == 401

    # Calls go on: the other token's feed gets them, the revoked one nothing.
    server.push(replace_values(trace("answered_110"), "13900001", CITIZEN_NUMBER))
    assert (await call_started(kept_feed))["data"]["call_id"] == CALL
    assert revoked_feed.closed and second_feed.closed
    await kept_feed.close()


async def test_a_database_that_cannot_be_asked_closes_no_feed(
    start_liandong: StartLiandong,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = await start_liandong()
    settings = Settings(db_url=db_url, ami=AmiSettings())
    token = await cli_token(settings, "督查 王科长", capsys)
    feed = await open_feed(server, token)

    async def database_down(self: TokenRepository, ids: frozenset[int]) -> frozenset[int]:
        raise OSError("connection refused")

    caplog.set_level(logging.INFO, logger="web.revocation")
    with monkeypatch.context() as patched:
        patched.setattr(TokenRepository, "live_ids", database_down)

        async def complained() -> bool:
            return "cannot check live-feed tokens" in caplog.text

        await server.eventually(complained, "the failed token check logged")
        # The feed is still open and still fed, for as long as the checks fail.
        server.push(replace_values(trace("answered_110"), "13900001", CITIZEN_NUMBER))
        assert (await call_started(feed))["data"]["call_id"] == CALL
        assert not feed.closed
        assert caplog.text.count("cannot check live-feed tokens") == 1  # once, not every second

        # (The call's records written first: the command line's write would
        # otherwise wait for the server's on a busy machine.)
        await server.written()
        token_id = await cli_token_id(settings, "王科长", capsys)
        assert await tokens_cli.run(argparse.Namespace(verb="revoke", id=token_id), settings) == 0
    # The database answers again: the revocation is seen.
    async with asyncio.timeout(DEADLINE_S):
        while (message := await feed.receive()).type is not WSMsgType.CLOSE:
            pass
    assert (message.data, message.extra) == (4001, "token revoked")
