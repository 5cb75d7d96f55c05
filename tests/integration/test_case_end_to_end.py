"""A case from a real call to its closing, on the real testbed.

A citizen calls 110 about a non-police matter (no water for three days); the
110 operator presses the one-key transfer key; the 12345 operator's channel
carries the same case number (LD_CASE, asked of Asterisk itself); the case
follows the caller to 12345, is dispatched to the water company, which signs
for it, goes on site, feeds back and replies; 12345 reviews and closes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.vocabulary import Role
from pbx import sipp
from telephony.http import INGEST
from tests.integration.conftest import Liandong, eventually
from tests.integration.transfer_kit import (
    citizen_calls,
    legs_by_endpoint,
    start_desks,
    wait_transfers,
)


async def move(lid: Liandong, number: str, command: str, token: str, **body: Any) -> Any:
    status, case = await lid.post(f"/api/v1/cases/{number}/{command}", body, token=token)
    assert status == 200, (command, case)
    return case


async def test_a_call_to_110_becomes_a_case_closed_by_12345_and_the_water_company(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    # The 110 operator's token is bound to the phone: the hand-over is recorded in its name.
    await liandong.operator_token(Role.OPERATOR_110, "op110-1")
    op12345 = await liandong.operator_token(Role.OPERATOR_12345, "op12345-1")
    water = await liandong.unit_token("water")
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "keys": "*1"},
        op12345_1={"ring_ms": 500, "talk_ms": 8000},
    )
    citizen = citizen_calls("110", work, "1381090", caller_name="赵六")

    async def case_of_caller() -> dict[str, Any] | None:
        body = await liandong.get("/api/v1/cases?caller_number=13810901")
        return body["cases"][0] if body["cases"] else None

    opened = await eventually(case_of_caller, "the call to open a case")
    number = opened["number"]
    assert (opened["desk"], opened["source"], opened["caller"]["name"]) == ("110", "call", "赵六")

    [transfer] = await wait_transfers(liandong)
    assert (transfer["state"], transfer["target"]) == ("completed", "12345")

    # The 12345 operator's channel carries the case number (asked of Asterisk).
    async def taker_channel() -> str | None:
        call = await liandong.get(f"/api/v1/calls/{transfer['call_id']}")
        live = [leg for leg in legs_by_endpoint(call).get("op12345-1", []) if leg["answered_at"]]
        return live[0]["channel"] if live and not live[0]["ended_at"] else None

    channel = await eventually(taker_channel, "12345 to answer")
    client = liandong.client.app[INGEST].client
    assert client is not None
    answer = await client.send_action(
        {"Action": "Getvar", "Channel": channel, "Variable": "LD_CASE"}
    )
    assert answer.get("Value") == number

    # The case followed the caller: 12345 holds it, handed over by the 110 operator.
    async def at_12345() -> dict[str, Any] | None:
        case: dict[str, Any] = await liandong.get(f"/api/v1/cases/{number}")
        return case if case["desk"] == "12345" else None

    case = await eventually(at_12345, "the case to follow the caller to 12345")
    handover = case["timeline"][-1]
    assert (handover["command"], handover["actor"]) == ("refer_to_12345", "op110-1 operator")
    call = await liandong.get(f"/api/v1/calls/{transfer['call_id']}", Role.OPERATOR_12345)
    assert call["cases"] == [number]

    classified = {"category": "water-supply", "township": "chengguan", "description": "小区停水"}
    await move(
        liandong, number, "classify", op12345, demand_type="help", route="hotline", **classified
    )
    case = await move(liandong, number, "dispatch", op12345, lead_unit="water")
    assert case["due"]["feedback"] is not None  # water supply: the 24 h feedback clock runs
    await move(liandong, number, "sign", water)
    await move(liandong, number, "arrive", water, note="抢修队已到场")
    await move(liandong, number, "feed_back", water, measures="更换破损阀门")
    await move(
        liandong,
        number,
        "reply",
        water,
        measures="更换破损阀门",
        result="已恢复供水",
        handler="张某某",
    )
    await move(liandong, number, "approve_reply", op12345)
    case = await move(liandong, number, "close", op12345)
    await citizen

    assert case["state"] == "closed"
    assert [(e["command"], e["role"]) for e in case["timeline"]] == [
        ("open", "system"),
        ("refer_to_12345", "operator_110"),
        ("classify", "operator_12345"),
        ("dispatch", "operator_12345"),
        ("sign", "unit"),
        ("arrive", "unit"),
        ("feed_back", "unit"),
        ("reply", "unit"),
        ("approve_reply", "operator_12345"),
        ("close", "operator_12345"),
    ]
    # The case shows its call with every leg: the citizen, both desks.
    [call] = case["calls"]
    assert call["id"] == transfer["call_id"]
    assert {"trunk-110", "op110-1", "op12345-1"} <= set(legs_by_endpoint(call))
