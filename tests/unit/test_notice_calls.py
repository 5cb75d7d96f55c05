"""A notice's call as the AMI tells it: the Originate placed with a known
channel id, a failed Originate's reason, the key and the end from the
dialplan, the result AstDB kept; and what the call says."""

from __future__ import annotations

import pytest

from ami_client.message import AmiMessage
from notify.core.notice_calls import (
    call_id,
    failed_try,
    kept_outcome,
    needs_cause,
    originate,
    outcome_of,
    parse_call_id,
)
from notify.core.notice_speech import message, notice_text, reason_text
from notify.core.notices import TryResult


def msg(**headers: str) -> AmiMessage:
    return AmiMessage(tuple(headers.items()))


def test_the_originate_names_its_channel_and_carries_the_message() -> None:
    action = originate(
        12,
        2,
        "PJSIP/unit-04",
        ring_s=20,
        say=["liandong/notice/intro", "/snd/notice-12"],
        repeat=2,
        case_number="2026-000123",
        recordings="/var/spool/asterisk/liandong-notices",
    )
    assert (action["Channel"], action["ChannelId"], action["Timeout"]) == (
        "PJSIP/unit-04",
        "ldnt-12-2",
        "20000",
    )
    variables = dict(v.split("=", 1) for v in action["Variable"].split(","))
    assert variables["LD_NOTICE_SAY"] == "liandong/notice/intro&/snd/notice-12"
    assert (variables["LD_NOTICE"], variables["LD_NOTICE_TRY"]) == ("12", "2")
    assert variables["LD_ROLE"] == "unit" and variables["__LD_CASE"] == "2026-000123"
    assert parse_call_id(call_id(12, 2)) == (12, 2) and parse_call_id("1733.4") is None


@pytest.mark.parametrize(
    ("reason", "result"),
    [("3", TryResult.NO_ANSWER), ("5", TryResult.BUSY), ("8", TryResult.FAILED)],
)
def test_a_failed_originate_says_how(reason: str, result: TryResult) -> None:
    event = msg(Event="OriginateResponse", Response="Failure", Uniqueid="ldnt-3-1", Reason=reason)
    assert not needs_cause(event)
    outcome = outcome_of(event)
    assert outcome is not None
    assert (outcome.notice_id, outcome.try_number, outcome.result, outcome.final) == (
        3,
        1,
        result,
        True,
    )


@pytest.mark.parametrize(
    ("cause", "result"),
    [
        ("17", TryResult.BUSY),
        ("21", TryResult.BUSY),
        ("19", TryResult.NO_ANSWER),
        ("38", TryResult.FAILED),
        (None, TryResult.FAILED),
    ],
)
def test_a_failure_that_does_not_say_why_is_told_by_its_hangup(
    cause: str | None, result: TryResult
) -> None:
    # Measured: 486 Busy Here gives Reason 0; the Hangup just after says 17.
    event = msg(Event="OriginateResponse", Response="Failure", Uniqueid="ldnt-3-1", Reason="0")
    assert needs_cause(event) and outcome_of(event) is None
    told = failed_try("ldnt-3-1", cause)
    assert told is not None and (told.result, told.final) == (result, True)
    assert failed_try("1733.4", "17") is None


def test_an_answered_originate_or_another_call_is_no_outcome() -> None:
    ok = msg(Event="OriginateResponse", Response="Success", Uniqueid="ldnt-3-1", Reason="4")
    assert outcome_of(ok) is None
    other = msg(Event="OriginateResponse", Response="Failure", Uniqueid="1733.9", Reason="5")
    assert outcome_of(other) is None


def test_the_key_comes_at_once_and_the_end_is_final() -> None:
    key = outcome_of(
        msg(
            Event="UserEvent",
            UserEvent="LdNotice",
            Notice="3",
            Try="2",
            Result="declined",
            Reason="2",
            Recording="",
        )
    )
    assert key is not None and (key.result, key.final, key.reason_key) == (
        TryResult.DECLINED,
        False,
        "2",
    )
    end = outcome_of(
        msg(Event="UserEvent", UserEvent="LdNoticeEnd", Notice="3", Try="2", Result="no_key")
    )
    assert end is not None and (end.result, end.final) == (TryResult.NO_KEY, True)
    assert (
        outcome_of(
            msg(Event="UserEvent", UserEvent="LdNoticeEnd", Notice="x", Try="1", Result="no_key")
        )
        is None
    )
    assert (
        outcome_of(
            msg(Event="UserEvent", UserEvent="LdNotice", Notice="3", Try="1", Result="maybe")
        )
        is None
    )


def test_what_astdb_kept_is_read_back() -> None:
    kept = kept_outcome(3, 1, "declined:1")
    assert kept is not None and (kept.result, kept.reason_key) == (TryResult.DECLINED, "1")
    assert kept_outcome(3, 1, "hung_up") is not None
    assert kept_outcome(3, 1, "garbage") is None


def test_the_message_reads_the_case_number_digit_by_digit() -> None:
    files = message("2026-000123", "/snd/notice-12")
    assert files[:2] == ["liandong/notice/intro", "liandong/notice/case_number"]
    assert files[2:12] == [
        "liandong/digits/2",
        "liandong/digits/0",
        "liandong/digits/2",
        "liandong/digits/6",
        "liandong/digits/0",
        "liandong/digits/0",
        "liandong/digits/0",
        "liandong/digits/yao",
        "liandong/digits/2",
        "liandong/digits/3",
    ]
    assert files[-1] == "/snd/notice-12"
    assert message("2026-000123", None)[-1] == "liandong/notice/see_system"


def test_the_cases_words_are_said_in_order_and_a_long_summary_is_cut() -> None:
    text = notice_text("燃气", "城关镇", "建设路18号", "闻到燃气味 " * 40)
    assert text.startswith("事项类别，燃气。所属乡镇，城关镇。地址，建设路18号。内容，闻到燃气味")
    assert text.endswith("，等。") and len(text) < 170
    assert notice_text(None, None, None, None) == ""


def test_a_decline_says_its_reason() -> None:
    assert reason_text("2", "") == "电话通知按键退单：不在本单位辖区"
    assert reason_text("", "/rec/notice-1-1") == "电话通知按键退单：原因见录音"
    assert reason_text("", "") == "电话通知按键退单：未说明原因"
