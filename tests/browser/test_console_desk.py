"""The operator's desk in a real browser, with the AMI events of a recorded
110 call (tests/fixtures/answered_110.ami: op110-1 and op110-2 ring, op110-1
answers) played by the fake AMI: the screen pop, the call's state, the
waiting line, the phone's buttons."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from ami_client.message import AmiMessage
from server import create_app
from tests.browser.conftest import Console, sign_in
from tests.component.cases_kit import case_settings
from tests.component.conftest import FAST_AMI, trace, wire
from tests.component.people_kit import make_people
from tests.fakes.fake_ami import FakeAmiServer

NewPage = Any
CALL = trace("answered_110")
# Up to op110-1's Ringing (Newstate, event 6): the phone rings now.
RINGING = next(i for i, m in enumerate(CALL) if m.event == "Newstate") + 1


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmiServer]:
    async with FakeAmiServer() as server:
        yield server


@pytest.fixture
async def console(aiohttp_server: Any, tmp_path: Path, fake_ami: FakeAmiServer) -> Console:
    """The console on a server linked to the fake AMI."""
    db_url = f"sqlite+aiosqlite:///{tmp_path}/desk.db"
    people = await make_people(db_url)
    settings = case_settings(db_url, ladder_interval=0, agi_port=0)
    app = create_app(
        type(settings)(
            **{**settings.__dict__, "ami": fake_ami.settings(**FAST_AMI), "connect_ami": True}
        )
    )
    server = await aiohttp_server(app)
    return Console(str(server.make_url("")).rstrip("/"), app, people)


async def desk_of(new_page: NewPage, console: Console, login: str) -> Page:
    page: Page = await new_page()
    await page.goto(console.url("/console/"))
    await sign_in(page, console, login)
    await expect(page).to_have_url(console.url("/console/desk"))
    await expect(page.locator("#live-state")).to_have_text("实时连接：已连接")
    return page


async def test_the_pop_shows_the_caller_within_a_second_of_the_phone_ringing(
    console: Console, new_page: NewPage, fake_ami: FakeAmiServer
) -> None:
    answering = await desk_of(new_page, console, "zhang110")  # op110-1
    fake_ami.push_bytes(wire(CALL[:RINGING]))
    await expect(answering.locator("#pop-number")).to_have_text("13900001", timeout=1000)
    await expect(answering.locator("#pop-state")).to_have_text("振铃中")
    assert await answering.evaluate("window.__ldPops.length") == 1

    fake_ami.push_bytes(wire(CALL[RINGING:]))
    await expect(answering.locator("#pop-state")).to_have_text("已结束")
    await expect(answering.locator("#pop-timer")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    # The call opened a case: the pop names it once the API has it.
    await expect(answering.locator("#pop-cases li")).to_have_count(1)
    await expect(answering.locator("#pop-cases li")).to_have_text(re.compile(r"^\d{4}-\d{6}$"))
    assert console.problems == []


async def test_an_operator_whose_phone_did_not_ring_gets_no_pop(
    console: Console, new_page: NewPage, fake_ami: FakeAmiServer
) -> None:
    page = await desk_of(new_page, console, "wang12345")  # a 12345 phone: not rung
    fake_ami.push_bytes(wire(CALL))
    other = await desk_of(new_page, console, "zhang110")  # opened after the call: nothing to pop
    await asyncio.sleep(1)
    for seen in (page, other):
        await expect(seen.locator("#pop-empty")).to_be_visible()
        assert await seen.evaluate("window.__ldPops.length") == 0
    assert console.problems == []


async def test_a_page_opened_during_the_call_pops_it_at_once(
    console: Console, new_page: NewPage, fake_ami: FakeAmiServer
) -> None:
    answered = next(i for i, m in enumerate(CALL) if m.event == "BridgeEnter") + 2
    fake_ami.push_bytes(wire(CALL[:answered]))
    await asyncio.sleep(0.5)  # the server has taken the events in
    page = await desk_of(new_page, console, "zhang110")
    await expect(page.locator("#pop-number")).to_have_text("13900001")
    await expect(page.locator("#pop-state")).to_have_text("通话中")
    fake_ami.push_bytes(wire(CALL[answered:]))
    await expect(page.locator("#pop-state")).to_have_text("已结束")


async def test_the_phone_buttons_ask_asterisk_for_this_phone_only(
    console: Console, new_page: NewPage, fake_ami: FakeAmiServer
) -> None:
    page = await desk_of(new_page, console, "zhang110")
    await expect(page.locator("#phone-state")).to_have_text("未签入")
    await expect(page.locator("#pause")).to_be_disabled()
    await page.get_by_role("button", name="签入").click()
    await fake_ami.wait_for_action("QueueAdd", within=5)
    [added] = fake_ami.actions_named("QueueAdd")
    assert dict(added.headers)["Interface"].startswith("PJSIP/op110-1")
    await expect(page.locator("#phone-error")).to_be_hidden()
    assert console.problems == []


async def test_the_wall_follows_a_call_and_its_case_without_reloading(
    console: Console, new_page: NewPage, fake_ami: FakeAmiServer
) -> None:
    wall: Page = await new_page()
    await wall.goto(console.url("/console/"))
    await sign_in(wall, console, "zhao")
    await expect(wall).to_have_url(console.url("/console/wall"))  # the bureau's home
    await expect(wall.locator("#cases-opened")).to_have_text("0 件")
    await expect(wall.locator("#desk-110 [data-figure=waiting]")).to_have_text("0 人")
    await expect(wall.locator("#overdue-units")).to_have_text("无超时工单")
    await wall.evaluate("window.__sameDocument = true")  # gone if the page reloaded
    fake_ami.push_bytes(wire(CALL))
    await expect(wall.locator("#cases-opened")).to_have_text("1 件")  # the call opened a case
    assert await wall.evaluate("window.__sameDocument === true")
    assert console.problems == []


async def test_a_late_answer_to_the_button_does_not_undo_the_live_feed_and_complete_works(
    console: Console, new_page: NewPage, fake_ami: FakeAmiServer
) -> None:
    """The answer to "协商转接" can reach the page after the feed has told that
    the 12345 phone answered (a busy network, a slow server): the page keeps
    "answered", the newer state, not the button's older "calling"."""
    answered = next(i for i, m in enumerate(CALL) if m.event == "BridgeEnter") + 2
    fake_ami.push_bytes(wire(CALL[:answered]))
    page = await desk_of(new_page, console, "zhang110")
    await expect(page.locator("#pop-state")).to_have_text("通话中")
    operator = next(m for m in CALL if m.get("Channel", "").startswith("PJSIP/op110-1"))
    held: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def hold_the_answer(route: Any) -> None:
        response = await route.fetch()
        await held
        await route.fulfill(response=response)

    await page.route("**/api/v1/calls/*/transfer", hold_the_answer)
    await page.locator("#transfer-to").select_option("12345")
    await page.get_by_role("button", name="协商转接 (Alt+G)").click()
    await fake_ami.wait_for_action("Redirect", within=5)
    uniqueid = operator["Uniqueid"]
    target = {"DestChannel": "PJSIP/op12345-1-00000009", "DestUniqueid": "liandong-1795930660.9"}
    fake_ami.push_event("DialBegin", Uniqueid=uniqueid, **target)
    fake_ami.push_event("DialEnd", Uniqueid=uniqueid, DialStatus="ANSWER", **target)
    await expect(page.locator("#transfer-state")).to_have_attribute("data-state", "answered")
    async with page.expect_response("**/api/v1/calls/*/transfer"):
        held.set_result(None)
    # The page has had time to read the late answer (its fetch and JSON) ...
    await page.evaluate("new Promise(done => setTimeout(done, 300))")
    # ... and still shows the newer state.
    await expect(page.locator("#transfer-state")).to_have_text("协商转接 → 12345 坐席：对方已接听")
    # The operator hands over with the mouse: the button is live in this state.
    await expect(page.locator("#transfer-cancel")).to_be_enabled()
    await page.get_by_role("button", name="完成转接 (Alt+C)").click()
    await fake_ami.wait_for_action("Bridge", within=5)
    [bridge] = fake_ami.actions_named("Bridge")
    assert dict(bridge.headers)["Channel2"] == target["DestChannel"]
    await expect(page.locator("#transfer-state")).to_have_text("协商转接 → 12345 坐席：已转接")
    await expect(page.locator("#transfer-complete")).to_be_disabled()
    assert console.problems == []


def later_call(messages: list[AmiMessage], shift: str) -> list[AmiMessage]:
    """The same call made again later: its ids and times moved on by `shift`."""
    return [
        AmiMessage(tuple((k, v.replace("1795930660.", shift)) for k, v in m.headers))
        for m in messages
    ]


async def test_the_pop_lists_the_callers_earlier_calls(
    console: Console, new_page: NewPage, fake_ami: FakeAmiServer
) -> None:
    page = await desk_of(new_page, console, "zhang110")
    fake_ami.push_bytes(wire(CALL))  # the first call: answered, 张三丰 at 13900001
    await expect(page.locator("#pop-state")).to_have_text("已结束")
    fake_ami.push_bytes(wire(later_call(CALL[:RINGING], "1795931000.")))  # calls again
    await expect(page.locator("#pop-state")).to_have_text("振铃中")
    earlier = page.locator("#pop-calls li")
    await expect(earlier).to_have_count(1)
    await expect(earlier).to_have_attribute("data-call", "liandong-1795930660.0")
    await expect(earlier).to_have_text(
        re.compile(r"^\d\d/\d\d \d\d:\d\d · 110 · 已接听 · 通话 \d\d:\d\d$")
    )
    assert console.problems == []
