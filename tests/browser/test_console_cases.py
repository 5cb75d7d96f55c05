"""The supervision bureau's open and overdue cases (督办工单) in a real browser:
the overdue case first and marked so in words, a 催办 with its deadline and
note on the case's timeline and in the row's count, only the ladder steps the
server allows offered, the filters and the CSV link that carries them, the
list following the live feed, and the page closed to the other roles.

Cases are opened and dispatched through the case service, placed in time
with its clock (the supervision tests' way), then read as the page reads
them: through the API with the person's cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Page, expect

from common.vocabulary import Role
from records.core.case_file import Actor
from records.core.lifecycle import Command
from records.http import CASES
from tests.browser.conftest import Console, sign_in
from tests.browser.test_console_case_form import CASE

NewPage = Any
OPERATOR = Actor("12345坐席 王芳", Role.OPERATOR_12345)
HOUSING = Actor("住建局 值班员", Role.UNIT, "housing")
WATER = Actor("自来水公司 值班员", Role.UNIT, "water")
SUPERVISOR = Actor("督查 赵科长", Role.SUPERVISOR)
# Dispatched 30 hours ago: its 24 h sign-for limit passed 6 hours ago, and its
# close limit (2 working days after the dispatch day, at 24:00) is still ahead.
LATE = timedelta(hours=30)
ROWS = "els => els.map(e => e.dataset.case)"
CSV_TEXT = "async (href) => (await fetch(href)).text()"


@contextmanager
def clock_at(console: Console, ago: timedelta) -> Iterator[None]:
    """The case service's clock set `ago` back from now while the block runs."""
    service = console.app[CASES]
    before = service.clock
    service.clock = lambda: datetime.now(UTC) - ago
    try:
        yield
    finally:
        service.clock = before


async def dispatched(console: Console, unit: str, text: str, ago: timedelta = timedelta(0)) -> str:
    """A case the 12345 desk opened, classified and dispatched to `unit`, `ago`."""
    service = console.app[CASES]
    with clock_at(console, ago):
        view = await service.open_case(OPERATOR, {"description": text})
        number: str = view.record.number
        body = {"demand_type": "help", "route": "hotline"}
        await service.act(number, Command.CLASSIFY, OPERATOR, body)
        await service.act(number, Command.DISPATCH, OPERATOR, {"lead_unit": unit})
    return number


async def cases_page(console: Console, new_page: NewPage, login: str = "zhao") -> Page:
    page: Page = await new_page()
    await page.goto(console.url("/console/cases"))
    await sign_in(page, console, login)  # and back to the page asked for
    await expect(page).to_have_url(console.url("/console/cases"))
    await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
    return page


def row(page: Page, number: str) -> Any:
    return page.locator(f'#rows tr[data-case="{number}"]')


async def listed(page: Page) -> list[str]:
    numbers: list[str] = await page.eval_on_selector_all("#rows tr", ROWS)
    return numbers


