"""The operator's desk page on the real testbed: a citizen (SIPp) calls 110,
op110-1 (SIPp) rings and answers, and the page of the person signed in at
op110-1 — Debian's Chromium — pops the caller within a second of Asterisk
making the phone's channel, then follows the call to its end."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, expect

from common.vocabulary import Role
from pbx import sipp
from people.http import ACCOUNTS
from tests.browser.conftest import chromium  # noqa: F401  (the fixture)
from tests.component.people_kit import PASSWORD, PEOPLE
from tests.integration.conftest import Liandong
from tests.integration.transfer_kit import citizen_calls, ended_call, start_desks, talked


async def signed_in_desk(
    liandong: Liandong,
    chromium: Browser,  # noqa: F811
    role: Role,
    *,
    mobile: bool = False,
) -> Any:
    """The home page of the person of `role` (an operator at that role's first
    phone, a unit's duty officer on a 360 px phone), live."""
    await liandong.client.app[ACCOUNTS].create(PEOPLE[role], PASSWORD, created_by="cli")
    base = str(liandong.client.make_url("")).rstrip("/")
    context = await chromium.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 360, "height": 740} if mobile else {"width": 1280, "height": 800},
        is_mobile=mobile,
        has_touch=mobile,
    )
    page = await context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    await page.goto(base + "/")
    await page.get_by_label("用户名").fill(PEOPLE[role].login)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
    return page


async def test_the_operator_hands_the_caller_to_12345_with_the_pages_buttons(
    liandong: Liandong,
    work: Path,
    phones: dict[str, sipp.Phone],
    chromium: Browser,  # noqa: F811
) -> None:
    page = await signed_in_desk(liandong, chromium, Role.OPERATOR_110)
    start_desks(phones, work, op110_1={"ring_ms": 200}, op12345_1={"ring_ms": 500, "talk_ms": 8000})
    citizen = citizen_calls("110", work, "1381106", caller_name="孙六")
    await expect(page.locator("#pop-state")).to_have_text("通话中", timeout=10_000)
    await expect(page.locator("#pop-name")).to_have_text("孙六")
    await expect(page.locator("#transfer-complete")).to_be_disabled()

    await page.locator("#transfer-to").select_option("12345")
    await page.get_by_role("button", name="协商转接 (Alt+G)").click()
    await expect(page.locator("#transfer-state")).to_have_text(
        "协商转接 → 12345 坐席：对方已接听", timeout=10_000
    )
    await page.keyboard.press("Alt+C")  # 完成转接
    await expect(page.locator("#transfer-state")).to_have_text("协商转接 → 12345 坐席：已转接")

    result = await citizen
    assert result.outcomes == {"13811061": "answered"}, result.stdout_tail
    call = await ended_call(liandong, "1381106")
    assert talked(call, "trunk-110", "op12345-1")
    [transfer] = (await liandong.get("/api/v1/transfers?since=2020-01-01T00:00:00Z"))["transfers"]
    assert (transfer["state"], transfer["requested_by"]) == ("completed", "api")
    assert page.errors == []  # type: ignore[attr-defined]


async def test_a_real_110_call_pops_on_the_operators_page_within_a_second(
    liandong: Liandong,
    work: Path,
    phones: dict[str, sipp.Phone],
    chromium: Browser,  # noqa: F811
) -> None:
    page = await signed_in_desk(liandong, chromium, Role.OPERATOR_110)  # zhang110 at op110-1
    phones["a"] = sipp.start_phone("op110-1", work, ring_ms=1500, talk_ms=1500)
    phones["b"] = sipp.start_phone("op110-2", work, ring_ms=sipp.NEVER_MS)
    citizen = asyncio.create_task(
        asyncio.to_thread(
            sipp.call, "110", work, number_prefix="1390000", caller_name="张三", talk_ms=60_000
        )
    )
    await expect(page.locator("#pop-number")).to_have_text("13900001", timeout=10_000)
    await expect(page.locator("#pop-name")).to_have_text("张三")
    await expect(page.locator("#pop-state")).to_have_text("振铃中")
    await expect(page.locator("#pop-state")).to_have_text("通话中", timeout=5000)
    assert (await citizen).outcomes == {"13900001": "answered"}
    await expect(page.locator("#pop-state")).to_have_text("已结束", timeout=5000)
    await expect(page.locator("#pop-cases li")).to_have_count(1)

    [pop] = await page.evaluate("window.__ldPops")
    call = await liandong.get(f"/api/v1/calls/{pop['call_id']}")
    [leg] = [leg for leg in call["legs"] if leg["endpoint"] == "op110-1"]
    made = datetime.fromisoformat(leg["created_at"].replace("Z", "+00:00")).timestamp() * 1000
    # Asterisk's clock and the browser's are this machine's.
    assert 0 <= pop["drawn_at"] - made < 1000, pop["drawn_at"] - made
    assert page.errors == []


