"""What the HTTP handlers (transfer/http.py) ask of the service: start,
complete or cancel a transfer (the same moves as the phone keys, under the
worker's lock), find and list transfers, and the few facts about live calls
and running transfers their checks need, so that they never read the call
model or the service's own records of what is running."""

from __future__ import annotations

import asyncio
from datetime import datetime

from ami_client.errors import AmiNotConnected
from ami_client.link import LinkState
from transfer.core.events import CancelRequested, CompleteRequested
from transfer.core.machine import Transfer
from transfer.core.parties import operator_leg_of_call
from transfer.core.states import By, TransferMode
from transfer.core.target import Target
from transfer.service.moves import Moves
from transfer.service.state import ServiceState, now_utc


class TransferApi:
    def __init__(self, state: ServiceState, lock: asyncio.Lock, moves: Moves) -> None:
        self._state = state
        self._lock = lock
        self._moves = moves

    async def request(
        self, call_id: str, operator_uniqueid: str, mode: TransferMode, target: Target
    ) -> Transfer:
        client = self._state.sender.client
        if client is None or client.state is not LinkState.CONNECTED:
            raise AmiNotConnected("the AMI link to Asterisk is down")
        async with self._lock:
            return await self._moves.start(call_id, operator_uniqueid, mode, target, By.API)

    async def complete(self, transfer: Transfer) -> None:
        async with self._lock:
            await self._moves.request_step(transfer, CompleteRequested(now_utc(), By.API))

    async def cancel(self, transfer: Transfer) -> None:
        async with self._lock:
            await self._moves.request_step(transfer, CancelRequested(now_utc(), By.API))

    async def find(self, transfer_id: str) -> Transfer | None:
        if transfer_id in self._state.running:
            return self._state.running[transfer_id]
        return await self._state.store.get(transfer_id)

    async def list_since(self, since: datetime | None, limit: int) -> list[Transfer]:
        """From the database; transfers not saved yet (it is down) are added."""
        store = self._state.store
        stored = await store.list_since(since, limit)
        seen = {t.id for t in stored}
        extra = [
            t
            for t in store.unsaved.values()
            if t.id not in seen and (since is None or t.request.at >= since)
        ]
        return sorted([*stored, *extra], key=lambda t: t.request.at, reverse=True)[:limit]

    def is_live_call(self, call_id: str) -> bool:
        """Whether the call has a leg up now."""
        return any(leg.call_id == call_id for leg in self._state.model.legs.values())

    def operator_leg(self, call_id: str, phone: str | None) -> str | None:
        """The Uniqueid of the operator talking with the caller on this call:
        the one on `phone` if given, else the only one; None if there is none."""
        leg = operator_leg_of_call(self._state.model.legs, call_id, phone)
        return leg.uniqueid if leg is not None else None

    def awaiting_reconciliation(self, transfer: Transfer) -> bool:
        """A running transfer read back from the records after a restart, not
        yet checked against Asterisk: acting on it would move a copy, not the call."""
        return not transfer.ended and transfer.id not in self._state.running

    def operator_phone(self, transfer_id: str) -> str | None:
        """The phone of the operator who handed the call over (None: not known)."""
        parties = self._state.parties.get(transfer_id)
        return parties.operator_endpoint if parties else None
