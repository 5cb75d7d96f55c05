"""Where an AMI event goes: a table from the event's name to the part of the
service that acts on it (a key, a native transfer, a room change, a command's
outcome), then every running transfer is shown the event, which may move it
on (a ring answered, a party gone)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ami_client.message import AmiMessage
from transfer.core.observe import observe
from transfer.service.key_intake import KeyIntake
from transfer.service.moves import Moves
from transfer.service.outcomes import Outcomes
from transfer.service.state import ServiceState, log, now_utc
from transfer.service.three_way import ThreeWay

# A handler is given the event and when it reached the service (perf_counter).
Handler = Callable[[AmiMessage, float], Awaitable[None]]


def kind(msg: AmiMessage) -> str:
    """The table's key: the event's name, and a UserEvent's own name after it
    ("UserEvent/LdKey")."""
    name = msg.event or ""
    return f"{name}/{msg.get('UserEvent') or ''}" if name == "UserEvent" else name


class AmiDispatch:
    def __init__(
        self,
        state: ServiceState,
        keys: KeyIntake,
        moves: Moves,
        three_way: ThreeWay,
        outcomes: Outcomes,
    ) -> None:
        self._state = state
        self._moves = moves
        self.handlers: dict[str, Handler] = {
            "DTMFBegin": keys.on_digit,
            "DTMFEnd": keys.on_digit,
            "UserEvent/LdKey": keys.on_code,
            "Hangup": keys.on_hangup,
            "UserEvent/LdHoldOver": outcomes.on_hold_over,
            "BlindTransfer": moves.record_native,
            "AttendedTransfer": moves.record_native,
            "OriginateResponse": outcomes.on_originate_response,
            "ConfbridgeJoin": three_way.on_join,
            "ConfbridgeLeave": three_way.on_leave,
        }

    async def on_message(self, msg: AmiMessage, arrived: float) -> None:
        state = self._state
        name = msg.event
        state.arrived = arrived
        state.what = f"{name}/{msg.get('UserEvent') or ''}/{msg.get('Key') or ''}".rstrip("/")
        try:
            await self._apply(msg, arrived)
        finally:  # a reaction time is never charged to an event that failed
            state.arrived = None

    async def _apply(self, msg: AmiMessage, arrived: float) -> None:
        state, name = self._state, msg.event
        handler = self.handlers.get(kind(msg))
        if handler is not None:
            await handler(msg, arrived)
        at = now_utc()
        for transfer_id, transfer in list(state.running.items()):
            parties = state.parties.get(transfer_id)
            if parties is None:
                continue
            caller = state.model.legs.get(parties.caller_uniqueid)
            if caller is not None and caller.call_id != transfer.call_id:
                transfer.call_merged(transfer.call_id, caller.call_id)  # the call was merged
            try:
                for event in observe(msg, transfer_id, parties, at):
                    await self._moves.feed(transfer, event)
            except Exception:  # one transfer's trouble must not hide the event from the others
                log.exception("transfer %s: could not apply %s", transfer_id, name)
