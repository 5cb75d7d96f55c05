"""Fixtures for component tests of the real app (`create_app`) against the fake AMI.

Everything a test checks goes through what a user would look at: the REST API,
the health endpoint and the live WebSocket. Waiting is done by polling the API
with a deadline (`Liandong.eventually`), never with fixed sleeps.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from ami_client import AmiMessage, parse_stream
from common.vocabulary import Role
from database.engine import create_engine, session_factory
from database.migrate import upgrade
from server import create_app
from startup.settings import Settings
from telephony.http import INGEST
from tests.fakes.fake_ami import FakeAmiServer, format_message
from web.tokens import TokenRepository

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Small timings: a dropped link comes back within ~0.1 s. The watchdog stays slow.
FAST_AMI: dict[str, object] = {
    "connect_timeout": 1.0,
    "action_timeout": 2.0,
    "ping_interval": 5.0,
    "ping_timeout": 2.0,
    "backoff_initial": 0.02,
    "backoff_max": 0.1,
}
POLL_S = 0.02
DEADLINE_S = 5.0

T = TypeVar("T")


# ---------------------------------------------------------------- traces


def trace(name: str) -> list[AmiMessage]:
    """The events of a recorded trace (login response and FullyBooted left out)."""
    messages = parse_stream((FIXTURES / f"{name}.ami").read_bytes())
    return [m for m in messages if m.event is not None and m.event != "FullyBooted"]


def wire(messages: Iterable[AmiMessage]) -> bytes:
    return b"".join(format_message(m.headers) for m in messages)


def replace_values(messages: Iterable[AmiMessage], old: str, new: str) -> list[AmiMessage]:
    """The same messages with every header value `old` replaced by `new`."""
    return [AmiMessage(tuple((k, new if v == old else v) for k, v in m.headers)) for m in messages]


def at(message: AmiMessage) -> datetime:
    return datetime.fromtimestamp(float(message["Timestamp"]), tz=UTC)


def iso_ms(value: datetime) -> str:
    """A time as the API prints it (UTC, milliseconds, truncated like the database)."""
    utc = value.astimezone(UTC)
    utc = utc.replace(microsecond=utc.microsecond - utc.microsecond % 1000)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def expected_legs(messages: Iterable[AmiMessage]) -> dict[str, dict[str, Any]]:
    """What the API must show for each leg of a complete, uninterrupted trace:
    times straight from Asterisk's own Timestamps."""
    legs: dict[str, dict[str, Any]] = {}
    for m in messages:
        uid = m.get("Uniqueid") or ""
        if m.event == "Newchannel":
            legs[uid] = {
                "channel": m["Channel"],
                "created_at": iso_ms(at(m)),
                "answered_at": None,
                "ended_at": None,
                "hangup_cause": None,
                "reconciled": False,
                "bridges": [],
            }
        elif uid not in legs:
            continue
        elif m.event == "Newstate" and m.get("ChannelState") == "6":
            legs[uid]["answered_at"] = legs[uid]["answered_at"] or iso_ms(at(m))
        elif m.event == "Hangup":
            legs[uid]["ended_at"] = iso_ms(at(m))
            legs[uid]["hangup_cause"] = int(m["Cause"])
        elif m.event == "BridgeEnter":
            legs[uid]["bridges"].append(
                {"bridge_id": m["BridgeUniqueid"], "joined_at": iso_ms(at(m)), "left_at": None}
            )
        elif m.event == "BridgeLeave":
            legs[uid]["bridges"][-1]["left_at"] = iso_ms(at(m))
    return legs


