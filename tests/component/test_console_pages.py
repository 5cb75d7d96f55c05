"""The pages as HTTP answers: who is sent where, the headers that keep other
sites' scripts and frames out, and the files served as they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from common.vocabulary import Role
from console.core.pages import PAGES, home_of
from server import create_app
from tests.component.cases_kit import case_settings
from tests.component.people_kit import PEOPLE, Browser, make_people


async def start(aiohttp_client: Any, tmp_path: Path) -> Browser:
    db_url = f"sqlite+aiosqlite:///{tmp_path}/pages.db"
    await make_people(db_url)
    app: web.Application = create_app(case_settings(db_url, ladder_interval=0))
    return Browser(await aiohttp_client(app))


async def test_without_a_sign_in_every_page_goes_to_the_sign_in_page(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    browser = await start(aiohttp_client, tmp_path)
    expected = {
        "/": "/console/",
        "/console/": "/console/sign-in",
        "/console/home": "/console/sign-in?next=/console/home",
        # A view's query (the period of a report) comes back after signing in.
        "/console/stats?from=2026-03-01&to=2026-03-31": (
            "/console/sign-in?next=/console/stats?from%3D2026-03-01%26to%3D2026-03-31"
        ),
    }
    for path, target in expected.items():
        async with browser.client.get(path, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == target, path
    async with browser.client.get("/console/sign-in") as response:
        assert response.status == 200 and response.content_type == "text/html"
        assert "登录" in await response.text()
    async with browser.client.get("/console/me") as response:
        assert response.status == 401
    # A cookie that was never ours is no sign-in either.
    browser.client.session.cookie_jar.update_cookies({"ld_session": "forged"})
    async with browser.client.get("/console/home", allow_redirects=False) as response:
        assert response.status == 303


async def test_each_role_lands_on_its_home_and_may_open_its_pages(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    browser = await start(aiohttp_client, tmp_path)
    for role, person in PEOPLE.items():
        assert (await browser.sign_in(person.login)).status == 201
        async with browser.client.get("/console/", allow_redirects=False) as response:
            assert response.headers["Location"] == f"/console/{home_of(role).name}", role
        status, me = await browser.get("/console/me")
        assert status == 200 and me["name"] == person.name and me["role"] == role.value
        for page in PAGES:
            async with browser.client.get(f"/console/{page.name}") as response:
                assert response.status == (200 if role in page.roles else 403), (role, page)
        async with browser.client.get("/console/sign-in", allow_redirects=False) as response:
            assert response.status == 303  # already signed in
        async with browser.client.get("/console/no-such-page") as response:
            assert response.status == 404 and "页面不存在" in await response.text()
        assert await browser.sign_out() == 204
    homes = {role: home_of(role).name for role in Role if role is not Role.SYSTEM}
    assert homes == {
        Role.OPERATOR_110: "desk",
        Role.OPERATOR_12345: "desk",
        Role.UNIT: "unit",
        Role.SUPERVISOR: "wall",
        Role.ADMIN: "wall",
    }


async def test_pages_and_their_files_forbid_other_origins_scripts_and_frames(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    browser = await start(aiohttp_client, tmp_path)
    assert (await browser.sign_in("zhao")).status == 201
    for path in ("/console/sign-in", "/console/home", "/console/static/shared/api.js"):
        async with browser.client.get(path, allow_redirects=False) as response:
            csp = response.headers.get("Content-Security-Policy", "")
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    async with browser.client.get("/console/home") as response:
        assert response.headers["Cache-Control"] == "no-store"  # it shows who is signed in
    async with browser.client.get("/console/static/shared/api.js") as response:
        assert response.status == 200 and "javascript" in response.content_type
    async with browser.client.get("/console/static/../http.py") as response:
        assert response.status in (403, 404)
