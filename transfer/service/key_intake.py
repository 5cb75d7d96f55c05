"""The operators' keys: the digits Asterisk reports (DTMF) and the codes its
feature detection reports whole (UserEvent LdKey), turned into a transfer
started or moved on; a key that can start nothing is explained to the
operator on the live feed. Which report of a key acts is transfer.core.keys'."""

from __future__ import annotations

from ami_client.message import AmiMessage
from transfer.core.errors import TransferError
from transfer.core.key_codes import KeyPress
from transfer.core.keys import OperatorKeys, StartTransfer, StepTransfer, meaning
from transfer.core.parties import NotOnACall
from transfer.core.states import By
from transfer.service.moves import Moves
from transfer.service.state import ServiceState, log, now_utc
from transfer.service.three_way import ThreeWay
from transfer.shapes import refusal_json


class KeyIntake:
    def __init__(
        self, state: ServiceState, keys: OperatorKeys, moves: Moves, three_way: ThreeWay
    ) -> None:
        self._state = state
        self._keys = keys
        self._moves = moves
        self._three_way = three_way

    async def on_digit(self, msg: AmiMessage, arrived: float) -> None:
        """DTMFBegin / DTMFEnd: the phone's own keys, one digit at a time."""
        if msg.get("Direction") != "Received":
            return
        press = self._keys.digit(msg, self._state.model.legs, arrived, self._three_way.rooms.holds)
        if press is not None:
            await self._on_key(msg, press)

    async def on_code(self, msg: AmiMessage, arrived: float) -> None:
        """UserEvent LdKey: a whole code, as Asterisk's feature detection took it."""
        if not self._keys.is_echo(msg, arrived):  # in a bridge: the code, held back whole
            await self._on_key(msg, KeyPress(msg.get("Key") or "", msg.get("Unit")))

    async def on_hangup(self, msg: AmiMessage, arrived: float) -> None:
        self._keys.forget(msg.get("Uniqueid") or "")

    async def _on_key(self, msg: AmiMessage, press: KeyPress) -> None:
        state = self._state
        presser = msg.get("Uniqueid") or ""
        action = meaning(presser, press, state.running.values(), state.model.legs, now_utc())
        if isinstance(action, StepTransfer):
            await self._moves.request_step(action.transfer, action.event)
        elif isinstance(action, StartTransfer):
            try:
                await self._moves.start(action.call_id, presser, action.mode, action.target, By.KEY)
            except (TransferError, NotOnACall) as exc:  # tell the operator why nothing happened
                log.warning("key %s on %s: no transfer: %s", press.key, msg.get("Channel"), exc)
                leg = state.model.legs.get(presser)
                phone = leg.endpoint if leg is not None else None
                state.live.publish(refusal_json(action.call_id, phone, exc))
