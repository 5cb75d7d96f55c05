"""One node of a flow file, by its kind: play, menu, queue, case_status, hangup.

Each reader checks the node's fields against its kind and returns the node
even when some fields are wrong (with problems added), so that the graph
checks still run and one pass over the file reports everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from county.config_file import LineDict
from ivr_flows.core.flow_fields import Reader
from ivr_flows.core.flow_model import CaseStatus, Hangup, Menu, Node, Play, Queue

# kind → (required fields, optional fields)
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "play": (("prompt", "next"), ("keys",)),
    "menu": (
        ("prompt", "after_retries"),
        ("keys", "timeout", "retries", "invalid_prompt", "timeout_prompt"),
    ),
    "queue": ((), ("desk", "priority", "hint", "emergency", "prompt")),
    "case_status": (
        ("prompt", "not_found_prompt", "unavailable_prompt", "next", "fallback"),
        ("max_digits", "timeout"),
    ),
    "hangup": ((), ("prompt",)),
}

# Limits: WaitExten and Read wait at most a minute; a menu said more than ten
# times helps nobody; a case number is 10 digits (2026-000123 typed 2026000123).
TIMEOUT_S = (1, 60)
RETRIES = (0, 9)
MAX_DIGITS = (1, 30)
PRIORITY = (0, 100)


@dataclass(frozen=True)
class FlowDefaults:
    """What a node takes from its flow when it does not say otherwise."""

    desk: str
    priority: int
    hints: frozenset[str]


def read_node(
    node_id: str, line: int, item: LineDict, defaults: FlowDefaults, reader: Reader
) -> Node | None:
    """The node `item` (written on `line`) describes, or None when its kind is
    missing or unknown."""
    kind = item.get("kind")
    what = f"node “{node_id}”"
    if not isinstance(kind, str) or kind not in FIELDS:
        kinds = ", ".join(FIELDS)
        at = item.line_of("kind") if "kind" in item else line
        reader.add(at, f"{what}: kind: one of {kinds} is required")
        return None
    required, optional = FIELDS[kind]
    reader.fields(item, f"{what} ({kind})", ("kind", *required), (*optional, "note"), line)
    node = _READERS[kind](node_id, item, defaults, reader, what)
    return replace(node, line=line)


def _play(node_id: str, item: LineDict, _: FlowDefaults, r: Reader, what: str) -> Play:
    return Play(
        node_id,
        r.prompts(item, "prompt", what),
        r.destination(item, "next", node_id, silent=True, what=what),
        r.keys(item, node_id, what),
        r.text(item, "note", what),
    )


def _menu(node_id: str, item: LineDict, _: FlowDefaults, r: Reader, what: str) -> Menu:
    return Menu(
        node_id,
        r.prompts(item, "prompt", what),
        r.keys(item, node_id, what),
        r.integer(item, "timeout", what, 5, *TIMEOUT_S),
        r.integer(item, "retries", what, 2, *RETRIES),
        r.destination(item, "after_retries", node_id, silent=True, what=what),
        r.prompts(item, "invalid_prompt", what),
        r.prompts(item, "timeout_prompt", what),
        r.text(item, "note", what),
    )


def _queue(node_id: str, item: LineDict, defaults: FlowDefaults, r: Reader, what: str) -> Queue:
    desk = defaults.desk
    if "desk" in item:
        desk = r.desk(item["desk"], item.line_of("desk"), f"{what}: desk") or desk
    hint = item.get("hint")
    if hint is not None and (not isinstance(hint, str) or hint not in defaults.hints):
        known = ", ".join(sorted(defaults.hints)) or "the flow has no hints:"
        r.add(item.line_of("hint"), f"{what}: unknown hint “{hint}” ({known})")
        hint = None
    emergency = r.flag(item, "emergency", what)
    if emergency and hint:
        r.add(item.line_of("hint"), f"{what}: an emergency queue takes no hint")
    return Queue(
        node_id,
        desk,
        r.integer(item, "priority", what, defaults.priority, *PRIORITY),
        hint,
        emergency,
        r.prompts(item, "prompt", what),
        r.text(item, "note", what),
    )


def _case_status(node_id: str, item: LineDict, _: FlowDefaults, r: Reader, what: str) -> CaseStatus:
    return CaseStatus(
        node_id,
        r.prompts(item, "prompt", what),
        r.prompts(item, "not_found_prompt", what),
        r.prompts(item, "unavailable_prompt", what),
        r.destination(item, "next", node_id, silent=True, what=what),
        r.destination(item, "fallback", node_id, silent=True, what=what),
        r.integer(item, "max_digits", what, 10, *MAX_DIGITS),
        r.integer(item, "timeout", what, 10, *TIMEOUT_S),
        r.text(item, "note", what),
    )


def _hangup(node_id: str, item: LineDict, _: FlowDefaults, r: Reader, what: str) -> Hangup:
    return Hangup(node_id, r.prompts(item, "prompt", what), r.text(item, "note", what))


_READERS: dict[str, Callable[[str, LineDict, FlowDefaults, Reader, str], Node]] = {
    "play": _play,
    "menu": _menu,
    "queue": _queue,
    "case_status": _case_status,
    "hangup": _hangup,
}
