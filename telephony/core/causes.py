"""Hangup cause codes (Q.850, as Asterisk names them) for legs closed without a
Hangup event, when only the number is known (from CEL)."""

from __future__ import annotations

CAUSE_TEXTS = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    27: "Destination out of order",
    28: "Invalid number format (addressinvalid)",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    42: "Switching equipment congestion",
    127: "Interworking, unspecified",
}


def cause_text(cause: int | None) -> str | None:
    if cause is None:
        return None
    return CAUSE_TEXTS.get(cause, f"Cause {cause}")
