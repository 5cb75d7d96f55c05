"""What the queue's AMI events would have told during an outage, from
Asterisk's queue_log: the waits that began and ended unseen, how the waits
open at the drop ended, and the operators' log-ins, log-outs and pauses.

It runs on the server's own book and board (what it knows: the waits open
and recently ended, the operators' states) with the entries since the last
event seen, before the QueueStatus snapshot that then says how things are
now. Every fact the book or board already has changes nothing, so a line
read twice, or also seen as a live event, is applied once.

Times are queue_log's whole seconds. Waits are keyed by the caller's
uniqueid (the line's callid) as the book keys them; queues are desks as
everywhere (`desk-110`); the agent is a desk phone by its member name or
interface.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ivr_flows.core import desk_events as de
from ivr_flows.core import queue_log as ql
from ivr_flows.core.operators import Operator, OperatorBoard
from ivr_flows.core.waits import SAME_JOIN_S, Wait, WaitBook


@dataclass
class Replayed:
    waits: list[Wait] = field(default_factory=list)  # each changed wait, its last state
    operators: list[Operator] = field(default_factory=list)  # in the order they changed
    applied: int = 0  # entries that changed something
    earlier: int = 0  # entries before `since` (seen before the outage)
    not_ours: int = 0  # entries of other queues
    unknown_members: Counter[str] = field(default_factory=Counter)


def replay(
    entries: Iterable[ql.QueueLogEntry],
    *,
    since: datetime,
    book: WaitBook,
    board: OperatorBoard,
    call_ids: Mapping[str, str] | None = None,
    member_phones: Mapping[str, str] | None = None,
) -> Replayed:
    """Apply the entries from `since` (the last event seen before the
    outage, to the second) to `book` and `board`; what changed.

    `call_ids`: a caller's uniqueid → its call's id (Linkedid), where the
    call is known (a caller unknown to the calls keeps its own uniqueid);
    `member_phones`: a queue member's name (QueueStatus's Name) → its phone.
    """
    out = _Replay(book, board, call_ids or {}, member_phones or {})
    start = since.replace(microsecond=0)
    for entry in entries:
        if entry.at < start:
            out.result.earlier += 1
        elif isinstance(entry, ql.QueueStarted):
            out.restarted(entry)
        elif not isinstance(entry, ql.Ignored | ql.Unknown):
            out.apply(entry)
    out.result.waits = list(out.waits.values())
    return out.result


class _Replay:
    def __init__(
        self,
        book: WaitBook,
        board: OperatorBoard,
        call_ids: Mapping[str, str],
        member_phones: Mapping[str, str],
    ) -> None:
        self.book = book
        self.board = board
        self.call_ids = call_ids
        self.member_phones = member_phones
        self.waits: dict[str, Wait] = {}
        self.result = Replayed()

    def apply(self, entry: ql.QueueLogEntry) -> None:
        desk = de.desk_of_queue(entry.queue)
        if desk is None:
            self.result.not_ours += 1
            return
        if isinstance(entry, ql.MemberAdded | ql.MemberRemoved | ql.MemberPaused):
            self._member(entry, desk)
            return
        uid = entry.callid
        event: de.DeskEvent
        if isinstance(entry, ql.Entered):
            event = de.CallerJoined(
                entry.at,
                uid,
                self.call_ids.get(uid, uid),
                desk,
                entry.position or 0,
                entry.caller_number,
            )
        elif not self._ends_a_known_wait(uid, entry.at):
            return
        elif isinstance(entry, ql.Connected):
            if (phone := self._phone(entry.agent)) is None:
                return
            event = de.OperatorConnected(entry.at, uid, desk, phone, entry.hold_s)
            self._device(phone, "INUSE", entry.at)
        elif isinstance(entry, ql.Completed):
            if (phone := self._phone(entry.agent)) is None:
                return
            self._device(phone, "NOT_INUSE", entry.at)
            # A talk time already known (the live AgentComplete) stands.
            if self.book.open_wait(uid) is None and self._talk_known(uid):
                return
            event = de.OperatorCompleted(entry.at, uid, desk, phone, entry.talk_s, entry.ended_by)
        elif isinstance(entry, ql.Abandoned):
            event = de.CallerAbandoned(entry.at, uid, desk, entry.wait_s)
        elif isinstance(entry, ql.Exited):
            event = de.CallerLeft(entry.at, uid, desk, entry.how)
        else:
            return
        self._waits(self.book.handle(event))

    def restarted(self, entry: ql.QueueStarted) -> None:
        """Asterisk started again: every caller in line before it is gone."""
        for wait in self.book.waiting():
            if wait.joined_at <= entry.at:
                left = de.CallerLeft(entry.at, wait.uniqueid, wait.desk, "restart")
                self._waits(self.book.handle(left))

    # ---------------------------------------------------------------- waits

    def _ends_a_known_wait(self, uid: str, at: datetime) -> bool:
        """An end applies to the caller's open wait only if it began before
        the end (else the end is of an earlier wait the book never had)."""
        wait = self.book.open_wait(uid)
        return wait is None or (wait.joined_at - at).total_seconds() <= SAME_JOIN_S

    def _talk_known(self, uid: str) -> bool:
        last = self.book.last_ended(uid)
        return last is not None and last.talk_s is not None

    def _waits(self, changed: list[Wait]) -> None:
        if changed:
            self.result.applied += 1
        for wait in changed:
            self.waits[wait.wait_id] = wait

    # ------------------------------------------------------------ operators

    def _phone(self, agent: str) -> str | None:
        phone = self.member_phones.get(agent) or de.phone_of(agent) or agent
        if self.board.get(phone) is None:
            self.result.unknown_members[agent] += 1
            return None
        return phone

    def _member(
        self, entry: ql.MemberAdded | ql.MemberRemoved | ql.MemberPaused, desk: str
    ) -> None:
        phone = self._phone(entry.agent)
        if phone is None or self._before_state(phone, entry.at):
            return
        if isinstance(entry, ql.MemberAdded):
            change = de.MemberChanged(entry.at, desk, phone, True, entry.paused, "", "UNKNOWN")
        elif isinstance(entry, ql.MemberRemoved):
            change = de.MemberChanged(entry.at, desk, phone, False, False, "", "UNKNOWN")
        else:
            reason = entry.reason if entry.paused else ""
            change = de.MemberChanged(entry.at, desk, phone, True, entry.paused, reason, "UNKNOWN")
        self._operators(self.board.replay(change))

    def _device(self, phone: str, device: str, at: datetime) -> None:
        """Talking from CONNECT to the call's end, as the phone's device
        state would have said."""
        op = self.board.get(phone)
        if op is None or not op.logged_in or self._before_state(phone, at):
            return
        change = de.MemberChanged(at, op.desk, phone, True, op.paused, op.reason, device)
        self._operators(self.board.replay(change))

    def _before_state(self, phone: str, at: datetime) -> bool:
        """The phone's state began after this entry: the board has it already."""
        op = self.board.get(phone)
        return op is not None and op.since is not None and at < op.since.replace(microsecond=0)

    def _operators(self, changed: list[Operator]) -> None:
        if changed:
            self.result.applied += 1
        self.result.operators += changed
