"""Transfers the phones make with their own buttons (SIP REFER): recorded the
same way as liandong's, with `requested_by: phone`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pbx import sipp, testbed
from telephony.http import INGEST
from tests.integration.conftest import Liandong
from tests.integration.transfer_kit import (
    bridges_of,
    citizen_calls,
    ended_call,
    legs_by_endpoint,
    live_call_of,
    start_desks,
    states,
    talked,
    wait_transfers,
)


async def test_phone_blind_transfer_by_refer_is_recorded(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "refer_to": "12345", "keys_after_ms": 800},
        op12345_1={"ring_ms": 500, "talk_ms": 2000},
    )
    result = await citizen_calls("110", work, "1381020", caller_name="孙八")
    assert result.outcomes == {"13810201": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert (transfer["mode"], transfer["target"], transfer["requested_by"]) == (
        "blind",
        "12345",
        "phone",
    )
    assert states(transfer) == ["requested", "ringing", "answered", "completed"]
    call = await ended_call(liandong, "1381020")
    assert transfer["call_id"] == call["id"]
    [taker] = [leg for leg in legs_by_endpoint(call)["op12345-1"] if leg["answered_at"]]
    assert transfer["target_uniqueid"] == taker["uniqueid"]
    assert talked(call, "trunk-110", "op110-1") and talked(call, "trunk-110", "op12345-1")


async def test_phone_attended_transfer_with_asterisk_feature_keys_is_recorded(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    """*9 (Asterisk's own attended transfer), 12345, talk, hang up to complete:
    Asterisk reports it as AttendedTransfer, as it does a REFER with Replaces."""
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "keys": "*912345", "talk_ms": 6000},
        op12345_1={"ring_ms": 500, "talk_ms": 9000},
    )
    result = await citizen_calls("110", work, "1381021")
    assert result.outcomes == {"13810211": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert (transfer["mode"], transfer["target"], transfer["requested_by"]) == (
        "attended",
        "12345",
        "phone",
    )
    assert states(transfer) == ["requested", "ringing", "answered", "completed"]
    call = await ended_call(liandong, "1381021")
    legs = legs_by_endpoint(call)
    [taker] = [leg for leg in legs["op12345-1"] if leg["answered_at"]]
    assert transfer["target_uniqueid"] == taker["uniqueid"]
    # Asterisk's own transfer reaches the target through a Local channel, which
    # the records fold away: the hand-over shows as the caller staying on after
    # the operator left, until the target hung up.
    [caller], [operator] = legs["trunk-110"], legs["op110-1"]
    assert operator["ended_at"] < caller["ended_at"]
    assert caller["ended_at"] >= taker["ended_at"]


async def test_phone_attended_transfer_by_refer_with_replaces_is_recorded(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    """The phone's transfer button: a second call to 12345, then REFER of the
    caller's dialog with Replaces of the second one."""
    start_desks(phones, work, op110_1={"ring_ms": 200}, op12345_1={"ring_ms": 500, "talk_ms": 4000})
    citizen = citizen_calls("110", work, "1381022")
    call = await live_call_of(liandong, "1381022")
    [operator] = [leg for leg in legs_by_endpoint(call)["op110-1"] if leg["answered_at"]]
    dialog = await pjsip_dialog(liandong, operator["channel"], "<sip:13810221@127.0.0.1>")
    line2 = await asyncio.to_thread(sipp.consult_and_refer, "op110-1", work, "12345", dialog)
    assert line2.returncode == 0, (line2.log_lines, line2.stdout_tail)

    result = await citizen
    assert result.outcomes == {"13810221": "answered"}, result.stdout_tail
    [transfer] = await wait_transfers(liandong)
    assert (transfer["mode"], transfer["target"], transfer["requested_by"]) == (
        "attended",
        "12345",
        "phone",
    )
    assert states(transfer) == ["requested", "ringing", "answered", "completed"]
    call = await ended_call(liandong, "1381022")
    [taker] = [leg for leg in legs_by_endpoint(call)["op12345-1"] if leg["answered_at"]]
    assert transfer["target_uniqueid"] == taker["uniqueid"]
    assert talked(call, "trunk-110", "op12345-1")


async def pjsip_dialog(liandong: Liandong, channel: str, caller_uri: str) -> sipp.Dialog:
    """The SIP dialog of a phone's channel, from Asterisk (AMI Getvar)."""
    client = liandong.client.app[INGEST].client
    assert client is not None

    async def get(what: str) -> str:
        reply = await client.send_action(
            {"Action": "Getvar", "Channel": channel, "Variable": f"CHANNEL(pjsip,{what})"}
        )
        return reply.get("Value") or ""

    return sipp.Dialog(
        call_id=await get("call-id"),
        phone_tag=await get("remote_tag"),
        pbx_tag=await get("local_tag"),
        caller_uri=caller_uri,
    )


async def test_phone_blind_transfer_to_a_busy_desk_is_failed_and_the_caller_kept(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], pbx_clean: Any
) -> None:
    """Asterisk's dialplan, not the server, drives a phone's own transfer: the
    citizen waits in the other desk's queue (its busy phones tried again) for
    DESK_RING_TIMEOUT, and when nobody takes them rings their desk again
    instead of being dropped."""
    testbed.cli(pbx_clean, "dialplan set global DESK_RING_TIMEOUT 4")
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "refer_to": "12345", "keys_after_ms": 800, "talk_ms": 3000},
        op12345_1={"busy": True},
        op12345_2={"busy": True},
    )
    result = await citizen_calls("110", work, "1381023")
    assert result.outcomes == {"13810231": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert (transfer["requested_by"], transfer["state"]) == ("phone", "failed")
    assert transfer["timeline"][-1]["reason"] == "no_answer"
    call = await ended_call(liandong, "1381023")
    assert len(bridges_of(call, "trunk-110") & bridges_of(call, "op110-1")) == 2
