"""PostgreSQL goes away under a running server: every route that reads or
writes the database answers 503 `database_unavailable` with the reason (as
health does), not a 500; when it is back, the same requests answer again and
nothing was half-stored.

The server reaches PostgreSQL through a TCP proxy the test stops: the driver
meets a real refused connection (and real dropped ones), not a mock.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from common.principal import Principal
from tests.component.cases_kit import CaseApi, start_desk
from web import auth


class Proxy:
    """127.0.0.1:<port> → the database server, until `stop()`. It runs on a loop
    of its own in a thread, so that it forwards whatever the app's loop is doing."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self.server is None:
            return
        self.server.close()
        self.server = None
        for pipe in list(self.pipes):
            pipe.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.pipes.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                up_writer.close()
        finally:
            self.pipes.discard(task)
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()  # one side ended: end the other, as a real link would


@pytest.fixture
def proxy(db_url: str, engine: AsyncEngine) -> Iterator[tuple[Proxy, str]]:
    url = make_url(db_url)
    running = Proxy(url.host or "127.0.0.1", url.port or 5432)
    running.start()
    yield running, url.set(host="127.0.0.1", port=running.port).render_as_string(False)
    running.stop()
    running.close()


# (method, path, user, body) of routes that read or write the database.
ROUTES: tuple[tuple[str, str, str, Any], ...] = (
    ("GET", "/api/v1/calls", "admin", None),
    ("GET", "/api/v1/calls/no-such-call", "admin", None),
    ("GET", "/api/v1/transfers", "admin", None),
    ("GET", "/api/v1/cases", "op12345", None),
    ("POST", "/api/v1/cases", "op12345", {"description": "停水三天了"}),
    ("GET", "/api/v1/units?at=2026-01-01T00:00:00Z", "admin", None),  # the roster's history
    ("GET", "/api/v1/supervision/units", "supervisor", None),
)


async def known_tokens(desk: CaseApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens checked once while the database is up, then answered from memory:
    without this every request would stop at the token lookup, and the routes'
    own reads and writes would never meet the outage."""
    app = desk.client.app
    known = {token: await auth.authenticate(app, token) for token in desk.tokens.values()}

    async def from_memory(app: web.Application, token: str) -> Principal | None:
        return known.get(token)

    monkeypatch.setattr(auth, "authenticate", from_memory)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_database_outage_is_a_503_naming_it_and_the_api_comes_back(
    aiohttp_client: Any, proxy: tuple[Proxy, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    running, url = proxy
    desk: CaseApi = await start_desk(aiohttp_client, url)
    number = (await desk.open("op12345", description="路灯不亮"))["number"]
    await known_tokens(desk, monkeypatch)

    running.stop()
    for method, path, user, body in ROUTES:
        status, answer = await desk.request(method, path, user, body)
        assert status == 503, (method, path, status, answer)
        error = answer["error"]
        assert error["code"] == "database_unavailable", (path, error)
        assert error["details"]["reason"], (path, error)
        assert "database" in error["message"]
    status, health = await desk.request("GET", "/api/v1/health", "admin")
    assert status == 503 and health["database"]["ok"] is False
    # The roster as it is now is in memory: units can still be looked up.
    status, units = await desk.request("GET", "/api/v1/units", "op12345")
    assert status == 200 and units["units"], units

    running.start()  # the same port: the server's URL is unchanged
    status, listed = await desk.request("GET", "/api/v1/cases", "op12345")
    assert status == 200, listed
    assert [case["number"] for case in listed["cases"]] == [number]  # the POST stored nothing
