"""One running transfer per call: the guard the service consults before starting one."""

from __future__ import annotations

from collections.abc import Iterable

from transfer.core.errors import TransferRunning
from transfer.core.machine import Transfer


def running_for_call(transfers: Iterable[Transfer], call_id: str) -> str | None:
    """The id of the transfer running on the call, if any."""
    for transfer in transfers:
        if transfer.running and transfer.call_id == call_id:
            return transfer.id
    return None


def refuse_if_running(transfers: Iterable[Transfer], call_id: str) -> None:
    """Raise `TransferRunning` (the API's 409, with the running transfer's id)."""
    running = running_for_call(transfers, call_id)
    if running is not None:
        raise TransferRunning(call_id, running)
