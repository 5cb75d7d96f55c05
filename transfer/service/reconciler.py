"""After a restart or a reconnect: the transfers the records have running are
loaded (once), each running transfer is settled against Asterisk (the call
model is in line with it by then), the three-way rooms are reloaded, and
callers whose give-back was lost with the link ring their desk again. Until
then no timer acts on Asterisk."""

from __future__ import annotations

from ami_client.link import LinkState
from transfer.core import actions
from transfer.core.events import OperatorLeft, Reconciled
from transfer.core.reconcile import caller_waiting, finding_for, learn_target, parties_after_restart
from transfer.core.states import TransferMode
from transfer.service.moves import Moves
from transfer.service.state import ServiceState, log, now_utc
from transfer.service.three_way import ThreeWay


class Reconciler:
    def __init__(self, state: ServiceState, moves: Moves, three_way: ThreeWay) -> None:
        self._state = state
        self._moves = moves
        self._three_way = three_way
        self._restored = False
        # Whether the model has been checked against Asterisk since the link
        # last came up: until then no timer acts on Asterisk (its actions would
        # be lost on a dead link, or act on what has changed meanwhile); the
        # reconciliation on reconnect settles what the timers were for.
        self._reconciled = False

    async def load(self) -> None:
        """Transfers the database has running (from before a restart)."""
        running = self._state.running
        for transfer in await self._state.store.running():
            running[transfer.id] = transfer
        if running:
            log.warning("%d transfers were running at the last stop", len(running))

    def link_lost(self) -> None:
        self._reconciled = False

    def link_ready(self) -> bool:
        client = self._state.sender.client
        return self._reconciled and client is not None and client.state is LinkState.CONNECTED

    async def reconcile(self) -> None:
        """After a restart or a reconnect (the call model is already in line
        with Asterisk): settle every transfer whose parties we no longer follow,
        and check the others still stand."""
        state = self._state
        if not self._restored:
            self._restored = True
            await self.load()
        self._reconciled = True
        await self._three_way.reload()
        at = now_utc()
        for transfer in list(state.running.values()):
            finding, target = finding_for(transfer, state.model.legs, state.pbx_started())
            if transfer.id not in state.parties:
                parties = parties_after_restart(transfer, state.model.legs)
                if parties.operator_endpoint is None:  # their leg ended while we were away
                    parties.operator_endpoint = await state.store.endpoint_of(
                        parties.operator_uniqueid
                    )
                state.parties[transfer.id] = parties
            learn_target(state.parties[transfer.id], target, state.model.legs)
            if (
                transfer.mode is not TransferMode.BLIND
                and transfer.request.operator_uniqueid not in state.model.legs
            ):  # the operator hung up while we were away: that completes or ends it first
                await self._moves.feed(transfer, OperatorLeft(at))
                if transfer.ended:
                    continue
            log.warning("transfer %s (%s) reconciled: %s", transfer.id, transfer.state, finding)
            await self._moves.feed(transfer, Reconciled(at, finding, target))
        await self._pay_owed()

    async def _pay_owed(self) -> None:
        """Callers whose give-back was lost with the link: still waiting on
        hold (with nobody, ringing nobody) they ring their desk again."""
        sender = self._state.sender
        owed, sender.owed = sender.owed, {}
        for parties in owed.values():
            if caller_waiting(parties.caller_uniqueid, self._state.model.legs):
                log.warning(
                    "the caller on %s waited out an AMI outage: ringing their desk again",
                    parties.caller_channel,
                )
                for step in actions.back_to_desk(parties):
                    await sender.send(step)
