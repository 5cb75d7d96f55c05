"""A follow-up call as Asterisk sees it: the Originate that rings the
citizen (channel id `ldfu-<follow-up>-<try>`, the call's id in the records),
the end [ld-follow-up] tells (`LdFollowUpEnd`: rated and the key, no key, a
hang-up; the comment's recording), a failed Originate, and the result AstDB
kept (`ldfu/<follow-up>-<try>`) for a server that was away. Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ami_client.message import AmiMessage
from ivr_flows.core.spoken import digits_of
from notify.core.dial_failures import by_cause, by_reason, reason_says_why
from notify.core.follow_ups import CallResult

CONTEXT = "ld-follow-up"
ASTDB_FAMILY = "ldfu"
PREFIX = "ldfu-"
_CALL_ID = re.compile(r"^ldfu-([0-9]+)-([0-9]+)$")
CALLER_ID = '"12345热线回访" <12345>'
_NOT_DIALLED = re.compile(r"[^0-9+]")


@dataclass(frozen=True)
class CallOutcome:
    follow_up_id: int
    try_number: int
    result: CallResult
    rating: int | None = None
    recording: str | None = None


def call_id(follow_up_id: int, try_number: int) -> str:
    return f"{PREFIX}{follow_up_id}-{try_number}"


def parse_call_id(value: str | None) -> tuple[int, int] | None:
    match = _CALL_ID.match(value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def message(case_number: str) -> list[str]:
    """您好…您反映的工单 <number digit by digit> 已办结 (the rating question
    follows in the dialplan)."""
    digits = "".join(c for c in case_number if c.isdigit())
    ids = ["follow_up/intro", "follow_up/case_number", *digits_of(digits), "follow_up/closed"]
    return [f"liandong/{i}" for i in ids]


def originate(
    follow_up_id: int,
    try_number: int,
    caller_number: str,
    *,
    trunk: str,
    ring_s: int,
    comment_s: int,
    case_number: str,
    recordings: str,
) -> dict[str, str]:
    number = _NOT_DIALLED.sub("", caller_number)
    variables = {
        "LD_FU": str(follow_up_id),
        "LD_FU_TRY": str(try_number),
        "LD_FU_SAY": "&".join(message(case_number)),
        "LD_FU_COMMENT_S": str(comment_s),
        "LD_FU_REC_DIR": recordings,
        "LD_ROLE": "citizen",
        "__LD_CASE": case_number,
    }
    return {
        "Action": "Originate",
        "Channel": f"PJSIP/{number}@{trunk}",
        "ChannelId": call_id(follow_up_id, try_number),
        "Context": CONTEXT,
        "Exten": "s",
        "Priority": "1",
        "Timeout": str(ring_s * 1000),
        "CallerID": CALLER_ID,
        "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
        "Async": "true",
    }


def needs_cause(msg: AmiMessage) -> bool:
    return (
        msg.event == "OriginateResponse"
        and msg.get("Response") != "Success"
        and parse_call_id(msg.get("Uniqueid")) is not None
        and not reason_says_why(msg.get("Reason"))
    )


def failed_call(channel_id: str, cause: str | None) -> CallOutcome | None:
    ids = parse_call_id(channel_id)
    return CallOutcome(*ids, CallResult(by_cause(cause).value)) if ids else None


def outcome_of(msg: AmiMessage) -> CallOutcome | None:
    """A follow-up call's end in this AMI event, or None."""
    if msg.event == "OriginateResponse":
        ids = parse_call_id(msg.get("Uniqueid"))
        if ids is None or msg.get("Response") == "Success" or needs_cause(msg):
            return None
        return CallOutcome(*ids, CallResult(by_reason(msg.get("Reason")).value))
    if msg.event != "UserEvent" or msg.get("UserEvent") != "LdFollowUpEnd":
        return None
    try:
        ids = (int(msg.get("FollowUp") or ""), int(msg.get("Try") or ""))
        result = CallResult(msg.get("Result") or "")
    except ValueError:
        return None
    return CallOutcome(*ids, result, _rating(msg.get("Rating")), msg.get("Recording") or None)


def kept_outcome(follow_up_id: int, try_number: int, value: str) -> CallOutcome | None:
    """What [ld-follow-up] kept: `rated:<key>`, `no_key`, `hung_up`."""
    text, _, key = value.partition(":")
    try:
        result = CallResult(text)
    except ValueError:
        return None
    return CallOutcome(follow_up_id, try_number, result, _rating(key))


def _rating(key: str | None) -> int | None:
    return int(key) if key and key.isdigit() and 1 <= int(key) <= 5 else None
