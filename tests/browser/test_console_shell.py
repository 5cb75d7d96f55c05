"""Signing in to the pages and out again, in a real browser: the form, the
messages in Chinese, the way back to the page asked for, a disabled person's
open page leaving at once, CSRF from another site's page, a phone's screen."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from playwright.async_api import Page, expect

from common.vocabulary import Role
from people.http import ACCOUNTS
from tests.browser.conftest import Console, sign_in

NewPage = Any


async def test_a_person_signs_in_and_sees_who_they_are_and_the_live_feed(
    console: Console, new_page: NewPage
) -> None:
    page: Page = await new_page()
    await page.goto(console.url("/"))
    await expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    await sign_in(page, console, "zhang110")
    await expect(page).to_have_url(console.url("/console/desk"))  # an operator's home
    await expect(page.locator("#who")).to_have_text(
        "已登录：110坐席 张警官（110 接警员） 话机 op110-1"
    )
    await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
    assert await page.title() == "坐席台 · 联动"
    await page.get_by_role("link", name="首页").click()
    await expect(page).to_have_url(console.url("/console/home"))
    await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
    assert console.problems == []


async def test_wrong_passwords_are_told_in_chinese_and_the_fifth_locks(
    console: Console, new_page: NewPage
) -> None:
    page: Page = await new_page()
    await page.goto(console.url("/console/sign-in"))
    for _ in range(4):
        await sign_in(page, console, "zhao", "guess-guess-1")
        await expect(page.locator("#error")).to_have_text("用户名或密码错误")
    await sign_in(page, console, "zhao", "guess-guess-1")
    await expect(page.locator("#error")).to_contain_text("账号已暂时锁定")
    await expect(page.locator("#error")).to_contain_text(re.compile(r"请于 \d\d:\d\d 后再试"))
    await expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    # The browser logs a failed request for each 401/429 answer: expected here.
    assert all("status of 4" in problem for problem in console.problems), console.problems


async def test_a_page_opened_without_signing_in_comes_back_after_signing_in(
    console: Console, new_page: NewPage
) -> None:
    page: Page = await new_page()
    await page.goto(console.url("/console/home"))
    await expect(page).to_have_url(re.compile(r"/console/sign-in\?next=/console/home$"))
    await sign_in(page, console, "water1")
    await expect(page).to_have_url(console.url("/console/home"))
    await expect(page.locator("#who")).to_contain_text("自来水公司 值班员（成员单位） 单位 water")
    # A link that would send the person elsewhere after signing in is ignored.
    other: Page = await new_page()
    await other.goto(console.url("/console/sign-in?next=https://evil.example/"))
    await sign_in(other, console, "zhao")
    await expect(other).to_have_url(console.url("/console/wall"))


async def test_signing_out_leaves_and_the_page_stays_closed(
    console: Console, new_page: NewPage
) -> None:
    page: Page = await new_page()
    await sign_in(page, console, "wang12345")
    await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
    await page.get_by_role("button", name="退出登录").click()
    await expect(page).to_have_url(re.compile(r"/console/sign-in\?why=signed_out$"))
    await expect(page.locator("#why")).to_have_text("您已退出登录。")
    await page.goto(console.url("/console/home"))  # the cookie is gone: asked to sign in
    await expect(page).to_have_url(re.compile(r"/console/sign-in\?next=/console/home$"))
    assert console.problems == []


async def test_a_disabled_persons_open_page_leaves_at_once(
    console: Console, new_page: NewPage
) -> None:
    page: Page = await new_page()
    await sign_in(page, console, "water1")
    await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
    await console.app[ACCOUNTS].disable(console.people[Role.UNIT])
    await expect(page).to_have_url(re.compile(r"/console/sign-in\?why=disabled"), timeout=3000)
    await expect(page.locator("#why")).to_have_text("账号已停用，请联系管理员。")
    await sign_in(page, console, "water1")
    await expect(page.locator("#error")).to_have_text("账号已停用")


async def test_a_change_needs_the_pages_csrf_token_even_from_our_own_origin(
    console: Console, new_page: NewPage
) -> None:
    page: Page = await new_page()
    await sign_in(page, console, "admin1")
    await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
    target = f"/api/v1/users/{console.people[Role.SUPERVISOR]}/disable"
    status = await page.evaluate(
        "async (url) => (await fetch(url, {method: 'POST'})).status", target
    )
    assert status == 403
    users = await console.app[ACCOUNTS].users()
    assert all(user.disabled_at is None for user in users)


async def test_another_sites_page_cannot_act_with_the_persons_cookie(
    console: Console, new_page: NewPage, aiohttp_server: Any
) -> None:
    """A page on another origin (another port: the same *site*, so SameSite
    does not stop the cookie) posts a form and a script at us: the CSRF
    check refuses both, and nobody is disabled."""
    target = console.url(f"/api/v1/users/{console.people[Role.SUPERVISOR]}/disable")
    evil = web.Application()

    async def bait(request: web.Request) -> web.Response:
        html = (
            f'<form id="f" method="post" action="{target}"></form>'
            f"<script>fetch('{target}', {{method: 'POST', credentials: 'include', "
            "mode: 'no-cors'}).finally(() => document.getElementById('f').submit());</script>"
        )
        return web.Response(text=html, content_type="text/html")

    evil.router.add_get("/", bait)
    evil_server = await aiohttp_server(evil)
    page: Page = await new_page()
    await sign_in(page, console, "admin1")
    await expect(page).to_have_url(console.url("/console/wall"))
    async with page.expect_navigation(url=re.compile(r"/disable$")):
        await page.goto(str(evil_server.make_url("/")))
    assert "csrf_failed" in await page.content()
    users = await console.app[ACCOUNTS].users()
    assert all(user.disabled_at is None for user in users)


async def test_on_a_phone_the_sign_in_and_the_units_page_fit_with_big_enough_targets(
    console: Console, new_page: NewPage
) -> None:
    page: Page = await new_page(mobile=True)
    await page.goto(console.url("/console/sign-in"))
    for path in ("/console/sign-in", "/console/unit"):
        if path.endswith("unit"):
            await sign_in(page, console, "water1")
            await expect(page).to_have_url(console.url(path))
            await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
        heights = await page.eval_on_selector_all(
            "button, input",
            "els => els.filter(e => e.checkVisibility())"
            ".map(e => e.getBoundingClientRect().height)",
        )
        assert heights and min(heights) >= 44, (path, heights)
    assert console.problems == []
