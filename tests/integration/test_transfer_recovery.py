"""Transfers that outlive what started them: the operator hanging up before the
target answers, and the server restarting in the middle of a hand-over."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from pbx import sipp, testbed
from tests.integration.conftest import TRANSFER_RING_S, Liandong, server_settings, start_server
from tests.integration.transfer_kit import (
    bridges_of,
    citizen_calls,
    ended_call,
    legs_by_endpoint,
    start_desks,
    states,
    talked,
    wait_state,
    wait_transfers,
)


async def test_operator_hangs_up_while_the_target_rings_and_it_goes_on_blind(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone]
) -> None:
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "keys": "*2", "talk_ms": 2000},
        op12345_1={"ring_ms": 2500, "talk_ms": 2000},
    )
    result = await citizen_calls("110", work, "1381010")
    assert result.outcomes == {"13810101": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert states(transfer) == ["requested", "ringing", "ringing", "answered", "completed"]
    became = transfer["timeline"][2]
    assert (became["reason"], became["mode"], became["by"]) == (
        "became_blind",
        "blind",
        "operator_hangup",
    )
    call = await ended_call(liandong, "1381010")
    assert talked(call, "trunk-110", "op12345-1")
    assert not talked(call, "op110-1", "op12345-1")


async def test_server_restarts_while_the_target_rings(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
) -> None:
    """The server is away while the ring ends unanswered: on its return it finds
    the transfer still "ringing" in its records, settles it as lost, and the
    operator is rung back (their phone is known from the call records)."""
    settings = server_settings(pbx_clean, tmp_path)
    first = await start_server(aiohttp_client, settings)
    start_desks(phones, work, op110_1={"ring_ms": 200, "keys": "*1", "talk_ms": 3000})
    citizen = citizen_calls("110", work, "1381011")
    [running] = await wait_transfers(first, ended=False)
    await wait_state(first, running["id"], "ringing")
    await first.client.close()  # the server stops; the caller hears music

    await asyncio.sleep(TRANSFER_RING_S + 1)  # the ring ends while nobody watches
    second = await start_server(aiohttp_client, settings)
    settled = await wait_state(second, running["id"], "failed")
    assert settled["timeline"][-1]["reason"] == "lost_during_restart"

    result = await citizen
    assert result.outcomes == {"13810111": "answered"}, result.stdout_tail
    call = await ended_call(second, "1381011")
    assert len(legs_by_endpoint(call)["op110-1"]) == 2
    assert len(bridges_of(call, "trunk-110") & bridges_of(call, "op110-1")) == 2


async def test_a_three_way_room_left_with_one_person_while_away_is_ended(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
) -> None:
    """Both operators leave the room while the server is stopped: on its return
    it finds the caller alone in the room and ends the call, rather than leave
    them listening to music."""
    settings = server_settings(pbx_clean, tmp_path)
    first = await start_server(aiohttp_client, settings)
    start_desks(
        phones,
        work,
        op110_1={"ring_ms": 200, "keys": "*3", "talk_ms": 4000},
        op12345_1={"ring_ms": 500, "talk_ms": 5000},
    )
    citizen = citizen_calls("110", work, "1381012")
    [running] = await wait_transfers(first, ended=False)
    await wait_state(first, running["id"], "answered")
    await first.client.close()

    await asyncio.sleep(6)  # both operators hang up meanwhile; the caller is alone
    second = await start_server(aiohttp_client, settings)
    back = time.monotonic()
    result = await citizen
    assert result.outcomes == {"13810121": "answered"}, result.stdout_tail
    assert time.monotonic() - back < 5  # not the citizen's own 60 s
    settled = await wait_state(second, running["id"], "completed")
    assert settled["timeline"][-1]["reason"] == "operator_left"
