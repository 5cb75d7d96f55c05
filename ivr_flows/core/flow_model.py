"""A voice menu as data: the flow files' typed, checked form (ivr_flows/README.md,
"Editing the 12345 menu").

A flow is a set of nodes a call walks through; every way out of a node names
another node by id. Loading (`flow_load`) resolves the destination words
(`operator`, `queue`, `queue:<desk>`, `hangup`) into implicit nodes of the
same kinds, so that whoever reads a loaded `Flow` — the dialplan generator,
the server reading marks — deals with node ids only. Pure data: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The keys a caller can press. (`i`, `t`, `s` and `h` are Asterisk's own
# extensions: no menu key can collide with them.)
KEYS = "0123456789*#"

# Ids are written into Asterisk context names and Gosub arguments: a plain
# alphabet that needs no escaping there (see menu_dialplan).
NODE_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
FLOW_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,19}")
HINT_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
# The catalogue's ids (ivr_flows/core/prompt_catalogue.py): `menu/main`, `digits/7`.
PROMPT_ID = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*(?:/[a-z0-9]+(?:[_-][a-z0-9]+)*)*")

# The destination words and the implicit nodes they stand for.
OPERATOR = "operator"  # this flow's desk queue, the flow's priority, via `menu`
HANGUP = "hangup"
QUEUE_PREFIX = "queue:"  # queue:<desk>: that desk's queue at the flow's priority
OPERATOR_WORDS = ("operator", "queue")


def desk_queue_id(desk: str) -> str:
    """The implicit node a `queue:<desk>` destination stands for."""
    return f"queue_{desk}"


def is_reserved_id(node_id: str) -> bool:
    """Ids the destination words use; a flow file may not name a node so."""
    return node_id in (*OPERATOR_WORDS, HANGUP) or node_id.startswith("queue_")


@dataclass(frozen=True)
class Key:
    key: str  # one of KEYS
    to: str  # a node id
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Play:
    """Prompts in order, then `next`. With `keys`, the prompts are played as
    Background: one of those keys interrupts them, any other key goes on to
    `next` at once."""

    id: str
    prompts: tuple[str, ...]
    next: str
    keys: tuple[Key, ...] = ()
    note: str = ""
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Menu:
    """Prompts played as Background (keys interrupt them), then `timeout`
    seconds of waiting. A wrong key or silence plays the matching prompt and
    the menu again, `retries` times; one more goes to `after_retries`."""

    id: str
    prompts: tuple[str, ...]
    keys: tuple[Key, ...]
    timeout: int
    retries: int
    after_retries: str
    invalid_prompts: tuple[str, ...] = ()
    timeout_prompts: tuple[str, ...] = ()
    note: str = ""
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Queue:
    """Prompts (optional), then the desk's queue; hung up when the caller leaves it."""

    id: str
    desk: str
    priority: int
    hint: str | None = None  # a code of the flow's hints: the case's first classification hint
    emergency: bool = False  # the emergency key's queue: via `emergency`, case flagged urgent
    prompts: tuple[str, ...] = ()
    note: str = ""
    implicit: bool = False  # made by loading for a destination word, not in the file
    line: int = field(default=0, compare=False)

    @property
    def via(self) -> str:
        return "emergency" if self.emergency else "menu"


@dataclass(frozen=True)
class CaseStatus:
    """Asks for a case number (or none: the calling number's latest case), has
    the server say its state; `next` after the answer or a "not found",
    `fallback` when the server could not be asked."""

    id: str
    prompts: tuple[str, ...]
    not_found_prompts: tuple[str, ...]
    unavailable_prompts: tuple[str, ...]
    next: str
    fallback: str
    max_digits: int = 10
    timeout: int = 10
    note: str = ""
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Hangup:
    id: str
    prompts: tuple[str, ...] = ()
    note: str = ""
    implicit: bool = False
    line: int = field(default=0, compare=False)


Node = Play | Menu | Queue | CaseStatus | Hangup


@dataclass(frozen=True)
class Hint:
    code: str  # what the dialplan and the case carry (ASCII)
    label: str  # what people read (中文)


@dataclass(frozen=True)
class Flow:
    name: str  # the file's name without .yaml: contexts ivr-<name>, ivr-<name>-<node>
    source: str  # the file it was read from, as given to the loader
    desk: str
    priority: int
    start: str
    nodes: tuple[Node, ...]  # the file's nodes in file order, then the implicit ones
    hints: tuple[Hint, ...] = ()
    note: str = ""

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def hint_label(self, code: str) -> str:
        return next((h.label for h in self.hints if h.code == code), code)


def key_mark(target: Node) -> str:
    """The mark a key press carries (ivr-mark's fourth argument), from the node it
    leads to: `emergency`, `hint=<code>`, or nothing."""
    if isinstance(target, Queue):
        if target.emergency:
            return "emergency"
        if target.hint:
            return f"hint={target.hint}"
    return ""
