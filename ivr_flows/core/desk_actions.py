"""The AMI actions the desks send, built from what they are for: a desk
phone logged in, out, paused or made ready (its keys or the API), a wrap-up
begun or lifted, a caller withdrawn to the backup post.

Members are named by their phone (`MemberName`) and watched through their own
device state, so the board reads the same phone in every event.
"""

from __future__ import annotations

from ivr_flows.core.desk_events import MEMBER_PREFIX, QUEUE_PREFIX
from ivr_flows.core.operators import WRAP_UP_REASON, Command, StartWrapUp

MEMBER_ACTIONS = ("login", "logout", "pause", "ready")


def member_action(desk: str, phone: str, what: str, reason: str = "") -> dict[str, str]:
    """`what` is one of MEMBER_ACTIONS; `reason` goes with a pause."""
    if what not in MEMBER_ACTIONS:
        raise ValueError(f"not a member action: {what!r}")
    target = {"Queue": f"{QUEUE_PREFIX}{desk}", "Interface": f"{MEMBER_PREFIX}{phone}"}
    if what == "login":
        return {
            "Action": "QueueAdd",
            **target,
            "MemberName": phone,
            "StateInterface": target["Interface"],
            "Penalty": "0",
        }
    if what == "logout":
        return {"Action": "QueueRemove", **target}
    if what == "pause":
        return {"Action": "QueuePause", **target, "Paused": "true", "Reason": reason}
    return {"Action": "QueuePause", **target, "Paused": "false"}


def wrap_up_action(command: Command) -> dict[str, str]:
    """A wrap-up is a pause with its own reason, so Asterisk rings nobody in it."""
    if isinstance(command, StartWrapUp):
        return member_action(command.desk, command.phone, "pause", WRAP_UP_REASON)
    return member_action(command.desk, command.phone, "ready")


def withdraw_action(desk: str, channel: str) -> dict[str, str]:
    """Take a waiting caller out of the queue; the dialplan sends a caller
    withdrawn with `overflow` to the desk's backup post."""
    return {
        "Action": "QueueWithdrawCaller",
        "Queue": f"{QUEUE_PREFIX}{desk}",
        "Caller": channel,
        "WithdrawInfo": "overflow",
    }
