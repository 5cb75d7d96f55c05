"""What a notice does to its case: a line for every call made (whom, how it
ended), the signing on key 1 and the return request on key 9 — both in the
name of the person reached, as the unit's own moves — and the alert line
when nobody was reached. A co-unit's keys move nothing (the lead unit signs
and asks for returns): its line says it acknowledged, or why it says the
matter is not its own.

A case that moved on meanwhile (signed through the API a moment before the
key) refuses the move: that is logged, not retried; the call's line says
what the person did.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from common.vocabulary import Role
from county.roster import Roster
from notify.core.notice_speech import reason_text, reason_words
from notify.core.notices import Notice, Try, TryResult
from records.core.case_file import Actor, IllegalMove, NotPermitted, Refused
from records.core.lifecycle import Command
from records.core.notice_notes import NoticeNote
from records.core.payloads import InvalidField
from records.service.cases import CaseChanged, CaseNotFound, CaseService

log = logging.getLogger(__name__)

REFUSED = (IllegalMove, NotPermitted, Refused, InvalidField, CaseNotFound, CaseChanged)


class NoticeCases:
    def __init__(self, cases: CaseService, roster: Roster) -> None:
        self.cases = cases
        self.roster = roster

    def _unit_name(self, code: str) -> str:
        unit = self.roster.get(code)
        return unit.name if unit is not None else code

    async def tried(self, notice: Notice, tried: Try) -> None:
        # A co-unit's 9 moves nothing (only the lead unit asks for a return):
        # its reason is on the line, for the desk to read.
        declined = notice.co_unit and tried.result is TryResult.DECLINED
        reason = reason_words(tried.reason or "", tried.recording or "") if declined else None
        await self._line(
            NoticeNote(
                notice.notice_id,
                notice.case_number,
                notice.unit,
                self._unit_name(notice.unit),
                tried.ended_at or datetime.now(UTC),
                tried.number,
                contact=tried.contact,
                name=tried.name,
                result=tried.result.value if tried.result else None,
                call_id=tried.call_id,
                co_unit=notice.co_unit,
                reason=reason,
            )
        )

    async def unreached(self, notice: Notice) -> None:
        await self._line(
            NoticeNote(
                notice.notice_id,
                notice.case_number,
                notice.unit,
                self._unit_name(notice.unit),
                notice.updated_at or datetime.now(UTC),
                0,
                tries=notice.tries,
                co_unit=notice.co_unit,
            )
        )

    async def accepted(self, notice: Notice, tried: Try) -> None:
        if notice.co_unit:
            return  # acknowledged: its line says so (only the lead unit signs)
        note = f"联动通知电话按键签收（第{tried.number}次呼叫）"
        await self._act(notice, tried, Command.SIGN, {"note": note})

    async def declined(self, notice: Notice, tried: Try) -> None:
        if notice.co_unit:
            return
        reason = reason_text(tried.reason or "", tried.recording or "")
        await self._act(notice, tried, Command.REQUEST_RETURN, {"reason": reason})

    async def _act(
        self, notice: Notice, tried: Try, command: Command, body: dict[str, str]
    ) -> None:
        actor = Actor(tried.name, Role.UNIT, unit=notice.unit)
        try:
            await self.cases.act(notice.case_number, command, actor, body)
        except REFUSED as exc:
            log.warning(
                "notice %d: %s on case %s refused: %s",
                notice.notice_id,
                command.value,
                notice.case_number,
                exc,
            )

    async def _line(self, note: NoticeNote) -> None:
        try:
            await self.cases.record_notice(note.case_number, note)
        except CaseNotFound:
            log.warning("notice %d: case %s is gone", note.notice_id, note.case_number)
