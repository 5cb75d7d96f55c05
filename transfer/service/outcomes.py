"""What Asterisk reports back about a hand-over's commands that no transfer
hears of: an operator's ring-back that could not be placed (OriginateResponse:
the caller rings their desk again), and a caller who outwaited the dialplan's
hold limit (UserEvent LdHoldOver: the dialplan has sent them back itself)."""

from __future__ import annotations

from ami_client.message import AmiMessage
from transfer.core import actions
from transfer.core.machine import Transfer
from transfer.core.parties import Parties
from transfer.service.state import ServiceState, log


class Outcomes:
    def __init__(self, state: ServiceState) -> None:
        self._state = state
        self._recalls: dict[str, Parties] = {}  # recall Uniqueid -> whom it rings back for

    def expect_recall(self, transfer: Transfer, parties: Parties) -> None:
        """The transfer is ringing its operator back: its answer comes later."""
        self._recalls[actions.recall_id(transfer)] = parties

    async def on_originate_response(self, msg: AmiMessage, arrived: float) -> None:
        parties = self._recalls.pop(msg.get("Uniqueid") or "", None)
        if parties is None or msg.get("Response") == "Success":
            return
        log.warning(
            "the operator on %s could not be rung back (%s); the caller rings the %s desk again",
            parties.operator_endpoint,
            msg.get("Reason"),
            parties.desk,
        )
        for step in actions.back_to_desk(parties):
            await self._state.sender.send(step)

    async def on_hold_over(self, msg: AmiMessage, arrived: float) -> None:
        # The dialplan's safety net: nothing moved the caller in time.
        log.error(
            "transfer %s: the caller on %s outwaited the hold limit and rings their desk again",
            msg.get("Transfer") or "?",
            msg.get("Channel"),
        )
