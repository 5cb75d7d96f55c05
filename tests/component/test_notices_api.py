"""Linkage notices through the real app with the fake AMI as Asterisk: the
Originate a dispatch makes, the key and the end as [ld-notice] tells them,
the case signed; what every role reads of the notices (a unit only its
own), on the live feed too; and what the supervision views say of them — a
unit nobody at which could be reached is counted, and its case flagged."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ami_client import AmiMessage
from common.vocabulary import Role
from database.engine import create_engine, session_factory
from startup.settings import DEFAULT_CASE_CONFIG
from tests.component.cases_kit import make_users
from tests.component.conftest import Liandong, StartLiandong
from web.tokens import TokenRepository

STAFF = "罗某"  # urban's staff contact (units.csv)


def no_gap_config(tmp_path: Path) -> Path:
    """The shipped case-config with no pause between a notice's tries."""
    folder = tmp_path / "case-config"
    shutil.copytree(DEFAULT_CASE_CONFIG, folder)
    rules = folder / "outbound.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("retry_gap_s: 5 ", "retry_gap_s: 0 ")
    )
    return folder


async def request(
    server: Liandong, method: str, path: str, token: str, body: Any = None
) -> tuple[int, Any]:
    async with server.client.request(method, path, json=body, headers=server.auth(token)) as resp:
        return resp.status, await resp.json()


async def urgent_dispatch(
    server: Liandong, tokens: dict[str, str], co_units: tuple[str, ...] = ()
) -> str:
    status, case = await request(
        server,
        "POST",
        "/api/v1/cases",
        tokens["op12345"],
        {"desk": "12345", "description": "井盖缺失，有行人跌落危险"},
    )
    assert status == 201, case
    number = str(case["number"])
    classify = {
        "demand_type": "help",
        "route": "hotline",
        "urgency": "urgent",
        "category": "city-appearance",
        "township": "chengguan",
    }
    dispatch = {"lead_unit": "urban", "co_units": list(co_units)}
    for command, body in (("classify", classify), ("dispatch", dispatch)):
        status, case = await request(
            server, "POST", f"/api/v1/cases/{number}/{command}", tokens["op12345"], body
        )
        assert status == 200, case
    return number


def user_event(kind: str, **headers: str) -> AmiMessage:
    return AmiMessage((("Event", "UserEvent"), ("UserEvent", kind), *headers.items()))


def originate_failed(channel_id: str, reason: str) -> AmiMessage:
    return AmiMessage(
        (
            ("Event", "OriginateResponse"),
            ("Response", "Failure"),
            ("Channel", "PJSIP/unit-04"),
            ("Uniqueid", channel_id),
            ("Reason", reason),
        )
    )


