"""People sign in to the pages with a login and password (people/): a cookie
the browser keeps, CSRF checked on every change, lock-out after wrong
passwords, sign-out and disabling that take effect at once — while programs'
Bearer tokens work as before."""

from __future__ import annotations

import asyncio
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from common.vocabulary import TOKEN_ROLES, Role
from server import create_app
from tests.component.cases_kit import case_settings
from tests.component.conftest import make_tokens
from tests.component.people_kit import PASSWORD, PEOPLE, Browser, make_people


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/people.db"


@pytest.fixture
async def people(db_url: str) -> dict[Role, int]:
    return await make_people(db_url)


@pytest.fixture
async def app(db_url: str, people: dict[Role, int]) -> web.Application:
    return create_app(case_settings(db_url, ladder_interval=0))


@pytest.fixture
async def browser(aiohttp_client: Any, app: web.Application) -> Browser:
    return Browser(await aiohttp_client(app))


async def second_browser(browser: Browser) -> Browser:
    """Another browser (its own cookie jar) on the same server."""
    from aiohttp.test_utils import TestClient

    # Its own client session (cookie jar) on the running server; closing it
    # closes only that session (TestClient.close would stop the server).
    return Browser(TestClient(browser.client.server))


def set_cookie(response: Any) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        cookie.load(header)
    return cookie