def leg_view(leg: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an API leg that expected_legs() predicts."""
    return {
        "channel": leg["channel"],
        "created_at": leg["created_at"],
        "answered_at": leg["answered_at"],
        "ended_at": leg["ended_at"],
        "hangup_cause": leg["hangup_cause"],
        "reconciled": leg["reconciled"],
        "bridges": leg["bridges"],
    }


def legs_by_id(call: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {leg["uniqueid"]: leg for leg in call["legs"]}


# ---------------------------------------------------------------- CEL


def make_cel(path: Path) -> str:
    """An empty Asterisk CEL database (cel_sqlite3_custom's table); its read-only URL."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE cel (id INTEGER PRIMARY KEY, eventtype TEXT, eventtime TEXT, "
            "cidname TEXT, cidnum TEXT, exten TEXT, context TEXT, channame TEXT, appname TEXT, "
            "uniqueid TEXT, linkedid TEXT, peer TEXT, extra TEXT)"
        )
    conn.close()
    return f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"


def add_cel(path: Path, rows: Iterable[Mapping[str, str]]) -> None:
    with sqlite3.connect(path) as conn:
        for row in rows:
            names = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            conn.execute(f"INSERT INTO cel ({names}) VALUES ({marks})", tuple(row.values()))
    conn.close()


# ---------------------------------------------------------------- tokens


async def make_tokens(
    db_url: str, roles: Iterable[Role], *, revoked: bool = False
) -> dict[Role, str]:
    """One token per role, created the way `liandong token create` does (a
    unit token for the roster's unit `water`)."""
    await upgrade(db_url)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            out = {}
            for role in roles:
                unit = "water" if role is Role.UNIT else None
                issued = await TokenRepository(session).create(
                    f"测试 {role.value}", role, unit=unit
                )
                if revoked:
                    assert await TokenRepository(session).revoke(issued.token.id)
                out[role] = issued.plain
            await session.commit()
    finally:
        await engine.dispose()
    return out


# ---------------------------------------------------------------- the running server


@dataclass
class Liandong:
    """A running app (real create_app) and its HTTP test client."""

    client: TestClient[web.Request, web.Application]
    app: web.Application
    fake: FakeAmiServer
    token: str  # an admin token

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    async def get(self, path: str, token: str | None = None, **params: str) -> tuple[int, Any]:
        async with self.client.get(path, headers=self.auth(token), params=params) as resp:
            return resp.status, await resp.json()

    async def ok(self, path: str, token: str | None = None, **params: str) -> Any:
        status, body = await self.get(path, token, **params)
        assert status == 200, (path, status, body)
        return body

    async def call(self, call_id: str, token: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = await self.ok(f"/api/v1/calls/{call_id}", token)
        return body

    async def calls(self, token: str | None = None, **params: str) -> list[dict[str, Any]]:
        body = await self.ok("/api/v1/calls", token, **params)
        calls: list[dict[str, Any]] = body["calls"]
        return calls

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with self.client.get("/api/v1/health") as resp:
            return resp.status, await resp.json()

    async def eventually(
        self,
        probe: Callable[[], Awaitable[T | None]],
        what: str,
        within: float = DEADLINE_S,
    ) -> T:
        """Poll `probe` until it returns something truthy; fail naming `what`."""
        deadline = asyncio.get_running_loop().time() + within
        last: T | None = None
        while True:
            last = await probe()
            if last:
                return last
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out after {within}s waiting for {what}; last {last!r}")
            await asyncio.sleep(POLL_S)

    async def call_where(
        self, call_id: str, check: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            status, body = await self.get(f"/api/v1/calls/{call_id}")
            return body if status == 200 and check(body) else None

        return await self.eventually(probe, f"call {call_id}: {what}")

    async def reconciled(self, after: str | None = None) -> dict[str, Any]:
        """Health once the AMI link is up and reconciled (later than `after`)."""

        async def probe() -> dict[str, Any] | None:
            status, body = await self.health()
            ami = body["ami"]
            at = ami["reconciled_at"]
            done = at is not None and (after is None or at > after)
            return body if status == 200 and ami["state"] == "connected" and done else None

        return await self.eventually(probe, f"AMI link up and reconciled after {after}")

    def push(self, messages: Iterable[AmiMessage]) -> None:
        self.fake.push_bytes(wire(messages))

    async def applied(self) -> None:
        """Every AMI event received so far has gone through the call model."""
        await asyncio.wait_for(self.app[INGEST].drained(), DEADLINE_S)

    async def written(self) -> None:
        """... and what the model made of them is committed."""
        await self.applied()
        await self.app[INGEST].writer.flush(DEADLINE_S)


StartLiandong = Callable[..., Awaitable[Liandong]]


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmiServer]:
    async with FakeAmiServer() as server:
        yield server


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/t.db"


@pytest.fixture
async def admin_token(db_url: str) -> str:
    return (await make_tokens(db_url, [Role.ADMIN]))[Role.ADMIN]


@pytest.fixture
def start_liandong(
    fake_ami: FakeAmiServer, aiohttp_client: Any, db_url: str, admin_token: str
) -> StartLiandong:
    """Start the real app on `db_url`, connected to the fake AMI; waits until the
    link is up and reconciled unless `wait=False`. May be called more than once
    (a restart on the same database)."""

    async def start(
        *, wait: bool = True, ami: Mapping[str, object] | None = None, **settings: Any
    ) -> Liandong:
        app = create_app(
            Settings(
                db_url=db_url,
                ami=fake_ami.settings(**{**FAST_AMI, **(ami or {})}),
                connect_ami=True,
                # A free port: never the testbed's 4573 (a running integration
                # tier or a developer's server keeps it).
                **{"agi_port": 0, **settings},
            )
        )
        client = await aiohttp_client(app)
        server = Liandong(client, app, fake_ami, admin_token)
        if wait:
            await server.reconciled()
        return server

    return start


def now_utc() -> datetime:
    return datetime.now(UTC)


def within(value: str | None, low: datetime, high: datetime, slack_s: float = 0.0) -> bool:
    """An API time lies in [low, high] (milliseconds truncated, plus slack)."""
    assert value is not None
    slack = timedelta(seconds=slack_s, milliseconds=1)
    return low - slack <= parse_iso(value) <= high + slack
