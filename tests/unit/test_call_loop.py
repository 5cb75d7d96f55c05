"""The loop the server's calls run in never spins: a call due now that finds
every line busy waits for the hang-up that frees one (the benchmark found
the outbox waking at once, over and over: 750 ms of CPU per notice). A
failed call's cause is found whichever of its Hangup and its Originate's
answer comes first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ami_client import LinkState
from ami_client.message import AmiMessage
from notify.service.call_lines import CallLines
from notify.service.call_loop import CallLoop


class _Linked:
    state = LinkState.CONNECTED


class _Loop(CallLoop):
    def __init__(self, times: list[datetime]) -> None:
        super().__init__(CallLines())
        self.times = times
        self.client = _Linked()  # type: ignore[assignment]

    def _times_ahead(self) -> list[datetime]:
        return self.times

    async def _handle(self, item: Any) -> None:
        return None

    async def _dial_due(self) -> None:
        return None


async def test_a_call_due_now_waits_to_be_woken_not_on_a_timer() -> None:
    now = datetime.now(UTC)
    assert _Loop([now - timedelta(seconds=1)])._until_next_due() is None
    ahead = _Loop([now - timedelta(seconds=1), now + timedelta(seconds=30)])._until_next_due()
    assert ahead is not None and 29 < ahead <= 30


async def test_a_freed_line_wakes_the_loop() -> None:
    loop = _Loop([])
    loop.lines.take("ldnt-1-1", "line")
    assert loop.lines.busy()["line"] == 1
    loop._wake.clear()
    loop.lines.release("ldnt-1-1")
    assert loop._wake.is_set() and loop.lines.busy().total() == 0


def _hangup(channel_id: str, cause: str) -> AmiMessage:
    return AmiMessage((("Event", "Hangup"), ("Uniqueid", channel_id), ("Cause", cause)))


@pytest.mark.parametrize("hangup_first", [True, False], ids=["hangup-first", "response-first"])
async def test_a_busy_phone_is_busy_whichever_event_comes_first(hangup_first: bool) -> None:
    lines = CallLines()
    lines.take("ldnt-1-2", "line")
    told: list[str | None] = []
    if hangup_first:
        lines.observe(_hangup("ldnt-1-2", "17"))
        lines.await_cause("ldnt-1-2", told.append)
    else:
        lines.await_cause("ldnt-1-2", told.append)
        lines.observe(_hangup("ldnt-1-2", "17"))
    assert told == ["17"]
    assert lines.busy().total() == 0


async def test_a_hangup_of_a_channel_not_ours_is_not_kept() -> None:
    lines = CallLines()
    lines.observe(_hangup("1700000000.5", "16"))
    told: list[str | None] = []
    lines.await_cause("1700000000.5", told.append)
    assert told == []  # waits for a Hangup (or CAUSE_WAIT_S), as for a channel never made