async def test_the_overdue_case_comes_first_and_a_notice_goes_on_its_timeline(
    console: Console, new_page: NewPage
) -> None:
    fresh = await dispatched(console, "water", "小区停水")
    late = await dispatched(console, "housing", "电梯故障，无人处理", LATE)
    page = await cases_page(console, new_page)
    assert await page.title() == "督办工单 · 联动"
    await expect(page.get_by_role("link", name="督办工单")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(page.locator("#list-summary")).to_have_text("共 2 件未办结工单，其中 1 件已超时")
    assert await listed(page) == [late, fresh]  # the API's order: the most overdue first
    late_row, fresh_row = row(page, late), row(page, fresh)
    await expect(late_row).to_have_class("overdue")
    # Marked in words, not only in colour.
    await expect(late_row.locator(".next-deadline")).to_have_text(
        re.compile(r"^超时 签收已超时 [56] 小时 \d+ 分$")
    )
    await expect(late_row).to_contain_text("宝丰县住房和城乡建设局")
    await expect(late_row).to_contain_text("已派发")
    await expect(fresh_row).not_to_have_class("overdue")
    await expect(fresh_row.locator(".next-deadline")).to_have_text(
        re.compile(r"^签收剩余 2[34] 小时 \d+ 分$")
    )
    await expect(late_row.locator('[data-ladder="notice"]')).to_have_text("0")

    await late_row.get_by_role("button", name=late).click()
    await expect(page.locator("#detail-number")).to_have_text(late)
    await expect(page.locator("#detail-what")).to_have_text("电梯故障，无人处理")
    await expect(late_row).to_have_attribute("aria-current", "true")
    allowed = (await page.evaluate(CASE, late))["allowed"]
    assert {"remind", "notice", "bulletin"} <= set(allowed), allowed
    await expect(page.locator("#ladder button")).to_have_text(["提醒", "催办", "通报"])

    await page.get_by_role("button", name="催办", exact=True).click()
    deadline = page.get_by_label("针对时限")
    await expect(deadline).to_be_focused()
    # 催办 is about a deadline that has passed: the sign-for one, not the close one.
    await expect(deadline.locator("option")).to_have_text([re.compile(r"^签收时限 .*已超时")])
    await deadline.select_option("sign_for")
    await page.get_by_label("督办意见（可选）").fill("请住建局立即签收并联系群众")
    await page.get_by_role("button", name="发送催办").click()
    await expect(page.locator("#ladder-result")).to_have_text(f"已催办：工单 {late}，签收时限。")
    await expect(page.locator("#ladder-form")).to_be_hidden()
    await expect(page.locator("#detail-timeline li").last).to_have_text(
        re.compile(r"督查 赵科长 催办（签收时限）：请住建局立即签收并联系群众$")
    )
    await expect(late_row.locator('[data-ladder="notice"]')).to_have_text("1")
    await expect(late_row.locator('[data-ladder="remind"]')).to_have_text("0")

    case = await page.evaluate(CASE, late)
    step = case["timeline"][-1]
    assert (step["command"], step["actor"], step["role"]) == ("notice", "督查 赵科长", "supervisor")
    assert step["data"] == {"deadline": "sign_for", "note": "请住建局立即签收并联系群众"}
    assert case["state"] == "dispatched"  # the ladder records; it does not move the case
    assert console.problems == []


async def test_only_the_ladder_steps_the_server_allows_are_offered(
    console: Console, new_page: NewPage
) -> None:
    fresh = await dispatched(console, "water", "小区停水")
    replied = await dispatched(console, "housing", "楼道灯坏了", LATE)
    service = console.app[CASES]
    await service.act(replied, Command.SIGN, HOUSING, {})
    answer = {"measures": "更换灯泡", "result": "已修复", "handler": "李某"}
    await service.act(replied, Command.REPLY, HOUSING, answer)
    page = await cases_page(console, new_page)
    await expect(page.locator("#rows tr")).to_have_count(2)

    # Not overdue yet: 提醒 only; 催办 and 通报 wait for a passed deadline.
    await row(page, fresh).get_by_role("button", name=fresh).click()
    await expect(page.locator("#detail-number")).to_have_text(fresh)
    allowed = (await page.evaluate(CASE, fresh))["allowed"]
    assert "remind" in allowed and "notice" not in allowed and "bulletin" not in allowed
    await expect(page.locator("#ladder button")).to_have_text(["提醒"])
    await page.get_by_role("button", name="提醒", exact=True).click()
    await page.get_by_label("针对时限").select_option("sign_for")
    await page.get_by_role("button", name="发送提醒").click()  # the note is optional
    await expect(page.locator("#ladder-result")).to_have_text(f"已提醒：工单 {fresh}，签收时限。")
    await expect(row(page, fresh).locator('[data-ladder="remind"]')).to_have_text("1")

    # Replied: off the unit's clock, so no ladder step at all.
    await expect(row(page, replied)).to_contain_text("已回复")
    await expect(row(page, replied).locator(".next-deadline")).to_contain_text("（不计时）")
    await row(page, replied).get_by_role("button", name=replied).click()
    await expect(page.locator("#detail-number")).to_have_text(replied)
    allowed = (await page.evaluate(CASE, replied))["allowed"]
    assert not {"remind", "notice", "bulletin"} & set(allowed), allowed
    await expect(page.locator("#ladder button")).to_have_count(0)
    await expect(page.locator("#ladder-none")).to_have_text("此工单当前没有可进行的督办操作。")

    # An admin may open the page, but the ladder is the supervisors': no buttons.
    admin = await cases_page(console, new_page, "admin1")
    late = await dispatched(console, "housing", "电梯故障", LATE)
    await row(admin, late).get_by_role("button", name=late).click()  # listed by the live feed
    await expect(admin.locator("#detail-number")).to_have_text(late)
    await expect(admin.locator("#ladder-none")).to_be_visible()
    await expect(admin.locator("#ladder button")).to_have_count(0)
    assert console.problems == []


async def test_a_refused_step_shows_the_servers_answer_and_what_is_allowed_now(
    console: Console, new_page: NewPage
) -> None:
    late = await dispatched(console, "housing", "电梯故障", LATE)
    page = await cases_page(console, new_page)
    await row(page, late).get_by_role("button", name=late).click()
    await page.get_by_role("button", name="催办", exact=True).click()
    await page.get_by_label("针对时限").select_option("sign_for")
    # The unit signs meanwhile, and the page is not told (no live event): the
    # server refuses the 催办 about a sign-for clock that has stopped.
    service = console.app[CASES]
    publish = service.publish
    service.publish = lambda message: None
    try:
        await service.act(late, Command.SIGN, HOUSING, {})
    finally:
        service.publish = publish
    await page.get_by_role("button", name="发送催办").click()
    await expect(page.locator("#ladder-error")).to_have_text(
        "工单情况已变化，不能这样督办；可用的操作已刷新。"
    )
    await expect(page.locator("#detail-state")).to_have_text("已签收")
    await expect(page.locator("#ladder button")).to_have_text(["提醒"])  # close is still ahead
    await expect(page.locator("#ladder-form")).to_be_hidden()
    case = await page.evaluate(CASE, late)
    assert [e["command"] for e in case["timeline"]][-1] == "sign"
    # The refusal (409) is the one failed request.
    assert [p for p in console.problems if "409" not in p] == []


async def test_the_filters_narrow_the_list_and_the_csv_link_carries_them(
    console: Console, new_page: NewPage
) -> None:
    fresh = await dispatched(console, "water", "小区停水")
    late = await dispatched(console, "housing", "电梯故障", LATE)
    calm = await dispatched(console, "housing", "路灯不亮")
    page = await cases_page(console, new_page)
    await expect(page.locator("#rows tr")).to_have_count(3)
    assert (await listed(page))[0] == late
    csv = page.get_by_role("link", name="导出 CSV")
    await expect(csv).to_have_attribute("href", "/api/v1/supervision/open?format=csv")

    await page.get_by_label("承办单位").select_option("housing")
    await expect(page.locator("#rows tr")).to_have_count(2)
    assert await listed(page) == [late, calm]
    await expect(page.locator("#list-summary")).to_have_text(
        "共 2 件未办结工单，其中 1 件已超时（承办单位：宝丰县住房和城乡建设局）"
    )
    await expect(csv).to_have_attribute("href", "/api/v1/supervision/open?format=csv&unit=housing")

    await page.get_by_label("只看超时").check()
    await expect(page.locator("#rows tr")).to_have_count(1)
    assert await listed(page) == [late]
    href = "/api/v1/supervision/open?format=csv&unit=housing&overdue=true"
    await expect(csv).to_have_attribute("href", href)
    exported = await page.evaluate(CSV_TEXT, href)
    assert "工单编号" in exported and late in exported
    assert calm not in exported and fresh not in exported

    # The filters are in the page's address: a reload keeps them.
    await expect(page).to_have_url(console.url("/console/cases?unit=housing&overdue=true"))
    await page.reload()
    await expect(page.get_by_label("承办单位")).to_have_value("housing")
    await expect(page.get_by_label("只看超时")).to_be_checked()
    await expect(page.locator("#rows tr")).to_have_count(1)

    await page.get_by_label("承办单位").select_option("water")
    await expect(page.locator("#list-summary")).to_have_text(
        "没有未办结工单（承办单位：宝丰县自来水公司，仅超时）"
    )
    await expect(page.locator("#rows tr")).to_have_count(0)
    await page.get_by_label("只看超时").uncheck()
    await expect(page.locator("#rows tr")).to_have_count(1)
    assert await listed(page) == [fresh]
    assert console.problems == []


async def test_the_list_follows_the_live_feed_without_a_reload(
    console: Console, new_page: NewPage
) -> None:
    fresh = await dispatched(console, "water", "小区停水")
    page = await cases_page(console, new_page)
    await expect(page.locator("#rows tr")).to_have_count(1)
    await row(page, fresh).get_by_role("button", name=fresh).click()
    await expect(page.locator("#detail-state")).to_have_text("已派发")

    late = await dispatched(console, "housing", "电梯故障", LATE)  # dispatched elsewhere
    await expect(page.locator("#rows tr")).to_have_count(2)
    assert await listed(page) == [late, fresh]
    await expect(row(page, late)).to_have_class("overdue")
    # Another supervisor's 通报 shows in the row's count.
    await console.app[CASES].act(late, Command.BULLETIN, SUPERVISOR, {"deadline": "sign_for"})
    await expect(row(page, late).locator('[data-ladder="bulletin"]')).to_have_text("1")
    # The unit signs the case shown: the case beside the list follows.
    await console.app[CASES].act(fresh, Command.SIGN, WATER, {})
    await expect(page.locator("#detail-state")).to_have_text("已签收")
    await expect(row(page, fresh)).to_contain_text("已签收")
    await expect(page.locator("#detail-timeline li").last).to_contain_text("自来水公司 值班员 签收")
    assert console.problems == []


async def test_a_unit_or_an_operator_is_refused_the_page(
    console: Console, new_page: NewPage
) -> None:
    for login in ("water1", "zhang110"):
        page: Page = await new_page()
        await sign_in(page, console, login)
        await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
        await expect(page.get_by_role("link", name="督办工单")).to_have_count(0)  # not in their nav
        response = await page.goto(console.url("/console/cases"))
        assert response is not None and response.status == 403
        await expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
        await expect(page.locator("#rows")).to_have_count(0)
    # The browser logs the refused page's 403 (and nothing else).
    assert all("403" in problem for problem in console.problems), console.problems
