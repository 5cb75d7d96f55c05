"""Follow-up calls (回访) through the real app with the fake AMI as Asterisk:
a case the 12345 desk closes rings its caller (through the follow-up trunk),
the rating keyed in goes on the case — a 5 re-opens it, a 2 does not — a
call not answered is a line on the case and is tried again, and an
anonymous caller or one who asked not to be called is never called."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ami_client import AmiMessage
from startup.settings import DEFAULT_CASE_CONFIG
from tests.component.cases_kit import make_users
from tests.component.conftest import Liandong, StartLiandong

CALLER = "13912345678"


def at_once_config(tmp_path: Path) -> Path:
    """The shipped rules, with follow-ups at once, all day, without a comment."""
    folder = tmp_path / "case-config"
    shutil.copytree(DEFAULT_CASE_CONFIG, folder)
    rules = folder / "outbound.yaml"
    text = rules.read_text(encoding="utf-8")
    for old, new in (
        ("after: 2h", "after: 0m"),
        ('hours: "08:30-20:00"', 'hours: "00:00-23:59"'),
        ("comment_s: 20", "comment_s: 0"),
        ("retry_gap_s: 1800", "retry_gap_s: 60"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    rules.write_text(text, encoding="utf-8")
    return folder


async def request(
    server: Liandong, method: str, path: str, token: str, body: Any = None
) -> tuple[int, Any]:
    async with server.client.request(method, path, json=body, headers=server.auth(token)) as resp:
        return resp.status, await resp.json()


async def answered_directly(server: Liandong, tokens: dict[str, str], **caller: Any) -> str:
    """A 12345 case opened with the caller's number and answered at the desk."""
    body = {"desk": "12345", "description": "咨询公积金提取", "caller_number": CALLER, **caller}
    status, case = await request(server, "POST", "/api/v1/cases", tokens["op12345"], body)
    assert status == 201, case
    number = str(case["number"])
    for command, move in (
        ("classify", {"demand_type": "enquiry", "route": "hotline"}),
        ("answer_directly", {"answer": "已告知办理材料"}),
    ):
        status, case = await request(
            server, "POST", f"/api/v1/cases/{number}/{command}", tokens["op12345"], move
        )
        assert status == 200, (command, case)
    return number


def follow_up_end(
    result: str, rating: str = "", follow_up: str = "1", recording: str = ""
) -> AmiMessage:
    return AmiMessage(
        (
            ("Event", "UserEvent"),
            ("UserEvent", "LdFollowUpEnd"),
            ("FollowUp", follow_up),
            ("Try", "1"),
            ("Result", result),
            ("Rating", rating),
            ("Recording", recording),
        )
    )


async def case_state(server: Liandong, number: str, state: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        case: dict[str, Any] = await server.ok(f"/api/v1/cases/{number}")
        return case if case["state"] == state else None

    return await server.eventually(probe, f"case {number} {state}")


async def test_a_closed_case_rings_its_caller_and_a_5_reopens_it(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    server = await start_liandong(case_config=at_once_config(tmp_path))
    number = await answered_directly(server, tokens)
    await server.fake.wait_for_action("Originate", within=5)
    [call] = server.fake.actions_named("Originate")
    assert (call.headers.get("Channel"), call.headers.get("ChannelId")) == (
        f"PJSIP/{CALLER}@trunk-12345",
        "ldfu-1-1",
    )
    listed = await server.ok("/api/v1/follow-ups", tokens["supervisor"])
    assert [(f["case"], f["state"]) for f in listed["follow_ups"]] == [(number, "calling")]
    assert CALLER not in str(listed)

    server.push([follow_up_end("rated", "5")])
    case = await case_state(server, number, "reopened")
    moves = [(e["command"], e["actor"]) for e in case["timeline"]][-2:]
    assert moves == [("follow_up", "回访电话"), ("reopen", "回访电话")]
    assert case["timeline"][-2]["data"]["satisfaction"] == 5
    assert "评分5" in case["timeline"][-1]["data"]["reason"]
    [done] = (await server.ok(f"/api/v1/follow-ups?case={number}"))["follow_ups"]
    assert (done["state"], done["rating"]) == ("rated", 5)


async def test_a_2_is_stored_and_the_case_stays_closed(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    server = await start_liandong(case_config=at_once_config(tmp_path))
    number = await answered_directly(server, tokens)
    await server.fake.wait_for_action("Originate", within=5)
    server.push([follow_up_end("rated", "2")])

    async def rated() -> dict[str, Any] | None:
        case: dict[str, Any] = await server.ok(f"/api/v1/cases/{number}")
        return case if case["timeline"][-1]["command"] == "follow_up" else None

    case = await server.eventually(rated, "the rating on the case")
    assert case["state"] == "closed" and case["timeline"][-1]["data"]["satisfaction"] == 2


async def test_a_call_not_answered_is_on_the_case_and_tried_again_later(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    server = await start_liandong(case_config=at_once_config(tmp_path))
    number = await answered_directly(server, tokens)
    await server.fake.wait_for_action("Originate", within=5)
    server.push(
        [
            AmiMessage(
                (
                    ("Event", "OriginateResponse"),
                    ("Response", "Failure"),
                    ("Uniqueid", "ldfu-1-1"),
                    ("Reason", "3"),
                )
            )
        ]
    )

    async def noted() -> dict[str, Any] | None:
        case: dict[str, Any] = await server.ok(f"/api/v1/cases/{number}")
        last = case["timeline"][-1]
        return case if last["command"] == "follow_up_call" else None

    case = await server.eventually(noted, "the call's line on the case")
    assert case["timeline"][-1]["data"]["note"].startswith("回访电话第1次：无应答，下次 ")
    [again] = (await server.ok(f"/api/v1/follow-ups?case={number}"))["follow_ups"]
    assert (again["state"], again["tries"], again["last_result"]) == (
        "scheduled",
        1,
        "no_answer",
    )
    assert len(server.fake.actions_named("Originate")) == 1  # the next one 60 s later


async def test_an_anonymous_caller_or_one_who_refused_is_never_called(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    server = await start_liandong(case_config=at_once_config(tmp_path))
    quiet = await answered_directly(server, tokens, anonymous=True)
    refused = await answered_directly(server, tokens, no_follow_up=True)
    called = await answered_directly(server, tokens)
    await server.fake.wait_for_action("Originate", within=5)
    listed = (await server.ok("/api/v1/follow-ups", tokens["admin"]))["follow_ups"]
    assert [f["case"] for f in listed] == [called]
    for number in (quiet, refused):
        assert (await server.ok(f"/api/v1/follow-ups?case={number}"))["follow_ups"] == []
    assert len(server.fake.actions_named("Originate")) == 1
    status, _ = await request(server, "GET", "/api/v1/follow-ups", tokens["water"])
    assert status == 403  # a unit does not read the citizens' follow-ups
