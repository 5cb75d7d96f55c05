"""Each caller's walk through a voice menu, read from its steps (`MenuStep`,
the dialplan's `UserEvent(LdIvr)`), into the lines their case records
(`records.core.menu_notes`): the demand type chosen, the emergency key, an
operator reached without a choice and why, a case-status lookup's outcome, a
hang-up in the menu.

What a step means comes from the flow files, the same data the dialplan was
generated from: a queue node's `hint` (its code; its name from the flow's
`hints:`), `emergency` and `desk`, a menu's keys and `after_retries`. A step
of a node the loaded flow does not have (the file was edited after Asterisk
loaded the dialplan) still counts by its key's mark (`hint=<code>`,
`emergency`). Pure: no I/O; the desk service feeds it and passes the notes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ivr_flows.core.desk_events import MenuStep
from ivr_flows.core.flow_model import CaseStatus, Flow, Hangup, Menu, Node, Play, Queue
from records.core.menu_notes import MenuNote, MenuOutcome, PathStep

# The case-status node's marks: how the lookup ended.
LOOKUP_MARKS = {
    "case_found": "found",
    "case_not_found": "not_found",
    "case_unavailable": "unavailable",
}
EMERGENCY_MARK = "emergency"
HINT_MARK = "hint="


@dataclass
class _Walk:
    call_id: str
    flow: Flow
    path: list[PathStep] = field(default_factory=list)  # since the last note
    seen: set[tuple[datetime, str, str, str]] = field(default_factory=set)
    last: MenuStep | None = None
    chosen: MenuStep | None = None  # a key marked hint/emergency, its queue not yet entered
    queued: bool = False  # the caller left the menu for a queue (nothing to say at hang-up)


class MenuWalks:
    def __init__(self, flows: Iterable[Flow]) -> None:
        self.flows = {flow.name: flow for flow in flows}
        self._walks: dict[str, _Walk] = {}  # by the caller's Uniqueid

    def __len__(self) -> int:
        return len(self._walks)

    def step(self, step: MenuStep) -> tuple[bool, list[MenuNote]]:
        """Take a step: (False, []) if it was taken already (the same event
        again), else (True, the notes it makes)."""
        flow = self.flows.get(step.menu)
        walk = self._walks.get(step.uniqueid)
        if walk is None or walk.flow.name != step.menu:
            if flow is None:
                return True, []  # a menu the server has no file of: on the call only
            walk = self._walks[step.uniqueid] = _Walk(step.call_id, flow)
        identity = (step.at, step.node, step.key, step.mark)
        if identity in walk.seen:
            return False, []
        walk.seen.add(identity)
        walk.call_id = step.call_id  # the call's id may have moved on (a merge)
        notes = self._notes(walk, step)
        walk.last = step
        return True, notes

    def ended(self, uniqueid: str, at: datetime) -> list[MenuNote]:
        """The caller's channel is gone: a walk that had not reached a queue
        ends with a hang-up, its steps since the last note with it."""
        walk = self._walks.pop(uniqueid, None)
        if walk is None or walk.queued or not walk.path:
            return []
        node = walk.last.node if walk.last else walk.path[-1].node
        return [
            self._note(
                walk,
                None,
                MenuOutcome.HUNG_UP,
                node,
                None,
                at=at,
                step_id=f"{uniqueid}@hangup",
                reason="caller",
            )
        ]

    # ------------------------------------------------------------------

    def _notes(self, walk: _Walk, step: MenuStep) -> list[MenuNote]:
        if step.mark in LOOKUP_MARKS:
            # A result, not a step the caller took: the note says it.
            return [self._lookup(walk, step)]
        walk.queued = False
        walk.path.append(_path_step(walk.flow, step))
        if step.key:
            if step.mark == EMERGENCY_MARK or step.mark.startswith(HINT_MARK):
                walk.chosen = step
            return []
        node = _node(walk.flow, step.node)
        marked = walk.chosen is not None and _just_before(walk, walk.chosen)
        if isinstance(node, Queue) or (node is None and marked):
            return [self._queued(walk, step, node)]
        if isinstance(node, Hangup):
            walk.queued = True  # the menu ends the call: nothing more at the hang-up
            return [self._note(walk, step, MenuOutcome.HUNG_UP, step.node, None, reason="menu")]
        return []

    def _lookup(self, walk: _Walk, step: MenuStep) -> MenuNote:
        return self._note(
            walk, step, MenuOutcome.CASE_STATUS, step.node, None, reason=LOOKUP_MARKS[step.mark]
        )

    def _queued(self, walk: _Walk, step: MenuStep, node: Queue | None) -> MenuNote:
        """The caller entered a queue node: their choice, the emergency key, or
        an operator without a choice (and why)."""
        key_step = (
            walk.chosen if walk.chosen is not None and _just_before(walk, walk.chosen) else None
        )
        walk.chosen = None
        walk.queued = True
        if node is None:  # the flow does not know the node: the key's mark says it
            assert key_step is not None
            node = _queue_marked(walk.flow, key_step.mark)
        key = key_step.key if key_step else self._key_into(walk, step.node)
        where = _where(walk, key_step)
        if node.emergency:
            return self._note(walk, step, MenuOutcome.EMERGENCY, where, key, to_desk=node.desk)
        if node.hint:
            return self._note(
                walk,
                step,
                MenuOutcome.CHOICE,
                where,
                key,
                to_desk=node.desk,
                hint=node.hint,
                hint_label=walk.flow.hint_label(node.hint),
            )
        reason, wrong, silences = self._why_operator(walk, step.node, key)
        return self._note(
            walk,
            step,
            MenuOutcome.OPERATOR,
            where,
            key,
            to_desk=node.desk,
            reason=reason,
            invalid_keys=wrong,
            timeouts=silences,
        )

    def _key_into(self, walk: _Walk, node_id: str) -> str | None:
        """The key just pressed, if it is the one that leads to `node_id`."""
        last = walk.last
        if last is None or not last.key:
            return None
        node = _node(walk.flow, last.node)
        keys = node.keys if isinstance(node, Play | Menu) else ()
        return last.key if any(k.key == last.key and k.to == node_id for k in keys) else None

    def _why_operator(self, walk: _Walk, node_id: str, key: str | None) -> tuple[str, int, int]:
        """(reason, wrong keys, silences): a key to the operator, no valid
        choice after the menu's retries, a failed lookup, or a way on."""
        if key is not None:
            return "key", 0, 0
        last = walk.last
        if last is not None and last.mark == "case_unavailable":
            return "lookup_failed", 0, 0
        menu = _node(walk.flow, last.node) if last is not None else None
        if isinstance(menu, Menu) and menu.after_retries == node_id:
            # Each time the menu was said ended in one failure: a wrong key or silence.
            at_menu = [s for s in walk.path if s.node == menu.id]
            said = sum(1 for s in at_menu if s.key is None)
            wrong = sum(1 for s in at_menu if s.key is not None)
            return "no_choice", wrong, max(0, said - wrong)
        return "next", 0, 0

    def _note(
        self,
        walk: _Walk,
        step: MenuStep | None,
        outcome: MenuOutcome,
        node: str,
        key: str | None,
        *,
        at: datetime | None = None,
        step_id: str | None = None,
        to_desk: str | None = None,
        hint: str | None = None,
        hint_label: str | None = None,
        reason: str | None = None,
        invalid_keys: int = 0,
        timeouts: int = 0,
    ) -> MenuNote:
        """The note, with the walk's steps since the last one (then cleared)."""
        path, walk.path = tuple(walk.path), []
        if step is not None:
            at, step_id = step.at, f"{step.uniqueid}@{step.at.isoformat()}"
        assert at is not None and step_id is not None
        return MenuNote(
            step_id=step_id,
            call_id=walk.call_id,
            at=at,
            menu=walk.flow.name,
            desk=walk.flow.desk,
            outcome=outcome,
            node=node,
            key=key,
            path=path,
            hint=hint,
            hint_label=hint_label,
            to_desk=to_desk,
            reason=reason,
            invalid_keys=invalid_keys,
            timeouts=timeouts,
        )


