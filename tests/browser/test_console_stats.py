"""The supervision bureau's statistics page in a real browser: March 2026 at
the water company (one case closed on time, one two days late, both rated),
one wrong hand-over from 110 to 12345; the figures in the tables, the charts
drawn from the same figures (ECharts, served by the server itself, under the
page's CSP), the CSV export of the chosen period, and who may open it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from common.vocabulary import Role
from records.core.case_file import Actor
from records.core.lifecycle import Command
from records.http import CASES
from tests.browser.conftest import Console, sign_in

NewPage = Any
TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # no holiday that week
OP_12345 = Actor("12345坐席 王芳", Role.OPERATOR_12345)
OP_110 = Actor("110坐席 张警官", Role.OPERATOR_110)
WATER = Actor("自来水公司 值班员", Role.UNIT, "water")


async def march_at_the_water_company(console: Console) -> None:
    cases = console.app[CASES]

    def at(when: datetime) -> None:
        cases.clock = lambda: when

    async def act(number: str, command: Command, actor: Actor, **body: Any) -> None:
        await cases.act(number, command, actor, body)

    async def handled_by_water(close_at: datetime | None) -> None:
        at(MONDAY)
        opened = await cases.open_case(
            OP_12345, {"caller_number": "13912345678", "description": "停水"}
        )
        number = opened.record.number
        await act(number, Command.CLASSIFY, OP_12345, demand_type="help", route="hotline")
        await act(number, Command.DISPATCH, OP_12345, lead_unit="water")
        at(MONDAY + timedelta(minutes=30))
        await act(number, Command.SIGN, WATER)
        await act(number, Command.REPLY, WATER, measures="抢修", result="已解决", handler="张某")
        due = (await cases.record(number)).due_close
        assert due is not None
        at(close_at or due + timedelta(days=2))
        await act(number, Command.APPROVE_REPLY, OP_12345)
        await act(number, Command.CLOSE, OP_12345)
        await act(number, Command.FOLLOW_UP, OP_12345, satisfaction=1 if close_at else 4)

    await handled_by_water(MONDAY + timedelta(hours=3))
    await handled_by_water(None)  # two days after its limit
    at(MONDAY)
    wrong = await cases.open_case(OP_110, {"category": "water-supply", "description": "停水"})
    await act(wrong.record.number, Command.REFER_TO_12345, OP_110)
    await act(wrong.record.number, Command.SEND_BACK, OP_12345, reason="涉及治安，应由110处置")


async def stats_page(console: Console, new_page: NewPage, query: str = "") -> Page:
    page: Page = await new_page()
    await page.goto(console.url(f"/console/stats{query}"))
    await sign_in(page, console, "zhao")
    await expect(page).to_have_url(re.compile(re.escape(console.url(f"/console/stats{query}"))))
    await expect(page.locator("#period-shown")).to_contain_text("统计期间")
    return page


async def series(page: Page, chart: str) -> list[list[Any]]:
    data = await page.evaluate(f"window.__ldCharts[{chart!r}].getOption().series.map(s => s.data)")
    return data  # type: ignore[no-any-return]


async def test_a_month_of_a_units_cases_in_tables_charts_and_csv(
    console: Console, new_page: NewPage
) -> None:
    await march_at_the_water_company(console)
    page = await stats_page(console, new_page, "?from=2026-03-01&to=2026-03-31")
    water = page.locator('#units-table tr[data-unit="water"]')
    cells = water.locator("td")
    await expect(cells.nth(0)).to_have_text("2")  # dispatched
    await expect(cells.nth(1)).to_have_text("2")  # closed
    await expect(cells.nth(3)).to_have_text("50.0%")  # on time
    await expect(cells.nth(4)).to_have_text("30 分钟 / 30 分钟")  # signed after 30 min
    await expect(cells.nth(11)).to_have_text("50.0%（2）")  # satisfied (1 of 2 ratings)
    await expect(page.locator('#units-table tfoot tr[data-unit="total"] td').nth(0)).to_have_text(
        "2"
    )

    # The charts show the same figures: water only (the units with a dispatch).
    assert await series(page, "chart-on-time") == [[50]]
    medians, p90s = await series(page, "chart-durations")
    assert medians[0] < p90s[0]  # closing: 3 h and days late
    await page.get_by_label("办理环节").select_option("sign_for")
    assert await series(page, "chart-durations") == [[0.5], [0.5]]
    assert await series(page, "chart-wrong-operators") == [[1], [1]]
    await expect(page.locator("#chart-wrong-operators")).to_contain_text("110坐席 张警官")
    await expect(page.locator("#categories-table tbody tr")).to_have_count(1)
    await expect(page.locator("#categories-table tbody td").nth(2)).to_have_text("100.0%")

    # The CSV is the chosen period's, with the same figures.
    href = await page.locator("#units-csv").get_attribute("href")
    assert href is not None and "from=2026-03-01&to=2026-04-01" in href
    response = await page.request.get(console.url(href))
    text = (await response.body()).decode("utf-8")
    assert response.status == 200 and text.startswith("\ufeff")
    assert "自来水公司" in text and "50.0" in text

    # February: nothing dispatched; the charts say so instead of drawing nothing.
    await page.get_by_label("起始日期").fill("2026-02-01")
    await page.get_by_label("截止日期（含）").fill("2026-02-28")
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator("#period-shown")).to_contain_text("2026-02-01 至 2026-02-28")
    await expect(water).to_have_count(0)  # units with nothing dispatched are left out ...
    await page.get_by_label("显示所选期间无派单的单位").check()
    await expect(cells.nth(0)).to_have_text("0")  # ... unless asked for
    await expect(page.locator("#chart-on-time")).to_contain_text("所选期间没有派单")
    await expect(page.locator("#chart-hours")).to_contain_text("所选期间没有来电")
    assert "from=2026-02-01&to=2026-02-28" in page.url  # the period can be linked to
    assert console.problems == []  # ECharts ran under the CSP without a refusal


async def test_a_period_ending_before_it_begins_is_refused_on_the_page(
    console: Console, new_page: NewPage
) -> None:
    page = await stats_page(console, new_page)
    await page.get_by_label("起始日期").fill("2026-03-10")
    await page.get_by_label("截止日期（含）").fill("2026-03-01")
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator("#period-error")).to_have_text("截止日期不能早于起始日期。")
    assert console.problems == []


async def test_operators_and_units_cannot_open_the_statistics(
    console: Console, new_page: NewPage
) -> None:
    for login, home in (("zhang110", "desk"), ("water1", "unit")):
        page: Page = await new_page()
        await sign_in(page, console, login)
        await expect(page).to_have_url(console.url(f"/console/{home}"))
        response = await page.goto(console.url("/console/stats"))
        assert response is not None and response.status == 403
        await expect(page.get_by_role("heading")).to_have_text("无权访问")
