"""Callbacks at run time: booked over FastAGI while the caller is still on the
line (saved before they are told), a stand-in call holding their place in
the desk's queue, the dial's outcome, the retries; every change saved, told
on the live feed and to the listeners (the case timeline, `to_cases`; the
booking too, before the caller is told, so it is in the case's inbox before
their hang-up).

The stand-in is a Local channel, `Local/<id>@ld-callback-place/n`: its `;2`
half waits in the queue (at the caller's position; at the head on a retry),
and when an operator answers it the `;1` half runs `[ld-callback-dial]`,
which dials the caller (asterisk-config/extensions.conf).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ami_client import AmiClient, AmiError, LinkDown, LinkState, LinkUp
from ami_client.astdb import kept_value
from ami_client.message import AmiMessage
from common.live_feed import LiveFeed
from ivr_flows.core import callbacks as cbs
from ivr_flows.core.callbacks import Callback
from ivr_flows.core.desk_rules import Callback as CallbackRule
from ivr_flows.core.desk_rules import DeskRules
from ivr_flows.shapes import callback_json
from ivr_flows.storage.callbacks import CallbackStore
from records.core.callback_notes import CallbackNote

log = logging.getLogger(__name__)

ACTION_TIMEOUT_S = 5.0
RETRY_S = 5.0  # a stand-in Asterisk refused or that could not be saved: try again after
# How long Asterisk keeps the stand-in in line (Originate's answer timeout):
# far longer than any wait; the queue, not this, decides when it is taken.
STAND_IN_MAX_WAIT_MS = 24 * 3600 * 1000
STAND_IN_CONTEXT = "ld-callback-place"
# The menu mark [desk-callback-offer] leaves when it tells the caller "not booked".
NOT_BOOKED_MARK = "callback_unavailable"
UNHEARD_MEMORY = timedelta(minutes=10)  # longer than any booking takes
HANG_UP_FOR = timedelta(seconds=15)  # longer than an Originate takes to make its channel
_STAND_IN = re.compile(rf"^Local/(\d+)@{STAND_IN_CONTEXT}-[0-9a-f]+;[12]$")

Listener = Callable[[Callback], Awaitable[None]]


def to_cases(tell: Callable[[CallbackNote], None]) -> Listener:
    """A listener that tells the case records (the call linker's inbox) what
    each change means to the case of the caller's call."""

    async def listener(cb: Callback) -> None:
        note = cbs.case_note(cb)
        if note is not None:
            tell(note)

    return listener


class CallbackService:
    def __init__(self, rules: DeskRules, store: CallbackStore, live: LiveFeed) -> None:
        self.rules = rules
        self.store = store
        self.live = live
        self.client: AmiClient | None = None
        self.listeners: list[Listener] = []
        self._open: dict[int, Callback] = {}
        self._placed: set[int] = set()  # stand-ins Asterisk has now
        self._changed: list[Callback] = []  # to save and tell, in order
        self._check_placed = True
        self._quiet_until = datetime.min.replace(tzinfo=UTC)
        self._wake = asyncio.Event()
        # Calls told "not booked" lately (→ when), and the stand-ins of
        # withdrawn callbacks to hang up (→ until when to try).
        self._unheard: dict[str, datetime] = {}
        self._hang_up: dict[int, datetime] = {}

    async def load(self) -> None:
        """The open callbacks the database has (after a restart)."""
        self._open = {cb.callback_id: cb for cb in await self.store.open_ones()}
        if self._open:
            log.info("callbacks: %d open ones to carry on", len(self._open))

    def waiting(self, desk: str | None = None) -> list[Callback]:
        return sorted(
            (cb for cb in self._open.values() if desk is None or cb.desk == desk),
            key=lambda cb: cb.asked_at,
        )

    # ----------------------------------------------------- booked over FastAGI

    async def book(
        self, desk: str, call_id: str, caller_number: str | None, position: int
    ) -> Callback | None:
        """The caller pressed the key: their callback, saved; None if it
        cannot be offered (no number, no callbacks at this desk)."""
        rule = self.rules.desks.get(desk)
        if rule is None or rule.callback is None or not cbs.can_offer(caller_number):
            return None
        assert caller_number is not None
        for cb in self._open.values():
            if cb.caller_number == caller_number and cb.desk == desk:
                # Called again while a callback is open: one callback is
                # enough, but this call's case is told it too (else it is
                # cancelled as a call nobody answered).
                if cb.call_id != call_id:
                    await self._tell(replace(cb, call_id=call_id))
                return cb
        if call_id in self._unheard:
            return None  # this call was told "not booked" already
        now = datetime.now(UTC)
        new = Callback(0, call_id, desk, caller_number, max(1, position), now, updated_at=now)
        # Shielded: the FastAGI server cancels a request at its deadline, and a
        # booking saved but not kept here would be placed after a restart.
        return await asyncio.shield(self._add(new))

    async def _add(self, new: Callback) -> Callback:
        cb = await self.store.add(new)
        self._open[cb.callback_id] = cb
        log.info(
            "callback %d booked for call %s at place %d", cb.callback_id, cb.call_id, cb.position
        )
        self._publish(cb)
        await self._tell(cb)
        if cb.call_id in self._unheard:  # told "not booked" while it was being saved
            self._withdraw(cb, datetime.now(UTC))
        self._wake.set()
        return cb

    # ------------------------------------- a booking the caller did not hear

    def _told_not_booked(self, call_ids: set[str], now: datetime) -> None:
        """The dialplan told the caller their callback was not booked (the
        server's answer came too late, or not at all) and put them back in
        line: a booking made for that call all the same is withdrawn."""
        for stale in [c for c, at in self._unheard.items() if now - at > UNHEARD_MEMORY]:
            del self._unheard[stale]
        for call_id in call_ids:
            self._unheard[call_id] = now
        for cb in list(self._open.values()):
            if cb.call_id in call_ids:
                self._withdraw(cb, now)

    def _withdraw(self, cb: Callback, now: datetime) -> None:
        withdrawn = cbs.withdrawn(cb, now)
        if withdrawn is None:
            return
        log.warning(
            "callback %d withdrawn: its caller was told it was not booked and waits in line",
            cb.callback_id,
        )
        self._change(withdrawn)
        if cb.callback_id in self._placed:
            self._hang_up[cb.callback_id] = now + HANG_UP_FOR

    async def _hang_up_stand_ins(self) -> None:
        """Stand-ins of withdrawn callbacks leave the line. One whose Originate
        is still on its way is not there yet: asked again each second, until
        its hang-up is seen or HANG_UP_FOR has passed."""
        assert self.client is not None
        now = datetime.now(UTC)
        for callback_id, until in list(self._hang_up.items()):
            if callback_id not in self._placed or now > until:
                del self._hang_up[callback_id]
                continue
            # Hangup takes a regular expression between slashes.
            channel = f"/^Local.{callback_id}@{STAND_IN_CONTEXT}-/"
            try:
                await self.client.send_action(
                    {"Action": "Hangup", "Channel": channel, "Cause": "16"},
                    timeout=ACTION_TIMEOUT_S,
                )
            except AmiError as exc:
                log.info("callback %d: stand-in not hung up yet: %s", callback_id, exc)
        if self._hang_up:
            asyncio.get_running_loop().call_later(1.0, self._wake.set)

    # ----------------------------------------------------- told by the ingest

    def observe(self, item: AmiMessage | LinkUp | LinkDown) -> None:
        if isinstance(item, LinkUp):
            self._check_placed = True
            self._wake.set()
            return
        if isinstance(item, LinkDown) or not isinstance(item, AmiMessage):
            return
        now = datetime.now(UTC)
        if item.event == "UserEvent":
            self._user_event(item, now)
        elif item.event == "Hangup":
            self._hung_up(item.get("Channel") or "", now)

    def _user_event(self, msg: AmiMessage, now: datetime) -> None:
        kind = msg.get("UserEvent")
        if kind == "LdIvr" and msg.get("Mark") == NOT_BOOKED_MARK:
            ids = {i for i in (msg.get("Linkedid"), msg.get("Uniqueid")) if i}
            self._told_not_booked(ids, now)
            return
        if kind not in ("LdCallbackDial", "LdCallbackDialEnd"):
            return
        cb = self._open.get(_int(msg.get("Callback")))
        if cb is None:
            return
        rule = self._rule(cb)
        if kind == "LdCallbackDial":
            dialling = cbs.dialling(cb, msg.get("Phone") or None, now, msg.get("Linkedid"))
            self._change(dialling)
        elif rule is not None:
            attempt = _int(msg.get("Attempt"))
            status = msg.get("DialStatus") or ""
            self._change(cbs.dial_ended(cb, status, now, rule, attempt if attempt > 0 else None))

    def _hung_up(self, channel: str, now: datetime) -> None:
        match = _STAND_IN.match(channel)
        if match is None:
            return
        callback_id = int(match.group(1))
        self._placed.discard(callback_id)
        cb = self._open.get(callback_id)
        rule = self._rule(cb) if cb is not None else None
        if cb is not None and rule is not None and channel.endswith(";1"):
            # The dial's end comes before ;1 hangs up: this is only a loss
            # when nothing said how it ended.
            lost = cbs.stand_in_lost(cb, now, rule)
            if lost is not None:
                log.error("callback %d: its stand-in call ended unexpectedly", callback_id)
            self._change(lost)

    # ----------------------------------------------------- the service's task

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._until_next_due())
            self._wake.clear()
            await self._save_changes()
            if not self._linked():
                continue  # the link's return wakes the loop (observe: LinkUp)
            if self._check_placed and not await self._read_placed():
                self._later()
                continue
            await self._hang_up_stand_ins()
            await self._place_due()

    def _linked(self) -> bool:
        return self.client is not None and self.client.state is LinkState.CONNECTED

    def _until_next_due(self) -> float | None:
        """Seconds to the next retry due; none while the link is down or the
        last try failed a moment ago (no spinning: `_later` wakes the loop)."""
        now = datetime.now(UTC)
        if not self._linked() or now < self._quiet_until:
            return None
        times = [cb.next_try_at for cb in self._open.values() if cb.next_try_at is not None]
        if not times:
            return None
        return max(0.0, (min(times) - now).total_seconds())

    async def _read_placed(self) -> bool:
        """Which stand-ins Asterisk has (after a (re)connect or a restart); an
        open callback whose stand-in is gone goes back in line."""
        assert self.client is not None
        try:
            items = await self.client.send_list_action(
                {"Action": "CoreShowChannels"}, timeout=ACTION_TIMEOUT_S
            )
        except AmiError as exc:
            log.error("callbacks: CoreShowChannels failed, will retry: %s", exc)
            return False
        self._placed = {
            int(m.group(1))
            for item in items
            if (m := _STAND_IN.match(item.get("Channel") or "")) is not None
        }
        now = datetime.now(UTC)
        # A stand-in gone while the server was away: how its dial ended, if it
        # did, is in AstDB (the dialplan's `h`); else a waiting one is placed
        # again by _place_due and one that was dialling counts as not reached.
        for cb in list(self._open.values()):
            rule = self._rule(cb)
            settled = cb.state is cbs.CallbackState.RETRY or rule is None
            if settled or cb.callback_id in self._placed:
                continue
            assert rule is not None
            status = await self._kept_status(cb)
            if status is not None:
                self._change(cbs.dial_ended(cb, status, now, rule, cb.attempts + 1))
            elif cb.state is cbs.CallbackState.DIALLING:
                self._change(cbs.stand_in_lost(cb, now, rule))
        self._check_placed = False
        await self._save_changes()
        return True

    async def _kept_status(self, cb: Callback) -> str | None:
        """The dial's status the dialplan kept for this attempt, if any."""
        assert self.client is not None
        key = f"{cb.callback_id}-{cb.attempts + 1}"
        return await kept_value(self.client, "ldcb", key, ACTION_TIMEOUT_S)

    async def _place_due(self) -> None:
        now = datetime.now(UTC)
        for cb in list(self._open.values()):
            if cb.callback_id in self._placed:
                continue
            if cbs.due(cb, now):
                self._change(cbs.requeued(cb, now))
                await self._save_changes()
                cb = self._open[cb.callback_id]
            if cb.state is cbs.CallbackState.WAITING and not await self._place(cb):
                self._later()
                return

    async def _place(self, cb: Callback) -> bool:
        rule = self._rule(cb)
        if rule is None or self.client is None:
            return False
        variables = {
            "LD_CB_ID": cb.callback_id,
            "LD_CB_DESK": cb.desk,
            "LD_CB_NUMBER": cb.caller_number,
            "LD_CB_POSITION": cb.position,
            "LD_CB_TRUNK": rule.trunk,
            "LD_CB_RING_S": rule.ring_s,
            "LD_CB_ATTEMPT": cb.attempts + 1,
        }
        action = {
            "Action": "Originate",
            "Channel": f"Local/{cb.callback_id}@{STAND_IN_CONTEXT}/n",
            "Context": "ld-callback-dial",
            "Exten": "s",
            "Priority": "1",
            "Timeout": str(STAND_IN_MAX_WAIT_MS),
            "CallerID": f'"回拨" <{cb.caller_number}>',
            "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
            "Async": "true",
        }
        # Marked before it is sent: a hang-up of the stand-in that comes in
        # before Asterisk's answer to the Originate must find it.
        self._placed.add(cb.callback_id)
        try:
            await self.client.send_action(action, timeout=ACTION_TIMEOUT_S)
        except AmiError as exc:
            self._placed.discard(cb.callback_id)
            log.error("callback %d: the stand-in could not be placed: %s", cb.callback_id, exc)
            return False
        log.info("callback %d: in line at place %d", cb.callback_id, cb.position)
        return True

    def _later(self) -> None:
        self._quiet_until = datetime.now(UTC) + timedelta(seconds=RETRY_S)
        asyncio.get_running_loop().call_later(RETRY_S, self._wake.set)

    # ----------------------------------------------------- records and feed

    def _rule(self, cb: Callback | None) -> CallbackRule | None:
        rule = self.rules.desks.get(cb.desk) if cb is not None else None
        return rule.callback if rule is not None else None

    def _change(self, cb: Callback | None) -> None:
        if cb is None:
            return
        if cb.open:
            self._open[cb.callback_id] = cb
        else:
            self._open.pop(cb.callback_id, None)
        self._changed.append(cb)
        self._wake.set()

    async def _save_changes(self) -> None:
        while self._changed:
            cb = self._changed[0]
            try:
                await self.store.save(cb)
            except Exception as exc:  # the database is down: keep it, try again
                log.error("callback %d: could not save (will retry): %s", cb.callback_id, exc)
                self._later()
                return
            self._changed.pop(0)
            log.info("callback %d: %s (attempt %d)", cb.callback_id, cb.state, cb.attempts)
            self._publish(cb)
            await self._tell(cb)

    async def _tell(self, cb: Callback) -> None:
        for listener in self.listeners:
            try:
                await listener(cb)
            except Exception:
                log.exception("callback %d: a listener failed", cb.callback_id)

    def _publish(self, cb: Callback) -> None:
        if self.live.subscriber_count:
            self.live.publish({"type": "callback.state", "data": callback_json(cb)})


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return -1
