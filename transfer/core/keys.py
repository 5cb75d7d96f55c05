"""What an operator's key means, given who pressed it and what is running.

A code is acted on once nobody can hear any digit of it any more:
- a code after which the operator leaves the call (a one-key hand-over to
  the other desk or a unit) at once, on its last key's first report (AMI
  DTMF events, matched by `KeyDetector`): the operator's leg ends with the
  hand-over, so the key's release has nowhere to go, and the caller should
  not wait for it;
- any other code (*2, *3, *0), where the operator stays with someone: in a
  two-party bridge, when Asterisk's feature detection has taken the whole
  code (`UserEvent: LdKey`) — acting earlier moved the operator before the
  last key's release reached the bridge, and that release was passed on to
  whoever they were with next (after *0 the citizen heard a 0); elsewhere
  (a ringing consultation, a three-way room: nothing detects features there)
  on the release of its last key.
An LdKey for a code the digits already acted on is its echo and is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from ami_client.message import AmiMessage
from telephony.core.events import LEG_ROLE_DESK, OPERATOR_LEG_ROLES
from telephony.core.state import Leg
from transfer.core.events import CancelRequested, CompleteRequested, Event
from transfer.core.key_codes import KeyDetector, KeyPress
from transfer.core.machine import Transfer
from transfer.core.states import By, TransferMode
from transfer.core.target import Target

# Asterisk's LdKey arriving within this many seconds of the digit that made
# the code is the same press.
KEY_ECHO_S = 3.0
KEY_MODES = {
    "blind": TransferMode.BLIND,
    "attended": TransferMode.ATTENDED,
    "conference": TransferMode.CONFERENCE,
    "unit": TransferMode.BLIND,
}
# Codes after which the operator leaves the call: acted on at once.
LEAVING = frozenset({"blind", "unit"})


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
        self._key_down: set[str] = set()  # uniqueids whose key's begin was seen
        self._held: dict[str, KeyPress] = {}  # uniqueid -> a code waiting for its key's release

    def digit(
        self, msg: AmiMessage, legs: dict[str, Leg], arrived: float, in_room: Callable[[str], bool]
    ) -> KeyPress | None:
        """A DTMF event: the code to act on now on an operator's phone, if any."""
        uniqueid = msg.get("Uniqueid") or ""
        leg = legs.get(uniqueid)
        if leg is None or leg.role not in OPERATOR_LEG_ROLES or self.detector is None:
            return None
        # A key is one digit whether its begin and end are both reported (RTP
        # events) or only its end (SIP INFO, reported on arrival).
        if msg.event == "DTMFBegin":
            self._key_down.add(uniqueid)
        elif uniqueid in self._key_down:  # the release of a key counted when pressed
            self._key_down.discard(uniqueid)
            held = self._held.pop(uniqueid, None)
            return None if held is None else self._acted(uniqueid, held, arrived)
        press = self.detector.digit(uniqueid, msg.get("Digit") or "", arrived)
        if press is None:
            return None
        if press.key in LEAVING:
            return self._acted(uniqueid, press, arrived)
        if leg.bridges and not in_room(uniqueid):
            return None  # a two-party bridge: its feature detection reports the code whole
        if msg.event == "DTMFBegin":
            self._held[uniqueid] = press  # acted on at the key's release
            return None
        return self._acted(uniqueid, press, arrived)

    def _acted(self, uniqueid: str, press: KeyPress, arrived: float) -> KeyPress:
        self._pressed[(uniqueid, press.key)] = arrived
        return press

    def is_echo(self, msg: AmiMessage, arrived: float) -> bool:
        """An LdKey for a press the digits already acted on."""
        seen = self._pressed.pop((msg.get("Uniqueid") or "", msg.get("Key") or ""), None)
        return seen is not None and arrived - seen < KEY_ECHO_S

    def forget(self, uniqueid: str) -> None:
        """The leg hung up."""
        self._key_down.discard(uniqueid)
        self._held.pop(uniqueid, None)
        self._pressed = {k: v for k, v in self._pressed.items() if k[0] != uniqueid}
        if self.detector is not None:
            self.detector.forget(uniqueid)


def meaning(
    presser: str,
    press: KeyPress,
    running: Iterable[Transfer],
    legs: dict[str, Leg],
    at: datetime,
) -> KeyAction:
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
    elif leg.role in LEG_ROLE_DESK:
        target = Target(desk=LEG_ROLE_DESK[leg.role].other)
    else:
        return None
    return StartTransfer(leg.call_id, presser, mode, target)
