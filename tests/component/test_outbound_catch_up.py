"""The server's own calls after a stop at the wrong moment, and calls the
case no longer needs, through the real app with the fake AMI as Asterisk:

- a dispatch or a closing made while the notices or the follow-ups were off
  (the server stopped between the case's move and the call's row) gets its
  call when the server starts again — once, and never for an anonymous
  caller;
- an operator who rates the case by hand calls the follow-up off, and a
  follow-up call already ringing is hung up (a key pressed there would not
  be counted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.component.cases_kit import make_users
from tests.component.conftest import Liandong, StartLiandong
from tests.component.test_follow_ups_api import answered_directly, at_once_config, request
from tests.component.test_notices_api import urgent_dispatch


def switched_off(folder: Path, section: str) -> Path:
    """The same rules with one section of outbound.yaml off."""
    rules = folder / "outbound.yaml"
    text = rules.read_text(encoding="utf-8")
    head = f"\n{section}:"
    start = text.index(head)
    on = text.index("enabled: true", start)
    rules.write_text(text[:on] + "enabled: false" + text[on + len("enabled: true") :])
    return folder


async def follow_ups_of(server: Liandong, number: str) -> list[dict[str, Any]]:
    return list((await server.ok(f"/api/v1/follow-ups?case={number}"))["follow_ups"])


async def test_a_closing_made_while_follow_ups_were_off_is_called_after_the_restart(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    rules = at_once_config(tmp_path)
    first = await start_liandong(case_config=switched_off(rules, "follow_up"))
    closed = await answered_directly(first, tokens)
    anonymous = await answered_directly(first, tokens, anonymous=True)
    await first.applied()
    assert await follow_ups_of(first, closed) == []
    await first.client.close()

    second = await start_liandong(case_config=at_once_config(tmp_path / "on"))
    await second.fake.wait_for_action("Originate", within=5)
    [made] = await follow_ups_of(second, closed)
    assert made["state"] == "calling"
    assert await follow_ups_of(second, anonymous) == []
    await second.client.close()

    third = await start_liandong(case_config=at_once_config(tmp_path / "again"))
    await third.applied()
    assert [f["id"] for f in await follow_ups_of(third, closed)] == [made["id"]]  # not twice


async def test_a_dispatch_made_while_notices_were_off_rings_the_unit_after_the_restart(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    first = await start_liandong(case_config=switched_off(at_once_config(tmp_path), "notices"))
    number = await urgent_dispatch(first, tokens)
    await first.applied()
    assert (await first.ok(f"/api/v1/notices?case={number}"))["notices"] == []
    await first.client.close()

    second = await start_liandong(case_config=at_once_config(tmp_path / "on"))
    await second.fake.wait_for_action("Originate", within=5)
    [originate] = second.fake.actions_named("Originate")
    assert originate.headers.get("Channel") == "PJSIP/unit-04"
    [notice] = (await second.ok(f"/api/v1/notices?case={number}"))["notices"]
    assert notice["state"] == "calling"


async def test_a_rating_by_hand_calls_the_follow_up_off_and_hangs_up_its_call(
    start_liandong: StartLiandong, db_url: str, tmp_path: Path
) -> None:
    tokens = await make_users(db_url)
    server = await start_liandong(case_config=at_once_config(tmp_path))
    number = await answered_directly(server, tokens)
    await server.fake.wait_for_action("Originate", within=5)
    [originate] = server.fake.actions_named("Originate")

    # The operator phoned the citizen meanwhile and types in what they said.
    status, case = await request(
        server, "POST", f"/api/v1/cases/{number}/follow_up", tokens["op12345"], {"satisfaction": 1}
    )
    assert status == 200, case
    await server.fake.wait_for_action("Hangup", within=5)
    [hangup] = server.fake.actions_named("Hangup")
    assert hangup.headers.get("Channel") == originate.headers.get("ChannelId")

    async def called_off() -> bool:
        return [f["state"] for f in await follow_ups_of(server, number)] == ["cancelled"]

    await server.eventually(called_off, "the follow-up called off")
    case = await server.ok(f"/api/v1/cases/{number}")
    rating = next(e for e in case["timeline"] if e["command"] == "follow_up")
    assert (rating["role"], rating["data"]["satisfaction"]) == ("operator_12345", 1)
