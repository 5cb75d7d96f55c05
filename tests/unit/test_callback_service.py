"""The callback service without Asterisk: its loop rests while it cannot act
(a retry due while the AMI link is down must not spin the event loop the
ingest shares), and a caller booking again gets one callback, told to both
calls' cases."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ivr_flows.core import callbacks as cbs
from ivr_flows.core.desk_rules import load_desk_rules
from ivr_flows.service.callbacks import CallbackService
from startup.settings import DEFAULT_IVR_DIR


class _Live:
    subscriber_count = 0


class _Store:
    async def save(self, cb: cbs.Callback) -> None:
        return None


async def test_a_due_retry_with_the_link_down_does_not_spin() -> None:
    service = CallbackService(load_desk_rules(DEFAULT_IVR_DIR / "desks.yaml"), _Store(), _Live())  # type: ignore[arg-type]
    now = datetime.now(UTC)
    service._open[1] = cbs.Callback(
        1,
        "call-1",
        "12345",
        "13800000000",
        3,
        now,
        state=cbs.CallbackState.RETRY,
        attempts=1,
        next_try_at=now - timedelta(seconds=1),
    )
    passes = 0
    save = service._save_changes

    async def counting() -> None:
        nonlocal passes
        passes += 1
        await save()

    service._save_changes = counting  # type: ignore[method-assign]
    task = asyncio.create_task(service.run())
    await asyncio.sleep(0.5)
    task.cancel()
    assert passes <= 2, f"{passes} passes of the loop in 0.5 s with no AMI link"


class _Numbering:
    def __init__(self) -> None:
        self.next_id = 0

    async def add(self, cb: cbs.Callback) -> cbs.Callback:
        self.next_id += 1
        return replace(cb, callback_id=self.next_id)

    async def save(self, cb: cbs.Callback) -> None:
        return None


async def test_a_caller_who_calls_again_gets_the_one_callback_on_both_cases() -> None:
    """One callback for a number, but the second call's case is told it too
    (a case nobody tells is cancelled as a call nobody answered)."""
    service = CallbackService(
        load_desk_rules(DEFAULT_IVR_DIR / "desks.yaml"), _Numbering(), _Live()
    )  # type: ignore[arg-type]
    told: list[tuple[int, str]] = []

    async def listener(cb: cbs.Callback) -> None:
        told.append((cb.callback_id, cb.call_id))

    service.listeners.append(listener)
    first = await service.book("12345", "call-1", "13800000000", 2)
    again = await service.book("12345", "call-2", "13800000000", 1)
    assert first is not None and again is not None and again.callback_id == first.callback_id
    assert told == [(1, "call-1"), (1, "call-2")]
    assert await service.book("12345", "call-3", "anonymous", 1) is None
