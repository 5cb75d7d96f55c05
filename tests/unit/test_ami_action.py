"""Outgoing actions: wire encoding, header-injection refusal, log-safe descriptions."""

from __future__ import annotations

import pytest

from ami_client.action import ActionIds, describe_action, encode_action
from ami_client.errors import AmiInvalidAction


def test_action_and_actionid_come_first_then_the_callers_order() -> None:
    wire = encode_action(
        {"Channel": "PJSIP/op110-1-00000004", "Action": "Redirect", "Exten": "12345"}, "ld-x-7"
    )
    assert wire == (
        b"Action: Redirect\r\nActionID: ld-x-7\r\n"
        b"Channel: PJSIP/op110-1-00000004\r\nExten: 12345\r\n\r\n"
    )


def test_repeated_headers_and_chinese_values_are_encoded_as_utf8() -> None:
    wire = encode_action(
        {
            "Action": "Originate",
            "CallerID": "联动中心 <12345>",
            "Variable": ["LD_CASE=C-1", "LD_ROLE=unit"],
        },
        "ld-x-1",
    )
    assert "CallerID: 联动中心 <12345>\r\n".encode() in wire
    assert b"Variable: LD_CASE=C-1\r\nVariable: LD_ROLE=unit\r\n\r\n" in wire


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"Channel": "x"}, "no 'Action' header"),
        ({"Action": "Hangup", "Channel": "x\r\nAction: Originate"}, "contains CR or LF"),
        ({"Action": "Setvar", "Variable": ["A=1", "B=2\n"]}, "contains CR or LF"),
        ({"Action": "Hangup", "Bad Name": "x"}, "invalid header name"),
        ({"Action": "Ping", "ActionID": "mine"}, "the client assigns it"),
    ],
)
def test_unsafe_actions_are_refused(action: dict[str, str], message: str) -> None:
    with pytest.raises(AmiInvalidAction, match=message):
        encode_action(action, "ld-x-1")


def test_description_masks_the_secret() -> None:
    text = describe_action({"Action": "Login", "Username": "liandong", "Secret": "hunter2"}, "id-1")
    assert "hunter2" not in text
    assert "Secret='***'" in text
    assert "Username='liandong'" in text


def test_action_ids_are_unique_and_recognisable() -> None:
    ids, other = ActionIds(), ActionIds()
    issued = [ids.next() for _ in range(1000)]
    assert len(set(issued)) == 1000
    assert all(ids.owns(i) for i in issued)
    assert not any(other.owns(i) for i in issued)
