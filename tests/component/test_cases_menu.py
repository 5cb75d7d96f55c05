"""The 12345 voice menu on the caller's case, through the real app with the
fake AMI replaying the steps a real menu walk raises (`UserEvent(LdIvr)`, one
per node entered and key pressed, as the generated extensions_ivr.conf does):
the demand type chosen is the case's hint (not its classification); the
emergency key hands the case to 110, urgent, with the key on its timeline;
a hang-up in the menu is on the case before it is cancelled; a step that
comes before its case waits for it; a step comes once however often it is
sent; a unit and a supervisor read these lines without the caller's number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ami_client import AmiMessage
from common.vocabulary import Role
from records.http import CASE_CALLS
from tests.component.conftest import Liandong, StartLiandong, make_tokens, replace_values, trace

CALLER = "13800001"  # the recorded 12345 call's number
ARRIVAL = next(m for m in trace("noanswer_12345") if m.event == "Newchannel")  # the citizen
HANGUP = next(
    m
    for m in trace("noanswer_12345")
    if m.event == "Hangup" and m["Uniqueid"] == ARRIVAL["Uniqueid"]
)
CALL = ARRIVAL["Linkedid"]
ENTERED = [("greeting", "", ""), ("main", "", "")]


def menu_events(
    marks: Sequence[tuple[str, str, str]], arrival: AmiMessage = ARRIVAL
) -> list[AmiMessage]:
    """The UserEvents ivr-mark raises for (node, key, mark), 0.5 s apart
    after the caller's channel appeared."""
    start = float(arrival["Timestamp"])
    return [
        AmiMessage(
            (
                ("Event", "UserEvent"),
                ("Privilege", "user,all"),
                ("Channel", arrival["Channel"]),
                ("Uniqueid", arrival["Uniqueid"]),
                ("Linkedid", arrival["Linkedid"]),
                ("Timestamp", f"{start + 0.5 * (i + 1):.6f}"),
                ("UserEvent", "LdIvr"),
                ("Menu", "12345"),
                ("Node", node),
                ("Key", key),
                ("Mark", mark),
            )
        )
        for i, (node, key, mark) in enumerate(marks)
    ]


async def case_of_call(server: Liandong, call_id: str = CALL) -> str:
    async def probe() -> str | None:
        status, call = await server.get(f"/api/v1/calls/{call_id}")
        return call["cases"][0] if status == 200 and call.get("cases") else None

    return await server.eventually(probe, f"call {call_id}'s case")


async def case_with(
    server: Liandong, number: str, entries: int, token: str | None = None
) -> dict[str, Any]:
    """The case once its timeline has `entries` entries."""

    async def probe() -> dict[str, Any] | None:
        status, case = await server.get(f"/api/v1/cases/{number}", token)
        return case if status == 200 and len(case["timeline"]) >= entries else None

    return await server.eventually(probe, f"case {number} with {entries} timeline entries")


async def move(server: Liandong, number: str, command: str, token: str, **body: Any) -> Any:
    async with server.client.post(
        f"/api/v1/cases/{number}/{command}", json=body, headers=server.auth(token)
    ) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


CHOICE = [
    *ENTERED,
    ("main", "9", ""),
    ("main", "", ""),
    ("main", "2", "hint=help"),
    ("help", "", ""),
]


async def test_a_demand_type_chosen_is_the_cases_hint_and_the_desk_still_classifies(
    start_liandong: StartLiandong, db_url: str
) -> None:
    server = await start_liandong()
    server.push([ARRIVAL, *menu_events(CHOICE)])
    number = await case_of_call(server)
    case = await case_with(server, number, 2)

    assert case["menu"] == {"hint": "help", "hint_label": "求助", "emergency": False}
    # A hint, not a classification: the case waits for the desk as before.
    assert (case["state"], case["desk"], case["demand_type"]) == ("received", "12345", None)
    opened, chosen = case["timeline"]
    assert opened["command"] == "open"
    assert (chosen["command"], chosen["actor"], chosen["role"]) == (
        "menu",
        "12345语音导航",
        "system",
    )
    assert chosen["from"] == chosen["to"] == "received"
    assert chosen["data"]["note"] == "语音导航：按2选择「求助」，转12345人工受理"
    assert chosen["data"]["call"] == CALL
    menu = chosen["data"]["menu"]
    assert (menu["outcome"], menu["node"], menu["key"], menu["hint"]) == (
        "choice",
        "main",
        "2",
        "help",
    )
    # Every node entered and key pressed on the way, the wrong key too.
    assert [(s["node"], s["key"]) for s in menu["path"]] == [
        ("greeting", None),
        ("main", None),
        ("main", "9"),
        ("main", None),
        ("main", "2"),
        ("help", None),
    ]

    op12345 = (await make_tokens(db_url, [Role.OPERATOR_12345]))[Role.OPERATOR_12345]
    classified = await move(
        server,
        number,
        "classify",
        op12345,
        demand_type="complaint",
        route="hotline",
        category="water-supply",
        township="chengguan",
        description="小区停水三天了",
    )
    # The operator's decision stands beside the caller's choice.
    assert classified["demand_type"] == "complaint" and classified["menu"]["hint"] == "help"


EMERGENCY = [("greeting", "", ""), ("greeting", "0", "emergency"), ("emergency", "", "")]


