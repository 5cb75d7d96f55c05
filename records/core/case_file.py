"""One case as the lifecycle sees it, and `act`: the only way it changes.

`act` checks a command against the table (`records.core.lifecycle`), the
actor's role, and the case's own situation — which desk holds it, whose unit
it is, a pending extension, a hand-over that can still be sent back — then
applies it and appends exactly one timeline entry. A refused command changes
nothing. No I/O here: the service (`records.service.cases`) loads, stores and
fills in due times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from common.vocabulary import ROLE_DESK, Desk, Role
from county.case_words import Route
from records.core.lifecycle import (
    FINAL_STATES,
    OPEN_STATES,
    RECORDED,
    ROLES,
    CaseState,
    Command,
    allowed_commands,
    next_state,
)

C = Command


class IllegalMove(Exception):
    """The table does not allow this command in this state (HTTP 409)."""

    def __init__(self, command: Command, state: CaseState, allowed: list[Command]) -> None:
        super().__init__(f"cannot {command.value} a case that is {state.value} ({state.label})")
        self.command = command
        self.state = state
        self.allowed = allowed


class NotPermitted(Exception):
    """The move exists, but not for this actor (HTTP 403)."""


class Refused(Exception):
    """The move exists and the actor may give it, but not on this case now (HTTP 409);
    `allowed` is what this actor may do instead."""

    allowed: list[Command] = []  # noqa: RUF012 (set per raise by `act`)


class Extension(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    unit: str | None = None  # the unit code, for unit staff

    @property
    def desk(self) -> Desk | None:
        return ROLE_DESK.get(self.role)


@dataclass(frozen=True)
class Handover:
    """A desk-to-desk hand-over the receiving desk has not acted on yet: until
    it does, it may send the case back, which counts as a wrong transfer."""

    from_desk: Desk
    by: str  # the sending operator
    category: str | None
    at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: datetime
    # None: no command made it — the entry that opens the case, or a voice
    # menu's step recorded on it (`note`)
    command: Command | None
    from_state: CaseState | None
    to_state: CaseState
    actor: str
    role: Role
    unit: str | None
    data: dict[str, Any]


@dataclass
class CaseFile:
    desk: Desk
    state: CaseState = CaseState.RECEIVED
    category: str | None = None
    lead_unit: str | None = None
    co_units: tuple[str, ...] = ()
    extension: Extension | None = None
    handover: Handover | None = None
    due_close: datetime | None = None
    merged_into: str | None = None
    route: Route | None = None  # the desk's decision at classification
    signed: bool = False  # the lead unit has signed for it since the last dispatch
    # Entries made in this session; `seq_start` counts the ones stored before
    # (a case loaded from the records brings its count, not its whole history).
    timeline: list[TimelineEntry] = field(default_factory=list)
    seq_start: int = 0

    def allowed(self) -> list[Command]:
        """What the table allows now, whoever gives it."""
        return [] if self.state in FINAL_STATES else allowed_commands(self.state)


def permitted(case: CaseFile, actor: Actor, at: datetime) -> list[Command]:
    """What `actor` may do to the case now: the table, the role, and the case's
    situation (its desk, its units, a pending extension, a hand-over)."""
    moves = []
    for command in case.allowed():
        if actor.role not in ROLES[command]:
            continue
        try:
            _check_actor_holds_case(case, command, actor)
            _check_situation(case, command, actor, at, {})
        except (NotPermitted, Refused):
            continue
        moves.append(command)
    return moves


def act(
    case: CaseFile, command: Command, actor: Actor, at: datetime, data: dict[str, Any]
) -> TimelineEntry:
    """Apply `command`; raises IllegalMove / NotPermitted / Refused and changes nothing then."""
    if actor.role not in ROLES[command]:
        allowed = ", ".join(sorted(role.value for role in ROLES[command]))
        raise NotPermitted(f"role {actor.role.value} may not {command.value} (allowed: {allowed})")
    to_state = (
        None if case.state in FINAL_STATES else next_state(command, case.state, signed=case.signed)
    )
    if to_state is None:
        raise IllegalMove(command, case.state, permitted(case, actor, at))
    _check_actor_holds_case(case, command, actor)
    try:
        _check_situation(case, command, actor, at, data)
    except Refused as exc:
        exc.allowed = permitted(case, actor, at)
        raise
    entry_data = dict(data)
    _apply(case, command, actor, at, data, entry_data)
    return _append(case, command, to_state, actor, at, entry_data)


def _append(
    case: CaseFile,
    command: Command | None,
    to_state: CaseState,
    actor: Actor,
    at: datetime,
    data: dict[str, Any],
) -> TimelineEntry:
    entry = TimelineEntry(
        seq=case.seq_start + len(case.timeline),
        at=at,
        command=command,
        from_state=case.state,
        to_state=to_state,
        actor=actor.name,
        role=actor.role,
        unit=actor.unit,
        data=data,
    )
    case.state = to_state
    case.timeline.append(entry)
    return entry


def record(
    case: CaseFile, command: Command, actor: Actor, at: datetime, data: dict[str, Any]
) -> TimelineEntry:
    """Write a RECORDED entry (a case merged into this one, a call attached) for
    `actor`'s move elsewhere; the case stays where it is. IllegalMove if closed."""
    assert command in RECORDED, command
    if next_state(command, case.state) is None:
        raise IllegalMove(command, case.state, [])
    return _append(case, command, case.state, actor, at, dict(data))


