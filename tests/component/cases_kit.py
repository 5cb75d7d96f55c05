"""A running app (real create_app, no Asterisk) with one token per kind of
user, for tests of the case API as its users would drive it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from ami_client.settings import AmiSettings, Secret
from common.vocabulary import Role
from database.engine import create_engine, session_factory
from database.migrate import upgrade
from server import create_app
from startup.settings import Settings
from web.tokens import TokenRepository

# Users of the shipped roster (case-config/units.csv).
USERS: dict[str, tuple[Role, str | None]] = {
    "op110": (Role.OPERATOR_110, None),
    "op12345": (Role.OPERATOR_12345, None),
    "water": (Role.UNIT, "water"),
    "housing": (Role.UNIT, "housing"),
    "chengguan": (Role.UNIT, "chengguan"),
    "supervisor": (Role.SUPERVISOR, None),
    "admin": (Role.ADMIN, None),
}


async def make_users(db_url: str) -> dict[str, str]:
    await upgrade(db_url)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            tokens = {}
            for name, (role, unit) in USERS.items():
                issued = await TokenRepository(session).create(f"测试{name}", role, unit=unit)
                tokens[name] = issued.plain
            await session.commit()
    finally:
        await engine.dispose()
    return tokens


def case_settings(db_url: str, **overrides: Any) -> Settings:
    return Settings(
        db_url=db_url,
        ami=AmiSettings(host="127.0.0.1", port=1, username="x", secret=Secret("x")),
        connect_ami=False,
        **overrides,
    )


@dataclass
class CaseApi:
    """The case API as each user sees it."""

    client: TestClient[web.Request, web.Application]
    tokens: dict[str, str]

    async def request(self, method: str, path: str, user: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        async with self.client.request(method, path, headers=headers, json=body) as resp:
            return resp.status, await resp.json()

    async def open(self, user: str, **body: Any) -> dict[str, Any]:
        status, case = await self.request("POST", "/api/v1/cases", user, body)
        assert status == 201, case
        return case  # type: ignore[no-any-return]

    async def move(self, number: str, command: str, user: str, **body: Any) -> dict[str, Any]:
        status, case = await self.request("POST", f"/api/v1/cases/{number}/{command}", user, body)
        assert status == 200, (command, user, case)
        return case  # type: ignore[no-any-return]

    async def refused(
        self, number: str, command: str, user: str, status: int, **body: Any
    ) -> dict[str, Any]:
        got, error = await self.request("POST", f"/api/v1/cases/{number}/{command}", user, body)
        assert got == status, (command, user, got, error)
        return error["error"]  # type: ignore[no-any-return]

    async def case(self, number: str, user: str = "admin") -> dict[str, Any]:
        status, case = await self.request("GET", f"/api/v1/cases/{number}", user)
        assert status == 200, case
        return case  # type: ignore[no-any-return]


async def start_desk(aiohttp_client: Any, db_url: str, **settings: Any) -> CaseApi:
    tokens = await make_users(db_url)
    app = create_app(case_settings(db_url, **settings))
    return CaseApi(await aiohttp_client(app), tokens)
