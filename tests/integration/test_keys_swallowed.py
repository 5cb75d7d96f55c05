"""An operator's key code is liandong's, not the other party's: the citizen
and the phone the operator consults hear no digit of `*2` or `*0` (Asterisk
reports what it sends to a channel as DTMF events with `Direction: Sent`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ami_client import AmiMessage, LinkDown, LinkUp
from pbx import sipp
from telephony.http import INGEST
from tests.integration.conftest import Liandong
from tests.integration.transfer_kit import citizen_calls, start_desks, wait_transfers

Sent = list[tuple[str, str, str]]  # (channel, DTMFBegin | DTMFEnd, digit)


def watch_sent_digits(liandong: Liandong) -> Sent:
    sent: Sent = []

    def watch(item: AmiMessage | LinkUp | LinkDown) -> None:
        if not isinstance(item, AmiMessage) or item.get("Direction") != "Sent":
            return
        if item.event in ("DTMFBegin", "DTMFEnd"):
            sent.append((item.get("Channel") or "", item.event, item.get("Digit") or ""))

    observers: list[Callable[[AmiMessage | LinkUp | LinkDown], None]]
    observers = liandong.client.app[INGEST].observers
    observers.append(watch)
    return sent


# Desk phones send keys as SIP INFO; softphones (baresip, linphone) and
# carriers as RTP events, which Asterisk sees pressed and released.
KEYS = pytest.mark.parametrize("rfc4733", [False, True], ids=["sip-info", "rfc4733"])


@KEYS
async def test_no_digit_of_a_code_reaches_the_caller_or_the_consulted_operator(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], rfc4733: bool
) -> None:
    """*2 in the bridge with the caller, the 12345 operator answers, *0 in the
    bridge with them: the caller is back with the operator, and nobody heard
    a "2" or a "0" (the key-up of a code's last digit used to pass through)."""
    sent = watch_sent_digits(liandong)
    operator = {"ring_ms": 200, "keys": "*2...*0", "talk_ms": 6000, "rfc4733": rfc4733}
    start_desks(phones, work, op110_1=operator, op12345_1={"ring_ms": 800, "talk_ms": 10_000})
    result = await citizen_calls("110", work, "1381030")
    assert result.outcomes == {"13810301": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert [step["to"] for step in transfer["timeline"]] == [
        "requested",
        "ringing",
        "answered",
        "cancelled",
    ]
    assert sent == [], f"digits of the key codes reached other parties: {sent}"


@KEYS
async def test_the_key_up_of_star_two_does_not_reach_the_phones_it_rings(
    liandong: Liandong, work: Path, phones: dict[str, sipp.Phone], rfc4733: bool
) -> None:
    """*2 rings the 12345 desk; nobody answers and the caller is given back.
    The "2" used to follow the operator into the Dial and reach the phones."""
    sent = watch_sent_digits(liandong)
    operator = {"ring_ms": 200, "keys": "*2", "talk_ms": 9000, "rfc4733": rfc4733}
    start_desks(phones, work, op110_1=operator)
    result = await citizen_calls("110", work, "1381031")
    assert result.outcomes == {"13810311": "answered"}, result.stdout_tail

    [transfer] = await wait_transfers(liandong)
    assert transfer["state"] == "failed", transfer
    assert sent == [], f"digits of the key code reached other parties: {sent}"
