"""The desk's case form in a real browser: the routing suggestion as the
operator types (and why), classifying and dispatching to the suggested lead
unit, the buttons following what the API allows, an excluded matter's
scripted answer — every move checked on the case through the API."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.browser.conftest import Console, sign_in

NewPage = Any

# What the page itself would send: the person's cookie and the sign-in's CSRF token.
NEW_CASE = """async (description) => {
  const session = await (await fetch('/api/v1/session')).json();
  const made = await fetch('/api/v1/cases', {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token},
    body: JSON.stringify({description, caller_number: '13900001234'}),
  });
  return (await made.json()).number;
}"""
CASE = "async (n) => (await fetch('/api/v1/cases/' + n)).json()"


async def desk_with_a_new_case(console: Console, new_page: NewPage) -> tuple[Page, str]:
    page: Page = await new_page()
    await sign_in(page, console, "wang12345")
    await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
    number: str = await page.evaluate(NEW_CASE, "来电")
    await page.get_by_label("打开工单").fill(number)
    await page.get_by_role("button", name="打开", exact=True).click()
    await expect(page.locator("#case-number")).to_have_text(number)
    return page, number


async def test_the_operator_classifies_and_dispatches_as_the_catalogue_suggests(
    console: Console, new_page: NewPage
) -> None:
    page, number = await desk_with_a_new_case(console, new_page)
    await expect(page.locator("#case-state")).to_have_text("已受理")
    dispatch = page.get_by_role("button", name="派单 (Alt+D)")
    await expect(dispatch).to_be_disabled()  # not before it is classified

    await page.get_by_label("诉求描述").fill("小区停水三天了")
    await expect(page.locator("#suggestion")).to_contain_text("建议：12345 受理派单")
    await expect(page.locator("#suggestion")).to_contain_text("停水")
    await page.get_by_label("诉求类型").select_option("help")
    await page.get_by_role("button", name="分类 (Alt+K)").click()
    await expect(page.locator("#case-state")).to_have_text("已分类")
    await expect(page.get_by_label("承办单位")).to_have_value("water")
    await page.keyboard.press("Alt+D")
    await expect(page.locator("#case-state")).to_have_text("已派发")
    await expect(dispatch).to_be_disabled()

    case = await page.evaluate(CASE, number)
    assert (case["state"], case["lead_unit"], case["demand_type"]) == (
        "dispatched",
        "water",
        "help",
    )
    assert (case["route"]["suggested"], case["route"]["decided"]) == ("hotline", "hotline")
    assert case["description"] == "小区停水三天了"
    assert [e["actor"] for e in case["timeline"]][-2:] == ["12345坐席 王芳"] * 2
    assert console.problems == []


async def test_the_operators_own_choice_is_not_overwritten_by_the_suggestion(
    console: Console, new_page: NewPage
) -> None:
    page, number = await desk_with_a_new_case(console, new_page)
    await page.get_by_label("去向").select_option("answer")  # the operator decides
    await page.get_by_label("诉求描述").fill("小区停水三天了")
    await expect(page.locator("#suggestion")).to_contain_text("建议：12345 受理派单")
    await expect(page.get_by_label("去向")).to_have_value("answer")
    await page.get_by_role("button", name="分类 (Alt+K)").click()
    await expect(page.locator("#case-state")).to_have_text("已分类")
    case = await page.evaluate(CASE, number)
    assert (case["route"]["suggested"], case["route"]["decided"]) == ("hotline", "answer")


async def test_an_excluded_matter_shows_the_scripted_answer(
    console: Console, new_page: NewPage
) -> None:
    page, _ = await desk_with_a_new_case(console, new_page)
    await page.get_by_label("诉求描述").fill("我要起诉邻居，想问法院什么时候立案")
    await expect(page.locator("#suggestion")).to_contain_text("不予受理")
    await expect(page.locator("#suggestion-answer")).to_contain_text("话术：")
    assert console.problems == []


async def test_an_unknown_case_number_is_said_plainly(console: Console, new_page: NewPage) -> None:
    page: Page = await new_page()
    await sign_in(page, console, "wang12345")
    await page.get_by_label("打开工单").fill("2026-999999")
    await page.get_by_role("button", name="打开", exact=True).click()
    await expect(page.locator("#case-error")).to_have_text("没有工单 2026-999999")


async def test_an_ambiguous_matter_goes_to_110_and_comes_back_with_the_police_feedback(
    console: Console, new_page: NewPage
) -> None:
    hotline, number = await desk_with_a_new_case(console, new_page)
    await hotline.get_by_label("诉求描述").fill("楼下有人吵架，不知道要不要报警")
    await hotline.get_by_role("button", name="转110").click()
    await expect(hotline.locator("#case-state")).to_have_text("警方处置")

    police: Page = await new_page()
    await sign_in(police, console, "zhang110")
    await police.get_by_label("打开工单").fill(number)
    await police.get_by_role("button", name="打开", exact=True).click()
    await expect(police.locator("#case-state")).to_have_text("警方处置")
    feedback = police.get_by_role("button", name="警情反馈（转回12345）")
    await expect(feedback).to_be_enabled()
    await feedback.click()  # nothing filled in yet
    await expect(police.locator("#case-error")).to_have_text("请填写或更正「处警民警」。")
    await police.get_by_label("处警民警").fill("李警官")
    await police.get_by_label("现场核实情况").fill("邻里口角，无违法行为")
    await police.get_by_label("先期处置措施").fill("现场调解")
    await feedback.click()
    await expect(police.locator("#case-state")).to_have_text("已分类")
    # The 12345 page follows on the live feed: the matter is back with it.
    await expect(hotline.locator("#case-state")).to_have_text("已分类")
    case = await police.evaluate(CASE, number)
    [entry] = [e for e in case["timeline"] if e["command"] == "police_feedback"]
    assert entry["data"]["officer"] == "李警官" and entry["actor"] == "110坐席 张警官"
