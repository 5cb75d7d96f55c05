"""Follow-up calls (回访) at run time: a case closed by the 12345 desk gets a
follow-up (saved first) due `after` later within the calling hours; when it
is due and a line is free (shared with the notices, `CallLines`) the
citizen's phone rings through the follow-up trunk; the end comes from
[ld-follow-up]. A rating goes on the case as its `follow_up` (by 回访电话),
and a rating the county lists re-opens it (重办: the live feed tells the
unit and the supervisors); a call not answered is a line on the case and is
tried again. Never called: an anonymous caller, one who asked not to be
(`no_follow_up`), a case with no caller number; a case re-opened, merged or
cancelled before the call calls it off.

Like the notices, everything runs in the service's one task; after every
(re)connect the call under way is looked for on Asterisk, then in AstDB.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from ami_client import AmiError
from ami_client.astdb import kept_value
from ami_client.message import AmiMessage
from common.live_feed import LiveFeed
from common.vocabulary import Desk, Role
from county.case_rules import CaseRules
from notify.core import follow_ups as fu
from notify.core.follow_up_calls import (
    ASTDB_FAMILY,
    PREFIX,
    CallOutcome,
    call_id,
    failed_call,
    kept_outcome,
    needs_cause,
    originate,
    outcome_of,
)
from notify.core.follow_ups import CallResult, FollowUp, FollowUpState
from notify.service.call_lines import CallLines
from notify.service.call_loop import ACTION_TIMEOUT_S, CallLoop, Reconnected
from notify.service.call_recovery import live_calls
from notify.shapes import follow_up_json
from notify.storage.follow_up_store import FollowUpStore
from records.core.case_file import Actor, IllegalMove, NotPermitted, Refused
from records.core.follow_up_notes import FollowUpNote
from records.core.lifecycle import CaseState, Command
from records.core.payloads import InvalidField
from records.service.cases import FOLLOW_UP_ACTOR, CaseChanged, CaseNotFound, CaseService

log = logging.getLogger(__name__)

CLOSING_MOVES = (Command.CLOSE, Command.ANSWER_DIRECTLY)
CLOSINGS = tuple(c.value for c in CLOSING_MOVES)
RATINGS = (Command.FOLLOW_UP.value,)
CATCH_UP_WINDOW = timedelta(hours=24)  # closures older than this get no late follow-up
REFUSED = (IllegalMove, NotPermitted, Refused, InvalidField, CaseNotFound, CaseChanged)
ACTOR = Actor(FOLLOW_UP_ACTOR, Role.SYSTEM)


class FollowUpService(CallLoop):
    NAME = "follow-ups"

    def __init__(
        self,
        rules: CaseRules,
        store: FollowUpStore,
        cases: CaseService,
        live: LiveFeed,
        *,
        lines: CallLines,
        recordings: str = "/var/spool/asterisk/liandong-notices",
    ) -> None:
        self.rules = rules
        self.store = store
        self.cases = cases
        self.live = live
        self.recordings = recordings
        super().__init__(lines)
        self._open: dict[int, FollowUp] = {}

    async def load(self) -> None:
        self._open = {f.follow_up_id: f for f in await self.store.open_ones()}
        if self._open:
            log.info("follow-ups: %d open ones to carry on", len(self._open))

    async def catch_up(self) -> int:
        """Closures of the last day with no follow-up yet (the server stopped
        between the closing and its follow-up); each is looked at as when it
        was told (anonymous, refused, another desk: none)."""
        made = 0
        since = datetime.now(UTC) - CATCH_UP_WINDOW
        for number, seq in await self.cases.put_there_since(CaseState.CLOSED, CLOSING_MOVES, since):
            if await self._make(number, seq):
                made += 1
        if made:
            log.warning("follow-ups: %d closed cases had no follow-up yet (made now)", made)
            self._wake.set()  # made outside the loop's task: it is told
        return made

    def open_ones(self) -> list[FollowUp]:
        return sorted(self._open.values(), key=lambda f: (f.due_at, f.follow_up_id))

    # --------------------------------------------- what the loop is told

    def _outcome_of(self, msg: AmiMessage) -> object | None:
        return outcome_of(msg)

    def _needs_cause(self, msg: AmiMessage) -> bool:
        return needs_cause(msg)

    def _failed_call(self, channel_id: str, cause: str | None) -> object | None:
        return failed_call(channel_id, cause)

    def _times_ahead(self) -> list[datetime]:
        return [f.due_at for f in self._open.values() if f.state is FollowUpState.SCHEDULED]

    async def _handle(self, item: Any) -> None:
        if isinstance(item, CallOutcome):
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
        if data.get("command") in CLOSINGS and isinstance(data.get("seq"), int):
            await self._make(number, data["seq"])
        elif data.get("state") != CaseState.CLOSED.value or data.get("command") in RATINGS:
            # Re-opened (by hand or by a rating), merged, cancelled, or rated
            # by an operator who phoned the citizen: no call, and a call
            # ringing (or answered) is hung up — a key pressed there would
            # not be counted.
            now = datetime.now(UTC)
            for f in [f for f in self._open.values() if f.case_number == number]:
                await self._change(fu.cancelled(f, now))
                if f.state is FollowUpState.CALLING:
                    await self._hang_up(call_id(f.follow_up_id, f.tries))

    async def _make(self, number: str, seq: int) -> FollowUp | None:
        rules = self.rules.outbound.follow_up
        try:
            record = await self.cases.record(number)
        except CaseNotFound:
            return None
        if not rules.enabled or record.desk is not Desk.D12345:
            return None
        if record.anonymous or record.no_follow_up or not record.caller_number:
            log.info("case %s: no follow-up call (anonymous, refused or no number)", number)
            return None
        now = datetime.now(UTC)
        due = fu.first_due(record.closed_at or now, rules, self.rules.calendar)
        made = await self.store.add(
            FollowUp(0, number, seq, record.caller_number, due, now, updated_at=now)
        )
        if made is not None:
            log.info("follow-up %d for case %s due %s", made.follow_up_id, number, due)
            self._open[made.follow_up_id] = made
            self._publish(made)
        return made

    # ------------------------------------------------------------- dialling

    async def _dial_due(self) -> None:
        if not self._linked():
            return
        limits = self.rules.outbound.limits
        trunk = self.rules.outbound.follow_up.trunk
        now = datetime.now(UTC)
        for f in self.open_ones():
            busy = self.lines.busy()
            if busy.total() >= limits.max_calls or busy[trunk] >= limits.max_calls_per_trunk:
                return
            if fu.due(f, now) and not await self._dial(f):
                self._later()
                return

    async def _dial(self, f: FollowUp) -> bool:
        rules = self.rules.outbound.follow_up
        calling = fu.started(f, datetime.now(UTC))
        if calling is None or self.client is None:
            return True
        channel = call_id(f.follow_up_id, calling.tries)
        try:
            await self.store.save(calling)
            await self.cases.link_call(f.case_number, channel)
        except Exception as exc:  # the database is down: not dialled, tried again
            log.error("follow-up %d: could not save its call (%s)", f.follow_up_id, exc)
            return False
        self._open[f.follow_up_id] = calling
        self.lines.take(channel, rules.trunk)
        self._publish(calling)
        action = originate(
            f.follow_up_id,
            calling.tries,
            f.caller_number,
            trunk=rules.trunk,
            ring_s=rules.ring_s,
            comment_s=rules.comment_s,
            case_number=f.case_number,
            recordings=self.recordings,
        )
        try:
            await self.client.send_action(action, timeout=ACTION_TIMEOUT_S)
        except AmiError as exc:
            log.error("follow-up %d: Originate refused: %s", f.follow_up_id, exc)
            await self._outcome(CallOutcome(f.follow_up_id, calling.tries, CallResult.FAILED))
            return True
        log.info("follow-up %d: call %d to the citizen", f.follow_up_id, calling.tries)
        return True

    # --------------------------------------------------------- the outcomes

    async def _outcome(self, o: CallOutcome) -> None:
        self.lines.release(call_id(o.follow_up_id, o.try_number))
        f = self._open.get(o.follow_up_id)
        if f is None:
            return
        now = datetime.now(UTC)
        rules = self.rules.outbound.follow_up
        changed = fu.ended(
            f,
            o.try_number,
            o.result,
            now,
            rules,
            self.rules.calendar,
            rating=o.rating,
            recording=o.recording,
        )
        if changed is None:
            return
        await self._change(changed)
        if changed.state is FollowUpState.RATED and changed.rating is not None:
            await self._rated(changed, changed.rating)
            return
        next_at = changed.due_at if changed.state is FollowUpState.SCHEDULED else None
        note = FollowUpNote(
            f.follow_up_id,
            f.case_number,
            now,
            o.try_number,
            (changed.last_result or CallResult.LOST).value,
            call_id(o.follow_up_id, o.try_number),
            next_at,
        )
        with contextlib.suppress(CaseNotFound):
            await self.cases.record_follow_up(f.case_number, note)

    async def _rated(self, f: FollowUp, rating: int) -> None:
        number = f.case_number
        await self._act(number, Command.FOLLOW_UP, {"satisfaction": rating})
        if self.rules.outbound.follow_up.reopens(rating):
            reason = f"回访不满意（评分{rating}），按规定重办"
            await self._act(number, Command.REOPEN, {"reason": reason})

    async def _act(self, number: str, command: Command, body: dict[str, Any]) -> None:
        try:
            await self.cases.act(number, command, ACTOR, body)
        except REFUSED as exc:
            log.warning("follow-up: %s on case %s refused: %s", command.value, number, exc)

    async def _recover(self) -> None:
        """After a (re)connect: the call under way, found again (or its end)."""
        if self.client is None:
            return
        live = await live_calls(self.client, PREFIX, ACTION_TIMEOUT_S)
        if live is None:
            return
        self.lines.replace(PREFIX, live)
        for f in [f for f in self._open.values() if f.state is FollowUpState.CALLING]:
            if call_id(f.follow_up_id, f.tries) in live:
                continue
            key = f"{f.follow_up_id}-{f.tries}"
            value = await kept_value(self.client, ASTDB_FAMILY, key, ACTION_TIMEOUT_S)
            kept = kept_outcome(f.follow_up_id, f.tries, value) if value else None
            await self._outcome(kept or CallOutcome(f.follow_up_id, f.tries, CallResult.LOST))

    # ------------------------------------------------------ records and feed

    async def _change(self, f: FollowUp | None) -> None:
        if f is None:
            return
        await self.store.save(f)
        if f.open:
            self._open[f.follow_up_id] = f
        else:
            self._open.pop(f.follow_up_id, None)
        self._publish(f)
        self._wake.set()

    def _publish(self, f: FollowUp) -> None:
        if self.live.subscriber_count:
            self.live.publish({"type": "follow_up.state", "data": follow_up_json(f)})
