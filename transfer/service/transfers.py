"""The transfer service: the asyncio shell around the pure transfer core.

Everything that moves a transfer goes through one worker, in order: the AMI
events (handed over by the ingest consumer after the call model has applied
them), the ring timers, the operators' keys and the API. For each step the
core says what to do; the shell sends the AMI actions (a caller is waiting),
then pushes the timeline live and marks it to be saved.

Saving runs apart (`TransferStore`): a hand-over never waits for the database,
and a database that is down only delays the records, which are kept and saved
again (whole: saving is idempotent) until it answers, and at shutdown.

The work is done by parts, one job each, in this package (the queue, the AMI
event table, the keys, the moves, the three-way rooms, the commands' outcomes,
the reconciliation, the API); `TransferService` puts them together and is the
one face the app, the HTTP handlers and the tests see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ami_client import LinkDown, LinkUp
from ami_client.message import AmiMessage
from common.live_feed import LiveFeed
from telephony.core.model import CallModel
from transfer.core.key_codes import KeyDetector
from transfer.core.keys import OperatorKeys
from transfer.core.machine import Transfer
from transfer.core.states import TransferMode
from transfer.core.target import Target
from transfer.service.api import TransferApi
from transfer.service.dispatch import AmiDispatch
from transfer.service.inbox import Inbox, Routes
from transfer.service.key_intake import KeyIntake
from transfer.service.moves import Moves
from transfer.service.outcomes import Outcomes
from transfer.service.reconciler import Reconciler
from transfer.service.state import ServiceState, log
from transfer.service.three_way import ThreeWay
from transfer.storage.store import TransferStore


class TransferService:
    def __init__(
        self,
        model: CallModel,
        sessions: async_sessionmaker[AsyncSession],
        live: LiveFeed,
        *,
        ring_timeout_s: int,
        keys: KeyDetector | None = None,
    ) -> None:
        state = self.state = ServiceState(
            model, live, TransferStore(sessions), ring_timeout_s=ring_timeout_s
        )
        self.inbox = Inbox()
        self.outcomes = Outcomes(state)
        self.three_way = ThreeWay(state, self.inbox)
        self.moves = Moves(state, self.inbox, self.three_way, self.outcomes)
        self.key_intake = KeyIntake(state, OperatorKeys(keys), self.moves, self.three_way)
        self.reconciler = Reconciler(state, self.moves, self.three_way)
        self.dispatch = AmiDispatch(
            state, self.key_intake, self.moves, self.three_way, self.outcomes
        )
        self.api = TransferApi(state, self.inbox.lock, self.moves)
        self.routes = Routes(
            link_ready=self.reconciler.link_ready,
            ring_timeout=self.moves.ring_timeout,
            reconcile=self.reconciler.reconcile,
            check_room=self.three_way.check,
            message=self.dispatch.on_message,
        )
        # What the app wires up and the benchmark reads (the parts' own).
        self.sender = state.sender
        self.listeners = state.listeners
        self.running = state.running
        self.reaction_times = state.reaction_times

    @property
    def unit_line_known(self) -> Callable[[str], bool] | None:
        """Whether a unit line is the roster's (set from the case rules at start)."""
        return self.state.unit_line_known

    @unit_line_known.setter
    def unit_line_known(self, known: Callable[[str], bool] | None) -> None:
        self.state.unit_line_known = known

    @property
    def pbx_started(self) -> Callable[[], datetime | None]:
        """When the Asterisk we talk to started (None: not known yet)."""
        return self.state.pbx_started

    @pbx_started.setter
    def pbx_started(self, started: Callable[[], datetime | None]) -> None:
        self.state.pbx_started = started

    # ------------------------------------------------------------ running

    def observe(self, item: AmiMessage | LinkUp | LinkDown) -> None:
        """Called by the ingest consumer for every item, after the call model."""
        if isinstance(item, LinkUp):
            self.inbox.reconcile()
        elif isinstance(item, LinkDown):
            self.reconciler.link_lost()
        elif isinstance(item, AmiMessage):
            self.sender.note_hold(item)  # at once: the worker may be waiting for it
            self.inbox.message(item)

    async def run(self) -> None:
        saver = asyncio.create_task(self.state.store.run(), name="transfer-saver")
        try:
            await self.inbox.work(self.routes)
        finally:
            saver.cancel()

    async def stop(self, seconds: float) -> None:
        """At shutdown: store what is not stored yet, trying for up to `seconds`."""
        store = self.state.store
        async with self.inbox.lock:
            await store.flush_within(seconds)
        if store.unsaved:
            log.error("shutdown: %d transfers could not be saved", len(store.unsaved))

    # ------------------------------------------------------------ the API (transfer/http.py)

    async def request(
        self, call_id: str, operator_uniqueid: str, mode: TransferMode, target: Target
    ) -> Transfer:
        return await self.api.request(call_id, operator_uniqueid, mode, target)

    async def complete(self, transfer: Transfer) -> None:
        await self.api.complete(transfer)

    async def cancel(self, transfer: Transfer) -> None:
        await self.api.cancel(transfer)

    async def find(self, transfer_id: str) -> Transfer | None:
        return await self.api.find(transfer_id)

    async def list_since(self, since: datetime | None, limit: int) -> list[Transfer]:
        """From the database; transfers not saved yet (it is down) are added."""
        return await self.api.list_since(since, limit)

    def is_live_call(self, call_id: str) -> bool:
        """Whether the call has a leg up now."""
        return self.api.is_live_call(call_id)

    def operator_leg(self, call_id: str, phone: str | None) -> str | None:
        """The Uniqueid of the operator talking with the caller on this call:
        the one on `phone` if given, else the only one; None if there is none."""
        return self.api.operator_leg(call_id, phone)

    def awaiting_reconciliation(self, transfer: Transfer) -> bool:
        """Read back from the records after a restart, not yet checked against Asterisk."""
        return self.api.awaiting_reconciliation(transfer)

    def operator_phone(self, transfer_id: str) -> str | None:
        """The phone of the operator who handed the call over (None: not known)."""
        return self.api.operator_phone(transfer_id)
