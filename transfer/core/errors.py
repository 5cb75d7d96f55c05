"""The typed errors of the transfer core. The server maps them to its JSON error body."""

from __future__ import annotations


class TransferError(Exception):
    code = "transfer_error"


class BadTarget(TransferError, ValueError):
    """A transfer target that is not "110", "12345" or "unit:<code>"."""

    code = "bad_target"

    def __init__(self, text: str, why: str) -> None:
        self.text = text
        self.why = why
        super().__init__(
            f"transfer target {text!r} is not valid: {why}; "
            'use "110", "12345" or "unit:<code>" (a member unit code is 1 to 6 digits, '
            'e.g. "unit:07")'
        )


class IllegalTransition(TransferError):
    """An event the transfer cannot take in its state. Nothing changed."""

    code = "illegal_transition"

    def __init__(
        self,
        state: str,
        event: str,
        allowed: tuple[str, ...],
        *,
        mode: str = "",
        transfer_id: str = "",
    ) -> None:
        self.state = state
        self.event = event
        self.allowed = allowed
        self.mode = mode
        self.transfer_id = transfer_id
        what = " ".join(part for part in (mode, "transfer", transfer_id) if part)
        can = ", ".join(allowed) if allowed else "nothing (it has ended)"
        super().__init__(f"{what} is {state}: it cannot take {event}; it can take {can}")


class TransferRunning(TransferError):
    """A second transfer on a call while one runs (the API answers 409)."""

    code = "transfer_running"

    def __init__(self, call_id: str, transfer_id: str) -> None:
        self.call_id = call_id
        self.transfer_id = transfer_id
        super().__init__(f"call {call_id} already has transfer {transfer_id} running")
