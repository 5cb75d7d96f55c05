"""A callback on the case of the call the caller hung up, through the real
app with the fake AMI: the booking (made as the FastAGI request makes it,
`CallbackService.book`), then the call the server places to call them back
as Asterisk reports it — the stand-in Local pair, the dialplan's
`UserEvent(LdCallbackDial)` when an operator takes it, the caller's leg on
the trunk, `UserEvent(LdCallbackDialEnd)` with Dial's status. The case shows
the booking, the connection (and who), an attempt not reached (and the next
try), the failure after the last attempt; the caller hanging up to be called
back does not cancel their case; the call back joins that case and opens no
other; a change is recorded once, even told again after a restart; a closed
case takes nothing; units and supervisors read it without the number.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from ami_client import AmiMessage
from common.vocabulary import Role
from county.calendar import COUNTY_TZ
from ivr_flows.core.callbacks import Callback
from ivr_flows.http import CALLBACKS
from ivr_flows.service.callbacks import CallbackService
from records.http import CASE_CALLS
from tests.component.conftest import Liandong, StartLiandong, make_tokens, parse_iso
from tests.component.test_cases_menu import (
    ARRIVAL,
    CALL,
    CALLER,
    HANGUP,
    case_of_call,
    case_with,
    menu_events,
    move,
)

IVR_FLOWS = Path(__file__).resolve().parents[2] / "ivr_flows"
START = float(HANGUP["Timestamp"]) + 60  # the call back comes a minute after the hang-up
PLACE = 3  # the caller's place in line when they pressed 1


def channel_event(
    event: str, channel: str, uniqueid: str, linkedid: str, at: float, **more: str
) -> AmiMessage:
    """An event of one channel, shaped like Asterisk's (ChanVariables empty,
    as on a channel's first event)."""
    number = more.pop("number", CALLER)
    headers: list[tuple[str, str]] = [
        ("Event", event),
        ("Privilege", "call,all"),
        ("Timestamp", f"{at:.6f}"),
        ("SystemName", "liandong"),
        ("Channel", channel),
        ("ChannelState", more.pop("state", "0")),
        ("CallerIDNum", number),
        ("CallerIDName", "回拨"),
        ("ConnectedLineNum", "<unknown>"),
        ("ConnectedLineName", "<unknown>"),
        ("Language", "zh"),
        ("AccountCode", ""),
        ("Context", more.pop("context", "ld-callback-dial")),
        ("Exten", more.pop("exten", "s")),
        ("Priority", "1"),
        ("Uniqueid", uniqueid),
        ("Linkedid", linkedid),
        *[("ChanVariable", f"{name}=") for name in ("LD_ROLE", "LD_TRUNK", "LD_DESK", "LD_CASE")],
        *more.items(),
    ]
    return AmiMessage(tuple(headers))


class CallBack:
    """The call the server places to call callback `cb_id` back, attempt
    `attempt`: its channels and what the dialplan says on them."""

    def __init__(self, cb_id: int, attempt: int = 1) -> None:
        self.cb_id = cb_id
        base = f"liandong-{int(START)}.{100 * attempt}"
        self.call_id = f"{base}1"  # the Local pair's ;1: the call's first channel
        self.one = (f"Local/{cb_id}@ld-callback-place-0000000{attempt};1", f"{base}1")
        self.two = (f"Local/{cb_id}@ld-callback-place-0000000{attempt};2", f"{base}2")
        self.operator = (f"PJSIP/op12345-1-000000{attempt}a", f"{base}3")
        self.citizen = (f"PJSIP/trunk-12345-000000{attempt}b", f"{base}4")
        self.t = START + 300 * (attempt - 1)

    def _at(self, step: float) -> float:
        return self.t + step

    def new(self, leg: tuple[str, str], step: float, **more: str) -> AmiMessage:
        return channel_event("Newchannel", *leg, self.call_id, self._at(step), **more)

    def user_event(self, kind: str, step: float, **headers: str) -> AmiMessage:
        return channel_event(
            "UserEvent", *self.one, self.call_id, self._at(step), UserEvent=kind, **headers
        )

    def hangup(self, leg: tuple[str, str], step: float) -> AmiMessage:
        return channel_event(
            "Hangup", *leg, self.call_id, self._at(step), **{"Cause": "16", "Cause-txt": "Normal"}
        )

    def taken(self) -> list[AmiMessage]:
        """The stand-in in line, an operator takes it, the caller is dialled."""
        return [
            self.new(self.one, 0),
            self.new(self.two, 0.001, context="ld-callback-place", exten=str(self.cb_id)),
            self.new(self.operator, 5, number="8201", context="from-desk"),
            self.user_event("LdCallbackDial", 6, Callback=str(self.cb_id), Phone="op12345-1"),
            self.new(self.citizen, 6.1, context="from-trunk-12345"),
        ]

    def ended(self, status: str) -> list[AmiMessage]:
        """The dial's end (the h extension of ;1), then every channel gone."""
        return [
            self.user_event("LdCallbackDialEnd", 30, Callback=str(self.cb_id), DialStatus=status),
            *(self.hangup(leg, 30.1) for leg in (self.citizen, self.operator, self.two, self.one)),
        ]


