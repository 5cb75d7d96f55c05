"""The words of the transfer machine: its states, modes, who acted, and why.

Every value is a stable snake_case code: it is persisted, pushed live and shown
to operators through the UI's own (Chinese) wording, never as English text.
"""

from __future__ import annotations

from enum import StrEnum


class TransferState(StrEnum):
    REQUESTED = "requested"  # asked for; the target is being dialled
    RINGING = "ringing"  # the target rings
    ANSWERED = "answered"  # the target answered; the hand-over is not done yet
    COMPLETED = "completed"  # the caller is with the target (or, in a conference, one operator)
    CANCELLED = "cancelled"  # called off; the caller is back with the operator
    FAILED = "failed"  # the target never came; the caller is back with the operator
    ABANDONED = "abandoned"  # the caller hung up during the hand-over


TERMINAL = frozenset(
    {
        TransferState.COMPLETED,
        TransferState.CANCELLED,
        TransferState.FAILED,
        TransferState.ABANDONED,
    }
)
RUNNING = frozenset(set(TransferState) - TERMINAL)


class TransferMode(StrEnum):
    BLIND = "blind"  # *1: the operator drops at once
    ATTENDED = "attended"  # *2: the operator consults the target first
    CONFERENCE = "conference"  # *3: caller, operator and target in one room


class By(StrEnum):
    """Who asked for a request, completion or cancellation."""

    KEY = "operator_key"  # in-call keys (*1 … *4, *2 again, *0)
    HANGUP = "operator_hangup"  # the operator's leg ended
    API = "api"
    PHONE = "phone"  # the phone's own transfer (SIP REFER, Asterisk feature keys): observed only


class FailReason(StrEnum):
    """Why a dialled target did not come, as the shell reads it from Asterisk."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # unreachable, rejected, unknown
    CONGESTION = "congestion"


class Finding(StrEnum):
    """What reconciliation (after a reconnect or restart) finds of a transfer's legs."""

    CALLER_GONE = "caller_gone"
    TARGET_GONE = "target_gone"  # the caller is there, the target leg is not
    TARGET_RINGING = "target_ringing"
    TARGET_UP = "target_up"  # the target answered; the caller is not with it yet
    TARGET_WITH_CALLER = "target_with_caller"  # together (bridge or room), operator gone
    CALLER_AT_DESK = "caller_at_desk"  # the caller rings or talks to a desk again, not the target
    PBX_RESTARTED = "pbx_restarted"  # Asterisk restarted since: the call went with it


class Reason(StrEnum):
    """Why a step of the timeline happened; also what `NotifyOperator` tells."""

    REQUESTED = "requested"
    TARGET_RINGING = "target_ringing"
    TARGET_ANSWERED = "target_answered"
    HANDED_OVER = "handed_over"  # the caller was bridged with the target
    BECAME_BLIND = "became_blind"  # the operator left before the target answered
    OPERATOR_LEFT = "operator_left"  # conference: the other desk stays with the caller
    TARGET_LEFT = "target_left"  # conference: the operator stays with the caller
    CANCELLED = "cancelled"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CONGESTION = "congestion"
    TARGET_HUNG_UP = "target_hung_up"
    CALLER_HUNG_UP = "caller_hung_up"
    LOST = "lost_during_restart"
    RETURNED_TO_DESK = "returned_to_desk"  # the dialplan's hold limit sent the caller back
    PBX_RESTARTED = "pbx_restarted"  # Asterisk restarted during the hand-over; nobody hung up
    CONFIRMED = "confirmed_after_restart"  # reconciliation found things as recorded


def reason_for(failure: FailReason) -> Reason:
    return Reason(failure.value)
