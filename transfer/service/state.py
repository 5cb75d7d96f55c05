"""What the parts of the transfer service share, so each part is handed one
thing: the running transfers and whom each is about, the call model they are
read against, where a step goes (Asterisk, the live feed, the records), the
hooks the app sets, and how long the service took to react (the benchmark)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from common.live_feed import LiveFeed
from telephony.core.model import CallModel
from transfer.core.machine import Transfer
from transfer.core.parties import Parties
from transfer.service.sender import AmiSender
from transfer.storage.store import TransferStore

# One logger for every part of the service, under the name it has always had
# (the log lines, and any level set for it, stay as they were).
log = logging.getLogger("transfer.service.transfers")


def now_utc() -> datetime:
    return datetime.now(UTC)


class ServiceState:
    def __init__(
        self, model: CallModel, live: LiveFeed, store: TransferStore, *, ring_timeout_s: int
    ) -> None:
        self.model = model
        # Whether a unit line is the roster's (set from the case rules at start).
        self.unit_line_known: Callable[[str], bool] | None = None
        self.live = live
        self.ring_timeout_s = ring_timeout_s
        self.sender = AmiSender()
        self.store = store
        self.running: dict[str, Transfer] = {}
        self.parties: dict[str, Parties] = {}
        # Told every change of a transfer, with its parties (the case linker:
        # a completed hand-over to the other desk hands the case over too).
        self.listeners: list[Callable[[Transfer, Parties | None], None]] = []
        # When the Asterisk we talk to started (None: not known yet).
        self.pbx_started: Callable[[], datetime | None] = lambda: None
        self.arrived: float | None = None  # when the AMI event being applied came in
        self.what = ""  # and what it was ("DTMFEnd", "UserEvent/LdKey/blind", ...)
        # The server's share of a hand-over, by the AMI event that caused it
        # ("DTMFEnd", "Hangup", ...): seconds from the event reaching this service
        # to the last AMI action written, and to Asterisk's answer to it
        # (persisting comes after both).
        self.reaction_times: deque[tuple[str, float, float]] = deque(maxlen=10_000)
