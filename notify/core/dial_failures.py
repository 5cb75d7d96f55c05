"""Why a call the server placed was not answered, as Asterisk tells it.

OriginateResponse's Reason is the last control frame Asterisk saw. Measured
on the testbed (Asterisk 22): a phone ringing past the timeout gives 3; a
phone answering 486 Busy Here gives 0, like any failure — the channel's
Hangup, which comes just after, says why (Cause 17). Pure: no I/O.
"""

from __future__ import annotations

from enum import StrEnum


class Unanswered(StrEnum):
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"


_REASONS = {
    "3": Unanswered.NO_ANSWER,  # still ringing when the timeout came
    "5": Unanswered.BUSY,
    "8": Unanswered.FAILED,  # congestion
}
# The Hangup's Q.850 cause of a channel never answered.
_CAUSES = {
    "17": Unanswered.BUSY,  # user busy (486)
    "21": Unanswered.BUSY,  # call rejected (603): someone saw it and declined
    "18": Unanswered.NO_ANSWER,  # no user responding
    "19": Unanswered.NO_ANSWER,  # user alerting, no answer
}


def reason_says_why(reason: str | None) -> bool:
    return (reason or "") in _REASONS


def by_reason(reason: str | None) -> Unanswered:
    return _REASONS.get(reason or "", Unanswered.FAILED)


def by_cause(cause: str | None) -> Unanswered:
    """None: no Hangup came (the channel was never made)."""
    return _CAUSES.get(cause or "", Unanswered.FAILED)
