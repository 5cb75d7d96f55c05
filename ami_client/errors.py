"""Typed errors of the AMI client. None of them ever carries the secret."""

from __future__ import annotations

from ami_client.message import AmiMessage

__all__ = [
    "AmiActionFailed",
    "AmiError",
    "AmiInvalidAction",
    "AmiLinkLost",
    "AmiLoginFailed",
    "AmiNotConnected",
    "AmiTimeout",
]


class AmiError(Exception):
    """Base of every error raised by ami_client."""


class AmiNotConnected(AmiError):
    """No logged-in link right now (connecting, between retries, or stopped). Nothing was sent."""


class AmiTimeout(AmiError):
    """No (complete) answer in time. The action may still have run on Asterisk;
    a late reply is ignored."""


class AmiInvalidAction(AmiError, ValueError):
    """The action cannot be put on the wire (no Action header, CR/LF in a value, ...)."""


class AmiActionFailed(AmiError):
    """Asterisk answered `Response: Error`."""

    def __init__(self, action: str, response: AmiMessage) -> None:
        self.action = action
        self.response = response
        self.message = response.get("Message") or ""
        super().__init__(f"{action} failed: {self.message or '(no Message header)'}")


class AmiLoginFailed(AmiError):
    """Asterisk refused the login (wrong user or secret, ACL, ...).

    The client keeps retrying with backoff; see `AmiClient.last_error`."""

    def __init__(self, username: str, message: str) -> None:
        self.username = username
        self.message = message
        super().__init__(f"AMI login as {username!r} refused: {message or '(no Message header)'}")


class AmiLinkLost(AmiError):
    """The link dropped while the action was in flight. It was NOT re-sent: whether
    Asterisk ran it is unknown; reconcile rather than retry blindly."""

    def __init__(self, action: str, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(f"AMI link lost while {action} was in flight ({reason}); not re-sent")
