"""Reading times off the wire: SIPp's message logs (-trace_msg), one block per
SIP message, each headed by a line of dashes and the time it was sent or read."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

_HEAD = "-----------------------------------------------"


class WireError(RuntimeError):
    """The logs do not show the hand-over (no key sent, no INVITE arrived)."""


def messages(path: Path) -> list[tuple[datetime, str]]:
    """(time, message text) for every message with a time stamp, in order."""
    out: list[tuple[datetime, str]] = []
    for block in path.read_text(encoding="utf-8", errors="replace").split(_HEAD)[1:]:
        stamp, _, body = block.partition("\n")
        try:
            at = datetime.fromisoformat(stamp.strip())
        except ValueError:
            continue  # "Unexpected message" blocks carry no time
        out.append((at, body))
    return out


def key_sent_at(phone_log: Path, key: str) -> datetime:
    """When the phone sent its last INFO carrying `key`."""
    sent = [
        at
        for at, body in messages(phone_log)
        if "message sent" in body and "\nINFO " in body and f"Signal={key}\n" in body
    ]
    if not sent:
        raise WireError(f"{phone_log.name}: no INFO with Signal={key} was sent")
    return sent[-1]


def key_to_invite_s(phone_log: Path, key: str, target_log: Path) -> float:
    """Seconds from the last INFO carrying `key` sent by the phone to the first
    INVITE the target phone received after it."""
    pressed = key_sent_at(phone_log, key)
    invites = [
        at
        for at, body in messages(target_log)
        if "message received" in body and "\nINVITE sip:" in body and at >= pressed
    ]
    if not invites:
        raise WireError(f"{target_log.name}: no INVITE arrived after the key at {pressed}")
    return (invites[0] - pressed).total_seconds()
