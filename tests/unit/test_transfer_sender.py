"""What the sender does when a step that gives the caller back is not done:
refused by Asterisk, the caller rings their desk again at once; lost with the
AMI link, the give-back is owed and paid when the link is back (sending the
fallback into the same dead link would lose it too)."""

from __future__ import annotations

from typing import Any, cast

from transfer_shell_kit import CALLER, CALLER_CHAN, parties

from ami_client import AmiClient
from ami_client.errors import AmiActionFailed, AmiError, AmiNotConnected
from ami_client.message import AmiMessage
from transfer.core.actions import AmiStep
from transfer.service.sender import AmiSender

GIVE_BACK = AmiStep(
    {"Action": "Bridge", "Channel1": CALLER_CHAN, "Channel2": "PJSIP/op110-1-00000002"},
    gives_back=True,
)


class Answering:
    """Stands in for the AMI client: answers each action with `outcome`."""

    def __init__(self, outcome: AmiError | None) -> None:
        self.outcome = outcome
        self.sent: list[dict[str, Any]] = []

    async def send_action(self, action: dict[str, Any]) -> AmiMessage:
        self.sent.append(action)
        if self.outcome is not None and action["Action"] == "Bridge":
            raise self.outcome
        return AmiMessage.build(Response="Success")


def sender_with(client: Answering) -> AmiSender:
    sender = AmiSender()
    sender.client = cast(AmiClient, client)
    return sender


async def test_a_refused_give_back_sends_the_caller_to_their_desk_at_once() -> None:
    client = Answering(AmiActionFailed("Bridge", AmiMessage.build(Message="Refused")))
    sender = sender_with(client)
    await sender.send(GIVE_BACK, parties())
    assert [a["Action"] for a in client.sent] == ["Bridge", "Redirect"]
    assert (client.sent[1]["Context"], client.sent[1]["Exten"]) == ("from-trunk-110", "110")
    assert sender.owed == {}


async def test_a_give_back_lost_with_the_link_is_owed_not_sent_into_it() -> None:
    client = Answering(AmiNotConnected("the AMI link is down"))
    sender = sender_with(client)
    await sender.send(GIVE_BACK, parties())
    assert [a["Action"] for a in client.sent] == ["Bridge"]
    assert list(sender.owed) == [CALLER]
