"""Calls and cases: every call arriving on a trunk opens a case, the case
number rides on the call's channels (LD_CASE), and the link follows merges.

Runs beside the ingest pipeline: it is told the call model's domain events
(and the raw AMI events, for LD_CASE on new channels) and does its database
and AMI work in its own task, in order. A database hiccup delays a link; it
does not lose it — the item is retried until it goes through.

The voice menus' steps (`on_menu`, from the desks) and the callbacks' changes
(`on_callback`) go through the same inbox, so they come after the opening of
their call's case. One whose call has no case yet (the server restarted
mid-call and the reconciliation has not picked the call up) waits until the
case is opened or linked.

A callback's own call (the stand-in Local pair the server originates, and
the leg it dials the caller on) opens no case: its first channel is a Local
one, on no trunk. It joins the case of the call the caller hung up when an
operator takes it (`dial_call_id`), so the operator's call shows the case,
and a restarted server that finds the call (its trunk leg first) finds the
case it belongs to instead of opening another. A caller who hung up after
booking a callback did not abandon their call: that case is not cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ami_client import AmiClient, AmiError, AmiMessage
from common.vocabulary import DESK_ROLE, Desk, Role
from records.core.callback_notes import CallbackNote, callback_booked
from records.core.case_file import Actor, IllegalMove, NotPermitted, Refused
from records.core.lifecycle import CaseState, Command
from records.core.menu_notes import MenuNote
from records.core.payloads import InvalidField
from records.service.cases import CaseNotFound, CaseService
from records.storage.repository import CaseRepository
from telephony.core import events as ev
from transfer.core.machine import Transfer
from transfer.core.parties import Parties
from transfer.core.states import TransferState

log = logging.getLogger(__name__)

SYSTEM = Actor("liandong", Role.SYSTEM)
CASE_VARIABLE = "LD_CASE"
RETRY_S = 2.0
# Calls whose menu steps wait for a case: beyond this, the oldest call's are dropped.
MAX_WAITING_CALLS = 1000
ABANDONED = "来电在接听前挂断（未接通），自动撤销"


@dataclass
class _Open:
    call_id: str
    desk: str
    # Not in its repr: the worker logs items, and logs carry ids, not callers.
    number: str | None = field(repr=False)
    name: str | None = field(repr=False)
    channel: str | None = None
    answered: bool = False
    ended: bool = False


@dataclass
class _Abandoned:
    call_id: str


@dataclass
class _Link:
    case: str
    call_id: str


@dataclass
class _Merge:
    merged: str
    into: str


@dataclass
class _Handover:
    call_id: str
    to_desk: str
    operator_phone: str | None


@dataclass
class _Menu:
    note: MenuNote


@dataclass
class _Callback:
    note: CallbackNote


_Item = _Open | _Abandoned | _Link | _Merge | _Handover | _Menu | _Callback
# What waits for its call's case: the menu's steps, the callbacks' changes.
_Waiting = _Menu | _Callback


@dataclass
class CaseCalls:
    cases: CaseService
    channels_of: Callable[[str], list[str]]  # call id → its live channels
    # A desk phone → the name of who acts from it (the web's tokens), or None.
    name_on_phone: Callable[[str], Awaitable[str | None]]
    client: AmiClient | None = None
    _inbox: deque[_Item] = field(default_factory=deque)
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)  # set: the inbox is done
    _arriving: dict[str, _Open] = field(default_factory=dict)  # call id → its opening
    opened: dict[str, str] = field(default_factory=dict)  # call id → case number
    # call id → menu steps and callback changes that came before its case (in order)
    _waiting_steps: dict[str, list[_Waiting]] = field(default_factory=dict)

    # ----------------------------------------------------- told by the ingest

    def on_events(self, events: list[ev.DomainEvent]) -> None:
        for event in events:
            if isinstance(event, ev.CallStarted) and event.trunk is not None:
                item = _Open(
                    event.call_id, event.trunk.value, event.caller_number, event.caller_name
                )
                self._arriving[event.call_id] = item
                self._put(item)
            elif isinstance(event, ev.LegStarted):
                opening = self._arriving.get(event.call_id)
                if opening is not None and opening.channel is None:
                    opening.channel = event.channel  # the call's first leg: the caller
            elif isinstance(event, ev.CallAnswered):
                if (opening := self._arriving.get(event.call_id)) is not None:
                    opening.answered = True
            elif isinstance(event, ev.CallEnded):
                if (opening := self._arriving.pop(event.call_id, None)) is not None:
                    opening.ended = True
                    if not opening.answered:
                        self._put(_Abandoned(event.call_id))
            elif isinstance(event, ev.CallMerged):
                self._put(_Merge(event.merged, event.into))

    def observe(self, item: object) -> None:
        """A new channel that already carries a case number (a transfer's leg
        inherits LD_CASE) links its call to that case."""
        if not isinstance(item, AmiMessage) or item.event != "Newchannel":
            return
        number = item.channel_variables().get(CASE_VARIABLE)
        call_id = item.get("Linkedid")
        if number and call_id:
            self._put(_Link(number, call_id))

    def on_transfer(self, transfer: Transfer, parties: Parties | None) -> None:
        """A caller handed live to the other desk (one-key transfer) takes the
        case along: the receiving desk holds it from then on."""
        target = transfer.request.target
        if transfer.state is TransferState.COMPLETED and target.desk is not None:
            phone = parties.operator_endpoint if parties else None
            self._put(_Handover(transfer.call_id, target.desk.value, phone))

    def on_menu(self, note: MenuNote) -> None:
        """A voice menu's step worth a line on the call's case (the desks)."""
        self._put(_Menu(note))

    def on_callback(self, note: CallbackNote) -> None:
        """A callback booked, its call dialling, its outcome (the callbacks)."""
        self._put(_Callback(note))

    def _put(self, item: _Item) -> None:
        self._inbox.append(item)
        self._idle.clear()
        self._wakeup.set()

    @property
    def backlog(self) -> int:
        return len(self._inbox)

    async def idle(self) -> None:
        """Wait until every item queued so far is handled (at shutdown: the
        last calls' cases are opened before the worker is stopped)."""
        if self._inbox:
            await self._idle.wait()

    # ----------------------------------------------------------- the worker

    async def run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._inbox:
                try:
                    await self._handle(self._inbox[0])
                except (InvalidField, IllegalMove, NotPermitted, Refused, CaseNotFound) as exc:
                    # Retrying cannot help: set it aside so later calls still get cases.
                    log.error("case link %r refused, set aside: %s", self._inbox[0], exc)
                except Exception:
                    log.exception(
                        "case link %r failed; retrying in %.0f s", self._inbox[0], RETRY_S
                    )
                    await asyncio.sleep(RETRY_S)
                    continue
                self._inbox.popleft()
            self._idle.set()

    async def _handle(self, item: _Item) -> None:
        if isinstance(item, _Open):
            await self._open(item)
        elif isinstance(item, _Abandoned):
            await self._cancel_abandoned(item.call_id)
        elif isinstance(item, _Handover):
            await self._hand_over(item)
        elif isinstance(item, _Link):
            if item.call_id not in self.opened:
                await self._link(item.case, item.call_id)
                self._release_steps(item.call_id)
        elif isinstance(item, _Menu):
            await self._record_menu(item)
        elif isinstance(item, _Callback):
            await self._record_callback(item)
        else:
            for number in await self._cases_of(item.merged):
                await self._link(number, item.into)

    async def _open(self, item: _Open) -> None:
        number = self.opened.get(item.call_id)
        if number is None:
            existing = await self._cases_of(item.call_id)
            number = existing[0] if existing else await self._new_case(item)
            self.opened[item.call_id] = number
        self._release_steps(item.call_id)
        await self._tag_channels(item, number)

    async def _new_case(self, item: _Open) -> str:
        body = {"desk": item.desk, "caller_number": item.number, "caller_name": item.name}
        body = {k: v for k, v in body.items() if v}
        while True:
            try:
                view = await self.cases.open_case(SYSTEM, body, source="call", call_id=item.call_id)
                break
            except InvalidField as exc:
                # What the network sent as the caller ("anonymous", a name with
                # control characters) must not keep the citizen's case from
                # opening; the call records keep it as it came.
                if exc.field not in ("caller_number", "caller_name"):
                    raise
                log.warning("call %s: %s; case opened without it", item.call_id, exc)
                del body[exc.field]
        log.info("call %s on %s opened case %s", item.call_id, item.desk, view.record.number)
        return view.record.number

    async def _tag_channels(self, item: _Open, number: str) -> None:
        """Put the case number on the call's channels; `__` makes the caller's
        copy inherited by every channel it leads to (transfers, conferences)."""
        if self.client is None or item.ended:
            return
        for channel in self.channels_of(item.call_id):
            variable = f"__{CASE_VARIABLE}" if channel == item.channel else CASE_VARIABLE
            action = {"Action": "Setvar", "Channel": channel, "Variable": variable, "Value": number}
            try:
                await self.client.send_action(action, timeout=2.0)
            except AmiError as exc:  # the channel may be gone already: nothing to tag
                log.info("could not tag %s with case %s: %s", channel, number, exc)

    async def _cancel_abandoned(self, call_id: str) -> None:
        """A caller who hung up before anyone answered leaves no matter to
        handle: the case is cancelled, so none is left stuck in 'received'."""
        number = self.opened.get(call_id)
        if number is None:
            return
        view = await self.cases.view(number)
        if view.record.state is not CaseState.RECEIVED or len(view.call_ids) > 1:
            return
        if callback_booked(e.data for e in view.events):
            return  # the caller hung up to be called back: their matter waits
        with contextlib.suppress(IllegalMove, Refused):  # an operator moved it meanwhile
            await self.cases.act(number, Command.CANCEL, SYSTEM, {"reason": ABANDONED})

    async def _hand_over(self, item: _Handover) -> None:
        command = Command.REFER_TO_12345 if item.to_desk == "12345" else Command.REFER_TO_110
        role = DESK_ROLE[Desk(item.to_desk).other]  # the desk handing it over
        actor = Actor(await self._operator_name(item.operator_phone), role)
        note = "一键转接：来电已转至" + item.to_desk
        for number in await self._cases_of(item.call_id):
            view = await self.cases.view(number)
            if view.record.desk.value == item.to_desk:
                continue
            try:
                await self.cases.act(number, command, actor, {"note": note})
            except (IllegalMove, NotPermitted, Refused) as exc:
                # e.g. already in police handling: the police form is the operator's to fill
                log.warning(
                    "case %s did not follow call %s to %s: %s",
                    number,
                    item.call_id,
                    item.to_desk,
                    exc,
                )

    async def _record_menu(self, item: _Menu) -> None:
        numbers = await self._cases_of(item.note.call_id)
        if not numbers:
            self._hold(item.note.call_id, item)
            return
        for number in numbers:
            await self.cases.record_menu(number, item.note)

    async def _record_callback(self, item: _Callback) -> None:
        """The callback's call joins the case (silently, like a transfer's
        leg); the booking and the outcomes are lines on it."""
        note = item.note
        numbers = await self._cases_of(note.call_id)
        if not numbers:
            self._hold(note.call_id, item)
            return
        for number in numbers:
            if note.dial_call_id is not None and note.dial_call_id != note.call_id:
                await self._link(number, note.dial_call_id)
            if note.on_timeline:
                await self.cases.record_callback(number, note)

    def _hold(self, call_id: str, item: _Waiting) -> None:
        waiting = self._waiting_steps
        if call_id not in waiting and len(waiting) >= MAX_WAITING_CALLS:
            dropped = next(iter(waiting))
            log.warning("call %s: menu steps and callbacks dropped, its case never came", dropped)
            del waiting[dropped]
        waiting.setdefault(call_id, []).append(item)

    def _release_steps(self, call_id: str) -> None:
        """What waited for the call's case goes next, in its order (right
        after the item being handled, which opened or linked it)."""
        for index, item in enumerate(self._waiting_steps.pop(call_id, []), start=1):
            self._inbox.insert(index, item)

    async def _operator_name(self, phone: str | None) -> str:
        """The name on the token bound to the operator's phone, else the phone."""
        if phone is None:
            return "坐席"
        name = await self.name_on_phone(phone)
        return name or f"坐席 {phone}"

    async def _link(self, number: str, call_id: str) -> None:
        try:
            await self.cases.link_call(number, call_id)
        except LookupError:
            log.warning("call %s names case %s, which does not exist", call_id, number)

    async def _cases_of(self, call_id: str) -> list[str]:
        async with self.cases.sessions() as session:
            return await CaseRepository(session).cases_of_call(call_id)
