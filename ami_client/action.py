"""Outgoing actions: validation, wire encoding, ActionIDs and a log-safe description."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Mapping, Sequence

from ami_client.errors import AmiInvalidAction

__all__ = ["ActionIds", "ActionValue", "action_name", "describe_action", "encode_action"]

# A value may repeat a header (Originate's `Variable`), hence the sequence.
ActionValue = str | Sequence[str]

_HEADER_NAME = re.compile(r"[!-9;-~]+")
# Headers whose values must never reach a log line.
_SENSITIVE = frozenset({"secret", "password", "key"})


class ActionIds:
    """Unique ActionIDs for one client: a random per-client prefix plus a counter.

    The prefix lets the client tell replies to its own actions from anything else.
    """

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix or f"ld-{secrets.token_hex(4)}-"
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self._counter)}"

    def owns(self, action_id: str) -> bool:
        return action_id.startswith(self.prefix)


def action_name(action: Mapping[str, ActionValue]) -> str:
    for key, value in action.items():
        if key.lower() == "action" and isinstance(value, str):
            return value
    raise AmiInvalidAction("action has no 'Action' header")


def _values(value: ActionValue) -> Sequence[str]:
    return (value,) if isinstance(value, str) else value


def encode_action(action: Mapping[str, ActionValue], action_id: str) -> bytes:
    """`Action` first, then our `ActionID`, then the rest in the caller's order.

    Refuses CR/LF in values: they would let a value inject headers or whole actions.
    """
    name = action_name(action)
    lines = [f"Action: {name}", f"ActionID: {action_id}"]
    for key, value in action.items():
        lowered = key.lower()
        if lowered == "action":
            continue
        if lowered == "actionid":
            raise AmiInvalidAction("do not set ActionID; the client assigns it")
        if not _HEADER_NAME.fullmatch(key):
            raise AmiInvalidAction(f"invalid header name {key!r} in {name}")
        for item in _values(value):
            if not isinstance(item, str):
                raise AmiInvalidAction(f"{name} header {key!r} has a non-string value")
            if "\r" in item or "\n" in item:
                raise AmiInvalidAction(f"{name} header {key!r} contains CR or LF")
            lines.append(f"{key}: {item}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8")


def describe_action(action: Mapping[str, ActionValue], action_id: str | None = None) -> str:
    """One log-safe line: sensitive values are masked, long ones shortened."""
    parts = [f"ActionID={action_id}"] if action_id else []
    for key, value in action.items():
        if key.lower() in _SENSITIVE:
            shown = "***"
        else:
            text = ",".join(_values(value)) if not isinstance(value, str) else value
            shown = text if len(text) <= 60 else text[:57] + "..."
        parts.append(f"{key}={shown!r}")
    return " ".join(parts)
