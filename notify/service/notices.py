"""Linkage notices at run time: a dispatch that calls for it becomes a notice
in the outbox (saved first), the outbox is dialled within the limits, each
try's outcome comes from the AMI, and the case hears of it — signed for the
unit on key 1, a return requested on key 9, a line per call, an alert when
the ladder runs out.

Everything runs in the service's one task, in order: the case
announcements and the AMI outcomes are put in its inbox (`on_case`,
`observe`, which never wait) and handled there. After a restart the outbox
is read back (`load`) and dispatches that never got their notice (the server
stopped between the two) are found (`catch_up`); after every (re)connect the
tries that were under way are looked for on Asterisk, then in AstDB
(`notice_recovery`). A notice is never made twice for a dispatch (the
database's unique key), and a try is saved before its Originate is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ami_client import AmiError
from ami_client.message import AmiMessage
from common.live_feed import LiveFeed
from county.case_rules import CaseRules
from county.roster import Unit
from notify.core import notices as nt
from notify.core.ladder_plan import Rung, plan
from notify.core.notice_calls import (
    TryOutcome,
    call_id,
    failed_try,
    needs_cause,
    originate,
    outcome_of,
)
from notify.core.notice_speech import message, notice_text
from notify.core.notices import Notice, NoticeState, Try, TryResult
from notify.core.outbox import to_dial
from notify.service.call_lines import CallLines
from notify.service.call_loop import ACTION_TIMEOUT_S, CallLoop, Reconnected
from notify.service.notice_audio import NoticeAudio
from notify.service.notice_cases import NoticeCases
from notify.service.notice_recovery import PREFIX, recover
from notify.shapes import notice_json
from notify.storage.store import NoticeStore
from records.core.lifecycle import CaseState, Command
from records.service.cases import CaseNotFound, CaseService

log = logging.getLogger(__name__)

CATCH_UP_WINDOW = timedelta(hours=24)  # dispatches older than this get no late notice
DISPATCH_MOVES = (Command.DISPATCH, Command.REDISPATCH)
DISPATCHES = tuple(c.value for c in DISPATCH_MOVES)
# The case's states in which a co-unit's notice goes on (the lead unit signed,
# is on the scene, has fed back): the co-unit is still to go.
CO_UNITS_STILL_WANTED = frozenset(
    s.value for s in (CaseState.SIGNED, CaseState.ON_SCENE, CaseState.FED_BACK)
)


class NoticeService(CallLoop):
    NAME = "notices"
    CASE_EVENTS = ("case.moved", "case.opened")

    def __init__(
        self,
        rules: CaseRules,
        store: NoticeStore,
        cases: CaseService,
        live: LiveFeed,
        *,
        audio: NoticeAudio | None = None,
        recordings: str = "/var/spool/asterisk/liandong-notices",
        lines: CallLines | None = None,
    ) -> None:
        self.rules = rules
        self.store = store
        self.cases = cases
        self.live = live
        # The lines are shared with the follow-ups: the limits count both.
        super().__init__(lines if lines is not None else CallLines())
        self.audio = audio
        self.recordings = recordings  # where Asterisk records a spoken reason
        self.told = NoticeCases(cases, rules.roster)
        self._open: dict[int, Notice] = {}
        self._tries: dict[int, Try] = {}  # the try under way (or last made) per open notice
        self._spoken: dict[int, str | None] = {}  # a notice's rendered words, once made

    def open_with_tries(self) -> list[tuple[Notice, Try | None]]:
        """The notices in the outbox or on the phone, oldest first."""
        ordered = sorted(self._open.values(), key=lambda n: (n.created_at, n.notice_id))
        return [(n, self._tries.get(n.notice_id)) for n in ordered]

    # ------------------------------------------------------------ start-up

    async def load(self) -> None:
        """The outbox as the database has it (after a restart)."""
        self._open = {n.notice_id: n for n in await self.store.open_ones()}
        tries = await self.store.tries_of(list(self._open))
        self._tries = {nid: ts[-1] for nid, ts in tries.items() if ts}
        if self._open:
            log.info("notices: %d open ones to carry on", len(self._open))

    async def catch_up(self) -> int:
        """Dispatches of the last day still waiting to be signed that have no
        notice (the server stopped between the dispatch and its notice)."""
        made = 0
        since = datetime.now(UTC) - CATCH_UP_WINDOW
        waiting = await self.cases.put_there_since(CaseState.DISPATCHED, DISPATCH_MOVES, since)
        for number, seq in waiting:
            made += await self._make(number, seq)
        if made:
            log.warning("notices: %d notices were missing for dispatches (made now)", made)
            self._wake.set()  # made outside the loop's task: it is told
        return made

    # --------------------------------------------- what the loop is told

    def _outcome_of(self, msg: AmiMessage) -> object | None:
        return outcome_of(msg)

    def _needs_cause(self, msg: AmiMessage) -> bool:
        return needs_cause(msg)

    def _failed_call(self, channel_id: str, cause: str | None) -> object | None:
        return failed_try(channel_id, cause)

    def _times_ahead(self) -> list[datetime]:
        return [
            n.next_try_at
            for n in self._open.values()
            if n.state is NoticeState.QUEUED and n.next_try_at is not None
        ]

    async def _handle(self, item: Any) -> None:
        if isinstance(item, TryOutcome):
            await self._outcome(item)
        elif isinstance(item, Reconnected):
            await self._recover()
        else:
            await self._case_moved(item["data"])

    # ----------------------------------------------------- the case's moves

    async def _case_moved(self, data: dict[str, Any]) -> None:
        number = data.get("case")
        if not isinstance(number, str):
            return
        if data.get("command") in DISPATCHES and isinstance(data.get("seq"), int):
            await self._make(number, data["seq"])
            return
        state = data.get("state")
        if state == CaseState.DISPATCHED.value:
            return
        # Signed through the API, returned, closed…: the unit knows, or it no
        # longer matters; a notice not yet accepted is called off, and a phone
        # ringing for it (or a person hearing it) is hung up. A co-unit is
        # still wanted at the scene once the lead unit has signed.
        now = datetime.now(UTC)
        for notice in [n for n in self._open.values() if n.case_number == number]:
            if notice.co_unit and state in CO_UNITS_STILL_WANTED:
                continue
            tried = self._tries.get(notice.notice_id)
            if notice.state is NoticeState.CALLING and tried is not None and tried.result is None:
                tried = replace(tried, ended_at=now, result=TryResult.CALLED_OFF)
                await self._change(nt.cancelled(notice, now), tried)
                await self.told.tried(notice, tried)
                await self._hang_up(tried.call_id or "")
            else:
                await self._change(nt.cancelled(notice, now))

    async def _make(self, number: str, seq: int) -> int:
        """The notices this dispatch calls for — to its lead unit and to each
        co-unit — saved; how many were made (0: it calls for none, or has
        them already)."""
        rules = self.rules.outbound.notices
        try:
            record = await self.cases.record(number)
        except CaseNotFound:
            return 0
        if not rules.applies(record.urgency, record.category):
            return 0
        units = [(record.lead_unit, False)] + [(code, True) for code in record.co_units or ()]
        made = 0
        for code, co_unit in units:
            unit = self.rules.roster.get(code or "")
            if unit is not None and await self._make_one(record, unit, seq, co_unit):
                made += 1
        return made

    async def _make_one(self, record: Any, unit: Unit, seq: int, co_unit: bool) -> bool:
        rules = self.rules.outbound.notices
        urgent = record.urgency in rules.urgencies
        now = datetime.now(UTC)
        rungs = plan(unit, rules)
        notice = await self.store.add(
            Notice(
                0,
                record.number,
                unit.code,
                seq,
                urgent,
                len(rungs),
                now,
                updated_at=now,
                co_unit=co_unit,
            )
        )
        if notice is None:
            return False  # made already
        log.info("notice %d for case %s to %s", notice.notice_id, record.number, unit.code)
        self._open[notice.notice_id] = notice
        if not rungs:
            log.error("notice %d: %s has no phone for the ladder", notice.notice_id, unit.code)
            unreached = replace(notice, state=NoticeState.UNREACHED, updated_at=now)
            await self._change(unreached)
            await self._unreached(unreached)  # the alert: nobody can be called at all
            return True
        self._publish(notice)
        await self._render(notice, record)
        return True

    async def _render(self, notice: Notice, record: Any) -> None:
        """The case's words as speech, made once, before the first try."""
        if self.audio is None:
            self._spoken[notice.notice_id] = None
            return
        routing = self.rules.routing
        category = routing.category(record.category) if record.category else None
        township = self.rules.roster.townships().get(record.township or "")
        text = notice_text(
            category.name if category else None,
            township.name if township else None,
            record.address,
            record.description,
        )
        self._spoken[notice.notice_id] = (
            await asyncio.to_thread(self.audio.render, notice.notice_id, text) if text else None
        )

    # ------------------------------------------------------------- dialling

    async def _dial_due(self) -> None:
        if not self._linked():
            return
        now = datetime.now(UTC)
        calling = self.lines.busy()
        queued = [n for n in self._open.values() if n.state is NoticeState.QUEUED]
        chosen = to_dial(
            queued,
            calling,
            self.rules.outbound.limits,
            now,
            lambda n: r.trunk if (r := self._rung(n)) is not None else None,
        )
        for notice in chosen:
            if not await self._dial(notice):
                self._later()
                return

    def _rung(self, notice: Notice) -> Rung | None:
        unit = self.rules.roster.get(notice.unit)
        rungs = plan(unit, self.rules.outbound.notices) if unit is not None else []
        return rungs[notice.tries] if notice.tries < len(rungs) else None

    async def _dial(self, notice: Notice) -> bool:
        rung = self._rung(notice)
        now = datetime.now(UTC)
        calling = nt.started(notice, now)
        if rung is None or calling is None or self.client is None:
            return True
        tried = Try(
            notice.notice_id,
            calling.tries,
            rung.contact.value,
            rung.name,
            rung.phone,
            rung.dial,
            rung.trunk,
            now,
            call_id=call_id(notice.notice_id, calling.tries),
        )
        try:
            await self.store.save(calling, tried)
            await self.cases.link_call(notice.case_number, tried.call_id or "")
        except Exception as exc:  # the database is down: not dialled, tried again
            log.error("notice %d: could not save its try (%s)", notice.notice_id, exc)
            return False
        self._open[notice.notice_id] = calling
        self._tries[notice.notice_id] = tried
        self.lines.take(tried.call_id or "", rung.trunk)
        self._publish(calling)
        if notice.notice_id not in self._spoken:  # made before a restart
            with contextlib.suppress(CaseNotFound):
                await self._render(notice, await self.cases.record(notice.case_number))
        rules = self.rules.outbound.notices
        action = originate(
            notice.notice_id,
            calling.tries,
            rung.dial,
            ring_s=rules.ring_s,
            say=message(notice.case_number, self._spoken.get(notice.notice_id)),
            repeat=rules.repeat,
            case_number=notice.case_number,
            recordings=self.recordings,
        )
        try:
            await self.client.send_action(action, timeout=ACTION_TIMEOUT_S)
        except AmiError as exc:
            log.error("notice %d: Originate to %s refused: %s", notice.notice_id, rung.dial, exc)
            self.lines.release(tried.call_id or "")
            await self._outcome(
                TryOutcome(notice.notice_id, calling.tries, TryResult.FAILED, final=True)
            )
            return True
        log.info(
            "notice %d: try %d to %s (%s)", notice.notice_id, calling.tries, rung.contact, rung.dial
        )
        return True

    # --------------------------------------------------------- the outcomes

    async def _outcome(self, outcome: TryOutcome) -> None:
        if outcome.final:  # the call is over (its Hangup, if it comes, changes nothing)
            self.lines.release(call_id(outcome.notice_id, outcome.try_number))
        notice = self._open.get(outcome.notice_id)
        tried = self._tries.get(outcome.notice_id)
        if notice is None or tried is None or tried.number != outcome.try_number:
            return  # over already, or an earlier try's
        if tried.result is not None:
            return  # a key told it; its end changes nothing
        now = datetime.now(UTC)
        gap = timedelta(seconds=self.rules.outbound.notices.retry_gap_s)
        changed = nt.ended(notice, outcome.try_number, outcome.result, now, gap, tried.name)
        if changed is None:
            return
        done = replace(
            tried,
            ended_at=now,
            result=outcome.result,
            reason=outcome.reason_key or None,
            recording=outcome.recording or None,
        )
        self._tries[notice.notice_id] = done
        await self._change(changed, done)
        await self.told.tried(changed, done)
        if changed.state is NoticeState.ACCEPTED:
            await self.told.accepted(changed, done)
        elif changed.state is NoticeState.DECLINED:
            await self.told.declined(changed, done)
        elif changed.state is NoticeState.UNREACHED:
            await self._unreached(changed)

    async def _unreached(self, notice: Notice) -> None:
        log.warning("notice %d: nobody at %s reached", notice.notice_id, notice.unit)
        await self.told.unreached(notice)
        self.live.publish({"type": "notice.alert", "data": notice_json(notice, None)})

    async def _recover(self) -> None:
        if self.client is None:
            return
        calling = [
            (n, self._tries[n.notice_id])
            for n in self._open.values()
            if n.state is NoticeState.CALLING and n.notice_id in self._tries
        ]
        found = await recover(self.client, calling, ACTION_TIMEOUT_S)
        self.lines.replace(PREFIX, found.lines)
        for outcome in found.outcomes:
            await self._outcome(outcome)

    # ------------------------------------------------------ records and feed

    async def _change(self, notice: Notice | None, tried: Try | None = None) -> None:
        if notice is None:
            return
        await self.store.save(notice, tried)
        if notice.open:
            self._open[notice.notice_id] = notice
        else:
            self._open.pop(notice.notice_id, None)
            self._tries.pop(notice.notice_id, None)
            self._spoken.pop(notice.notice_id, None)
            if self.audio is not None:
                self.audio.forget(notice.notice_id)
        self._publish(notice, tried)
        self._wake.set()

    def _publish(self, notice: Notice, tried: Try | None = None) -> None:
        if self.live.subscriber_count:
            shown = tried or self._tries.get(notice.notice_id)
            self.live.publish({"type": "notice.state", "data": notice_json(notice, shown)})