def _node(flow: Flow, node_id: str) -> Node | None:
    try:
        return flow.node(node_id)
    except KeyError:
        return None


def _path_step(flow: Flow, step: MenuStep) -> PathStep:
    """Digits typed at a case-status node are counted, not kept."""
    if step.key and isinstance(_node(flow, step.node), CaseStatus):
        return PathStep(step.node, None, typed=len(step.key))
    return PathStep(step.node, step.key or None)


def _just_before(walk: _Walk, step: MenuStep) -> bool:
    """`step` is the one taken right before the step being taken now."""
    return walk.last is step


def _queue_marked(flow: Flow, mark: str) -> Queue:
    """The flow's queue node a key's mark names (`emergency`, `hint=<code>`);
    if it has none, one of the menu's own desk that says the same."""
    emergency = mark == EMERGENCY_MARK
    hint = None if emergency else mark.removeprefix(HINT_MARK)
    for node in flow.nodes:
        if isinstance(node, Queue) and (node.emergency if emergency else node.hint == hint):
            return node
    return Queue("", flow.desk, flow.priority, hint=hint, emergency=emergency)


def _where(walk: _Walk, key_step: MenuStep | None) -> str:
    """Where it happened: the node the key was pressed in, else the one the
    caller was in before the queue."""
    if key_step is not None:
        return key_step.node
    if len(walk.path) > 1:
        return walk.path[-2].node
    return walk.last.node if walk.last is not None else walk.path[-1].node