async def book(server: Liandong, place: int = PLACE) -> Callback:
    """The caller presses 1 while waiting (the FastAGI request's booking)."""
    booked = await server.app[CALLBACKS].book("12345", CALL, CALLER, place)
    assert booked is not None
    return booked


async def booked_and_gone(server: Liandong) -> tuple[str, Callback]:
    """A 12345 caller whose case is open books a callback and hangs up."""
    server.push([ARRIVAL])
    number = await case_of_call(server)
    cb = await book(server)
    server.push([HANGUP])
    await case_with(server, number, 2)
    return number, cb


async def callback_state(server: Liandong, state: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        callbacks = (await server.call(CALL))["callbacks"]
        return callbacks[-1] if callbacks and callbacks[-1]["state"] == state else None

    return await server.eventually(probe, f"the callback {state}")


async def settled(server: Liandong) -> None:
    """What the server was told is done: the call model, the callbacks' saved
    changes and the case linker's inbox."""
    await server.applied()
    await asyncio.sleep(0.05)
    await server.app[CASE_CALLS].idle()


def lines(case: dict[str, Any]) -> list[str]:
    return [e["data"]["note"] for e in case["timeline"] if e["command"] == "callback"]


async def test_a_booked_callback_is_on_the_case_and_the_hang_up_does_not_cancel_it(
    start_liandong: StartLiandong,
) -> None:
    server = await start_liandong()
    number, cb = await booked_and_gone(server)
    await settled(server)
    case = await server.ok(f"/api/v1/cases/{number}")

    assert [e["command"] for e in case["timeline"]] == ["open", "callback"]
    assert case["state"] == "received"  # not 已撤销: the caller waits to be called back
    entry = case["timeline"][1]
    assert (entry["actor"], entry["role"], entry["from"], entry["to"]) == (
        "12345回拨",
        "system",
        "received",
        "received",
    )
    assert entry["data"]["note"] == "市民选择回拨，保留排队位置（第3位）"
    assert entry["data"]["call"] == CALL
    data = entry["data"]["callback"]
    assert (data["id"], data["outcome"], data["state"], data["attempts"]) == (
        cb.callback_id,
        "booked",
        "waiting",
        0,
    )
    assert data["position_kept"] == PLACE and data["next_try_at"] is None


async def test_a_callback_connected_names_the_operator_and_its_call_joins_the_same_case(
    start_liandong: StartLiandong,
) -> None:
    server = await start_liandong()
    number, cb = await booked_and_gone(server)
    back = CallBack(cb.callback_id)
    server.push(back.taken())
    # The operator's call shows the caller's case while the caller's phone rings.
    await server.call_where(back.call_id, lambda c: c.get("cases") == [number], "on the case")
    server.push(back.ended("ANSWER"))
    case = await case_with(server, number, 3)

    assert lines(case) == ["市民选择回拨，保留排队位置（第3位）", "回拨接通，话务员 op12345-1"]
    connected = case["timeline"][-1]["data"]["callback"]
    assert (connected["state"], connected["attempts"], connected["last_status"]) == (
        "connected",
        1,
        "ANSWER",
    )
    assert (connected["operator"], connected["dial_call"]) == ("op12345-1", back.call_id)
    assert [c["id"] for c in case["calls"]] == [CALL, back.call_id]
    # The call back, with the caller's number on the trunk, opened no case of its own.
    await settled(server)
    listed = await server.ok("/api/v1/cases", caller_number=CALLER)
    assert [c["number"] for c in listed["cases"]] == [number]
    assert (await server.ok(f"/api/v1/cases/{number}"))["state"] == "received"


async def test_a_call_back_seen_from_its_trunk_leg_first_opens_no_second_case(
    start_liandong: StartLiandong,
) -> None:
    """A restarted server meets the call back mid-way: its first channel seen
    is the caller's leg on trunk-12345, which would open a case of its own;
    the call already belongs to the caller's case, so it stays there."""
    server = await start_liandong()
    number, cb = await booked_and_gone(server)
    back = CallBack(cb.callback_id)
    server.push([back.user_event("LdCallbackDial", 6, Callback=str(cb.callback_id), Phone="")])
    await callback_state(server, "dialling")
    await settled(server)
    server.push([back.new(back.citizen, 6.1, context="from-trunk-12345", state="4")])
    await server.call_where(back.call_id, lambda c: c.get("cases") == [number], "on the case")
    await settled(server)
    listed = await server.ok("/api/v1/cases", caller_number=CALLER)
    assert [c["number"] for c in listed["cases"]] == [number]


async def test_not_reached_it_is_tried_again_and_fails_after_the_last_attempt(
    start_liandong: StartLiandong, tmp_path: Path
) -> None:
    """Two attempts 10 s apart (the shortest gap desks.yaml allows)."""
    ivr = tmp_path / "ivr"
    ivr.mkdir()
    (ivr / "flows").symlink_to(IVR_FLOWS / "flows")
    (ivr / "prompts").symlink_to(IVR_FLOWS / "prompts")
    rules = (IVR_FLOWS / "desks.yaml").read_text(encoding="utf-8")
    rules = rules.replace("attempts: 3", "attempts: 2").replace(
        "retry_gap_s: 120", "retry_gap_s: 10"
    )
    (ivr / "desks.yaml").write_text(rules, encoding="utf-8")
    server = await start_liandong(ivr_dir=ivr)
    number, cb = await booked_and_gone(server)

    first = CallBack(cb.callback_id, attempt=1)
    server.push([*first.taken(), *first.ended("BUSY")])
    case = await case_with(server, number, 3)
    not_reached = case["timeline"][-1]["data"]
    retry = not_reached["callback"]
    next_try = parse_iso(retry["next_try_at"]).astimezone(COUNTY_TZ)
    assert not_reached["note"] == f"回拨未接通（忙），第1次，下次 {next_try:%H:%M}"
    assert (retry["state"], retry["attempts"], retry["last_status"]) == ("retry", 1, "BUSY")
    assert retry["position_kept"] == 1  # at the head of the line now

    # In line again when the gap has passed: a second stand-in is placed.
    await server.fake.wait_for_action("Originate", count=2, within=15)
    await callback_state(server, "waiting")
    second = CallBack(cb.callback_id, attempt=2)
    server.push([*second.taken(), *second.ended("NOANSWER")])
    case = await case_with(server, number, 4)

    assert lines(case) == [
        "市民选择回拨，保留排队位置（第3位）",
        f"回拨未接通（忙），第1次，下次 {next_try:%H:%M}",
        "回拨 2 次均未接通（最后一次：无应答）",
    ]
    failed = case["timeline"][-1]["data"]["callback"]
    assert (failed["state"], failed["attempts"], failed["next_try_at"]) == ("failed", 2, None)
    # Both attempts' calls are the case's; the case waits for the desk.
    assert [c["id"] for c in case["calls"]] == [CALL, first.call_id, second.call_id]
    assert case["state"] == "received"


async def test_a_booking_the_caller_heard_fail_is_withdrawn_and_its_stand_in_leaves(
    start_liandong: StartLiandong,
) -> None:
    """The server answered the booking too late: the dialplan told the caller
    "not booked" and put them back in line. The booking is taken back (no
    call back after the caller was served), its stand-in hung up, and the
    caller who then gives up is an abandon like any other."""
    server = await start_liandong()
    server.push([ARRIVAL])
    number = await case_of_call(server)
    cb = await book(server)
    await server.fake.wait_for_action("Originate", within=5)  # the stand-in in line
    server.push(menu_events([("callback_offer", "1", "callback_unavailable")]))
    await callback_state(server, "withdrawn")
    await server.fake.wait_for_action("Hangup", within=5)
    [hangup, *_] = server.fake.actions_named("Hangup")
    assert hangup.headers.get("Channel") == f"/^Local.{cb.callback_id}@ld-callback-place-/"
    desks = (await server.ok("/api/v1/desks"))["desks"]
    assert [d["callbacks"] for d in desks] == [[], []]
    server.push([HANGUP])
    case = await server.eventually(
        lambda: _state_is(server, number, "cancelled"), "the abandoned case cancelled"
    )
    assert lines(case) == [
        "市民选择回拨，保留排队位置（第3位）",
        "回拨未能及时登记，已撤销；市民继续排队",
    ]


async def _state_is(server: Liandong, number: str, state: str) -> dict[str, Any] | None:
    case = await server.ok(f"/api/v1/cases/{number}")
    return case if case["state"] == state else None


async def test_a_change_told_twice_or_again_after_a_restart_is_recorded_once(
    start_liandong: StartLiandong,
) -> None:
    first = await start_liandong()
    number, cb = await booked_and_gone(first)
    back = CallBack(cb.callback_id)
    first.push([*back.taken(), *back.ended("ANSWER")])
    await case_with(first, number, 3)
    await callback_state(first, "connected")
    service: CallbackService = first.app[CALLBACKS]
    done = await service.store.of_call(CALL)
    for listener in service.listeners:  # told again
        for saved in done:
            await listener(saved)
    await settled(first)
    await first.client.close()

    second = await start_liandong()  # the same changes, told by a restarted server
    for listener in second.app[CALLBACKS].listeners:
        await listener(cb)
        for saved in await second.app[CALLBACKS].store.of_call(CALL):
            await listener(saved)
    await settled(second)
    case = await second.ok(f"/api/v1/cases/{number}")
    assert lines(case) == ["市民选择回拨，保留排队位置（第3位）", "回拨接通，话务员 op12345-1"]


async def test_a_callback_booked_before_its_case_is_recorded_once_the_case_opens(
    start_liandong: StartLiandong,
) -> None:
    """The server came back while the caller waited: the booking reaches the
    case linker before the call is seen; it waits for the case."""
    server = await start_liandong()
    await book(server)
    await settled(server)
    server.push([ARRIVAL])
    number = await case_of_call(server)
    case = await case_with(server, number, 2)
    assert [e["command"] for e in case["timeline"]] == ["open", "callback"]
    assert lines(case) == ["市民选择回拨，保留排队位置（第3位）"]


async def test_a_closed_case_takes_no_more_callback_lines(
    start_liandong: StartLiandong, db_url: str
) -> None:
    server = await start_liandong()
    number, cb = await booked_and_gone(server)
    op12345 = (await make_tokens(db_url, [Role.OPERATOR_12345]))[Role.OPERATOR_12345]
    await move(server, number, "cancel", op12345, reason="市民已另行来电反映")
    back = CallBack(cb.callback_id)
    server.push([*back.taken(), *back.ended("ANSWER")])
    await callback_state(server, "connected")
    await settled(server)
    case = await server.ok(f"/api/v1/cases/{number}")
    assert [e["command"] for e in case["timeline"]] == ["open", "callback", "cancel"]
    assert case["state"] == "cancelled"


async def test_units_and_supervisors_read_the_callback_lines_without_the_callers_number(
    start_liandong: StartLiandong, db_url: str
) -> None:
    server = await start_liandong()
    number, cb = await booked_and_gone(server)
    back = CallBack(cb.callback_id)
    server.push([*back.taken(), *back.ended("ANSWER")])
    await case_with(server, number, 3)
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
    expected = ["市民选择回拨，保留排队位置（第3位）", "回拨接通，话务员 op12345-1"]
    for role in (Role.SUPERVISOR, Role.UNIT):
        case = await server.ok(f"/api/v1/cases/{number}", tokens[role])
        assert CALLER not in json.dumps(case, ensure_ascii=False), role
        assert lines(case) == expected, role
        assert [c["id"] for c in case["calls"]] == [CALL, back.call_id], role