async def test_the_emergency_key_hands_the_case_to_110_urgent_with_the_key_on_its_timeline(
    start_liandong: StartLiandong, db_url: str
) -> None:
    server = await start_liandong()
    server.push([ARRIVAL, *menu_events(EMERGENCY)])
    number = await case_of_call(server)
    case = await case_with(server, number, 2)

    assert (case["desk"], case["state"], case["urgency"]) == ("110", "police_handling", "urgent")
    assert case["menu"] == {"hint": None, "hint_label": None, "emergency": True}
    referral = case["timeline"][-1]
    # The hand-over a one-key transfer to 110 makes, given by the 12345 desk's menu.
    assert (referral["command"], referral["actor"], referral["role"]) == (
        "refer_to_110",
        "12345语音导航",
        "operator_12345",
    )
    assert (referral["from"], referral["to"]) == ("received", "police_handling")
    data = referral["data"]
    assert data["note"] == "语音导航紧急键：按0，12345 → 110，紧急"
    assert (data["to_desk"], data["urgency"]) == ("110", "urgent")
    assert (data["menu"]["node"], data["menu"]["key"], data["menu"]["outcome"]) == (
        "greeting",
        "0",
        "emergency",
    )
    # 110 holds it now, and may send it back like any hand-over from 12345.
    op110 = (await make_tokens(db_url, [Role.OPERATOR_110]))[Role.OPERATOR_110]
    as_110 = await server.ok(f"/api/v1/cases/{number}", op110)
    assert "send_back" in as_110["allowed"] and "police_close" in as_110["allowed"]


async def test_a_hang_up_in_the_menu_is_on_the_case_before_it_is_cancelled(
    start_liandong: StartLiandong,
) -> None:
    server = await start_liandong()
    server.push([ARRIVAL, *menu_events([*ENTERED, ("main", "8", "")]), HANGUP])
    number = await case_of_call(server)
    case = await case_with(server, number, 3)

    assert [e["command"] for e in case["timeline"]] == ["open", "menu", "cancel"]
    hung_up = case["timeline"][1]["data"]
    assert hung_up["note"] == "语音导航：来电人在「main」处挂断"
    assert [(s["node"], s["key"]) for s in hung_up["menu"]["path"]] == [
        ("greeting", None),
        ("main", None),
        ("main", "8"),
    ]
    assert case["state"] == "cancelled"


async def test_steps_that_come_before_the_case_wait_for_it(
    start_liandong: StartLiandong,
) -> None:
    """The call's channel is only seen after its steps (the server came back
    mid-call): the steps are recorded once the case is opened, not lost."""
    server = await start_liandong()
    server.push(menu_events(CHOICE))
    await server.applied()
    server.push([ARRIVAL])
    number = await case_of_call(server)
    case = await case_with(server, number, 2)
    assert [e["command"] for e in case["timeline"]] == ["open", "menu"]
    assert case["menu"]["hint"] == "help"


async def test_a_step_sent_again_or_replayed_after_a_restart_is_recorded_once(
    start_liandong: StartLiandong,
) -> None:
    first = await start_liandong()
    walk = menu_events(EMERGENCY)
    first.push([ARRIVAL, *walk, *walk])  # the same events twice
    number = await case_of_call(first)
    await case_with(first, number, 2)
    await first.applied()
    await first.app[CASE_CALLS].idle()
    await first.client.close()

    second = await start_liandong()  # its walks start empty
    second.push(walk)
    await second.applied()
    await second.app[CASE_CALLS].idle()
    case = await second.ok(f"/api/v1/cases/{number}")
    assert [e["command"] for e in case["timeline"]] == ["open", "refer_to_110"]
    assert case["desk"] == "110"
    # The call's page lists each step once too.
    call = await second.call(CALL)
    assert len(call["menu_steps"]) == len(walk)


async def test_units_and_supervisors_read_the_menu_lines_without_the_callers_number(
    start_liandong: StartLiandong, db_url: str
) -> None:
    server = await start_liandong()
    server.push([ARRIVAL, *menu_events(CHOICE)])
    number = await case_of_call(server)
    await case_with(server, number, 2)
    tokens = await make_tokens(db_url, [Role.OPERATOR_12345, Role.SUPERVISOR, Role.UNIT])
    op12345 = tokens[Role.OPERATOR_12345]
    await move(
        server,
        number,
        "classify",
        op12345,
        demand_type="help",
        route="hotline",
        category="water-supply",
        township="chengguan",
        description="小区停水三天了",
    )
    await move(server, number, "dispatch", op12345, lead_unit="water")

    desk = await server.ok(f"/api/v1/cases/{number}", op12345)
    assert desk["caller"]["number"] == CALLER  # the desk sees who called
    for role in (Role.SUPERVISOR, Role.UNIT):
        case = await server.ok(f"/api/v1/cases/{number}", tokens[role])
        assert case["caller"]["number"] == "13****01", role
        assert CALLER not in json.dumps(case, ensure_ascii=False), role
        [line] = [e for e in case["timeline"] if e["command"] == "menu"]
        assert line["data"]["note"] == "语音导航：按2选择「求助」，转12345人工受理", role
        assert case["menu"]["hint_label"] == "求助", role


async def test_a_withheld_caller_typing_digits_leaves_no_number_on_the_case(
    start_liandong: StartLiandong,
) -> None:
    """What a caller types to look a case up (it may be their own number) is
    counted on the case, not kept; a withheld number stays withheld."""
    server = await start_liandong()
    arrival = replace_values([ARRIVAL], CALLER, "anonymous")[0]
    typed = "13912345678"
    lookup = [
        *ENTERED,
        ("main", "5", ""),
        ("case_status", "", ""),
        ("case_status", typed, ""),
        ("case_status", "", "case_not_found"),
    ]
    server.push([arrival, *menu_events(lookup, arrival)])
    number = await case_of_call(server)
    case = await case_with(server, number, 2)
    line = case["timeline"][-1]["data"]
    assert line["note"] == "语音导航：输入工单编号查询办理进度，未找到其工单"
    assert {"node": "case_status", "key": None, "typed": len(typed)} in line["menu"]["path"]
    assert typed not in json.dumps(case) and case["caller"]["number"] is None
