"""What units and supervisors may read of a caller, and what the server's log
says about callers: masking everywhere a masked role reads (timeline, live
feed), short numbers and non-numbers masked safely, unit tokens without a
unit refused, and no numbers or names in the log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSServerHandshakeError

from ami_client import AmiMessage
from common.vocabulary import Role
from database.engine import create_engine, session_factory
from records.http import CASES
from records.service.cases import CaseService
from telephony.http import INGEST
from tests.component.cases_kit import CaseApi, start_desk
from tests.component.conftest import (
    DEADLINE_S,
    StartLiandong,
    make_tokens,
    replace_values,
    trace,
)
from tests.component.serve_kit import free_port
from web.tokens import TokenRepository

ROOT = Path(__file__).resolve().parents[2]
CALL = "liandong-1795930660.0"
TRACE_NUMBER = "13900001"  # the recorded trace's caller: an 8-digit number
SECRET_NAME = "王秘密"


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> CaseApi:
    return await start_desk(aiohttp_client, f"sqlite+aiosqlite:///{tmp_path}/privacy.db")


def text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def test_an_anonymous_callers_name_is_hidden_in_the_timeline_too(desk: CaseApi) -> None:
    live = await desk.client.ws_connect(
        "/api/v1/live", headers={"Authorization": f"Bearer {desk.tokens['supervisor']}"}
    )
    assert (await live.receive_json())["type"] == "hello"
    case = await desk.open(
        "op12345",
        caller_name=SECRET_NAME,
        caller_number="13912345678",
        anonymous=True,
        address="幸福路1号",
        description="举报噪音",
    )
    number = case["number"]
    await desk.move(number, "classify", "op12345", demand_type="report", route="hotline")
    await desk.move(number, "dispatch", "op12345", lead_unit="water")

    for user in ("water", "supervisor"):
        seen = await desk.case(number, user)
        assert seen["caller"]["name"] == "匿名"
        assert seen["timeline"][0]["data"]["caller_name"] == "匿名", user
        assert seen["timeline"][0]["data"]["address"] == "幸福路1号"  # the rest as it is
        status, listed = await desk.request("GET", "/api/v1/cases", user)
        assert status == 200
        assert SECRET_NAME not in text(seen) + text(listed), user
        assert "13912345678" not in text(seen) + text(listed), user
    # The desk that took the call still reads who it was.
    assert (await desk.case(number, "op12345"))["timeline"][0]["data"]["caller_name"] == SECRET_NAME
    messages = []
    async with asyncio.timeout(DEADLINE_S):
        while not any(m["data"].get("command") == "dispatch" for m in messages):
            messages.append(await live.receive_json())
    assert SECRET_NAME not in text(messages)
    await live.close()


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        (TRACE_NUMBER, "13****01"),  # was 139*0001: seven of eight digits shown
        ("13900000001", "139******01"),
        ("anonymous", "anonymous"),  # a marker for a withheld number: not a number to mask
        ("张三", "***"),  # a name in the number field: hidden whole, never half-shown
    ],
)
async def test_masked_roles_see_at_most_half_of_a_callers_digits(
    start_liandong: StartLiandong, db_url: str, number: str, masked: str
) -> None:
    server = await start_liandong()
    unit = (await make_tokens(db_url, [Role.UNIT]))[Role.UNIT]
    server.push(replace_values(trace("answered_110"), TRACE_NUMBER, number))
    await server.call_where(CALL, lambda c: not c["active"], "call ended")
    call = await server.call(CALL, unit)
    assert call["caller_number"] == masked
    citizen = next(leg for leg in call["legs"] if leg["uniqueid"] == CALL)
    assert citizen["caller_number"] == masked
    assert (await server.call(CALL))["caller_number"] == number  # the desks see it whole


async def test_a_unit_token_without_a_unit_is_refused_everywhere(
    desk: CaseApi, tmp_path: Path
) -> None:
    """Unit tokens made before migration 0004 have no unit."""
    case = await desk.open("op12345", description="路灯不亮")  # received: not dispatched yet
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/privacy.db")
    async with session_factory(engine)() as session:
        old = (await TokenRepository(session).create("老单位令牌", Role.UNIT)).plain
        await session.commit()
    await engine.dispose()
    desk.tokens["old"] = old

    for path in (
        "/api/v1/cases",
        f"/api/v1/cases/{case['number']}",
        "/api/v1/calls",
        "/api/v1/supervision/open",
        "/api/v1/units",
    ):
        status, body = await desk.request("GET", path, "old")
        assert status == 403, (path, body)
        assert body["error"]["code"] == "forbidden"
        assert "names no member unit" in body["error"]["message"]
    status, body = await desk.request("POST", f"/api/v1/cases/{case['number']}/sign", "old", {})
    assert status == 403
    with pytest.raises(WSServerHandshakeError) as refused:
        await desk.client.ws_connect("/api/v1/live", headers={"Authorization": f"Bearer {old}"})
    assert refused.value.status == 403


async def test_a_call_whose_case_cannot_be_opened_logs_no_number_or_name(
    start_liandong: StartLiandong,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = await start_liandong()
    service: CaseService = server.app[CASES]

    async def database_down(*args: Any, **kwargs: Any) -> Any:
        raise OSError("connection refused")

    monkeypatch.setattr(service, "open_case", database_down)
    caplog.set_level(logging.INFO)
    server.push(trace("answered_110"))

    async def retried() -> bool:
        return "case link" in caplog.text and "failed" in caplog.text

    await server.eventually(retried, "the failed case link logged")
    assert CALL in caplog.text  # the call is named by its id
    assert TRACE_NUMBER not in caplog.text
    assert "张三丰" not in caplog.text


async def test_an_authorization_header_that_is_not_utf8_gets_401_not_500(
    start_liandong: StartLiandong, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_liandong()
    host, port = server.client.host, server.client.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"GET /api/v1/calls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer \xff\xfe\xc3(\r\n\r\n"
    )
    await writer.drain()
    head, _, body = (await reader.read()).partition(b"\r\n\r\n")
    writer.close()
    assert head.split(b" ")[1] == b"401", head
    error = json.loads(body)["error"]
    assert error["code"] == "unauthorized"
    assert "Authorization" in error["message"]
    assert error["details"] == {"header": "Authorization"}
    assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text


async def test_the_access_log_of_liandong_serve_has_no_query_values(
    tmp_path: Path, admin_token: str, db_url: str
) -> None:
    """`liandong serve` as an operator runs it; its log as they read it."""
    port = free_port()
    env = {
        **os.environ,
        "LIANDONG_DB_URL": db_url,
        "LIANDONG_HTTP_PORT": str(port),
        "LIANDONG_AMI_PORT": str(free_port()),  # nobody there: the server runs without it
        "LIANDONG_AMI_SECRET": "x",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "serve",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        headers = {"Authorization": f"Bearer {admin_token}"}
        base = f"http://127.0.0.1:{port}/api/v1"
        async with aiohttp.ClientSession() as client:
            async with asyncio.timeout(30):
                while True:
                    with contextlib.suppress(aiohttp.ClientConnectionError):
                        async with client.get(f"{base}/health"):
                            break
                    await asyncio.sleep(0.1)
            query = {"caller_number": "13912345678", "limit": "5"}
            async with client.get(f"{base}/cases", params=query, headers=headers) as resp:
                assert resp.status == 200
    finally:
        server.terminate()
        _, log = await server.communicate()
    text = log.decode()
    assert '"GET /api/v1/cases?caller_number=…&limit=5 HTTP/1.1" 200' in text, text
    assert "13912345678" not in text


async def test_an_event_that_cannot_be_applied_is_logged_without_the_caller(
    start_liandong: StartLiandong,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = await start_liandong()
    ingest = server.app[INGEST]
    apply = ingest._apply_event

    def broken_on_arrival(item: AmiMessage, now: datetime) -> None:
        if item.event == "Newchannel":
            raise ValueError("a bug")
        apply(item, now)

    monkeypatch.setattr(ingest, "_apply_event", broken_on_arrival)
    server.push(trace("answered_110"))
    await server.applied()
    assert "could not apply" in caplog.text and "Newchannel" in caplog.text
    assert "Uniqueid" in caplog.text  # the ids are there to find the event
    assert TRACE_NUMBER not in caplog.text
    assert "张三丰" not in caplog.text
