"""The callback service without Asterisk: its loop rests while it cannot act
(a retry due while the AMI link is down must not spin the event loop the
ingest shares), a caller booking again gets one callback, told to both
calls' cases, and a booking the caller was told had failed is withdrawn
whichever comes first (the booking or the dialplan's "not booked")."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ami_client import AmiMessage
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


def not_booked(call_id: str) -> AmiMessage:
    """[desk-callback-offer] telling the caller "not booked" (ivr-mark's event)."""
    return AmiMessage(
        (
            ("Event", "UserEvent"),
            ("UserEvent", "LdIvr"),
            ("Uniqueid", call_id),
            ("Linkedid", call_id),
            ("Menu", "desk-12345"),
            ("Node", "callback_offer"),
            ("Key", "1"),
            ("Mark", "callback_unavailable"),
        )
    )


def numbered_service() -> tuple[CallbackService, list[cbs.Callback]]:
    service = CallbackService(
        load_desk_rules(DEFAULT_IVR_DIR / "desks.yaml"), _Numbering(), _Live()
    )  # type: ignore[arg-type]
    told: list[cbs.Callback] = []

    async def listener(cb: cbs.Callback) -> None:
        told.append(cb)

    service.listeners.append(listener)
    return service, told


async def test_a_booking_the_caller_heard_fail_is_withdrawn() -> None:
    service, told = numbered_service()
    booked = await service.book("12345", "call-1", "13800000000", 2)
    assert booked is not None
    service.observe(not_booked("call-1"))
    await service._save_changes()
    assert service.waiting() == []
    assert [cb.state for cb in told] == [cbs.CallbackState.WAITING, cbs.CallbackState.WITHDRAWN]
    assert cbs.case_note(told[-1]) is not None  # the case is told it is taken back


async def test_a_call_told_not_booked_first_books_nothing() -> None:
    service, told = numbered_service()
    service.observe(not_booked("call-1"))
    assert await service.book("12345", "call-1", "13800000000", 2) is None
    assert told == [] and service.waiting() == []


async def test_a_booking_cancelled_at_the_deadline_is_kept_then_withdrawn() -> None:
    """The FastAGI server cancels a request at its deadline; the save goes on
    (else a booking saved but not known would be placed after a restart),
    and the dialplan's "not booked" that follows takes it back."""
    gate = asyncio.Event()

    class _Slow(_Numbering):
        async def add(self, cb: cbs.Callback) -> cbs.Callback:
            await gate.wait()
            return await super().add(cb)

    service = CallbackService(load_desk_rules(DEFAULT_IVR_DIR / "desks.yaml"), _Slow(), _Live())  # type: ignore[arg-type]
    request = asyncio.create_task(service.book("12345", "call-1", "13800000000", 2))
    await asyncio.sleep(0.01)
    request.cancel()
    service.observe(not_booked("call-1"))  # the caller hears "not booked" meanwhile
    gate.set()
    await asyncio.sleep(0.01)
    await service._save_changes()
    assert request.cancelled()
    assert service.waiting() == []
    assert service._changed == [] and service.store.next_id == 1  # type: ignore[attr-defined]


def test_a_callback_tried_on_the_callers_phone_is_not_withdrawn() -> None:
    now = datetime.now(UTC)
    cb = cbs.Callback(1, "call-1", "12345", "13800000000", 1, now)
    assert cbs.withdrawn(cb, now) is not None
    tried = replace(cb, state=cbs.CallbackState.RETRY, attempts=1)
    assert cbs.withdrawn(tried, now) is None
    assert cbs.withdrawn(replace(cb, state=cbs.CallbackState.CONNECTED), now) is None
