"""What the rest of the server sees of the AMI link: its state, the markers put in
the sink around events, and counters. Plain data; no panoramisk, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ami_client.message import AmiMessage

__all__ = ["AmiSink", "AmiStats", "LinkDown", "LinkState", "LinkUp", "SinkItem"]


class LinkState(StrEnum):
    DISCONNECTED = "disconnected"  # not started yet, or waiting to retry
    CONNECTING = "connecting"  # TCP connect and Login in progress
    CONNECTED = "connected"  # logged in; actions may be sent
    CLOSED = "closed"  # stop() was called; final


@dataclass(frozen=True, slots=True)
class LinkUp:
    """Logged in; reconcile now. `attempt` counts connection attempts since start()
    (1 = first try)."""

    at: datetime
    version: str | None
    attempt: int


@dataclass(frozen=True, slots=True)
class LinkDown:
    """The link is gone; events may be missed until the next LinkUp."""

    at: datetime
    reason: str


SinkItem = AmiMessage | LinkUp | LinkDown
AmiSink = Callable[[SinkItem], None]


@dataclass(slots=True)
class AmiStats:
    """Counters for health checks and benchmarks (monotonic since the client was made)."""

    connect_attempts: int = 0
    logins: int = 0
    reconnects: int = 0  # logins after the first
    link_losses: int = 0
    reads: int = 0
    bytes_received: int = 0
    messages_received: int = 0
    events_dispatched: int = 0
    frames_skipped: int = 0
    actions_sent: int = 0
    action_timeouts: int = 0
    late_replies: int = 0
