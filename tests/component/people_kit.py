"""People's accounts for the component tests, made as `liandong user create`
makes them, and a browser-like client session that signs in with the cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from common.vocabulary import Role
from county.case_rules import load_rules
from database.engine import create_engine, session_factory
from database.migrate import upgrade
from people.core.accounts import AccountDraft
from people.service.accounts import AccountService
from startup.settings import DEFAULT_CASE_CONFIG

PASSWORD = "长城-Great-Wall-2026"
# One person per role, bound as the API expects (an operator to a desk phone, a unit to its unit).
PEOPLE = {
    Role.ADMIN: AccountDraft("admin1", "管理员 李工", Role.ADMIN),
    Role.OPERATOR_110: AccountDraft("zhang110", "110坐席 张警官", Role.OPERATOR_110, "op110-1"),
    Role.OPERATOR_12345: AccountDraft(
        "wang12345", "12345坐席 王芳", Role.OPERATOR_12345, "op12345-1"
    ),
    Role.SUPERVISOR: AccountDraft("zhao", "督查 赵科长", Role.SUPERVISOR),
    Role.UNIT: AccountDraft("water1", "自来水公司 值班员", Role.UNIT, unit="water"),
}


async def make_people(db_url: str, roles: list[Role] | None = None) -> dict[Role, int]:
    """The accounts of `roles` (default: every role), with PASSWORD; their ids."""
    await upgrade(db_url)
    engine = create_engine(db_url)
    units = frozenset(load_rules(DEFAULT_CASE_CONFIG).roster.units)
    accounts = AccountService(session_factory(engine), lambda: units)
    try:
        return {
            role: (await accounts.create(PEOPLE[role], PASSWORD, created_by="cli")).id
            for role in roles or list(PEOPLE)
        }
    finally:
        await engine.dispose()


@dataclass
class Browser:
    """What a browser page does: the cookie kept, the CSRF token sent back, its Origin."""

    client: TestClient[Any, Any]
    csrf: str = ""

    @property
    def origin(self) -> str:
        return str(self.client.make_url("/")).rstrip("/")

    async def sign_in(self, login: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        response = await self.client.post(
            "/api/v1/session",
            json={"login": login, "password": password},
            headers={"Origin": self.origin},
        )
        if response.status == 201:
            self.csrf = (await response.json())["csrf_token"]
        return response

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.client.get(path) as response:
            return response.status, await response.json()

    async def post(
        self, path: str, body: Any = None, *, csrf: bool = True, origin: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Origin": origin or self.origin}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        async with self.client.post(path, json=body, headers=headers) as response:
            return response.status, await response.json()

    async def sign_out(self) -> int:
        headers = {"Origin": self.origin, "X-CSRF-Token": self.csrf}
        async with self.client.delete("/api/v1/session", headers=headers) as response:
            return response.status
