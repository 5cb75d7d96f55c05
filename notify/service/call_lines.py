"""The server's own calls on the phone now — linkage notices and follow-ups
together — each by its channel id and the trunk it takes: what the limits on
simultaneous calls count (outbound.yaml `limits`).

A call holds its line from its Originate to its channel's Hangup (a notice
call goes on after its key while the confirmation is said). A failed
Originate that does not say why waits here for its channel's Hangup, whose
cause does, or `CAUSE_WAIT_S` if the channel was never made. The two come in
either order (the OriginateResponse is raised on another thread than the
channel's Hangup): the causes of our calls' Hangups are kept a while, so a
busy phone is not taken for a failure when its Hangup came first (seen in
CI: one try of three to the same busy phone recorded `failed`).
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Callable

from ami_client import LinkDown, LinkUp
from ami_client.message import AmiMessage

CAUSE_WAIT_S = 2.0  # a failed Originate's Hangup comes within milliseconds
KEPT_CAUSES = 256  # the last Hangup causes of our calls, for a response that comes after

OnCause = Callable[[str | None], None]


class CallLines:
    def __init__(self) -> None:
        self._up: dict[str, str] = {}
        self._waiting: dict[str, tuple[asyncio.TimerHandle, OnCause]] = {}
        self._ended: OrderedDict[str, str | None] = OrderedDict()  # channel id → Hangup cause
        # Told when a line frees: a service waiting for one dials.
        self.listeners: list[Callable[[], None]] = []

    def busy(self) -> Counter[str]:
        """Calls up per trunk."""
        return Counter(self._up.values())

    def take(self, channel_id: str, trunk: str) -> None:
        self._up[channel_id] = trunk

    def release(self, channel_id: str) -> None:
        if self._up.pop(channel_id, None) is not None:
            for listener in self.listeners:
                listener()

    def replace(self, prefix: str, up: dict[str, str]) -> None:
        """After a reconnect: the calls of one kind (channel ids starting with
        `prefix`) as Asterisk has them now."""
        for channel_id in [c for c in self._up if c.startswith(prefix)]:
            del self._up[channel_id]
        self._up.update(up)
        for listener in self.listeners:
            listener()

    def await_cause(self, channel_id: str, then: OnCause) -> None:
        """`then(cause)` once the channel's Hangup comes, or `then(None)`
        after CAUSE_WAIT_S (the channel was never made: its line is freed);
        at once if the Hangup came first."""
        if channel_id in self._ended:
            self.release(channel_id)
            then(self._ended.pop(channel_id))
            return
        timer = asyncio.get_running_loop().call_later(CAUSE_WAIT_S, self._caused, channel_id, None)
        self._waiting[channel_id] = (timer, then)

    def observe(self, item: AmiMessage | LinkUp | LinkDown) -> None:
        if isinstance(item, AmiMessage) and item.event == "Hangup":
            channel_id = item.get("Uniqueid") or ""
            if channel_id in self._waiting:
                self._caused(channel_id, item.get("Cause"))
            elif channel_id in self._up:  # ours: its Originate's answer may come after
                self._ended[channel_id] = item.get("Cause")
                while len(self._ended) > KEPT_CAUSES:
                    self._ended.popitem(last=False)
            self.release(channel_id)

    def _caused(self, channel_id: str, cause: str | None) -> None:
        timer, then = self._waiting.pop(channel_id, (None, None))
        if timer is not None:
            timer.cancel()
        self.release(channel_id)
        if then is not None:
            then(cause)
