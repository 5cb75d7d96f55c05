"""Bearer tokens, roles, caller-number masking and query validation on the REST API."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from ami_client import AmiSettings
from common.vocabulary import TOKEN_ROLES, Role
from startup import tokens_cli
from startup.settings import Settings
from tests.component.conftest import (
    Liandong,
    StartLiandong,
    legs_by_id,
    make_tokens,
    replace_values,
    trace,
)

CALL = "liandong-1795930660.0"
CITIZEN_NUMBER = "13900000001"
MASKED = "139******01"
MASKED_ROLES = {Role.UNIT, Role.SUPERVISOR}


def assert_error(status: int, body: Any, expected_status: int, code: str) -> None:
    assert status == expected_status, body
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)


async def raw_get(server: Liandong, path: str, headers: dict[str, str]) -> tuple[int, Any, Any]:
    async with server.client.get(path, headers=headers) as resp:
        return resp.status, await resp.json(), resp.headers


@pytest.fixture
async def server_with_call(start_liandong: StartLiandong) -> Liandong:
    """A finished 110 call from a caller with an 11-digit mobile number."""
    server = await start_liandong()
    server.push(replace_values(trace("answered_110"), "13900001", CITIZEN_NUMBER))
    await server.call_where(CALL, lambda c: not c["active"], "call ended")
    return server


async def test_requests_without_a_valid_token_get_401(
    start_liandong: StartLiandong, db_url: str
) -> None:
    server = await start_liandong()
    revoked = (await make_tokens(db_url, [Role.ADMIN], revoked=True))[Role.ADMIN]
    cases = {
        "no header": {},
        "not bearer": {"Authorization": f"Basic {server.token}"},
        "empty bearer": {"Authorization": "Bearer "},
        "unknown token": {"Authorization": "Bearer not-a-token-we-issued"},
        "revoked token": {"Authorization": f"Bearer {revoked}"},
        "absurdly long token": {"Authorization": "Bearer " + "a" * 1_000},
    }
    for path in ("/api/v1/calls", f"/api/v1/calls/{CALL}", "/api/v1/live"):
        for case, headers in cases.items():
            status, body, resp_headers = await raw_get(server, path, headers)
            assert_error(status, body, 401, "unauthorized")
            assert resp_headers["WWW-Authenticate"] == "Bearer", (path, case)

    # The same server answers the valid token, and health needs none.
    status, body, _ = await raw_get(server, "/api/v1/calls", server.auth())
    assert (status, body) == (200, {"calls": []})
    status, body, _ = await raw_get(server, "/api/v1/health", {})
    assert status == 200
    assert body["ok"] is True


async def test_token_from_the_cli_works_until_revoked(
    start_liandong: StartLiandong, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server = await start_liandong()
    settings = Settings(db_url=db_url, ami=AmiSettings())
    create = argparse.Namespace(
        verb="create", role="supervisor", name="市监督局 王科长", phone=None
    )
    assert await tokens_cli.run(create, settings) == 0
    token = capsys.readouterr().out.strip()
    assert (await server.get("/api/v1/calls", token))[0] == 200

    assert await tokens_cli.run(argparse.Namespace(verb="list"), settings) == 0
    listing = capsys.readouterr().out
    assert token not in listing  # only ids, roles and names are listed
    (line,) = [row for row in listing.splitlines() if "王科长" in row]
    token_id = int(line.split("\t")[0])
    assert await tokens_cli.run(argparse.Namespace(verb="revoke", id=token_id), settings) == 0

    status, body = await server.get("/api/v1/calls", token)
    assert_error(status, body, 401, "unauthorized")


async def test_every_role_reads_calls_and_only_desks_see_numbers(
    server_with_call: Liandong, db_url: str
) -> None:
    server = server_with_call
    tokens = await make_tokens(db_url, list(TOKEN_ROLES))
    for role, token in tokens.items():
        calls = await server.calls(token)
        detail = await server.call(CALL, token)
        (listed,) = calls
        citizen_list = legs_by_id(listed)[CALL]
        citizen_detail = legs_by_id(detail)[CALL]
        texts = json.dumps(calls, ensure_ascii=False) + json.dumps(detail, ensure_ascii=False)
        if role in MASKED_ROLES:
            assert listed["caller_number"] == MASKED, role
            assert detail["caller_number"] == MASKED, role
            assert citizen_list["caller_number"] == MASKED, role
            assert citizen_detail["caller_number"] == MASKED, role
            assert CITIZEN_NUMBER not in texts, role
        else:
            assert listed["caller_number"] == CITIZEN_NUMBER, role
            assert detail["caller_number"] == CITIZEN_NUMBER, role
            assert citizen_detail["caller_number"] == CITIZEN_NUMBER, role
        # Names and everything else are the same for everyone.
        assert detail["caller_name"] == "张三丰"
        assert len(detail["legs"]) == 3


async def test_a_callers_earlier_calls_are_found_by_number_by_the_roles_that_read_it(
    server_with_call: Liandong, db_url: str
) -> None:
    """The screen pop's "earlier calls": typed as people type numbers; the
    masked roles may not search by a number (they would learn it by guessing)."""
    server = server_with_call
    tokens = await make_tokens(db_url, list(TOKEN_ROLES))
    for role, token in tokens.items():
        if role in MASKED_ROLES:
            status, body = await server.get("/api/v1/calls", token, caller_number=CITIZEN_NUMBER)
            assert_error(status, body, 403, "forbidden")
            continue
        for typed in (CITIZEN_NUMBER, "139 0000 0001", "139-0000-0001"):
            found = await server.calls(token, caller_number=typed)
            assert [c["id"] for c in found] == [CALL], (role, typed)
        assert await server.calls(token, caller_number="13900000002") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-29T08:00:00"}, "since"),  # no time zone
        ({"active": "maybe"}, "active"),
        ({"caller_number": "139abc"}, "caller_number"),
        ({"caller_number": "1" * 33}, "caller_number"),
    ],
)
async def test_bad_query_parameters_are_400_naming_the_field(
    start_liandong: StartLiandong, params: dict[str, str], field: str
) -> None:
    server = await start_liandong(wait=False)
    status, body = await server.get("/api/v1/calls", **params)
    assert_error(status, body, 400, "bad_request")
    assert body["error"]["details"] == {"field": field}
    assert body["error"]["message"].startswith(f"{field}:")


async def test_good_query_parameters_filter_and_unknown_call_is_404(
    server_with_call: Liandong,
) -> None:
    server = server_with_call
    assert [c["id"] for c in await server.calls(active="false", limit="1")] == [CALL]
    assert await server.calls(active="true") == []
    assert [c["id"] for c in await server.calls(since="2026-11-29T13:37:00+08:00")] == [CALL]
    assert [c["id"] for c in await server.calls(since="2026-11-29T05:37:40Z")] == [CALL]
    assert await server.calls(since="2026-11-29T13:38:00+08:00") == []
    # The offset typed into a URL as is (curl, a browser bar): '+' arrives as a space.
    for since, found in (("2026-11-29T13:37:00+08:00", [CALL]), ("2026-11-29T13:38:00+08", [])):
        url = f"/api/v1/calls?since={since}"
        async with server.client.get(url, headers=server.auth()) as resp:
            assert resp.status == 200, await resp.text()
            assert [c["id"] for c in (await resp.json())["calls"]] == found

    status, body = await server.get("/api/v1/calls/liandong-0000000000.404")
    assert_error(status, body, 404, "not_found")
    assert "liandong-0000000000.404" in body["error"]["message"]
    status, body = await server.get("/api/v1/no-such-endpoint")
    assert_error(status, body, 404, "not_found")


async def test_transfer_bodies_are_checked_after_the_role_and_must_be_objects(
    server_with_call: Liandong, db_url: str
) -> None:
    server = server_with_call
    tokens = await make_tokens(db_url, [Role.UNIT, Role.ADMIN])
    path = f"/api/v1/calls/{CALL}/transfer"
    for role, body, status, code in [
        (Role.UNIT, b"{not json", 403, "forbidden"),  # refused before reading
        (Role.ADMIN, b"{not json", 400, "bad_request"),
        (Role.ADMIN, b'["12345"]', 400, "bad_request"),
    ]:
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        async with server.client.post(path, data=body, headers=headers) as resp:
            answer = await resp.json()
        assert_error(resp.status, answer, status, code)
        if status == 400:
            assert answer["error"]["details"] == {"field": "body"}


async def test_a_unit_is_rung_on_its_roster_line_and_named_clearly_when_it_has_none(
    server_with_call: Liandong, db_url: str
) -> None:
    server = server_with_call
    tokens = await make_tokens(db_url, [Role.ADMIN])
    headers = {"Authorization": f"Bearer {tokens[Role.ADMIN]}"}
    path = f"/api/v1/calls/{CALL}/transfer"
    for to, says in [
        ("unit:nosuch", "no unit 'nosuch' in the roster"),
        ("unit:police", "has no phone line on the PBX"),  # the police have their own desk
        ("unit:水务", "no unit '水务' in the roster"),
    ]:
        async with server.client.post(path, json={"to": to}, headers=headers) as resp:
            answer = await resp.json()
        assert_error(resp.status, answer, 400, "bad_request")
        assert says in answer["error"]["message"] and answer["error"]["details"]["field"] == "to"
    # A unit with a line gets past the target: the call has ended, so it is not found.
    async with server.client.post(path, json={"to": "unit:water"}, headers=headers) as resp:
        assert resp.status == 404 and "no live call" in await resp.text()


async def test_a_line_no_unit_of_the_roster_has_is_refused_naming_the_units_that_exist(
    server_with_call: Liandong, db_url: str
) -> None:
    server = server_with_call
    tokens = await make_tokens(db_url, [Role.ADMIN])
    headers = {"Authorization": f"Bearer {tokens[Role.ADMIN]}"}
    for to in ("unit:777777", "unit:10", "unit:1"):  # the roster's lines are 01..09
        for path in (f"/api/v1/calls/{CALL}/transfer", f"/api/v1/calls/{CALL}/conference"):
            async with server.client.post(path, json={"to": to}, headers=headers) as resp:
                answer = await resp.json()
            assert_error(resp.status, answer, 400, "bad_request")
            error = answer["error"]
            assert error["details"]["field"] == "to"
            assert f"no unit is on PBX line {to[5:]}" in error["message"]
            assert "water (01)" in error["message"] and "gas (03)" in error["message"]
            units = error["details"]["units"]
            assert "water" in units and "police" not in units
    # The roster's own line gets past the target (the call has ended: not found).
    async with server.client.post(
        f"/api/v1/calls/{CALL}/transfer", json={"to": "unit:01"}, headers=headers
    ) as resp:
        assert resp.status == 404 and "no live call" in await resp.text()


async def test_a_call_in_an_anonymous_case_reads_anonymous_for_units_and_supervisors(
    server_with_call: Liandong, db_url: str
) -> None:
    """The citizen asked for anonymity (匿名) on the case their call belongs to:
    the call records, list and detail, say 匿名 to the masked roles too."""
    server = server_with_call
    tokens = await make_tokens(db_url, list(TOKEN_ROLES))
    body = {"desk": "110", "description": "举报赌博", "anonymous": True}
    async with server.client.post("/api/v1/cases", json=body, headers=server.auth()) as resp:
        assert resp.status == 201, await resp.text()
        number = (await resp.json())["number"]
    attach = {"case": number}
    async with server.client.post(
        f"/api/v1/calls/{CALL}/case", json=attach, headers=server.auth()
    ) as resp:
        assert resp.status == 200, await resp.text()
    for role, token in tokens.items():
        listed = [c for c in await server.calls(token) if c["id"] == CALL]
        detail = await server.call(CALL, token)
        texts = json.dumps([listed, detail], ensure_ascii=False)
        if role in MASKED_ROLES:
            assert "张三丰" not in texts, role
            assert listed[0]["caller_name"] == detail["caller_name"] == "匿名", role
            assert legs_by_id(detail)[CALL]["caller_name"] == "匿名", role
        else:
            assert detail["caller_name"] == "张三丰", role
