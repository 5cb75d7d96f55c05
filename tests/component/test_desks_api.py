"""The desks' routes against every role, with the fake AMI as Asterisk:
who may read the desks and act for a phone, what a masked role reads of a
waiting caller, and what a unit reads of a call's waits and menu steps."""

from __future__ import annotations

import time
from typing import Any

import pytest

from common.vocabulary import TOKEN_ROLES, Role
from tests.component.conftest import Liandong, StartLiandong, make_tokens, trace

CALLER = "13912345678"


def waiting_caller(uid: str = "ld-1.1") -> list[tuple[str, dict[str, str]]]:
    now = f"{time.time():.6f}"
    common = {"Uniqueid": uid, "Linkedid": uid, "Timestamp": now}
    return [
        (
            "UserEvent",
            {
                **common,
                "UserEvent": "LdQueueEnter",
                "Desk": "110",
                "Via": "citizen",
                "QueuePriority": "0",
                "Priority": "3",
            },
        ),
        (
            "QueueCallerJoin",
            {
                **common,
                "Queue": "desk-110",
                "Position": "1",
                "Count": "1",
                "CallerIDNum": CALLER,
                "Channel": "PJSIP/trunk-110-00000001",
            },
        ),
        (
            "UserEvent",
            {
                **common,
                "UserEvent": "LdIvr",
                "Menu": "12345",
                "Node": "main",
                "Key": "1",
                "Mark": "hint=enquiry",
                "Priority": "5",
            },
        ),
    ]


Desks = tuple[Liandong, dict[Role, str], str]


@pytest.fixture
async def desks(start_liandong: StartLiandong, db_url: str) -> Desks:
    """The server, a token per role, and the id of a call whose caller waits at 110."""
    server = await start_liandong()
    server.fake.queues = [
        {
            "Event": "QueueMember",
            "Queue": "desk-110",
            "Location": "PJSIP/op110-1",
            "Status": "1",
            "Paused": "0",
        },
    ]
    tokens = await make_tokens(db_url, TOKEN_ROLES)
    # A real call's first event (the citizen's channel), then the queue's.
    [first] = [m for m in trace("answered_110") if m.event == "Newchannel"][:1]
    server.push([first])
    uid = first["Uniqueid"]
    for name, headers in waiting_caller(uid):
        server.fake.push_event(name, headers)
    await server.applied()
    return server, tokens, first["Linkedid"]


async def post(server: Liandong, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    async with server.client.post(path, json=body, headers=server.auth(token)) as resp:
        return resp.status, await resp.json()


async def test_every_role_against_get_desks(desks: Desks) -> None:
    server, tokens, _ = desks
    for role, token in tokens.items():
        status, body = await server.get("/api/v1/desks", token)
        if role is Role.UNIT:
            assert status == 403, role
            continue
        assert status == 200, (role, body)
        [line] = [d["waiting"] for d in body["desks"] if d["desk"] == "110"]
        assert [w["priority"] for w in line] == [0]  # QueuePriority, not the dialplan's Priority
        number = line[0]["caller_number"]
        if role is Role.SUPERVISOR:
            assert number != CALLER and number.startswith("139"), number
        else:
            assert number == CALLER, role


async def test_every_role_against_operator_actions(
    desks: Desks,
) -> None:
    server, tokens, _ = desks
    for role, token in tokens.items():
        status, body = await post(server, "/api/v1/operators/op110-1/ready", token)
        expected = {Role.UNIT: 403, Role.OPERATOR_12345: 403, Role.OPERATOR_110: 403}.get(role, 202)
        assert status == expected, (role, body)
    assert len(server.fake.actions_named("QueuePause")) == 2  # admin, supervisor
    admin = tokens[Role.ADMIN]
    assert (await post(server, "/api/v1/operators/op110-1/nap", admin))[0] == 404
    assert (await post(server, "/api/v1/operators/unit-01/login", admin))[0] == 404
    status, body = await post(server, "/api/v1/operators/op110-1/pause", admin, {"reason": "x"})
    assert status == 400 and body["error"]["details"] == {"field": "reason"}
    status, _ = await post(server, "/api/v1/operators/op110-1/pause", admin, {"reason": "小休"})
    [pause] = [a for a in server.fake.actions_named("QueuePause") if a.headers.get("Reason")]
    assert status == 202 and pause.headers.get("Reason") == "小休"


async def test_a_unit_reads_no_waits_or_menu_steps_on_a_call(
    desks: Desks,
) -> None:
    server, tokens, call_id = desks

    # The desks' records are written in their own task.
    async def saved() -> dict[str, Any] | None:
        status, body = await server.get(f"/api/v1/calls/{call_id}")
        return body if status == 200 and body.get("menu_steps") else None

    call = await server.eventually(saved, "the call's menu step saved")
    assert call["menu_steps"][0]["mark"] == "hint=enquiry"
    assert [w["outcome"] for w in call["queue_waits"]] == ["waiting"]
    status, body = await server.get(f"/api/v1/calls/{call_id}", tokens[Role.UNIT])
    assert status in (200, 403, 404), body  # whether a unit reads this call at all is telephony's
    if status == 200:
        assert "queue_waits" not in body and "menu_steps" not in body
