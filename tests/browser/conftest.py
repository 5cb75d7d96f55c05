"""Browser tests: the pages in Debian's Chromium (/usr/bin/chromium, installed
by `make deps`), driven by Playwright, against the real app on a local port.

No fakes of the browser: the pages' scripts, the CSP, the cookie's SameSite
and the WebSocket are the real ones. A missing Chromium fails the tests (it
never skips them): `make deps` installs it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from common.vocabulary import Role
from server import create_app
from tests.component.cases_kit import case_settings
from tests.component.people_kit import PASSWORD, make_people

CHROMIUM = "/usr/bin/chromium"
# As root and offline: no sandbox, and none of Chromium's calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make deps` installs Debian's chromium", pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Console:
    """The running server, its address, and the people who can sign in."""

    base: str
    app: web.Application
    people: dict[Role, int]
    problems: list[str] = field(default_factory=list)  # what the pages logged as errors

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
async def console(aiohttp_server: Any, tmp_path: Path) -> Console:
    db_url = f"sqlite+aiosqlite:///{tmp_path}/console.db"
    people = await make_people(db_url)
    app = create_app(case_settings(db_url, ladder_interval=0))
    server = await aiohttp_server(app)
    return Console(str(server.make_url("")).rstrip("/"), app, people)


@pytest.fixture
async def new_page(chromium: Browser, console: Console) -> AsyncIterator[Any]:
    """Pages in fresh browser contexts (their own cookies), Chinese and in the
    county's time zone; every console error or failed request is kept and
    fails the test unless it expected it."""
    contexts = []

    async def make(*, mobile: bool = False) -> Page:
        viewport = {"width": 360, "height": 740} if mobile else {"width": 1280, "height": 800}
        context = await chromium.new_context(
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport=viewport,
            is_mobile=mobile,
            has_touch=mobile,
        )
        contexts.append(context)
        page = await context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                where = message.location.get("url", "")
                console.problems.append(f"console: {message.text} ({where})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: console.problems.append(f"page error: {error}"))
        return page

    yield make
    for context in contexts:
        await context.close()


async def sign_in(page: Page, console: Console, login: str, password: str = PASSWORD) -> None:
    """As a person does it: the sign-in page's form."""
    if "/console/sign-in" not in page.url:
        await page.goto(console.url("/console/sign-in"))
    await page.get_by_label("用户名").fill(login)
    await page.get_by_label("密码").fill(password)
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/session")):
        await page.get_by_role("button", name="登录").click()
