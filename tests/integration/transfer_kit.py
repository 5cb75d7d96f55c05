"""Helpers for the transfer tests: the desk phones, a citizen's call in the
background, waiting for transfers in the API, and who talked with whom (bridge
membership)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from pbx import sipp
from tests.integration.conftest import Liandong


def citizen_calls(
    trunk: str, work: Path, number_prefix: str, **kwargs: Any
) -> asyncio.Task[sipp.CallResult]:
    kwargs.setdefault("talk_ms", 60_000)
    return asyncio.create_task(
        asyncio.to_thread(sipp.call, trunk, work, number_prefix=number_prefix, **kwargs)
    )


async def wait_transfers(
    lid: Liandong, count: int = 1, *, ended: bool = True, within: float = 30.0
) -> list[dict[str, Any]]:
    """The transfers (oldest first) once `count` exist (and have ended, if asked)."""
    deadline = time.monotonic() + within
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = (await lid.get("/api/v1/transfers"))["transfers"][::-1]
        if len(found) >= count and (not ended or all(t["ended"] for t in found)):
            assert len(found) == count, f"expected {count} transfers, got {found}"
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"expected {count} transfers (ended={ended}), got {found}")


async def wait_state(
    lid: Liandong, transfer_id: str, state: str, within: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + within
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = await lid.get(f"/api/v1/transfers/{transfer_id}")
        if body["state"] == state:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"transfer {transfer_id} never reached {state}: {body}")


async def live_call_of(lid: Liandong, number_prefix: str, within: float = 10.0) -> dict[str, Any]:
    """The citizen's call once an operator has answered it."""
    deadline = time.monotonic() + within
    calls: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        calls = await lid.calls_from(number_prefix)
        if calls and calls[0]["answered_at"]:
            return await lid.get(f"/api/v1/calls/{calls[0]['id']}")
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answered call from {number_prefix}*: {calls}")


def states(transfer: dict[str, Any]) -> list[str]:
    return [step["to"] for step in transfer["timeline"]]


def legs_by_endpoint(call: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for leg in call["legs"]:
        out.setdefault(leg["endpoint"], []).append(leg)
    return out


def bridges_of(call: dict[str, Any], endpoint: str) -> set[str]:
    return {
        b["bridge_id"] for leg in legs_by_endpoint(call).get(endpoint, []) for b in leg["bridges"]
    }


def talked(call: dict[str, Any], one: str, other: str) -> bool:
    """Some leg on endpoint `one` shared a bridge (or room) with some leg on `other`."""
    return bool(bridges_of(call, one) & bridges_of(call, other))


def start_desks(phones: dict[str, sipp.Phone], work: Path, **first: dict[str, object]) -> None:
    """Both desks: the named phones as given, every other desk phone never answers."""
    for name in ("op110-1", "op110-2", "op12345-1", "op12345-2"):
        phones[name] = sipp.start_phone(
            name, work, **first.get(name.replace("-", "_"), {"ring_ms": sipp.NEVER_MS})
        )  # type: ignore[arg-type]


async def ended_call(liandong: Liandong, prefix: str) -> dict[str, object]:
    [call] = await liandong.wait_ended_calls(prefix, 1)
    return await liandong.get(f"/api/v1/calls/{call['id']}")
