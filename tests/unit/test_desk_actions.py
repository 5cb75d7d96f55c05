"""The AMI actions the desks send: what Asterisk is asked to do for a phone's
key or an API call, and for a wrap-up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ami_client.message import AmiMessage
from ivr_flows.core.desk_actions import member_action, withdraw_action, wrap_up_action
from ivr_flows.core.desk_events import CallerJoined, entry_as_join
from ivr_flows.core.operators import WRAP_UP_REASON, EndWrapUp, StartWrapUp


def message(**headers: str) -> AmiMessage:
    return AmiMessage(tuple(headers.items()))


def test_a_login_adds_the_phone_by_name_watching_its_own_device() -> None:
    assert member_action("110", "op110-1", "login") == {
        "Action": "QueueAdd",
        "Queue": "desk-110",
        "Interface": "PJSIP/op110-1",
        "MemberName": "op110-1",
        "StateInterface": "PJSIP/op110-1",
        "Penalty": "0",
    }


def test_a_pause_carries_its_reason_and_ready_lifts_it() -> None:
    pause = member_action("12345", "op12345-2", "pause", "培训")
    assert (pause["Action"], pause["Paused"], pause["Reason"]) == ("QueuePause", "true", "培训")
    ready = member_action("12345", "op12345-2", "ready")
    assert (ready["Paused"], "Reason" in ready) == ("false", False)
    assert member_action("110", "op110-1", "logout")["Action"] == "QueueRemove"


def test_an_unknown_action_is_refused_before_the_wire() -> None:
    with pytest.raises(ValueError, match="nap"):
        member_action("110", "op110-1", "nap")


def test_a_wrap_up_is_a_pause_with_its_own_reason() -> None:
    start = wrap_up_action(StartWrapUp("op110-2", "110", datetime.now(UTC)))
    assert (start["Interface"], start["Paused"], start["Reason"]) == (
        "PJSIP/op110-2",
        "true",
        WRAP_UP_REASON,
    )
    assert wrap_up_action(EndWrapUp("op110-2", "110"))["Paused"] == "false"


def test_a_withdrawn_caller_is_marked_for_the_backup_post() -> None:
    action = withdraw_action("110", "PJSIP/trunk-110-00000001")
    assert (action["Queue"], action["Caller"], action["WithdrawInfo"]) == (
        "desk-110",
        "PJSIP/trunk-110-00000001",
        "overflow",
    )


def test_a_waiting_entry_is_the_join_it_was() -> None:
    now = datetime(2026, 12, 3, 10, 0, 30, tzinfo=UTC)
    entry = message(
        Event="QueueEntry",
        Queue="desk-12345",
        Uniqueid="ld-1.7",
        Linkedid="ld-1.5",
        Position="2",
        Wait="30",
        CallerIDNum="13912345678",
    )
    assert entry_as_join(entry, now) == CallerJoined(
        datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC), "ld-1.7", "ld-1.5", "12345", 2, "13912345678"
    )
    assert entry_as_join(message(Event="QueueEntry", Queue="sales", Uniqueid="x"), now) is None