async def test_a_110_call_handed_to_12345_reaches_the_unit_and_the_wall_through_the_pages(
    liandong: Liandong,
    work: Path,
    phones: dict[str, sipp.Phone],
    chromium: Browser,  # noqa: F811
) -> None:
    """The whole linkage, each step in the page of the person who takes it: the
    110 operator's page pops the call and hands it over with one key; the 12345
    operator's page pops the same call and its case, classifies and dispatches
    it; the water company's duty officer, on a phone, signs, feeds back and
    replies; the supervisor's wall counts the case without reloading."""
    desk110 = await signed_in_desk(liandong, chromium, Role.OPERATOR_110)  # op110-1
    desk12345 = await signed_in_desk(liandong, chromium, Role.OPERATOR_12345)  # op12345-1
    wall = await signed_in_desk(liandong, chromium, Role.SUPERVISOR)
    await expect(wall.locator("#cases-opened")).to_have_text("0 件")
    await wall.evaluate("window.__sameDocument = true")  # gone if the page reloads
    start_desks(phones, work, op110_1={"ring_ms": 200}, op12345_1={"ring_ms": 500})
    citizen = citizen_calls("110", work, "1381107", caller_name="赵七")

    await expect(desk110.locator("#pop-state")).to_have_text("通话中", timeout=10_000)
    await expect(desk110.locator("#pop-number")).to_have_text("13811071")
    await expect(desk110.locator("#pop-cases li")).to_have_count(1)  # the call opened a case
    number = await desk110.locator("#pop-cases li").text_content()
    await desk110.locator("#transfer-to").select_option("12345")
    await desk110.get_by_role("button", name="一键转接 (Alt+T)").click()
    await expect(desk110.locator("#transfer-state")).to_have_text(
        "一键转接 → 12345 坐席：已转接", timeout=10_000
    )

    # The 12345 operator's page pops the same caller, and the case came along.
    await expect(desk12345.locator("#pop-number")).to_have_text("13811071", timeout=10_000)
    await expect(desk12345.locator("#pop-state")).to_have_text("通话中", timeout=10_000)
    await expect(desk12345.locator("#pop-cases li")).to_have_text(number or "")
    await expect(desk12345.locator("#case-number")).to_have_text(number or "")
    await desk12345.get_by_label("诉求描述").fill("小区停水三天了")
    await desk12345.get_by_label("诉求类型").select_option("help")
    await desk12345.get_by_role("button", name="分类 (Alt+K)").click()
    await expect(desk12345.locator("#case-state")).to_have_text("已分类")
    await expect(desk12345.get_by_label("承办单位")).to_have_value("water")
    await desk12345.get_by_role("button", name="派单 (Alt+D)").click()
    await expect(desk12345.locator("#case-state")).to_have_text("已派发")

    # The water company's duty officer, on a phone.
    unit = await signed_in_desk(liandong, chromium, Role.UNIT, mobile=True)
    row = unit.locator(f'button[data-case="{number}"]')
    await expect(row).to_contain_text("已派发")
    await row.click()
    await expect(unit.locator("#case-caller")).to_have_text("来电 13****71")  # masked
    await unit.get_by_role("button", name="签收", exact=True).click()
    await expect(unit.locator("#case-state")).to_have_text("已签收")
    await unit.get_by_label("措施与进展").fill("抢修队已出发")
    await unit.get_by_role("button", name="反馈进展", exact=True).click()
    await expect(unit.locator("#case-state")).to_have_text("已反馈")
    await unit.get_by_label("措施与进展").fill("更换破损阀门")
    await unit.get_by_label("办理结果").fill("阀门已更换，恢复供水")
    await unit.get_by_label("承办人").fill("王师傅")
    await unit.get_by_role("button", name="办结回复", exact=True).click()
    await expect(unit.locator("#case-state")).to_have_text("已回复")

    # The wall counted it, in the same document.
    await expect(wall.locator("#cases-opened")).to_have_text("1 件")
    assert await wall.evaluate("window.__sameDocument") is True
    case = await liandong.get(f"/api/v1/cases/{number}")
    assert (case["state"], case["desk"], case["lead_unit"]) == ("replied", "12345", "water")
    commands = [entry["command"] for entry in case["timeline"]]
    # Handed over with the call, before 12345 classified it; then the unit's steps.
    steps = ["refer_to_12345", "classify", "dispatch", "sign", "feed_back", "reply"]
    assert [c for c in commands if c in steps] == steps, commands
    citizen.cancel()  # the fixture hangs the call up
    for page in (desk110, desk12345, wall, unit):
        assert page.errors == [], page.url
