"""Transfers between the desks on the real testbed: keys, API, failures.

Each test checks the transfer record and its timeline, the legs, and who ended
up talking with whom (bridge membership) — not just that nothing failed.
"""

from __future__ import annotations

from pathlib import Path

from pbx import sipp
from tests.integration.conftest import Liandong
from tests.integration.transfer_kit import (
    citizen_calls,
    legs_by_endpoint,
    states,
    talked,
    wait_transfers,
)


async def test_one_key_transfer_110_to_12345(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    phones["op110"] = sipp.start_phone("op110-1", work, ring_ms=200, keys="*1", keys_after_ms=800)
    phones["op110b"] = sipp.start_phone("op110-2", work, ring_ms=sipp.NEVER_MS)
    phones["op12345"] = sipp.start_phone("op12345-1", work, ring_ms=500, talk_ms=2000)
    phones["op12345b"] = sipp.start_phone("op12345-2", work, ring_ms=sipp.NEVER_MS)

    result = await citizen_calls("110", work, "1381000", caller_name="李四")
    assert result.outcomes == {"13810001": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert (transfer["mode"], transfer["target"], transfer["requested_by"]) == (
        "blind", "12345", "operator_key",
    )  # fmt: skip
    assert states(transfer) == ["requested", "ringing", "answered", "completed"]
    assert transfer["timeline"][-1]["reason"] == "handed_over"

    [call] = await liandong.wait_ended_calls("1381000", 1)
    call = await liandong.get(f"/api/v1/calls/{call['id']}")
    assert transfer["call_id"] == call["id"]
    legs = legs_by_endpoint(call)
    # The 110 operator dropped at once; the 12345 operator answered on the same call.
    [op110] = legs["op110-1"]
    op12345 = [leg for leg in legs["op12345-1"] if leg["answered_at"]]
    assert len(op12345) == 1 and op110["hangup_cause"] == 16
    assert op110["ended_at"] < op12345[0]["answered_at"]
    assert talked(call, "trunk-110", "op110-1") and talked(call, "trunk-110", "op12345-1")
    assert transfer["caller_uniqueid"] == legs["trunk-110"][0]["uniqueid"]
    assert transfer["target_uniqueid"] == op12345[0]["uniqueid"]