def note(
    case: CaseFile,
    actor: Actor,
    at: datetime,
    data: dict[str, Any],
    *,
    closed_too: bool = False,
) -> TimelineEntry | None:
    """An entry no command made: what the server saw a caller do on a call of
    the case (the voice menu, `records.core.menu_notes`). The case stays where
    it is; a case no longer open takes none (None is returned) — but a closed
    one does with `closed_too` (a follow-up call: the case is closed by then)."""
    open_enough = case.state in OPEN_STATES or (closed_too and case.state is CaseState.CLOSED)
    if not open_enough:
        return None
    return _append(case, None, case.state, actor, at, dict(data))


# Commands a unit may give only as the lead unit; the rest of a unit's
# commands (arrive, feed back) co-units may give too.
_LEAD_ONLY = frozenset({C.SIGN, C.REPLY, C.REQUEST_RETURN, C.REQUEST_EXTENSION})


def _check_actor_holds_case(case: CaseFile, command: Command, actor: Actor) -> None:
    if actor.role is Role.UNIT:
        if actor.unit is not None and actor.unit in _units_on(case, command):
            return
        if actor.unit is not None and actor.unit in case.co_units:
            raise NotPermitted(
                f"only the lead unit ({case.lead_unit}) may {command.value}; "
                f"{actor.unit} is a co-unit"
            )
        raise NotPermitted(f"case is not assigned to unit {actor.unit}")
    desk = actor.desk
    if desk is not None and desk != case.desk:
        raise NotPermitted(f"the case is at the {case.desk.value} desk, not {desk.value}")


def _units_on(case: CaseFile, command: Command) -> set[str]:
    lead = {case.lead_unit} if case.lead_unit else set()
    return lead if command in _LEAD_ONLY else lead | set(case.co_units)


def _check_situation(
    case: CaseFile, command: Command, actor: Actor, at: datetime, data: dict[str, Any]
) -> None:
    if command is C.SEND_BACK and (case.handover is None or case.handover.from_desk == case.desk):
        raise Refused("only a case handed over from the other desk, not yet acted on, goes back")
    if command is C.REQUEST_EXTENSION:
        if case.extension is Extension.REQUESTED:
            raise Refused("an extension request is already waiting for a decision")
        if case.due_close is not None and at >= case.due_close:
            raise Refused("extensions must be requested before the time limit expires")
    if command in (C.APPROVE_EXTENSION, C.REFUSE_EXTENSION) and (
        case.extension is not Extension.REQUESTED
    ):
        raise Refused("no extension request is waiting")
    if command is C.REDISPATCH and data.get("lead_unit") == case.lead_unit:
        raise Refused("a re-dispatch goes to another unit; reject the return to keep this one")
    if (
        command is C.DISPATCH
        and case.state is CaseState.CLASSIFIED
        and case.route is not Route.HOTLINE
    ):
        route = case.route.value if case.route else "none"
        raise Refused(
            f"the case was classified with route {route}; only route hotline is dispatched "
            "(classify it again to change the route)"
        )


def _apply(
    case: CaseFile,
    command: Command,
    actor: Actor,
    at: datetime,
    data: dict[str, Any],
    entry_data: dict[str, Any],
) -> None:
    if command is C.CLASSIFY:
        case.category = data.get("category")
        case.route = Route(data["route"]) if data.get("route") else None
    if command in (C.REFER_TO_110, C.REFER_TO_12345):
        # The service names the matter's category when the case has none yet.
        case.handover = Handover(case.desk, actor.name, data.get("category", case.category), at)
        case.desk = Desk.D110 if command is C.REFER_TO_110 else Desk.D12345
        entry_data["to_desk"] = case.desk.value
        return
    if command is C.SEND_BACK:
        assert case.handover is not None
        entry_data["wrong_transfer"] = {
            "by": case.handover.by,
            "from_desk": case.handover.from_desk.value,
            "category": case.handover.category,
        }
        case.desk = case.handover.from_desk
        case.handover = None
        if case.desk is Desk.D12345:  # 110 says it is not theirs: 12345 dispatches it
            case.route = Route.HOTLINE
        entry_data["to_desk"] = case.desk.value
        return
    # Anything else the holding desk does accepts the hand-over.
    case.handover = None
    if command is C.POLICE_FEEDBACK:
        # The police found it is not theirs: 12345 takes it on to a unit.
        case.desk = Desk.D12345
        case.route = Route.HOTLINE
        entry_data["to_desk"] = case.desk.value
    elif command in (C.DISPATCH, C.REDISPATCH):
        case.lead_unit = data["lead_unit"]
        case.co_units = tuple(u for u in data.get("co_units", ()) if u != case.lead_unit)
        case.extension = None
        case.signed = False
    elif command is C.SIGN:
        case.signed = True
    elif command is C.REQUEST_EXTENSION:
        case.extension = Extension.REQUESTED
    elif command is C.APPROVE_EXTENSION:
        case.extension = Extension.APPROVED
    elif command is C.REFUSE_EXTENSION:
        case.extension = Extension.REFUSED
    elif command is C.MERGE:
        case.merged_into = data["into"]