async def test_a_person_signs_in_and_the_cookie_is_all_the_api_needs(browser: Browser) -> None:
    response = await browser.sign_in("zhang110")
    assert response.status == 201
    body = await response.json()
    assert body["kind"] == "sign-in" and body["login"] == "zhang110"
    assert (body["name"], body["role"], body["phone"]) == (
        "110坐席 张警官",
        "operator_110",
        "op110-1",
    )
    cookie = set_cookie(response)["ld_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain HTTP, no https LIANDONG_PUBLIC_URL
    assert len(cookie.value) >= 40

    status, session = await browser.get("/api/v1/session")
    assert status == 200 and session["csrf_token"] == body["csrf_token"]
    status, calls = await browser.get("/api/v1/calls")
    assert status == 200 and calls == {"calls": []}
    # The operator's role holds as for a token: not an admin's list.
    status, refused = await browser.get("/api/v1/users")
    assert status == 403 and "operator_110" in refused["error"]["message"]


async def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(browser: Browser) -> None:
    wrong = await browser.sign_in("zhang110", "not-the-password-1")
    nobody = await browser.sign_in("nobody", "not-the-password-1")
    assert wrong.status == nobody.status == 401
    assert (await wrong.json()) == (await nobody.json())
    assert (await wrong.json())["error"]["code"] == "sign_in_failed"
    assert "ld_session" not in set_cookie(wrong)
    status, _ = await browser.get("/api/v1/calls")
    assert status == 401


async def test_a_flood_of_sign_ins_is_told_to_wait_and_the_person_still_gets_in(
    browser: Browser,
) -> None:
    """Forty guesses at once: the server checks two passwords at a time with
    16 waiting (people/service/hashing.py); the rest are told 503 busy at
    once, with Retry-After, instead of queueing without end."""
    flood = [browser.sign_in(f"nobody{n}", "guess-guess-1") for n in range(40)]
    answers = await asyncio.gather(*flood)
    statuses = [answer.status for answer in answers]
    assert set(statuses) == {401, 503}, statuses
    assert statuses.count(401) <= 18  # the two running and the 16 waiting
    busy = next(answer for answer in answers if answer.status == 503)
    assert busy.headers["Retry-After"] == "1"
    assert (await busy.json())["error"]["code"] == "busy"
    assert (await browser.sign_in("zhang110")).status == 201


async def test_five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(
    browser: Browser, people: dict[Role, int]
) -> None:
    for _ in range(4):
        assert (await browser.sign_in("zhang110", "guess-guess-1")).status == 401
    locked = await browser.sign_in("zhang110", "guess-guess-1")
    assert locked.status == 429
    error = (await locked.json())["error"]
    assert error["code"] == "locked" and 890 <= error["details"]["retry_after_s"] <= 900
    # Locked: even the right password is refused now.
    assert (await browser.sign_in("zhang110")).status == 429

    admin = await second_browser(browser)
    try:
        assert (await admin.sign_in("admin1")).status == 201
        status, users = await admin.get("/api/v1/users")
        [listed] = [u for u in users["users"] if u["login"] == "zhang110"]
        assert listed["locked_until"] is not None
        status, unlocked = await admin.post(f"/api/v1/users/{people[Role.OPERATOR_110]}/unlock")
        assert status == 200 and unlocked["locked_until"] is None
    finally:
        await admin.client.session.close()
    assert (await browser.sign_in("zhang110")).status == 201


async def test_a_change_made_with_the_cookie_needs_the_pages_csrf_token_and_origin(
    browser: Browser, people: dict[Role, int]
) -> None:
    assert (await browser.sign_in("admin1")).status == 201
    target = f"/api/v1/users/{people[Role.SUPERVISOR]}/disable"
    status, body = await browser.post(target, csrf=False)
    assert status == 403 and body["error"]["code"] == "csrf_failed"
    browser.csrf, real = "x" * 43, browser.csrf
    status, body = await browser.post(target)
    assert status == 403 and body["error"]["code"] == "csrf_failed"
    browser.csrf = real
    async with browser.client.post(
        target, headers={"X-CSRF-Token": "令牌", "Origin": browser.origin}
    ) as response:  # not ASCII: refused, not a crash
        assert response.status == 403
    status, body = await browser.post(target, origin="https://evil.example")
    assert status == 403 and body["error"]["code"] == "csrf_failed"
    status, _ = await browser.get("/api/v1/users")  # nothing was disabled
    assert all(u["disabled_at"] is None for u in _["users"])
    status, body = await browser.post(target)
    assert status == 200 and body["disabled_at"] is not None


async def test_a_token_needs_no_csrf_token_even_with_a_cookie_beside_it(
    browser: Browser, db_url: str, people: dict[Role, int]
) -> None:
    token = (await make_tokens(db_url, [Role.ADMIN]))[Role.ADMIN]
    assert (await browser.sign_in("zhao")).status == 201  # a supervisor's cookie in the jar
    async with browser.client.post(
        f"/api/v1/users/{people[Role.UNIT]}/disable", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 200  # the token's role, not the cookie's


async def test_signing_in_from_another_sites_page_is_refused(browser: Browser) -> None:
    response = await browser.client.post(
        "/api/v1/session",
        json={"login": "zhang110", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status == 403 and (await response.json())["error"]["code"] == "csrf_failed"
    assert "ld_session" not in set_cookie(response)


async def test_signing_out_ends_the_sign_in_and_its_live_feed(browser: Browser) -> None:
    assert (await browser.sign_in("wang12345")).status == 201
    ws = await browser.client.ws_connect("/api/v1/live", headers={"Origin": browser.origin})
    assert (await ws.receive_json())["type"] == "hello"
    old_cookie = browser.client.session.cookie_jar.filter_cookies(browser.client.make_url("/"))
    assert await browser.sign_out() == 204
    async with asyncio.timeout(2):
        closing = await ws.receive()
    assert (closing.type, closing.data, closing.extra) == (WSMsgType.CLOSE, 4001, "signed out")
    # The old cookie, sent again (a copy kept by someone), says why it no longer works.
    browser.client.session.cookie_jar.update_cookies(old_cookie)
    status, body = await browser.get("/api/v1/calls")
    assert status == 401 and body["error"]["details"]["reason"] == "signed_out"


async def test_disabling_a_person_closes_their_feed_at_once_and_refuses_their_password(
    browser: Browser, people: dict[Role, int]
) -> None:
    assert (await browser.sign_in("water1")).status == 201
    ws = await browser.client.ws_connect("/api/v1/live", headers={"Origin": browser.origin})
    assert (await ws.receive_json()) == {"type": "hello", "data": {"role": "unit"}}
    admin = await second_browser(browser)
    try:
        assert (await admin.sign_in("admin1")).status == 201
        status, _ = await admin.post(f"/api/v1/users/{people[Role.UNIT]}/disable")
        assert status == 200
        async with asyncio.timeout(1):  # in-process: no wait for the watch
            closing = await ws.receive()
        assert (closing.type, closing.data, closing.extra) == (WSMsgType.CLOSE, 4001, "signed out")
        status, body = await browser.get("/api/v1/cases")
        assert status == 401 and body["error"]["details"]["reason"] == "disabled"
        refused = await browser.sign_in("water1")
        assert refused.status == 403
        assert (await refused.json())["error"]["code"] == "account_disabled"
        status, _ = await admin.post(f"/api/v1/users/{people[Role.UNIT]}/enable")
        assert (await browser.sign_in("water1")).status == 201
    finally:
        await admin.client.session.close()


async def test_a_signed_in_live_feed_must_come_from_our_own_page(browser: Browser) -> None:
    assert (await browser.sign_in("zhao")).status == 201
    for headers in ({}, {"Origin": "https://evil.example"}):
        with pytest.raises(Exception) as refused:
            await browser.client.ws_connect("/api/v1/live", headers=headers)
        assert "403" in str(refused.value), headers


async def test_over_https_the_cookie_is_secure_and_host_only(
    aiohttp_client: Any, db_url: str, people: dict[Role, int]
) -> None:
    app = create_app(
        case_settings(db_url, ladder_interval=0, public_url="https://liandong.county.example")
    )
    browser = Browser(await aiohttp_client(app))
    response = await browser.client.post(
        "/api/v1/session",
        json={"login": "zhao", "password": PASSWORD},
        headers={"Origin": "https://liandong.county.example"},  # the page as the proxy serves it
    )
    assert response.status == 201
    cookie = set_cookie(response)
    assert "ld_session" not in cookie
    assert cookie["__Host-ld_session"]["secure"] and cookie["__Host-ld_session"]["path"] == "/"


async def test_an_admin_makes_and_changes_accounts_over_the_api(
    browser: Browser, people: dict[Role, int]
) -> None:
    assert (await browser.sign_in("admin1")).status == 201
    new = {"login": "li-township", "name": "城关镇 李干事", "role": "unit", "unit": "urban"}
    status, body = await browser.post("/api/v1/users", {**new, "password": "short"})
    assert status == 400 and body["error"]["details"]["field"] == "password"
    status, body = await browser.post(
        "/api/v1/users", {**new, "unit": "atlantis", "password": PASSWORD}
    )
    assert status == 400 and body["error"]["details"]["field"] == "unit"
    status, made = await browser.post("/api/v1/users", {**new, "password": PASSWORD})
    assert status == 201 and made["unit"] == "urban" and made["created_by"].startswith("user ")
    assert "password" not in str(made) and "hash" not in str(made)
    status, body = await browser.post("/api/v1/users", {**new, "password": PASSWORD})
    assert status == 400 and body["error"]["details"]["field"] == "login"

    person = await second_browser(browser)
    try:
        assert (await person.sign_in("li-township")).status == 201
        status, _ = await browser.post(
            f"/api/v1/users/{made['id']}/password", {"password": "新的密码-New-2026"}
        )
        assert status == 200
        status, body = await person.get("/api/v1/session")  # the old sign-in has ended
        assert status == 401 and body["error"]["details"]["reason"] == "password_changed"
        assert (await person.sign_in("li-township")).status == 401
        assert (await person.sign_in("li-township", "新的密码-New-2026")).status == 201
    finally:
        await person.client.session.close()


async def test_only_an_admin_manages_accounts(browser: Browser, people: dict[Role, int]) -> None:
    for role, draft in PEOPLE.items():
        if role is Role.ADMIN:
            continue
        assert (await browser.sign_in(draft.login)).status == 201
        status, _ = await browser.get("/api/v1/users")
        assert status == 403, role
        status, _ = await browser.post(f"/api/v1/users/{people[Role.ADMIN]}/disable")
        assert status == 403, role
        assert await browser.sign_out() == 204


async def test_every_programs_token_but_an_admins_is_refused_the_accounts(
    browser: Browser, people: dict[Role, int], db_url: str
) -> None:
    """Bearer tokens reach /api/v1/users by the same rule as people: admins only."""
    tokens = await make_tokens(db_url, list(TOKEN_ROLES))
    target = people[Role.OPERATOR_110]
    body = {"login": "new110", "name": "新坐席", "role": "operator_110", "phone": "op110-2"}
    for role, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        asks = [
            ("GET", "/api/v1/users", None),
            ("POST", "/api/v1/users", {**body, "password": PASSWORD}),
            *[("POST", f"/api/v1/users/{target}/{verb}", None) for verb in ("unlock", "enable")],
            ("POST", f"/api/v1/users/{target}/password", {"password": PASSWORD + "x"}),
        ]
        for method, path, sent in asks:
            async with browser.client.request(method, path, json=sent, headers=headers) as r:
                expected = (200, 201) if role is Role.ADMIN else (403,)
                assert r.status in expected, (role, method, path, await r.text())
        if role is Role.ADMIN:  # what the admin's token made is there
            async with browser.client.get("/api/v1/users", headers=headers) as r:
                logins = {user["login"] for user in (await r.json())["users"]}
            assert "new110" in logins


async def test_an_admin_cannot_disable_themselves_nor_the_last_admin(
    browser: Browser, people: dict[Role, int], db_url: str
) -> None:
    """Else nobody could undo it from the pages; the server's command line can."""
    admin = people[Role.ADMIN]
    assert (await browser.sign_in("admin1")).status == 201
    status, body = await browser.post(f"/api/v1/users/{admin}/disable")
    assert status == 409 and "own account" in body["error"]["message"]
    # An admin's program (a token) is not a person, but the last admin stays.
    [token] = (await make_tokens(db_url, [Role.ADMIN])).values()
    headers = {"Authorization": f"Bearer {token}"}
    async with browser.client.post(f"/api/v1/users/{admin}/disable", headers=headers) as r:
        assert r.status == 409 and "last enabled admin" in (await r.json())["error"]["message"]
    # With a second admin, the first can be disabled by the token; the account still works
    # for the other admin, who may not disable themselves either.
    second = {"login": "admin2", "name": "管理员 二", "role": "admin", "password": PASSWORD}
    status, made = await browser.post("/api/v1/users", second)
    assert status == 201
    async with browser.client.post(f"/api/v1/users/{admin}/disable", headers=headers) as r:
        assert r.status == 200 and (await r.json())["disabled_at"]
    async with browser.client.post(f"/api/v1/users/{made['id']}/disable", headers=headers) as r:
        assert r.status == 409  # now admin2 is the last one
