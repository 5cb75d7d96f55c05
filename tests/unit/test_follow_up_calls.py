"""A follow-up call as the AMI tells it: the Originate to the citizen through
the follow-up trunk with a known channel id, the end [ld-follow-up] tells
(a rating, no key, a hang-up, the comment), a failed Originate, and the
result AstDB kept."""

from __future__ import annotations

import pytest

from ami_client.message import AmiMessage
from notify.core.follow_up_calls import (
    failed_call,
    kept_outcome,
    message,
    needs_cause,
    originate,
    outcome_of,
)
from notify.core.follow_ups import CallResult


def msg(**headers: str) -> AmiMessage:
    return AmiMessage(tuple(headers.items()))


def test_the_citizen_is_called_through_the_trunk_with_the_case_named() -> None:
    action = originate(
        4,
        2,
        "139-5550-1234",
        trunk="trunk-12345",
        ring_s=30,
        comment_s=20,
        case_number="2026-000123",
        recordings="/rec",
    )
    assert (action["Channel"], action["ChannelId"], action["Timeout"]) == (
        "PJSIP/13955501234@trunk-12345",
        "ldfu-4-2",
        "30000",
    )
    variables = dict(v.split("=", 1) for v in action["Variable"].split(","))
    assert variables["LD_FU_SAY"] == "&".join(message("2026-000123"))
    assert (variables["LD_FU_COMMENT_S"], variables["__LD_CASE"]) == ("20", "2026-000123")
    assert message("2026-000123")[2] == "liandong/digits/2"


@pytest.mark.parametrize(
    ("headers", "result", "rating"),
    [
        ({"Result": "rated", "Rating": "2"}, CallResult.RATED, 2),
        ({"Result": "rated", "Rating": "9"}, CallResult.RATED, None),  # not a rating
        ({"Result": "no_key", "Rating": ""}, CallResult.NO_KEY, None),
        ({"Result": "hung_up"}, CallResult.HUNG_UP, None),
    ],
)
def test_the_end_says_how_the_citizen_answered(
    headers: dict[str, str], result: CallResult, rating: int | None
) -> None:
    event = msg(Event="UserEvent", UserEvent="LdFollowUpEnd", FollowUp="4", Try="1", **headers)
    outcome = outcome_of(event)
    assert outcome is not None and (outcome.result, outcome.rating) == (result, rating)


def test_a_failed_call_and_what_astdb_kept() -> None:
    busy = msg(Event="OriginateResponse", Response="Failure", Uniqueid="ldfu-4-1", Reason="0")
    assert needs_cause(busy) and outcome_of(busy) is None
    told = failed_call("ldfu-4-1", "17")
    assert told is not None and told.result is CallResult.BUSY
    timeout = msg(Event="OriginateResponse", Response="Failure", Uniqueid="ldfu-4-1", Reason="3")
    late = outcome_of(timeout)
    assert late is not None and late.result is CallResult.NO_ANSWER
    kept = kept_outcome(4, 1, "rated:5")
    assert kept is not None and (kept.result, kept.rating) == (CallResult.RATED, 5)
    assert kept_outcome(4, 1, "nonsense") is None
    assert outcome_of(msg(Event="UserEvent", UserEvent="LdNoticeEnd", Notice="4")) is None
