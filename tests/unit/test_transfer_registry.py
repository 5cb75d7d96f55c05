"""One running transfer per call: the second is refused with the first's id (the API's 409)."""

from __future__ import annotations

import pytest
from test_transfer_kit import at, reach, request

from transfer.core.errors import TransferRunning
from transfer.core.events import TargetRinging
from transfer.core.machine import Transfer
from transfer.core.registry import refuse_if_running, running_for_call
from transfer.core.states import TransferMode as M
from transfer.core.states import TransferState as S


def test_a_second_transfer_on_the_call_is_refused_with_the_running_ones_id() -> None:
    running = reach(M.ATTENDED, S.RINGING)
    assert running_for_call([running], "call-1") == "tr-1"
    with pytest.raises(TransferRunning) as refused:
        refuse_if_running([running], "call-1")
    assert (refused.value.transfer_id, refused.value.call_id) == ("tr-1", "call-1")
    assert refused.value.code == "transfer_running" and "tr-1" in str(refused.value)


@pytest.mark.parametrize("state", [S.COMPLETED, S.CANCELLED, S.FAILED, S.ABANDONED])
def test_an_ended_transfer_does_not_block_the_next(state: S) -> None:
    ended = reach(M.ATTENDED, state)
    assert running_for_call([ended], "call-1") is None
    refuse_if_running([ended], "call-1")


def test_other_calls_do_not_count_and_a_merge_is_followed() -> None:
    other, _ = Transfer.start(request(M.BLIND, transfer_id="tr-2", call_id="call-2"))
    other.handle(TargetRinging(at(1)))
    assert running_for_call([other], "call-1") is None
    other.call_merged("call-2", "call-1")  # Asterisk rewrote the Linkedid
    assert running_for_call([other], "call-1") == "tr-2"


def test_requested_counts_as_running() -> None:
    fresh, _ = Transfer.start(request(M.CONFERENCE))
    assert running_for_call([reach(M.BLIND, S.FAILED), fresh], "call-1") == "tr-1"
