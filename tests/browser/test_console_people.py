"""The admin's accounts page (/console/people) in a real browser: the table of
accounts, making one that its person then signs in with, the API's refusals
shown by the field they name, disabling a person whose open page then leaves
at once, unlocking and a new password, and a supervisor refused the page."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Dialog, Locator, Page, expect

from common.vocabulary import Role
from people.http import ACCOUNTS
from people.service.accounts import SignInRefused
from tests.browser.conftest import Console, sign_in

NewPage = Any
NEW_PASSWORD = "黄河-Yellow-River-88"
COUNTY = ZoneInfo("Asia/Shanghai")


async def open_people(console: Console, new_page: NewPage) -> Page:
    """The admin signs in on the way to the accounts page, as from a bookmark."""
    page: Page = await new_page()
    await page.goto(console.url("/console/people"))
    await expect(page).to_have_url(re.compile(r"/console/sign-in\?next=/console/people$"))
    await sign_in(page, console, "admin1")
    await expect(page).to_have_url(console.url("/console/people"))
    assert await page.title() == "账号管理 · 联动"
    nav = page.get_by_role("navigation", name="页面")
    await expect(nav.get_by_role("link", name="账号管理")).to_have_attribute("aria-current", "page")
    await expect(page.locator("#people-summary")).to_contain_text("共 5 个账号")
    return page


def row(page: Page, login: str) -> Locator:
    return page.locator(f'#people-rows tr[data-login="{login}"]')


def failed(problems: list[str], status: int, path: str) -> list[str]:
    """The failed requests the browser logged for `status` answers from `path`."""
    return [p for p in problems if f"status of {status}" in p and p.endswith(f"{path})")]


async def test_the_admin_makes_an_operators_account_and_the_operator_signs_in_with_it(
    console: Console, new_page: NewPage
) -> None:
    page = await open_people(console, new_page)
    admin = row(page, "admin1")
    await expect(admin.locator("td").first).to_have_text("管理员 李工（本人）")
    await expect(row(page, "water1").locator("td").nth(2)).to_have_text("单位 宝丰县自来水公司")
    await expect(row(page, "zhang110").locator("td").nth(4)).to_have_text("从未登录")

    await page.get_by_label("用户名").fill("li12345")
    await page.get_by_label("姓名").fill("12345坐席 李娜")
    await expect(page.get_by_label("坐席话机")).to_be_hidden()
    await page.get_by_label("角色").select_option(label="12345 话务员")
    await expect(page.get_by_label("所属单位")).to_be_hidden()
    await page.get_by_label("坐席话机").fill("op12345-2")
    await page.get_by_label("密码", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("确认密码").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="创建账号").click()

    await expect(page.get_by_role("status")).to_have_text(
        "已创建账号 li12345（12345坐席 李娜，12345 话务员）。"
    )
    new = row(page, "li12345")
    await expect(new.locator("td")).to_have_text(
        ["12345坐席 李娜", "12345 话务员", "话机 op12345-2", "正常", "从未登录", re.compile("停用")]
    )
    await expect(page.locator("#people-summary")).to_have_text("共 6 个账号")
    for label in ("用户名", "姓名", "密码", "确认密码"):  # the form is clear for the next one
        await expect(page.get_by_label(label, exact=True)).to_have_value("")
    await expect(page.get_by_label("坐席话机")).to_be_hidden()
    made = await console.app[ACCOUNTS].find("li12345")
    assert (made.role, made.phone) == (Role.OPERATOR_12345, "op12345-2")
    assert made.created_by == f"user {console.people[Role.ADMIN]}"

    # The new operator, on another computer, signs in and lands on the desk.
    operator: Page = await new_page()
    await sign_in(operator, console, "li12345", NEW_PASSWORD)
    await expect(operator).to_have_url(console.url("/console/desk"))
    await expect(operator.locator("#who")).to_have_text(
        "已登录：12345坐席 李娜（12345 话务员） 话机 op12345-2"
    )
    await expect(operator.locator("#live-state")).to_have_text("实时连接：已连接")

    await page.reload()
    signed_in = (await console.app[ACCOUNTS].find("li12345")).last_sign_in_at
    assert signed_in is not None
    county = signed_in.astimezone(COUNTY).strftime("%Y/%m/%d %H:%M")
    await expect(row(page, "li12345").locator("td").nth(4)).to_have_text(county)
    assert console.problems == []


async def test_bad_input_is_told_by_its_field_and_makes_nothing(
    console: Console, new_page: NewPage
) -> None:
    page = await open_people(console, new_page)
    login, password, confirm = (
        page.get_by_label("用户名"),
        page.get_by_label("密码", exact=True),
        page.get_by_label("确认密码"),
    )
    create = page.get_by_role("button", name="创建账号")
    await login.fill("zhao")  # the supervisor's login: taken
    await page.get_by_label("姓名").fill("督查 孙科员")
    await page.get_by_label("角色").select_option(label="督查")

    # What the page can tell by itself: a short password, two that differ.
    await password.fill("short-1")
    await confirm.fill("short-1")
    await create.click()
    await expect(page.locator("#new-password-error")).to_have_text("密码至少 10 个字符")
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(password).to_be_focused()
    await password.fill(NEW_PASSWORD)
    await confirm.fill(NEW_PASSWORD + "x")
    await create.click()
    await expect(page.locator("#new-confirm-error")).to_have_text("两次输入的密码不一致")
    await expect(page.locator("#new-password-error")).to_be_hidden()

    # What only the server knows: the login is taken; the password holds the login.
    await confirm.fill(NEW_PASSWORD)
    await create.click()
    await expect(page.locator("#new-login-error")).to_have_text("该用户名已被占用，请换一个")
    await expect(login).to_have_attribute("aria-invalid", "true")
    await expect(login).to_be_focused()
    await expect(page.locator("#new-confirm-error")).to_be_hidden()
    await login.fill("sun")
    await password.fill("sun-" + NEW_PASSWORD)
    await confirm.fill("sun-" + NEW_PASSWORD)
    await create.click()
    await expect(page.locator("#new-password-error")).to_have_text("密码不能包含用户名")
    await expect(page.locator("#new-login-error")).to_be_hidden()

    # A unit's account asks for its unit, from the roster.
    await page.get_by_label("角色").select_option(label="成员单位")
    await expect(page.get_by_label("所属单位")).to_be_visible()
    await password.fill(NEW_PASSWORD)
    await confirm.fill(NEW_PASSWORD)
    await create.click()
    await expect(page.locator("#new-unit-error")).to_have_text("成员单位账号须选择所属单位")

    await expect(page.locator("#people-summary")).to_have_text("共 5 个账号")
    await expect(page.get_by_role("status")).to_be_hidden()
    assert len(await console.app[ACCOUNTS].users()) == 5
    # The two refusals the server gave are the only failed requests the browser logged.
    expected = failed(console.problems, 400, "/api/v1/users")
    assert len(expected) == 2, console.problems
    assert [p for p in console.problems if p not in expected] == []


async def test_a_disabled_persons_open_page_leaves_and_enabling_lets_them_back(
    console: Console, new_page: NewPage
) -> None:
    person: Page = await new_page()
    await sign_in(person, console, "wang12345")
    await expect(person).to_have_url(console.url("/console/desk"))
    await expect(person.locator("#live-state")).to_have_text("实时连接：已连接")
    page = await open_people(console, new_page)
    wang = row(page, "wang12345")
    asked: list[str] = []

    async def answer(dialog: Dialog, *, accept: bool) -> None:
        asked.append(dialog.message)
        await (dialog.accept() if accept else dialog.dismiss())

    # The admin cannot disable their own account here.
    await expect(row(page, "admin1").get_by_role("button", name="重设密码")).to_be_visible()
    await expect(row(page, "admin1").get_by_role("button", name="停用")).to_have_count(0)

    # Cancelling the question changes nothing.
    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    await wang.get_by_role("button", name="停用").click()
    assert len(asked) == 1
    assert "12345坐席 王芳" in asked[0] and "wang12345" in asked[0]
    await expect(wang.locator("td.state")).to_have_text("正常")
    await expect(person.locator("#live-state")).to_have_text("实时连接：已连接")

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    await wang.get_by_role("button", name="停用").click()
    await expect(wang.locator("td.state")).to_have_text("已停用")
    await expect(page.get_by_role("status")).to_have_text(
        "已停用 12345坐席 王芳（wang12345）的账号：其已打开的页面已退出登录。"
    )
    await expect(wang.get_by_role("button", name="停用")).to_have_count(0)
    await expect(wang.get_by_role("button", name="启用")).to_be_focused()
    # The person's open desk leaves at once, saying why.
    await expect(person).to_have_url(re.compile(r"/console/sign-in\?why=disabled"), timeout=3000)
    await expect(person.locator("#why")).to_have_text("账号已停用，请联系管理员。")
    await sign_in(person, console, "wang12345")
    await expect(person.locator("#error")).to_have_text("账号已停用")

    await wang.get_by_role("button", name="启用").click()
    await expect(wang.locator("td.state")).to_have_text("正常")
    await expect(page.get_by_role("status")).to_have_text(
        "已启用 12345坐席 王芳（wang12345）的账号，可以重新登录。"
    )
    await sign_in(person, console, "wang12345")
    await expect(person).to_have_url(re.compile(r"/console/desk$"))
    await expect(person.locator("#live-state")).to_have_text("实时连接：已连接")
    assert (await console.app[ACCOUNTS].find("wang12345")).disabled_at is None

    # What the browser logged as failed: the ended sign-in's last question
    # (401) and the disabled person's sign-in (403); nothing else.
    expected = failed(console.problems, 401, "/api/v1/session")
    expected += failed(console.problems, 403, "/api/v1/session")
    assert [p for p in console.problems if p not in expected] == []


async def test_a_locked_account_is_unlocked_and_given_a_new_password(
    console: Console, new_page: NewPage
) -> None:
    accounts = console.app[ACCOUNTS]
    locked_until = None
    for _ in range(5):  # five wrong passwords lock the account
        try:
            await accounts.sign_in("zhang110", "guess-guess-1", None)
        except SignInRefused as refused:
            locked_until = refused.locked_until
    assert locked_until is not None
    page = await open_people(console, new_page)
    zhang = row(page, "zhang110")
    until = locked_until.astimezone(COUNTY).strftime("%Y/%m/%d %H:%M")
    await expect(zhang.locator("td.state")).to_have_text(f"已锁定至 {until}")
    await expect(page.locator("#people-summary")).to_have_text("共 5 个账号，已锁定 1 个")
    await expect(row(page, "zhao").get_by_role("button", name="解锁")).to_have_count(0)

    await zhang.get_by_role("button", name="解锁").click()
    await expect(zhang.locator("td.state")).to_have_text("正常")
    await expect(zhang.get_by_role("button", name="解锁")).to_have_count(0)
    await expect(page.get_by_role("status")).to_have_text(
        "已解锁 110坐席 张警官（zhang110）的账号。"
    )

    await zhang.get_by_role("button", name="重设密码").click()
    form = page.get_by_role("group", name="为 110坐席 张警官（zhang110）设置新密码")
    await expect(form.get_by_label("新密码", exact=True)).to_be_focused()
    await form.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    await form.get_by_label("确认新密码").fill(NEW_PASSWORD + "!")
    await form.get_by_role("button", name="保存新密码").click()
    await expect(page.locator("#reset-confirm-error")).to_have_text("两次输入的密码不一致")
    await form.get_by_label("确认新密码").fill(NEW_PASSWORD)
    await form.get_by_role("button", name="保存新密码").click()
    await expect(page.get_by_role("status")).to_have_text(
        "已为 110坐席 张警官（zhang110）设置新密码：其已打开的页面需用新密码重新登录。"
    )
    await expect(form).to_have_count(0)

    operator: Page = await new_page()
    await sign_in(operator, console, "zhang110", NEW_PASSWORD)
    await expect(operator).to_have_url(console.url("/console/desk"))
    assert console.problems == []


async def test_a_supervisor_is_refused_the_accounts_page_and_its_api(
    console: Console, new_page: NewPage
) -> None:
    page: Page = await new_page()
    await sign_in(page, console, "zhao")
    await expect(page).to_have_url(console.url("/console/wall"))
    await expect(page.get_by_role("link", name="值守大屏")).to_be_visible()
    await expect(page.get_by_role("link", name="账号管理")).to_have_count(0)
    response = await page.goto(console.url("/console/people"))
    assert response is not None and response.status == 403
    assert await page.title() == "无权访问 · 联动"
    await expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
    await expect(page.locator("#people-table")).to_have_count(0)
    status = await page.evaluate("async () => (await fetch('/api/v1/users')).status")
    assert status == 403
    expected = failed(console.problems, 403, "/console/people")
    expected += failed(console.problems, 403, "/api/v1/users")
    assert [p for p in console.problems if p not in expected] == []
