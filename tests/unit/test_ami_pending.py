"""PendingActions: which reply completes which action, decided by headers only."""

from __future__ import annotations

import logging

import pytest

from ami_client.errors import AmiActionFailed
from ami_client.message import AmiMessage
from ami_client.pending import Delivery, PendingActions


def msg(**headers: str) -> AmiMessage:
    return AmiMessage.build(**headers)


async def test_plain_action_completes_on_its_response() -> None:
    pending = PendingActions()
    action = pending.add("id-1", "Hangup", collect_list=False)

    delivery = pending.deliver(msg(Response="Success", ActionID="id-1", Message="Channel Hungup"))

    assert delivery is Delivery.TAKEN

    response, items = action.future.result()
    assert response["Message"] == "Channel Hungup"
    assert items == []
    assert len(pending) == 0


async def test_error_response_fails_the_action_with_its_message() -> None:
    pending = PendingActions()
    action = pending.add("id-1", "Redirect", collect_list=False)

    pending.deliver(msg(Response="Error", ActionID="id-1", Message="Channel not found"))

    with pytest.raises(AmiActionFailed, match="Redirect failed: Channel not found"):
        action.future.result()


async def test_event_with_the_actionid_of_a_plain_action_is_not_taken() -> None:
    """OriginateResponse (which even has a Response header) belongs to the sink."""
    pending = PendingActions()
    pending.add("id-1", "Originate", collect_list=False)

    delivery = pending.deliver(msg(Event="OriginateResponse", ActionID="id-1", Response="Success"))

    assert delivery is Delivery.UNCLAIMED


async def test_list_action_collects_items_until_eventlist_complete() -> None:
    pending = PendingActions()
    action = pending.add("id-2", "CoreShowChannels", collect_list=True)

    for message in [
        msg(Response="Success", ActionID="id-2", EventList="start"),
        msg(Event="CoreShowChannel", ActionID="id-2", Channel="PJSIP/a-1"),
        msg(Event="CoreShowChannel", ActionID="id-2", Channel="PJSIP/b-2"),
    ]:
        assert pending.deliver(message) is Delivery.TAKEN
        assert not action.future.done()
    pending.deliver(
        msg(Event="CoreShowChannelsComplete", ActionID="id-2", EventList="Complete", ListItems="2")
    )

    _, items = action.future.result()
    assert [i["Channel"] for i in items] == ["PJSIP/a-1", "PJSIP/b-2"]


async def test_list_action_refused_up_front_fails() -> None:
    pending = PendingActions()
    action = pending.add("id-3", "BridgeList", collect_list=True)
    pending.deliver(msg(Response="Error", ActionID="id-3", Message="Permission denied"))
    with pytest.raises(AmiActionFailed, match="Permission denied"):
        action.future.result()


async def test_item_count_mismatch_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    pending = PendingActions()
    action = pending.add("id-4", "BridgeList", collect_list=True)
    pending.deliver(msg(Response="Success", ActionID="id-4", EventList="start"))
    with caplog.at_level(logging.WARNING):
        pending.deliver(
            msg(Event="BridgeListComplete", ActionID="id-4", EventList="Complete", ListItems="3")
        )
    assert action.future.result()[1] == []
    assert "announced 3 list items but 0 arrived" in caplog.text


async def test_fail_all_fails_every_action_and_forgets_them() -> None:
    pending = PendingActions()
    first = pending.add("id-5", "Hangup", collect_list=False)
    second = pending.add("id-6", "BridgeList", collect_list=True)

    pending.fail_all(lambda action: RuntimeError(f"lost {action.name}"))

    for action, name in ((first, "Hangup"), (second, "BridgeList")):
        with pytest.raises(RuntimeError, match=f"lost {name}"):
            action.future.result()
    assert len(pending) == 0
    assert pending.deliver(msg(Response="Success", ActionID="id-5")) is Delivery.LATE


async def test_items_of_a_list_nobody_waits_for_are_dropped_up_to_complete() -> None:
    pending = PendingActions()
    pending.add("id-7", "CoreShowChannels", collect_list=True)
    pending.discard("id-7")  # the caller timed out

    late = [
        msg(Response="Success", ActionID="id-7", EventList="start"),
        msg(Event="CoreShowChannel", ActionID="id-7"),
        msg(Event="CoreShowChannelsComplete", ActionID="id-7", EventList="Complete"),
    ]
    assert [pending.deliver(m) for m in late] == [Delivery.LATE] * 3
    # After Complete the id is forgotten: a stray event would be an ordinary event.
    assert pending.deliver(msg(Event="Hangup", ActionID="id-7")) is Delivery.UNCLAIMED


async def test_list_answering_a_plain_action_is_returned_and_its_items_dropped() -> None:
    pending = PendingActions()
    action = pending.add("id-8", "CoreShowChannels", collect_list=False)

    pending.deliver(msg(Response="Success", ActionID="id-8", EventList="start"))
    item = pending.deliver(msg(Event="CoreShowChannel", ActionID="id-8"))

    assert action.future.result()[0]["EventList"] == "start"
    assert item is Delivery.LATE


async def test_waiter_cancelled_before_cleanup_counts_as_gone() -> None:
    pending = PendingActions()
    action = pending.add("id-9", "BridgeList", collect_list=True)
    action.future.cancel()  # the timeout fired; the waiter's finally has not run yet

    assert pending.deliver(msg(Event="BridgeListItem", ActionID="id-9")) is Delivery.LATE
    assert len(pending) == 0
