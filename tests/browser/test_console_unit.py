"""A member unit's duty officer on a phone (360 px): the case 12345 just
dispatched to the unit, its deadline counting down, and the case's forms —
sign, arrive, feed back, reply — each move on the case as the API sees it,
the caller's number masked as the API masks it."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from common.vocabulary import Role
from people.core.accounts import AccountDraft
from people.http import ACCOUNTS
from tests.browser.conftest import Console, sign_in
from tests.browser.test_console_case_form import CASE, desk_with_a_new_case
from tests.component.people_kit import PASSWORD

NewPage = Any


async def dispatched_to_water(console: Console, new_page: NewPage) -> str:
    desk, number = await desk_with_a_new_case(console, new_page)
    await desk.get_by_label("诉求描述").fill("小区停水三天了")
    await expect(desk.locator("#suggestion")).to_contain_text("停水")
    await desk.get_by_label("诉求类型").select_option("help")
    await desk.get_by_role("button", name="分类 (Alt+K)").click()
    await expect(desk.locator("#case-state")).to_have_text("已分类")
    await desk.get_by_role("button", name="派单 (Alt+D)").click()
    await expect(desk.locator("#case-state")).to_have_text("已派发")
    return number


async def test_the_unit_signs_arrives_feeds_back_and_replies_from_a_phone(
    console: Console, new_page: NewPage
) -> None:
    number = await dispatched_to_water(console, new_page)
    phone: Page = await new_page(mobile=True)
    await sign_in(phone, console, "water1")
    await expect(phone).to_have_url(console.url("/console/unit"))  # a unit's home
    row = phone.locator(f'button[data-case="{number}"]')
    await expect(row).to_contain_text("已派发")
    await expect(row.locator(".countdown")).to_have_text(re.compile(r"^签收剩余 \d+ 小时 \d+ 分$"))
    await row.click()
    await expect(phone.locator("#case-number")).to_have_text(number)
    await expect(phone.locator("#case-caller")).to_have_text("来电 139******34")  # masked
    reply = phone.get_by_role("button", name="办结回复", exact=True)
    await expect(reply).to_be_disabled()

    await phone.get_by_role("button", name="签收", exact=True).click()
    await expect(phone.locator("#case-state")).to_have_text("已签收")
    await phone.get_by_label("备注").fill("抢修队已到场")
    await phone.get_by_role("button", name="到场", exact=True).click()
    await expect(phone.locator("#case-state")).to_have_text("已到场")
    await phone.get_by_role("button", name="反馈进展", exact=True).click()  # measures missing
    await expect(phone.locator("#case-error")).to_have_text("请填写或更正「措施与进展」。")
    await phone.get_by_label("措施与进展").fill("更换破损阀门")
    await phone.get_by_role("button", name="反馈进展", exact=True).click()
    await expect(phone.locator("#case-state")).to_have_text("已反馈")
    await phone.get_by_label("措施与进展").fill("更换破损阀门")
    await phone.get_by_label("办理结果").fill("已恢复供水")
    await phone.get_by_label("承办人").fill("张某某")
    await reply.click()
    await expect(phone.locator("#case-state")).to_have_text("已回复")

    case = await phone.evaluate(CASE, number)
    moves = [(e["command"], e["actor"]) for e in case["timeline"]][-4:]
    assert moves == [
        ("sign", "自来水公司 值班员"),
        ("arrive", "自来水公司 值班员"),
        ("feed_back", "自来水公司 值班员"),
        ("reply", "自来水公司 值班员"),
    ]
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    sizes = await phone.eval_on_selector_all(
        "button, input, textarea, select",
        "els => els.filter(e => e.checkVisibility())"
        ".map(e => [e.id || e.textContent, e.getBoundingClientRect().height])",
    )
    assert all(height >= 44 for _, height in sizes), sizes
    # The one refused move (feed back without measures) is the only failed request.
    assert [p for p in console.problems if "400" not in p or "feed_back" not in p] == []


async def test_another_units_case_is_neither_listed_nor_opened(
    console: Console, new_page: NewPage
) -> None:
    number = await dispatched_to_water(console, new_page)
    other: Page = await new_page(mobile=True)
    # A second unit's person (the roster's urban), made as an admin would.
    draft = AccountDraft("urban1", "城管局 值班员", Role.UNIT, unit="urban")
    await console.app[ACCOUNTS].create(draft, PASSWORD, created_by="cli")
    await sign_in(other, console, "urban1")
    await expect(other.locator("#list-summary")).to_have_text("暂无未办结工单")
    status = await other.evaluate("async (n) => (await fetch('/api/v1/cases/' + n)).status", number)
    assert status == 403
