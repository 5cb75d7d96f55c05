"""The transfer service: the asyncio shell around the pure transfer core.

Everything that moves a transfer goes through one worker, in order: the AMI
events (handed over by the ingest consumer after the call model has applied
them), the ring timers, the operators' keys and the API. For each step the
core says what to do; the shell sends the AMI actions first (a caller is
waiting), then persists the timeline and pushes it live.

Nothing is lost when the database hiccups: a transfer whose save failed is
saved again (whole: saving is idempotent) on its next step and by a retry.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ami_client import AmiClient, AmiError, LinkDown, LinkUp
from ami_client.errors import AmiActionFailed, AmiNotConnected
from ami_client.link import LinkState
from ami_client.message import AmiMessage
from app import transfer_actions as actions
from app.key_codes import KeyDetector
from app.live import LiveBus
from app.transfer_json import notice_json, refusal_json, transfer_json
from app.transfer_native import native_request
from app.transfer_observe import observe
from app.transfer_parties import OPERATOR_ROLES, NotOnACall, Parties, parties_for
from app.transfer_reconcile import finding_for, learn_target, parties_after_restart
from app.transfer_rooms import Rooms
from records.db import WRITE_TRANSACTION
from records.models import Leg
from records.transfers import TransferRepository
from telephony.events import LegRole
from telephony.model import CallModel
from transfer import commands as c
from transfer.errors import IllegalTransition, TransferError
from transfer.events import (
    CancelRequested,
    CompleteRequested,
    Event,
    OperatorLeft,
    Reconciled,
    Requested,
)
from transfer.events import RingTimeout as RingTimeoutEvent
from transfer.machine import Transfer
from transfer.registry import refuse_if_running
from transfer.states import By, TransferMode, TransferState
from transfer.target import Desk, Target

log = logging.getLogger(__name__)

# Asterisk's own Dial timeout ends an unanswered ring first; the server's
# timer is the backstop for a ring whose end the AMI never told.
TIMER_GRACE_S = 3.0
SAVE_RETRY_S = 2.0
HOLD_WAIT_S = 3.0  # a channel sent to hold music is there within milliseconds
# Asterisk reports a code we acted on from its digits once the key is released
# (LdKey): arriving within this many seconds of the digit, it is the same press.
KEY_ECHO_S = 3.0
ROOM_SETTLE_S = 1.0
_GONE = re.compile(r"no such channel|does not exist", re.IGNORECASE)
KEY_MODES = {"blind": TransferMode.BLIND, "attended": TransferMode.ATTENDED,
             "conference": TransferMode.CONFERENCE, "unit": TransferMode.BLIND}  # fmt: skip
OTHER_DESK = {LegRole.OPERATOR_110: Desk.D12345, LegRole.OPERATOR_12345: Desk.D110}


class _RingTimer:
    def __init__(self, transfer_id: str) -> None:
        self.transfer_id = transfer_id


class _Reconcile:
    """Restart or reconnect: compare the running transfers with Asterisk."""


class _SaveRetry:
    """Saving failed earlier: try again."""


@dataclass(frozen=True, slots=True)
class _RoomCheck:
    """Someone left a three-way room a moment ago: is anyone left alone in it?"""

    room: str


@dataclass(frozen=True, slots=True)
class _Arrived:
    """An AMI event, with when the ingest consumer handed it over (perf_counter)."""

    msg: AmiMessage
    at: float


Item = _Arrived | _RingTimer | _Reconcile | _SaveRetry | _RoomCheck


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
        self.keys = keys
        self.sessions = sessions
        self.live = live
        self.ring_timeout_s = ring_timeout_s
        self.client: AmiClient | None = None
        self.running: dict[str, Transfer] = {}
        self.parties: dict[str, Parties] = {}
        self.rooms = Rooms()
        self._recalls: dict[str, Parties] = {}  # recall Uniqueid -> whom it rings back for
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._unsaved: dict[str, Transfer] = {}
        self._on_hold: dict[str, asyncio.Event] = {}  # set while on hold music
        self._pressed: dict[tuple[str, str], float] = {}  # (uniqueid, key) -> when acted on
        self._key_down: set[str] = set()  # uniqueids whose key's begin was seen
        self._inbox: deque[Item] = deque()
        self._wakeup = asyncio.Event()
        self._lock = asyncio.Lock()
        self._restored = False
        self._arrived: float | None = None  # when the AMI event being applied came in
        self._what = ""  # and what it was ("DTMFEnd", "UserEvent/LdKey/blind", ...)
        self._last_sent = 0.0  # when the latest AMI action was written
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
        elif isinstance(item, AmiMessage):
            self._note_hold(item)  # at once: the worker may be waiting for it
            self._put(_Arrived(item, time.perf_counter()))

    def _note_hold(self, msg: AmiMessage) -> None:
        name = msg.event
        if name not in ("MusicOnHoldStart", "MusicOnHoldStop", "Hangup"):
            return
        uniqueid = msg.get("Uniqueid") or ""
        if name == "Hangup":
            self._on_hold.pop(uniqueid, None)
        elif name == "MusicOnHoldStart":
            self._on_hold.setdefault(uniqueid, asyncio.Event()).set()
        elif uniqueid in self._on_hold:
            self._on_hold[uniqueid].clear()

    async def _until_on_hold(self, uniqueids: tuple[str, ...]) -> None:
        for uniqueid in uniqueids:
            waiting = self._on_hold.setdefault(uniqueid, asyncio.Event())
            try:
                await asyncio.wait_for(waiting.wait(), HOLD_WAIT_S)
            except TimeoutError:
                log.warning("%s is not on hold after %.0f s; going on", uniqueid, HOLD_WAIT_S)

    def _put(self, item: Item) -> None:
        self._inbox.append(item)
        self._wakeup.set()

    async def load(self) -> None:
        """Transfers the database has running (from before a restart)."""
        async with self.sessions() as session:
            for transfer in await TransferRepository(session).running():
                self.running[transfer.id] = transfer
        if self.running:
            log.warning("%d transfers were running at the last stop", len(self.running))

    async def run(self) -> None:
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

    async def _apply(self, item: Item) -> None:
        if isinstance(item, _RingTimer):
            transfer = self.running.get(item.transfer_id)
            if transfer is not None:
                await self._feed(transfer, RingTimeoutEvent(now_utc()))
        elif isinstance(item, _Reconcile):
            await self._reconcile()
        elif isinstance(item, _SaveRetry):
            await self._flush_unsaved()
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
            await self._on_digit(msg)
        elif name == "UserEvent" and msg.get("UserEvent") == "LdKey":
            await self._on_ldkey(msg)
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
            try:
                for event in observe(msg, transfer_id, parties, at):
                    await self._feed(transfer, event)
            except Exception:  # one transfer's trouble must not hide the event from the others
                log.exception("transfer %s: could not apply %s", transfer_id, name)
        self._arrived = None

    async def _on_digit(self, msg: AmiMessage) -> None:
        """A key the operator's phone pressed: act at once on a complete code."""
        uniqueid = msg.get("Uniqueid") or ""
        leg = self.model.legs.get(uniqueid)
        if leg is None or leg.role not in OPERATOR_ROLES or self.keys is None:
            return
        # A key is one digit whether its begin and end are both reported (RTP
        # events) or only its end (SIP INFO, reported on arrival).
        if msg.event == "DTMFBegin":
            self._key_down.add(uniqueid)
        elif uniqueid in self._key_down:
            self._key_down.discard(uniqueid)
            return
        now = self._arrived if self._arrived is not None else time.perf_counter()
        press = self.keys.digit(uniqueid, msg.get("Digit") or "", now)
        if press is not None:
            self._pressed[(uniqueid, press.key)] = now
            await self._on_key(uniqueid, press.key, press.unit, msg.get("Channel"))

    async def _on_ldkey(self, msg: AmiMessage) -> None:
        """Asterisk's own detection of a code, when the key is released: acted on
        only if the digits did not already (a phone whose DTMF we did not see)."""
        uniqueid, key = msg.get("Uniqueid") or "", msg.get("Key") or ""
        seen = self._pressed.pop((uniqueid, key), None)
        arrived = self._arrived if self._arrived is not None else time.perf_counter()
        if seen is not None and arrived - seen < KEY_ECHO_S:  # both as they came in
            return
        await self._on_key(uniqueid, key, msg.get("Unit"), msg.get("Channel"))

    async def _on_key(self, presser: str, key: str, unit: str | None, channel: str | None) -> None:
        at = now_utc()
        mine = next(
            (t for t in self.running.values() if t.request.operator_uniqueid == presser), None
        )
        if mine is not None:  # *2 again completes, *0 cancels; other keys mean nothing now
            event: Event | None = None
            if key == "attended":
                event = CompleteRequested(at, By.KEY)
            elif key == "cancel":
                event = CancelRequested(at, By.KEY)
            if event is not None:
                await self._request_step(mine, event)
            return
        leg = self.model.legs.get(presser)
        mode = KEY_MODES.get(key)
        if leg is None or mode is None:
            return  # *0 with nothing running, or a key from a leg we do not know
        if key == "unit":
            target = Target(unit=unit or "")
        elif leg.role in OTHER_DESK:
            target = Target(desk=OTHER_DESK[leg.role])
        else:
            return
        try:
            await self._start(leg.call_id, presser, mode, target, By.KEY)
        except (TransferError, NotOnACall) as exc:  # tell the operator why nothing happened
            log.warning("key %s on %s: no transfer: %s", key, channel, exc)
            self.live.publish(refusal_json(leg.call_id, leg.endpoint, exc))

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
            parties.operator_endpoint, msg.get("Reason"), parties.desk,
        )  # fmt: skip
        for step in actions.back_to_desk(parties):
            await self._send(step)

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
                await self._send(step)

    # ------------------------------------------------------------ moving a transfer

    async def _start(
        self, call_id: str, operator_uniqueid: str, mode: TransferMode, target: Target, by: By
    ) -> Transfer:
        refuse_if_running(self.running.values(), call_id)
        parties = parties_for(self.model.legs, operator_uniqueid)
        request = Requested(
            transfer_id=actions.new_transfer_id(), call_id=call_id,
            caller_uniqueid=parties.caller_uniqueid, operator_uniqueid=operator_uniqueid,
            mode=mode, target=target, ring_timeout_s=self.ring_timeout_s, by=by, at=now_utc(),
        )  # fmt: skip
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
        await self._send_all(steps, parties)
        if steps and self._arrived is not None:
            done = time.perf_counter()
            self.reaction_times.append(
                (self._what, self._last_sent - self._arrived, done - self._arrived)
            )
        for command in commands:  # told after the step itself (_after_change)
            if isinstance(command, c.NotifyOperator):
                self._notices.append(
                    notice_json(transfer, command.reason, parties.operator_endpoint)
                )

    async def _send_all(self, steps: list[actions.AmiStep], parties: Parties) -> None:
        """Send in order without waiting for each answer (the AMI answers a
        session's actions in order anyway), except where a step must wait for
        channels to be on hold first."""
        batch: list[actions.AmiStep] = []
        for step in steps:
            if step.after_hold:
                await asyncio.gather(*(self._send(s, parties) for s in batch))
                batch = []
                await self._send(step, parties)
            else:
                batch.append(step)
        await asyncio.gather(*(self._send(s, parties) for s in batch))

    async def _send(self, step: actions.AmiStep, parties: Parties | None = None) -> None:
        if not await self._sent(step) and step.gives_back and parties is not None:
            log.warning("the caller on %s could not be given back: ringing their desk again",
                        parties.caller_channel)  # fmt: skip
            for fallback in actions.back_to_desk(parties):
                await self._sent(fallback)

    async def _sent(self, step: actions.AmiStep) -> bool:
        """Send one step; False if Asterisk did not do it."""
        if self.client is None:
            log.error("no AMI link: %s not sent", step.action.get("Action"))
            return False
        await self._until_on_hold(step.after_hold)
        try:
            self._last_sent = time.perf_counter()  # written before send_action first waits
            await self.client.send_action(step.action)
            return True
        except AmiActionFailed as exc:
            if step.may_be_gone and _GONE.search(str(exc)):
                # It hung up meanwhile: its Hangup event moves the transfer on.
                log.info("AMI %s: the channel is gone already (%s)", step.action.get("Action"), exc)
            else:
                log.error("AMI %s refused: %s", step.action.get("Action"), exc)
        except AmiError as exc:
            log.error("AMI %s not done: %s", step.action.get("Action"), exc)
        return False

    async def _after_change(self, transfer: Transfer) -> None:
        self._arm_timer(transfer)
        if transfer.ended:
            self.running.pop(transfer.id, None)
            self.parties.pop(transfer.id, None)
            log.info("transfer %s %s (%s)", transfer.id, transfer.state,
                     transfer.timeline[-1].reason)  # fmt: skip
        self.live.publish({"type": "transfer", "data": transfer_json(transfer)})
        for notice in self._notices:
            self.live.publish(notice)
        self._notices.clear()
        await self._save(transfer)

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

    # ------------------------------------------------------------ persistence

    async def _save(self, transfer: Transfer) -> None:
        self._unsaved[transfer.id] = transfer
        await self._flush_unsaved()

    async def _flush_unsaved(self) -> None:
        if not self._unsaved:
            return
        try:
            async with self.sessions() as session:
                # A write transaction from the start: SQLite would refuse a
                # read transaction's later write if the record writer wrote between.
                await session.connection(execution_options=WRITE_TRANSACTION)
                repo = TransferRepository(session)
                for pending in self._unsaved.values():
                    await repo.save(pending)
                await session.commit()
        except Exception as exc:  # the database is down: keep them, try again
            log.error("could not save %d transfers (will retry): %s", len(self._unsaved), exc)
            asyncio.get_running_loop().call_later(SAVE_RETRY_S, self._put, _SaveRetry())
            return
        self._unsaved.clear()

    # ------------------------------------------------------------ reconciliation

    async def _reconcile(self) -> None:
        """After a restart or a reconnect (the call model is already in line
        with Asterisk): settle every transfer whose parties we no longer follow,
        and check the others still stand."""
        if not self._restored:
            self._restored = True
            await self.load()
        at = now_utc()
        for transfer in list(self.running.values()):
            finding, target = finding_for(transfer, self.model.legs)
            if transfer.id not in self.parties:
                parties = parties_after_restart(transfer, self.model.legs)
                if parties.operator_endpoint is None:  # their leg ended while we were away
                    parties.operator_endpoint = await self._endpoint_of(parties.operator_uniqueid)
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

    async def _endpoint_of(self, uniqueid: str) -> str | None:
        try:
            async with self.sessions() as session:
                leg = await session.get(Leg, uniqueid)
        except Exception as exc:
            log.error("cannot read leg %s from the records: %s", uniqueid, exc)
            return None
        return leg.endpoint if leg is not None else None

    # ------------------------------------------------------------ the API

    async def request(
        self, call_id: str, operator_uniqueid: str, mode: TransferMode, target: Target
    ) -> Transfer:
        if self.client is None or self.client.state is not LinkState.CONNECTED:
            raise AmiNotConnected("the AMI link to Asterisk is down")
        async with self._lock:
            return await self._start(call_id, operator_uniqueid, mode, target, By.API)

    async def stop(self) -> None:
        """At shutdown: store what is not stored yet."""
        async with self._lock:
            await self._flush_unsaved()
        if self._unsaved:
            log.error("shutdown: %d transfers could not be saved", len(self._unsaved))

    async def complete(self, transfer: Transfer) -> None:
        async with self._lock:
            await self._request_step(transfer, CompleteRequested(now_utc(), By.API))

    async def cancel(self, transfer: Transfer) -> None:
        async with self._lock:
            await self._request_step(transfer, CancelRequested(now_utc(), By.API))

    async def find(self, transfer_id: str) -> Transfer | None:
        for known in (self.running, self._unsaved):
            if transfer_id in known:
                return known[transfer_id]
        async with self.sessions() as session:
            return await TransferRepository(session).get(transfer_id)

    async def list_since(self, since: datetime | None, limit: int) -> list[Transfer]:
        async with self._lock:
            await self._flush_unsaved()
        async with self.sessions() as session:
            return await TransferRepository(session).list_since(since, limit)

    def status(self) -> dict[str, Any]:
        return {"running": len(self.running), "unsaved": len(self._unsaved)}
