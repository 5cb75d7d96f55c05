"""What an operator's key means, given who pressed it and what is running.

A code is acted on once it has been swallowed whole, so that neither the
caller nor the phones being rung hear any digit of it:
- in a two-party bridge, Asterisk's feature detection holds the digits back
  and reports the complete code (`UserEvent: LdKey`); that report is acted on.
  Acting on the digits instead would move the operator before the last key's
  release reached the bridge, and that release would then be passed on to
  whoever the operator is with next.
- elsewhere (the operator's own Dial while a consultation rings, a three-way
  room) nothing detects features: the digits are matched as they arrive
  (AMI DTMF events, `KeyDetector`), each counted on its release. Dial passes
  digits to the phones it rings; the dialplan has those phones drop DTMF while
  they ring (`ld-xfer-quiet`), and a room does not pass DTMF on.
An LdKey for a code the digits already acted on is its echo and is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from ami_client.message import AmiMessage
from app.key_codes import KeyDetector, KeyPress
from app.transfer_parties import OPERATOR_ROLES
from telephony.events import LegRole
from telephony.state import Leg
from transfer.events import CancelRequested, CompleteRequested, Event
from transfer.machine import Transfer
from transfer.states import By, TransferMode
from transfer.target import Desk, Target

# Asterisk's LdKey arriving within this many seconds of the digit that made
# the code is the same press.
KEY_ECHO_S = 3.0
KEY_MODES = {"blind": TransferMode.BLIND, "attended": TransferMode.ATTENDED,
             "conference": TransferMode.CONFERENCE, "unit": TransferMode.BLIND}  # fmt: skip
OTHER_DESK = {LegRole.OPERATOR_110: Desk.D12345, LegRole.OPERATOR_12345: Desk.D110}


@dataclass(frozen=True, slots=True)
class StartTransfer:
    call_id: str
    operator_uniqueid: str
    mode: TransferMode
    target: Target


@dataclass(frozen=True, slots=True)
class StepTransfer:
    transfer: Transfer
    event: Event


KeyAction = StartTransfer | StepTransfer | None


class OperatorKeys:
    def __init__(self, detector: KeyDetector | None) -> None:
        self.detector = detector
        self._pressed: dict[tuple[str, str], float] = {}  # (uniqueid, key) -> when it came in

    def digit(
        self, msg: AmiMessage, legs: dict[str, Leg], arrived: float, in_room: Callable[[str], bool]
    ) -> KeyPress | None:
        """A DTMF event: the code it completes on an operator's phone, if any."""
        uniqueid = msg.get("Uniqueid") or ""
        leg = legs.get(uniqueid)
        if leg is None or leg.role not in OPERATOR_ROLES or self.detector is None:
            return None
        # A key counts on its release (every key has one: RTP events report
        # begin and end, a SIP INFO key only its end).
        if msg.event != "DTMFEnd":
            return None
        if leg.bridges and not in_room(uniqueid):
            return None  # a two-party bridge: its feature detection reports the code
        press = self.detector.digit(uniqueid, msg.get("Digit") or "", arrived)
        if press is not None:
            self._pressed[(uniqueid, press.key)] = arrived
        return press

    def is_echo(self, msg: AmiMessage, arrived: float) -> bool:
        """An LdKey for a press the digits already acted on."""
        seen = self._pressed.pop((msg.get("Uniqueid") or "", msg.get("Key") or ""), None)
        return seen is not None and arrived - seen < KEY_ECHO_S

    def forget(self, uniqueid: str) -> None:
        """The leg hung up."""
        self._pressed = {k: v for k, v in self._pressed.items() if k[0] != uniqueid}
        if self.detector is not None:
            self.detector.forget(uniqueid)


def meaning(
    presser: str, press: KeyPress, running: Iterable[Transfer], legs: dict[str, Leg],
    at: datetime,
) -> KeyAction:  # fmt: skip
    mine = next((t for t in running if t.request.operator_uniqueid == presser), None)
    if mine is not None:  # *2 again completes, *0 cancels; other keys mean nothing now
        if press.key == "attended":
            return StepTransfer(mine, CompleteRequested(at, By.KEY))
        if press.key == "cancel":
            return StepTransfer(mine, CancelRequested(at, By.KEY))
        return None
    leg = legs.get(presser)
    mode = KEY_MODES.get(press.key)
    if leg is None or mode is None:
        return None  # *0 with nothing running, or a key from a leg we do not know
    if press.key == "unit":
        target = Target(unit=press.unit or "")
    elif leg.role in OTHER_DESK:
        target = Target(desk=OTHER_DESK[leg.role])
    else:
        return None
    return StartTransfer(leg.call_id, presser, mode, target)
