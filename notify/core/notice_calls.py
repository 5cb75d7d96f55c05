"""A notice's call as Asterisk sees it: the Originate that places it, and
what the AMI says of it — the Originate's failure (OriginateResponse: busy,
no answer, no such line), the key pressed (`LdNotice` from [ld-notice]), the
end (`LdNoticeEnd` from its `h` extension), and the result AstDB kept
(`ldnt/<notice>-<try>`) for a server that was away.

Each try's channel is created with a known id (Originate's ChannelId,
`ldnt-<notice>-<try>`): it is the call's id in the records before the call
exists, so the case is linked to it before it rings, and a restarted server
finds a try still under way by its channel. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ami_client.message import AmiMessage
from notify.core.dial_failures import by_cause, by_reason, reason_says_why
from notify.core.ladder_plan import LINE_TRUNK
from notify.core.notices import TryResult

CONTEXT = "ld-notice"
ASTDB_FAMILY = "ldnt"
_CALL_ID = re.compile(r"^ldnt-([0-9]+)-([0-9]+)$")
CALLER_ID = '"12345联动通知" <12345>'


def call_id(notice_id: int, try_number: int) -> str:
    return f"ldnt-{notice_id}-{try_number}"


def trunk_of_channel(channel: str) -> str:
    """The line a notice call's channel takes, as the limits count it:
    PJSIP/unit-04-0000002a is a unit's PBX line, PJSIP/trunk-12345-… its trunk."""
    endpoint = channel.removeprefix("PJSIP/").rsplit("-", 1)[0]
    return LINE_TRUNK if endpoint.startswith("unit-") else endpoint


def parse_call_id(value: str | None) -> tuple[int, int] | None:
    match = _CALL_ID.match(value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def originate(
    notice_id: int,
    try_number: int,
    dial: str,
    *,
    ring_s: int,
    say: list[str],
    repeat: int,
    case_number: str,
    recordings: str,
) -> dict[str, str]:
    """The Originate for a try: the unit's phone rings `ring_s`; answered, it
    runs [ld-notice], which plays `say` (prompt files) and reads a key."""
    variables = {
        "LD_NOTICE": str(notice_id),
        "LD_NOTICE_TRY": str(try_number),
        "LD_NOTICE_SAY": "&".join(say),
        "LD_NOTICE_REPEAT": str(repeat),
        "LD_NOTICE_REC_DIR": recordings,
        "LD_ROLE": "unit",
        "__LD_CASE": case_number,
    }
    return {
        "Action": "Originate",
        "Channel": dial,
        "ChannelId": call_id(notice_id, try_number),
        "Context": CONTEXT,
        "Exten": "s",
        "Priority": "1",
        "Timeout": str(ring_s * 1000),
        "CallerID": CALLER_ID,
        "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
        "Async": "true",
    }


@dataclass(frozen=True)
class TryOutcome:
    """What the AMI said of a try: its result, and for a decline the reason
    key and the recording. `final`: the try is over (the end, or a failed
    Originate); a key (`LdNotice`) comes while the person is still on."""

    notice_id: int
    try_number: int
    result: TryResult
    final: bool
    reason_key: str = ""
    recording: str = ""


def needs_cause(msg: AmiMessage) -> bool:
    """A failed Originate that does not say why: its channel's Hangup will."""
    return (
        msg.event == "OriginateResponse"
        and msg.get("Response") != "Success"
        and parse_call_id(msg.get("Uniqueid")) is not None
        and not reason_says_why(msg.get("Reason"))
    )


def failed_try(channel_id: str, cause: str | None) -> TryOutcome | None:
    """A try whose Originate failed, by its channel's Hangup cause (None:
    no Hangup came — the channel was never made)."""
    ids = parse_call_id(channel_id)
    if ids is None:
        return None
    return TryOutcome(*ids, TryResult(by_cause(cause).value), final=True)


def outcome_of(msg: AmiMessage) -> TryOutcome | None:
    """A notice try's outcome in this AMI event, or None (a failed Originate
    that `needs_cause` is decided by its Hangup: `failed_try`)."""
    if msg.event == "OriginateResponse":
        ids = parse_call_id(msg.get("Uniqueid"))
        if ids is None or msg.get("Response") == "Success" or needs_cause(msg):
            return None
        return TryOutcome(*ids, TryResult(by_reason(msg.get("Reason")).value), final=True)
    if msg.event != "UserEvent" or msg.get("UserEvent") not in ("LdNotice", "LdNoticeEnd"):
        return None
    try:
        ids = (int(msg.get("Notice") or ""), int(msg.get("Try") or ""))
    except ValueError:
        return None
    said = _result(msg.get("Result"))
    if said is None:
        return None
    return TryOutcome(
        *ids,
        said,
        final=msg.get("UserEvent") == "LdNoticeEnd",
        reason_key=msg.get("Reason") or "",
        recording=msg.get("Recording") or "",
    )


def kept_outcome(notice_id: int, try_number: int, value: str) -> TryOutcome | None:
    """The result [ld-notice] kept in AstDB: `accepted`, `declined:<key>`,
    `no_key`, `hung_up` (answered, no key yet)."""
    result_text, _, reason = value.partition(":")
    result = _result(result_text)
    if result is None:
        return None
    return TryOutcome(notice_id, try_number, result, final=True, reason_key=reason)


def _result(value: str | None) -> TryResult | None:
    try:
        return TryResult(value or "")
    except ValueError:
        return None
