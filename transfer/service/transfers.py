"""The transfer service: the asyncio shell around the pure transfer core.

Everything that moves a transfer goes through one worker, in order: the AMI
events (handed over by the ingest consumer after the call model has applied
them), the ring timers, the operators' keys and the API. For each step the
core says what to do; the shell sends the AMI actions (a caller is waiting),
then pushes the timeline live and marks it to be saved.

Saving runs apart (`TransferStore`): a hand-over never waits for the database,
and a database that is down only delays the records, which are kept and saved
again (whole: saving is idempotent) until it answers, and at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ami_client import AmiError, LinkDown, LinkUp
from ami_client.errors import AmiNotConnected
from ami_client.link import LinkState
from ami_client.message import AmiMessage
from telephony.core.model import CallModel
from transfer.core import actions
from transfer.core import commands as c
from transfer.core.errors import IllegalTransition, TransferError
from transfer.core.events import (
    CancelRequested,
    CompleteRequested,
    Event,
    OperatorLeft,
    Reconciled,
    Requested,
)
from transfer.core.events import RingTimeout as RingTimeoutEvent
from transfer.core.key_codes import KeyDetector, KeyPress
from transfer.core.keys import OperatorKeys, StartTransfer, StepTransfer, meaning
from transfer.core.machine import Transfer
from transfer.core.native import native_request
from transfer.core.observe import observe
from transfer.core.parties import NotOnACall, Parties, operator_leg_of_call, parties_for
from transfer.core.reconcile import caller_waiting, finding_for, learn_target, parties_after_restart
from transfer.core.registry import refuse_if_running
from transfer.core.rooms import Rooms
from transfer.core.states import By, TransferMode, TransferState
from transfer.core.target import Target, check_unit_line
from transfer.service.sender import AmiSender
from transfer.shapes import notice_json, refusal_json, transfer_json
from transfer.storage.store import TransferStore
from web.live import LiveBus

log = logging.getLogger(__name__)

# Asterisk's own Dial timeout ends an unanswered ring first; the server's
# timer is the backstop for a ring whose end the AMI never told.
TIMER_GRACE_S = 3.0
ROOM_SETTLE_S = 1.0


@dataclass(frozen=True, slots=True)
class _RingTimer:
    transfer_id: str


class _Reconcile:
    """Restart or reconnect: compare the running transfers with Asterisk."""


@dataclass(frozen=True, slots=True)
class _RoomCheck:
    """Someone left a three-way room a moment ago: is anyone left alone in it?"""

    room: str


@dataclass(frozen=True, slots=True)
class _Arrived:
    """An AMI event, with when the ingest consumer handed it over (perf_counter)."""

    msg: AmiMessage
    at: float


Item = _Arrived | _RingTimer | _Reconcile | _RoomCheck


def now_utc() -> datetime:
    return datetime.now(UTC)


class TransferService:
    def __init__(
        self,
        model: CallModel,
        sessions: async_sessionmaker[AsyncSession],
        live: LiveBus,
        *,
        ring_timeout_s: int,
        keys: KeyDetector | None = None,
    ) -> None:
        self.model = model
        self.keys = OperatorKeys(keys)
        # Whether a unit line is the roster's (set from the case rules at start).
        self.unit_line_known: Callable[[str], bool] | None = None
        self.live = live
        self.ring_timeout_s = ring_timeout_s
        self.sender = AmiSender()
        self.store = TransferStore(sessions)
        self.running: dict[str, Transfer] = {}
        self.parties: dict[str, Parties] = {}
        # Told every change of a transfer, with its parties (the case linker:
        # a completed hand-over to the other desk hands the case over too).
        self.listeners: list[Callable[[Transfer, Parties | None], None]] = []
        self.rooms = Rooms()
        self._recalls: dict[str, Parties] = {}  # recall Uniqueid -> whom it rings back for
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._inbox: deque[Item] = deque()
        self._wakeup = asyncio.Event()
        self._lock = asyncio.Lock()
        self._restored = False
        # Whether the model has been checked against Asterisk since the link
        # last came up: until then no timer acts on Asterisk (its actions would
        # be lost on a dead link, or act on what has changed meanwhile); the
        # reconciliation on reconnect settles what the timers were for.
        self._reconciled = False
        # When the Asterisk we talk to started (None: not known yet).
        self.pbx_started: Callable[[], datetime | None] = lambda: None
        self._arrived: float | None = None  # when the AMI event being applied came in
        self._what = ""  # and what it was ("DTMFEnd", "UserEvent/LdKey/blind", ...)
        self._notices: list[dict[str, Any]] = []  # for the operator, after the step
        # The server's share of a hand-over, by the AMI event that caused it
        # ("DTMFEnd", "Hangup", ...): seconds from the event reaching this service
        # to the last AMI action written, and to Asterisk's answer to it
        # (persisting comes after both).
        self.reaction_times: deque[tuple[str, float, float]] = deque(maxlen=10_000)

    # ------------------------------------------------------------ feeding

    def observe(self, item: AmiMessage | LinkUp | LinkDown) -> None:
        """Called by the ingest consumer for every item, after the call model."""
        if isinstance(item, LinkUp):
            self._put(_Reconcile())
        elif isinstance(item, LinkDown):
            self._reconciled = False
        elif isinstance(item, AmiMessage):
            self.sender.note_hold(item)  # at once: the worker may be waiting for it
            self._put(_Arrived(item, time.perf_counter()))

    def _put(self, item: Item) -> None:
        self._inbox.append(item)
        self._wakeup.set()

    async def load(self) -> None:
        """Transfers the database has running (from before a restart)."""
        for transfer in await self.store.running():
            self.running[transfer.id] = transfer
        if self.running:
            log.warning("%d transfers were running at the last stop", len(self.running))

    async def run(self) -> None:
        saver = asyncio.create_task(self.store.run(), name="transfer-saver")
        try:
            await self._work()
        finally:
            saver.cancel()

    async def _work(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._inbox:
                item = self._inbox.popleft()
                try:
                    async with self._lock:
                        await self._apply(item)
                except Exception:
                    log.exception("transfer service: could not apply %r; skipped", item)

    def _link_ready(self) -> bool:
        client = self.sender.client
        return self._reconciled and client is not None and client.state is LinkState.CONNECTED

    async def _apply(self, item: Item) -> None:
        if isinstance(item, _RingTimer | _RoomCheck) and not self._link_ready():
            log.warning("AMI link down: %s left to the reconciliation on reconnect", item)
            return
        if isinstance(item, _RingTimer):
            transfer = self.running.get(item.transfer_id)
            if transfer is not None:
                await self._feed(transfer, RingTimeoutEvent(now_utc()))
        elif isinstance(item, _Reconcile):
            await self._reconcile()
        elif isinstance(item, _RoomCheck):
            await self._check_room(item.room)
        else:
            await self._on_message(item.msg, item.at)

    # ------------------------------------------------------------ AMI events

    async def _on_message(self, msg: AmiMessage, arrived: float) -> None:
        name = msg.event
        self._arrived = arrived
        self._what = f"{name}/{msg.get('UserEvent') or ''}/{msg.get('Key') or ''}".rstrip("/")
        if name in ("DTMFBegin", "DTMFEnd") and msg.get("Direction") == "Received":
            await self._on_digit(msg, arrived)
        elif name == "UserEvent" and msg.get("UserEvent") == "LdKey":
            if not self.keys.is_echo(msg, arrived):  # in a bridge: the code, held back whole
                await self._on_key(msg, KeyPress(msg.get("Key") or "", msg.get("Unit")))
        elif name == "Hangup":
            self.keys.forget(msg.get("Uniqueid") or "")
        elif name == "UserEvent" and msg.get("UserEvent") == "LdHoldOver":
            # The dialplan's safety net: nothing moved the caller in time.
            log.error(
                "transfer %s: the caller on %s outwaited the hold limit and rings their desk again",
                msg.get("Transfer") or "?",
                msg.get("Channel"),
            )
        elif name in ("BlindTransfer", "AttendedTransfer"):
            await self._on_native(msg)
        elif name == "OriginateResponse":
            await self._on_originate_response(msg)
        elif name in ("ConfbridgeJoin", "ConfbridgeLeave"):
            await self._on_room_change(msg)
        at = now_utc()
        for transfer_id, transfer in list(self.running.items()):
            parties = self.parties.get(transfer_id)
            if parties is None:
                continue
            caller = self.model.legs.get(parties.caller_uniqueid)
            if caller is not None and caller.call_id != transfer.call_id:
                transfer.call_merged(transfer.call_id, caller.call_id)  # the call was merged
            try:
                for event in observe(msg, transfer_id, parties, at):
                    await self._feed(transfer, event)
            except Exception:  # one transfer's trouble must not hide the event from the others
                log.exception("transfer %s: could not apply %s", transfer_id, name)
        self._arrived = None

    async def _on_digit(self, msg: AmiMessage, arrived: float) -> None:
        press = self.keys.digit(msg, self.model.legs, arrived, self.rooms.holds)
        if press is not None:
            await self._on_key(msg, press)

    async def _on_key(self, msg: AmiMessage, press: KeyPress) -> None:
        presser = msg.get("Uniqueid") or ""
        action = meaning(presser, press, self.running.values(), self.model.legs, now_utc())
        if isinstance(action, StepTransfer):
            await self._request_step(action.transfer, action.event)
        elif isinstance(action, StartTransfer):
            try:
                await self._start(action.call_id, presser, action.mode, action.target, By.KEY)
            except (TransferError, NotOnACall) as exc:  # tell the operator why nothing happened
                log.warning("key %s on %s: no transfer: %s", press.key, msg.get("Channel"), exc)
                leg = self.model.legs.get(presser)
                phone = leg.endpoint if leg is not None else None
                self.live.publish(refusal_json(action.call_id, phone, exc))

    async def _on_native(self, msg: AmiMessage) -> None:
        """A transfer made with the phone's own buttons (SIP REFER) or Asterisk's
        feature keys: recorded, not driven."""
        found = native_request(msg, self.model.legs, self.ring_timeout_s, now_utc())
        if found is None:
            return
        request, parties, follow_ups = found
        transfer, _ = Transfer.start(request)
        self._register(transfer, parties)
        for event in follow_ups:
            transfer.handle(event)
        await self._after_change(transfer)

    async def _on_originate_response(self, msg: AmiMessage) -> None:
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
            await self.sender.send(step)

    async def _on_room_change(self, msg: AmiMessage) -> None:
        room = (msg.get("Conference") or "").removeprefix("ld")
        uniqueid, channel = msg.get("Uniqueid") or "", msg.get("Channel") or ""
        if msg.event == "ConfbridgeJoin":
            self.rooms.join(room, uniqueid, channel)
            return
        self.rooms.leave(room, uniqueid)
        # Looked at again a moment later: whoever is left may be leaving too (a
        # new transfer moving them out), and must not be hung up on the way.
        asyncio.get_running_loop().call_later(ROOM_SETTLE_S, self._put, _RoomCheck(room))

    async def _check_room(self, room: str) -> None:
        left = self.rooms.members(room)
        in_use = any(
            p.room == room and t.running
            for t in self.running.values()
            if (p := self.parties.get(t.id)) is not None
        )
        if len(left) == 1 and not in_use:  # a room of one is no conference: end it
            for step in actions.end_room(list(left.values())):
                await self.sender.send(step)

    # ------------------------------------------------------------ moving a transfer

    async def _start(
        self, call_id: str, operator_uniqueid: str, mode: TransferMode, target: Target, by: By
    ) -> Transfer:
        check_unit_line(target, self.unit_line_known)  # a key for a unit the roster lacks
        refuse_if_running(self.running.values(), call_id)
        parties = parties_for(self.model.legs, operator_uniqueid)
        request = Requested(
            transfer_id=actions.new_transfer_id(),
            call_id=call_id,
            caller_uniqueid=parties.caller_uniqueid,
            operator_uniqueid=operator_uniqueid,
            mode=mode,
            target=target,
            ring_timeout_s=self.ring_timeout_s,
            by=by,
            at=now_utc(),
        )
        transfer, commands = Transfer.start(request)
        self._register(transfer, parties)
        log.info("transfer %s: %s of call %s to %s (%s)", transfer.id, mode, call_id, target, by)
        await self._carry_out(transfer, commands)
        await self._after_change(transfer)
        return transfer

    def _register(self, transfer: Transfer, parties: Parties) -> None:
        self.running[transfer.id] = transfer
        self.parties[transfer.id] = parties

    async def _request_step(self, transfer: Transfer, event: Event) -> list[c.Command]:
        """Complete or cancel: refused (IllegalTransition) if the state does not take it."""
        commands = transfer.handle(event)
        await self._carry_out(transfer, commands)
        await self._after_change(transfer)
        return commands

    async def _feed(self, transfer: Transfer, event: Event) -> None:
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

    async def _carry_out(self, transfer: Transfer, commands: list[c.Command]) -> None:
        parties = self.parties.get(transfer.id)
        if parties is None:
            return
        remaining = (transfer.ring_deadline - now_utc()).total_seconds()
        steps = actions.plan(commands, transfer, parties, max(1, math.ceil(remaining)))
        for command in commands:
            if isinstance(command, c.EndConference) and parties.room is not None:
                steps += actions.end_room(list(self.rooms.members(parties.room).values()))
            if isinstance(command, c.RecallOperator):
                self._recalls[actions.recall_id(transfer)] = parties
        await self.sender.send_all(steps, parties)
        if steps and self._arrived is not None:
            done = time.perf_counter()
            self.reaction_times.append(
                (self._what, self.sender.last_sent - self._arrived, done - self._arrived)
            )
        for command in commands:  # told after the step itself (_after_change)
            if isinstance(command, c.NotifyOperator):
                self._notices.append(
                    notice_json(transfer, command.reason, parties.operator_endpoint)
                )

    async def _after_change(self, transfer: Transfer) -> None:
        self._arm_timer(transfer)
        for listener in self.listeners:
            listener(transfer, self.parties.get(transfer.id))
        if transfer.ended:
            self.running.pop(transfer.id, None)
            self.parties.pop(transfer.id, None)
            log.info(
                "transfer %s %s (%s)", transfer.id, transfer.state, transfer.timeline[-1].reason
            )
        self.live.publish({"type": "transfer", "data": transfer_json(transfer)})
        for notice in self._notices:
            self.live.publish(notice)
        self._notices.clear()
        self.store.mark(transfer)

    def _arm_timer(self, transfer: Transfer) -> None:
        timer = self._timers.pop(transfer.id, None)
        if timer is not None:
            timer.cancel()
        if transfer.state not in (TransferState.REQUESTED, TransferState.RINGING):
            return
        delay = (transfer.ring_deadline - now_utc()).total_seconds() + TIMER_GRACE_S
        loop = asyncio.get_running_loop()
        self._timers[transfer.id] = loop.call_later(
            max(0.0, delay), self._put, _RingTimer(transfer.id)
        )

    # ------------------------------------------------------------ reconciliation

    async def _reconcile(self) -> None:
        """After a restart or a reconnect (the call model is already in line
        with Asterisk): settle every transfer whose parties we no longer follow,
        and check the others still stand."""
        if not self._restored:
            self._restored = True
            await self.load()
        self._reconciled = True
        await self._reload_rooms()
        at = now_utc()
        for transfer in list(self.running.values()):
            finding, target = finding_for(transfer, self.model.legs, self.pbx_started())
            if transfer.id not in self.parties:
                parties = parties_after_restart(transfer, self.model.legs)
                if parties.operator_endpoint is None:  # their leg ended while we were away
                    parties.operator_endpoint = await self.store.endpoint_of(
                        parties.operator_uniqueid
                    )
                self.parties[transfer.id] = parties
            learn_target(self.parties[transfer.id], target, self.model.legs)
            if (
                transfer.mode is not TransferMode.BLIND
                and transfer.request.operator_uniqueid not in self.model.legs
            ):  # the operator hung up while we were away: that completes or ends it first
                await self._feed(transfer, OperatorLeft(at))
                if transfer.ended:
                    continue
            log.warning("transfer %s (%s) reconciled: %s", transfer.id, transfer.state, finding)
            await self._feed(transfer, Reconciled(at, finding, target))
        await self._pay_owed()

    async def _pay_owed(self) -> None:
        """Callers whose give-back was lost with the link: still waiting on
        hold (with nobody, ringing nobody) they ring their desk again."""
        owed, self.sender.owed = self.sender.owed, {}
        for parties in owed.values():
            if caller_waiting(parties.caller_uniqueid, self.model.legs):
                log.warning(
                    "the caller on %s waited out an AMI outage: ringing their desk again",
                    parties.caller_channel,
                )
                for step in actions.back_to_desk(parties):
                    await self.sender.send(step)

    async def _reload_rooms(self) -> None:
        """Who is in liandong's three-way rooms now (ConfbridgeList); a room
        left with one person while we were away is ended."""
        client = self.sender.client
        if client is None:
            return
        try:
            listed = await client.send_list_action({"Action": "ConfbridgeListRooms"})
            names = [n for item in listed if (n := item.get("Conference") or "").startswith("ld")]
            members = {}
            for name in names:
                action = {"Action": "ConfbridgeList", "Conference": name}
                members[name] = await client.send_list_action(action)
        except AmiError as exc:  # no rooms at all is an error reply too
            if "no active conferences" not in str(exc).lower():
                log.warning("three-way rooms not reloaded: %s", exc)
            return
        self.rooms = Rooms()
        for room, people in members.items():
            for member in people:
                self.rooms.join(
                    room.removeprefix("ld"),
                    member.get("Uniqueid") or "",
                    member.get("Channel") or "",
                )
            await self._check_room(room.removeprefix("ld"))

    # ------------------------------------------------------------ the API

    async def request(
        self, call_id: str, operator_uniqueid: str, mode: TransferMode, target: Target
    ) -> Transfer:
        client = self.sender.client
        if client is None or client.state is not LinkState.CONNECTED:
            raise AmiNotConnected("the AMI link to Asterisk is down")
        async with self._lock:
            return await self._start(call_id, operator_uniqueid, mode, target, By.API)

    async def stop(self, seconds: float) -> None:
        """At shutdown: store what is not stored yet, trying for up to `seconds`."""
        async with self._lock:
            await self.store.flush_within(seconds)
        if self.store.unsaved:
            log.error("shutdown: %d transfers could not be saved", len(self.store.unsaved))

    async def complete(self, transfer: Transfer) -> None:
        async with self._lock:
            await self._request_step(transfer, CompleteRequested(now_utc(), By.API))

    async def cancel(self, transfer: Transfer) -> None:
        async with self._lock:
            await self._request_step(transfer, CancelRequested(now_utc(), By.API))

    async def find(self, transfer_id: str) -> Transfer | None:
        if transfer_id in self.running:
            return self.running[transfer_id]
        return await self.store.get(transfer_id)

    async def list_since(self, since: datetime | None, limit: int) -> list[Transfer]:
        """From the database; transfers not saved yet (it is down) are added."""
        stored = await self.store.list_since(since, limit)
        seen = {t.id for t in stored}
        extra = [
            t
            for t in self.store.unsaved.values()
            if t.id not in seen and (since is None or t.request.at >= since)
        ]
        return sorted([*stored, *extra], key=lambda t: t.request.at, reverse=True)[:limit]

    def is_live_call(self, call_id: str) -> bool:
        """Whether the call has a leg up now."""
        return any(leg.call_id == call_id for leg in self.model.legs.values())

    def operator_leg(self, call_id: str, phone: str | None) -> str | None:
        """The Uniqueid of the operator talking with the caller on this call:
        the one on `phone` if given, else the only one; None if there is none."""
        leg = operator_leg_of_call(self.model.legs, call_id, phone)
        return leg.uniqueid if leg is not None else None

    def awaiting_reconciliation(self, transfer: Transfer) -> bool:
        """A running transfer read back from the records after a restart, not
        yet checked against Asterisk: acting on it would move a copy, not the call."""
        return not transfer.ended and transfer.id not in self.running

    def operator_phone(self, transfer_id: str) -> str | None:
        """The phone of the operator who handed the call over (None: not known)."""
        parties = self.parties.get(transfer_id)
        return parties.operator_endpoint if parties else None
