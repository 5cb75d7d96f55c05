"""Moving a transfer on: starting one (by key, by the API, or recording one
the phone made itself), handing it what Asterisk, a timer or the API reports,
sending the AMI steps the core then commands (a caller is waiting), and after
each step arming its ring timer, telling the listeners and the live feed, and
marking it to be saved."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from ami_client.message import AmiMessage
from transfer.core import actions
from transfer.core import commands as c
from transfer.core.errors import IllegalTransition
from transfer.core.events import Event, Requested
from transfer.core.events import RingTimeout as RingTimeoutEvent
from transfer.core.machine import Transfer
from transfer.core.native import native_request
from transfer.core.parties import Parties, parties_for
from transfer.core.registry import refuse_if_running
from transfer.core.states import By, TransferMode, TransferState
from transfer.core.target import Target, check_unit_line
from transfer.service.inbox import Inbox
from transfer.service.outcomes import Outcomes
from transfer.service.state import ServiceState, log, now_utc
from transfer.service.three_way import ThreeWay
from transfer.shapes import notice_json, transfer_json

# Asterisk's own Dial timeout ends an unanswered ring first; the server's
# timer is the backstop for a ring whose end the AMI never told.
TIMER_GRACE_S = 3.0


class Moves:
    def __init__(
        self, state: ServiceState, inbox: Inbox, three_way: ThreeWay, outcomes: Outcomes
    ) -> None:
        self._state = state
        self._inbox = inbox
        self._three_way = three_way
        self._outcomes = outcomes
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._notices: list[dict[str, Any]] = []  # for the operator, after the step

    async def start(
        self, call_id: str, operator_uniqueid: str, mode: TransferMode, target: Target, by: By
    ) -> Transfer:
        state = self._state
        check_unit_line(target, state.unit_line_known)  # a key for a unit the roster lacks
        refuse_if_running(state.running.values(), call_id)
        parties = parties_for(state.model.legs, operator_uniqueid)
        request = Requested(
            transfer_id=actions.new_transfer_id(),
            call_id=call_id,
            caller_uniqueid=parties.caller_uniqueid,
            operator_uniqueid=operator_uniqueid,
            mode=mode,
            target=target,
            ring_timeout_s=state.ring_timeout_s,
            by=by,
            at=now_utc(),
        )
        transfer, commands = Transfer.start(request)
        self._register(transfer, parties)
        log.info("transfer %s: %s of call %s to %s (%s)", transfer.id, mode, call_id, target, by)
        await self._carry_out(transfer, commands)
        await self._after_change(transfer)
        return transfer

    async def record_native(self, msg: AmiMessage, arrived: float) -> None:
        """A transfer made with the phone's own buttons (SIP REFER) or Asterisk's
        feature keys: recorded, not driven."""
        state = self._state
        found = native_request(msg, state.model.legs, state.ring_timeout_s, now_utc())
        if found is None:
            return
        request, parties, follow_ups = found
        transfer, _ = Transfer.start(request)
        self._register(transfer, parties)
        for event in follow_ups:
            transfer.handle(event)
        await self._after_change(transfer)

    def _register(self, transfer: Transfer, parties: Parties) -> None:
        self._state.running[transfer.id] = transfer
        self._state.parties[transfer.id] = parties

    async def request_step(self, transfer: Transfer, event: Event) -> None:
        """Complete or cancel: refused (IllegalTransition) if the state does not take it."""
        commands = transfer.handle(event)
        await self._carry_out(transfer, commands)
        await self._after_change(transfer)

    async def feed(self, transfer: Transfer, event: Event) -> None:
        """A report from Asterisk, a timer or reconciliation."""
        if transfer.is_late(event):
            return
        try:
            commands = transfer.handle(event)
        except IllegalTransition as exc:
            log.warning("transfer %s: %s ignored: %s", transfer.id, event.name, exc)
            return
        await self._carry_out(transfer, commands)
        await self._after_change(transfer)

    async def ring_timeout(self, transfer_id: str) -> None:
        """The server's ring timer for the transfer ran out."""
        transfer = self._state.running.get(transfer_id)
        if transfer is not None:
            await self.feed(transfer, RingTimeoutEvent(now_utc()))

    async def _carry_out(self, transfer: Transfer, commands: list[c.Command]) -> None:
        state = self._state
        parties = state.parties.get(transfer.id)
        if parties is None:
            return
        remaining = (transfer.ring_deadline - now_utc()).total_seconds()
        steps = actions.plan(commands, transfer, parties, max(1, math.ceil(remaining)))
        for command in commands:
            if isinstance(command, c.EndConference) and parties.room is not None:
                in_room = self._three_way.rooms.members(parties.room)
                steps += actions.end_room(list(in_room.values()))
            if isinstance(command, c.RecallOperator):
                self._outcomes.expect_recall(transfer, parties)
        await state.sender.send_all(steps, parties)
        if steps and state.arrived is not None:
            done = time.perf_counter()
            state.reaction_times.append(
                (state.what, state.sender.last_sent - state.arrived, done - state.arrived)
            )
        for command in commands:  # told after the step itself (_after_change)
            if isinstance(command, c.NotifyOperator):
                self._notices.append(
                    notice_json(transfer, command.reason, parties.operator_endpoint)
                )

    async def _after_change(self, transfer: Transfer) -> None:
        state = self._state
        self._arm_timer(transfer)
        for listener in state.listeners:
            listener(transfer, state.parties.get(transfer.id))
        if transfer.ended:
            state.running.pop(transfer.id, None)
            state.parties.pop(transfer.id, None)
            log.info(
                "transfer %s %s (%s)", transfer.id, transfer.state, transfer.timeline[-1].reason
            )
        state.live.publish({"type": "transfer", "data": transfer_json(transfer)})
        for notice in self._notices:
            state.live.publish(notice)
        self._notices.clear()
        state.store.mark(transfer)

    def _arm_timer(self, transfer: Transfer) -> None:
        timer = self._timers.pop(transfer.id, None)
        if timer is not None:
            timer.cancel()
        if transfer.state not in (TransferState.REQUESTED, TransferState.RINGING):
            return
        delay = (transfer.ring_deadline - now_utc()).total_seconds() + TIMER_GRACE_S
        self._timers[transfer.id] = self._inbox.ring_later(max(0.0, delay), transfer.id)