async def notice_state(server: Liandong, number: str, state: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found = (await server.ok(f"/api/v1/notices?case={number}"))["notices"]
        return found[0] if found and found[0]["state"] == state else None

    return await server.eventually(probe, f"the notice {state}")


async def test_a_dispatch_places_the_call_and_key_1_signs_the_case(
    start_liandong: StartLiandong, db_url: str
) -> None:
    tokens = await make_users(db_url)
    server = await start_liandong()
    number = await urgent_dispatch(server, tokens)
    await server.fake.wait_for_action("Originate", within=5)
    [originate] = server.fake.actions_named("Originate")
    assert (originate.headers.get("Channel"), originate.headers.get("ChannelId")) == (
        "PJSIP/unit-04",
        "ldnt-1-1",
    )
    calling = await notice_state(server, number, "calling")
    assert calling["try"]["name"] == STAFF
    assert [n["case"] for n in (await server.ok("/api/v1/notices"))["notices"]] == [number]

    server.push([user_event("LdNotice", Notice="1", Try="1", Result="accepted")])
    accepted = await notice_state(server, number, "accepted")
    assert accepted["reached"] == STAFF

    async def signed() -> dict[str, Any] | None:
        case: dict[str, Any] = await server.ok(f"/api/v1/cases/{number}")
        return case if case["state"] == "signed" else None

    case = await server.eventually(signed, "the case signed")
    sign = next(e for e in case["timeline"] if e["command"] == "sign")
    assert (sign["actor"], sign["role"], sign["unit"]) == (STAFF, "unit", "urban")
    # The end, told after the key, changes nothing.
    server.push([user_event("LdNoticeEnd", Notice="1", Try="1", Result="accepted")])
    await server.applied()
    assert (await server.ok("/api/v1/notices"))["notices"] == []
    case = await server.ok(f"/api/v1/cases/{number}")
    assert [e["command"] for e in case["timeline"]].count("notice") == 1


async def test_every_role_reads_the_notices_a_unit_only_its_own(
    start_liandong: StartLiandong, db_url: str
) -> None:
    tokens = await make_users(db_url)
    server = await start_liandong()
    number = await urgent_dispatch(server, tokens)
    await notice_state(server, number, "calling")
    for user in ("op110", "op12345", "supervisor", "admin"):
        status, body = await request(server, "GET", f"/api/v1/notices?case={number}", tokens[user])
        assert status == 200 and len(body["notices"]) == 1, user
        status, body = await request(server, "GET", "/api/v1/notices", tokens[user])
        assert status == 200 and len(body["notices"]) == 1, user
    # The water company was not called: it reads none of urban's notices.
    for path in (f"/api/v1/notices?case={number}", "/api/v1/notices"):
        status, body = await request(server, "GET", path, tokens["water"])
        assert (status, body["notices"]) == (200, []), path
    urban = await make_urban_token(db_url)
    status, body = await request(server, "GET", "/api/v1/notices", urban)
    assert status == 200 and [n["unit"] for n in body["notices"]] == ["urban"]
    status, _ = await request(server, "GET", "/api/v1/notices?case=2026-999999", tokens["admin"])
    assert status == 404
    async with server.client.get("/api/v1/notices") as resp:
        assert resp.status == 401


async def make_urban_token(db_url: str) -> str:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            issued = await TokenRepository(session).create("城管局 值班员", Role.UNIT, unit="urban")
            await session.commit()
    finally:
        await engine.dispose()
    return issued.plain


async def test_the_live_feed_shows_a_unit_its_own_notices_only(
    start_liandong: StartLiandong, db_url: str
) -> None:
    tokens = await make_users(db_url)
    server = await start_liandong()
    urban = await make_urban_token(db_url)
    async with (
        server.client.ws_connect("/api/v1/live", headers=server.auth(urban)) as mine,
        server.client.ws_connect("/api/v1/live", headers=server.auth(tokens["water"])) as other,
    ):
        await mine.receive_json(timeout=5)  # hello
        await other.receive_json(timeout=5)
        number = await urgent_dispatch(server, tokens)
        seen: list[dict[str, Any]] = []
        while not any(m["type"] == "notice.state" for m in seen):
            seen.append(await mine.receive_json(timeout=5))
        notice = next(m for m in seen if m["type"] == "notice.state")["data"]
        assert (notice["case"], notice["unit"]) == (number, "urban")
        await server.applied()
        others = []
        while True:
            try:
                others.append(await other.receive_json(timeout=0.5))
            except TimeoutError:
                break
        assert not [m for m in others if m["type"].startswith("notice.")], others


async def test_a_unit_nobody_reached_is_counted_and_its_case_flagged(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    server = await start_liandong(case_config=no_gap_config(tmp_path))
    number = await urgent_dispatch(server, tokens)
    for attempt in (1, 2, 3):  # staff, office, leader: every phone busy
        await server.fake.wait_for_action("Originate", count=attempt, within=5)
        server.push([originate_failed(f"ldnt-1-{attempt}", "5")])
    notice = await notice_state(server, number, "unreached")
    assert [c["result"] for c in notice["calls"]] == ["busy", "busy", "busy"]

    view = await server.ok("/api/v1/supervision/open", tokens["supervisor"])
    [row] = [c for c in view["cases"] if c["number"] == number]
    assert row["notice"] == "unreached"
    figures = await server.ok("/api/v1/supervision/units", tokens["supervisor"])
    [urban] = [u for u in figures["units"] if u["unit"] == "urban"]
    assert urban["notices"] == {"made": 1, "accepted": 0, "declined": 0, "unreached": 1}
    assert figures["total"]["notices"]["unreached"] == 1
    async with server.client.get(
        "/api/v1/supervision/units",
        params={"format": "csv"},
        headers=server.auth(tokens["supervisor"]),
    ) as resp:
        text = (await resp.read()).decode("utf-8-sig")
    header, *lines = text.splitlines()
    column = header.split(",").index("通知未送达数")
    [urban_line] = [line for line in lines if line.startswith("urban,")]
    assert urban_line.split(",")[column] == "1"


async def test_co_units_are_called_too_and_their_keys_move_nothing(
    start_liandong: StartLiandong, db_url: str
) -> None:
    """The lead unit's 1 signs the case; a co-unit's call goes on after it,
    and its 1 is a line on the case (it cannot sign); another co-unit's 9
    is a line with its reason (it cannot ask for a return)."""
    tokens = await make_users(db_url)
    server = await start_liandong()
    number = await urgent_dispatch(server, tokens, co_units=("water", "chengguan"))
    await server.fake.wait_for_action("Originate", count=3, within=5)
    dialled = {a.headers.get("ChannelId"): a.headers.get("Channel") for a in server.fake.actions}
    assert dialled["ldnt-1-1"] == "PJSIP/unit-04"  # urban, the lead
    assert dialled["ldnt-2-1"] == "PJSIP/unit-01"  # water, on its PBX line
    assert dialled["ldnt-3-1"] == "PJSIP/13900000103@trunk-12345"  # chengguan's staff

    server.push([user_event("LdNotice", Notice="1", Try="1", Result="accepted")])
    await notice_state(server, number, "accepted")

    async def signed() -> dict[str, Any] | None:
        case: dict[str, Any] = await server.ok(f"/api/v1/cases/{number}")
        return case if case["state"] == "signed" else None

    await server.eventually(signed, "the case signed by the lead unit")
    server.push(
        [
            user_event("LdNotice", Notice="2", Try="1", Result="accepted"),
            user_event("LdNotice", Notice="3", Try="1", Result="declined", Reason="2"),
        ]
    )

    async def both_told() -> list[dict[str, Any]] | None:
        found = (await server.ok(f"/api/v1/notices?case={number}"))["notices"]
        states = {n["unit"]: (n["state"], n["co_unit"]) for n in found}
        expected = {
            "urban": ("accepted", False),
            "water": ("accepted", True),
            "chengguan": ("declined", True),
        }
        return found if states == expected else None

    await server.eventually(both_told, "the co-units' keys")
    assert server.fake.actions_named("Hangup") == []  # the lead's signing called nobody off
    case = await server.eventually(signed, "the case still signed")
    commands = [e["command"] for e in case["timeline"]]
    assert commands.count("sign") == 1 and "request_return" not in commands
    lines = [e["data"]["note"] for e in case["timeline"] if e["command"] == "notice"]
    assert sorted(lines) == sorted(
        [
            "联动通知第1次呼叫宝丰县城市管理局工作人员 罗某：按1签收",
            "联动通知第1次呼叫协办单位宝丰县自来水公司工作人员 谢某：按1确认接收",
            "联动通知第1次呼叫协办单位城关镇工作人员 陈某：按9反馈非本单位事项（不在本单位辖区）",
        ]
    )
