"""A case row opened and moved, without I/O: what the service does inside its
transaction, and what benchmarks/cases replays a hundred thousand times, so
the generated records are the ones the server would write.

`move_record` is one move: the lifecycle decides (`case_file.act`), the
checks that need the row's own times follow, then the outcome and its side
effects (due times, e-reply, ...) are copied onto the row. It returns the
timeline entry to append; the caller stores both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from common.vocabulary import Desk
from county.case_rules import CaseRules
from county.case_words import Urgency
from records.core.case_file import Actor, IllegalMove, Refused, TimelineEntry, act, permitted
from records.core.lifecycle import CaseState, Command
from records.core.payloads import InvalidField
from records.service.clocks import running_clocks
from records.service.effects import apply_effects
from records.storage.repository import case_file_of, store_case_file
from records.storage.tables import CaseRecord

REFERS = (Command.REFER_TO_110, Command.REFER_TO_12345)
LADDER_STEPS = (Command.REMIND, Command.NOTICE, Command.BULLETIN)


def move_record(
    record: CaseRecord,
    stored_events: int,
    command: Command,
    actor: Actor,
    at: datetime,
    data: dict[str, Any],
    rules: CaseRules,
) -> TimelineEntry:
    """Apply a validated move to `record`; raises (and changes nothing) if refused."""
    if command in REFERS:
        data["category"] = record.category or matter_code(record, rules)
    case = case_file_of(record, stored_events)
    try:
        entry = act(case, command, actor, at, data)
        # What needs the row's times, once the actor may make the move at all.
        check_against_record(record, command, data, at)
    except (IllegalMove, Refused) as exc:
        exc.allowed = moves_now(record, actor, at)  # the record is unchanged
        raise
    store_case_file(record, case)
    apply_effects(record, entry, data, rules)
    record.updated_at = at
    return entry


def matter_code(record: CaseRecord, rules: CaseRules) -> str | None:
    """What kind of matter an unclassified case is, by its words: the code of
    the catalogue entry they match. A hand-over sent back counts as a wrong
    transfer under it (the operator's training signal)."""
    found = rules.routing.suggest(
        desk=Desk(record.desk),
        text=" ".join(filter(None, (record.description, record.address))),
        demand_type=record.demand_type,
    )
    return found.category or found.rule or None


def check_against_record(
    record: CaseRecord, command: Command, data: dict[str, Any], at: datetime
) -> None:
    """An e-reply is finished after its case opened; 提醒 is for a clock still
    running, 催办 and 通报 only once it has run out."""
    finished = data.get("finished_at")
    if finished is not None and finished < record.created_at:
        raise InvalidField("finished_at", "before the case was opened")
    if command in LADDER_STEPS:
        refusal = ladder_refusal(record, command, data["deadline"], at)
        if refusal is not None:
            raise Refused(refusal)


def ladder_refusal(record: CaseRecord, command: Command, deadline: str, at: datetime) -> str | None:
    """Why 提醒/催办/通报 about `deadline` would be refused now, or None if it goes through."""
    due = dict(running_clocks(record)).get(deadline)
    if due is None:
        return f"the case has no running {deadline} clock"
    if command is not Command.REMIND and at < due:
        return f"the {deadline} deadline ({due.isoformat()}) has not passed yet"
    return None


def moves_now(record: CaseRecord, actor: Actor, at: datetime) -> list[Command]:
    """What `actor` can do to the case at `at` — exactly what `move_record` would
    let through (for a ladder step: about at least one of its clocks). The case
    JSON's `allowed` and every 409's `details.allowed` are this list."""
    moves = permitted(case_file_of(record, stored_events=0), actor, at)
    return [
        command
        for command in moves
        if command not in LADDER_STEPS
        or any(ladder_refusal(record, command, d, at) is None for d, _ in running_clocks(record))
    ]


def ladder_deadlines(
    record: CaseRecord, allowed: list[Command], at: datetime
) -> dict[str, list[str]]:
    """For each ladder step in `allowed`, the deadlines it may be about now
    (those `ladder_refusal` lets through), in the case's order."""
    return {
        command.value: [
            d for d, _ in running_clocks(record) if ladder_refusal(record, command, d, at) is None
        ]
        for command in allowed
        if command in LADDER_STEPS
    }


def new_record(
    number: str, desk: Desk, source: str, actor: Actor, at: datetime, fields: dict[str, Any]
) -> CaseRecord:
    return CaseRecord(
        number=number,
        state=CaseState.RECEIVED,
        desk=desk,
        source=source,
        urgency=fields.pop("urgency", Urgency.NORMAL),
        anonymous=fields.pop("anonymous", False),
        no_follow_up=fields.pop("no_follow_up", False),
        co_units=[],
        ladder={},
        created_at=at,
        created_by=actor.name,
        updated_at=at,
        **fields,
    )


def opening_entry(
    record: CaseRecord, actor: Actor, at: datetime, source: str, given: dict[str, Any]
) -> TimelineEntry:
    """The first entry, with what the case was opened with: the citizen's own
    words stay in the timeline when classification rewrites the case."""
    return TimelineEntry(
        seq=0,
        at=at,
        command=None,
        from_state=None,
        to_state=CaseState.RECEIVED,
        actor=actor.name,
        role=actor.role,
        unit=actor.unit,
        data={"source": source, "desk": record.desk.value, **given},
    )
