"""The AMI link goes away while a transfer target rings, for longer than the
ring: the caller is never left on hold music.

- Back before the dialplan's hold limit: on reconnect the server finds the
  ring over and the caller waiting, and gives them back (their operator is
  rung back) instead of having sent that into the dead link.
- Away for longer: the dialplan's own hold limit sends the caller back to
  their desk; on reconnect the server records that and leaves them there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pbx import sipp, testbed
from tests.integration.conftest import TRANSFER_RING_S, Liandong, server_settings, start_server
from tests.integration.link_cutter import LinkCutter
from tests.integration.transfer_kit import (
    bridges_of,
    citizen_calls,
    legs_by_endpoint,
    start_desks,
    wait_state,
    wait_transfers,
)
from transfer.core.actions import HOLD_MARGIN_S


@pytest.fixture
async def cutter(pbx_clean: testbed.TestbedConfig) -> AsyncIterator[LinkCutter]:
    link = LinkCutter(pbx_clean.ami_host, pbx_clean.ami_port)
    await link.start()
    yield link
    await link.close()


async def server_behind(
    cutter: LinkCutter, pbx: testbed.TestbedConfig, tmp_path: Path, aiohttp_client: Any
) -> Liandong:
    settings = server_settings(pbx, tmp_path)
    ami = dataclasses.replace(
        settings.ami, host="127.0.0.1", port=cutter.port, backoff_initial=0.2, backoff_max=1.0
    )
    return await start_server(aiohttp_client, dataclasses.replace(settings, ami=ami))


async def one_key_transfer_ringing(
    lid: Liandong,
    phones: dict[str, sipp.Phone],
    work: Path,
    prefix: str,
    *,
    operator_talk_ms: int,
    talk_ms: int = 60_000,
) -> tuple[asyncio.Task[sipp.CallResult], dict[str, Any]]:
    """A citizen's 110 call, which the operator hands to 12345 with *1; nobody
    there answers. Returns once the 12345 phones ring."""
    operator = {"ring_ms": 200, "keys": "*1", "talk_ms": operator_talk_ms}
    start_desks(phones, work, op110_1=operator)
    citizen = citizen_calls("110", work, prefix, talk_ms=talk_ms)
    [running] = await wait_transfers(lid, ended=False)
    await wait_state(lid, running["id"], "ringing")
    return citizen, running


async def call_of(lid: Liandong, call_id: str) -> dict[str, Any]:
    body: dict[str, Any] = await lid.get(f"/api/v1/calls/{call_id}")
    return body


async def until(what: str, check: Any, within: float) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {within:.0f} s")


async def test_a_ring_that_ends_while_the_link_is_down_gives_the_caller_back_on_reconnect(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
    cutter: LinkCutter,
) -> None:
    lid = await server_behind(cutter, pbx_clean, tmp_path, aiohttp_client)
    citizen, running = await one_key_transfer_ringing(
        lid, phones, work, "1381040", operator_talk_ms=4000
    )

    await cutter.cut()  # the ring (and the server's timer) run out meanwhile
    await asyncio.sleep(TRANSFER_RING_S + 6)
    await cutter.mend()
    mended = time.monotonic()

    settled = await wait_state(lid, running["id"], "failed", within=15)
    assert settled["timeline"][-1]["reason"] == "lost_during_restart"

    async def caller_back_with_operator() -> bool:
        call = await call_of(lid, running["call_id"])
        return len(bridges_of(call, "trunk-110") & bridges_of(call, "op110-1")) == 2

    await until("the operator rung back and with the caller", caller_back_with_operator, 15)
    assert time.monotonic() - mended < 10
    result = await citizen
    assert result.outcomes == {"13810401": "answered"}, result.stdout_tail


async def test_a_caller_outwaiting_the_hold_limit_rings_their_desk_without_the_server(
    pbx_clean: testbed.TestbedConfig,
    tmp_path: Path,
    aiohttp_client: Any,
    work: Path,
    phones: dict[str, sipp.Phone],
    cutter: LinkCutter,
) -> None:
    lid = await server_behind(cutter, pbx_clean, tmp_path, aiohttp_client)
    citizen, running = await one_key_transfer_ringing(
        lid, phones, work, "1381041", operator_talk_ms=30_000, talk_ms=90_000
    )
    cut_at = time.monotonic()
    await cutter.cut()

    # The ring runs out, then the hold limit: the dialplan rings the 110 desk,
    # and the first operator answers again (nobody else there does).
    limit = TRANSFER_RING_S + TRANSFER_RING_S + HOLD_MARGIN_S
    await asyncio.sleep(limit + 5 - (time.monotonic() - cut_at))
    await cutter.mend()

    settled = await wait_state(lid, running["id"], "failed", within=15)
    assert settled["timeline"][-1]["reason"] == "returned_to_desk"

    # The desk took the caller while the link was down (the records know the
    # operator's new leg from Asterisk's channel list on reconnect).
    async def desk_answered_again() -> bool:
        call = await call_of(lid, running["call_id"])
        legs = legs_by_endpoint(call)["op110-1"]
        return len(legs) == 2 and bool(legs[1]["answered_at"]) and not legs[1]["ended_at"]

    await until("the desk's new leg in the records", desk_answered_again, 10)
    # Left with the desk: not pulled away by a ring-back of the operator.
    await asyncio.sleep(3)
    call = await call_of(lid, running["call_id"])
    assert len(legs_by_endpoint(call)["op110-1"]) == 2
    assert not (await call_of(lid, running["call_id"]))["ended_at"]
    testbed.cli(pbx_clean, "channel request hangup all")
    await citizen
