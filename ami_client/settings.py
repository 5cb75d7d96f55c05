"""Connection settings for the AMI client. The secret is wrapped so it cannot leak."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field, fields

from ami_client.framing import DEFAULT_MAX_MESSAGE_BYTES

__all__ = ["AmiSettings", "Secret"]


class Secret:
    """A string that never shows itself in repr(), str() or f-strings; use `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str:
        # Pickling would write the secret somewhere we do not control.
        raise TypeError("Secret cannot be pickled")


@dataclass(frozen=True)
class AmiSettings:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "liandong"
    secret: Secret = field(default_factory=lambda: Secret(""))
    # "on" = every event class the account may read; "call,system,user" narrows it.
    event_mask: str = "on"
    connect_timeout: float = 5.0
    action_timeout: float = 5.0
    ping_interval: float = 5.0
    ping_timeout: float = 3.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES

    def __post_init__(self) -> None:
        if not isinstance(self.secret, Secret):
            raise TypeError("AmiSettings.secret must be a Secret, not a plain string")
        for f in fields(self):
            value = getattr(self, f.name)
            positive = f.name.endswith(("_timeout", "_interval")) or f.name.startswith("backoff_")
            if positive and not value > 0:
                raise ValueError(f"AmiSettings.{f.name} must be > 0, got {value!r}")
        if self.backoff_initial > self.backoff_max:
            raise ValueError(
                f"AmiSettings.backoff_initial ({self.backoff_initial}) must not exceed "
                f"backoff_max ({self.backoff_max})"
            )
        if not 0 < self.port < 65536:
            raise ValueError(f"AmiSettings.port must be 1..65535, got {self.port!r}")
        if self.max_message_bytes < 1024:
            raise ValueError(
                f"AmiSettings.max_message_bytes must be at least 1024, got {self.max_message_bytes}"
            )
        if not self.username or any(c in self.username for c in "\r\n"):
            raise ValueError("AmiSettings.username must be non-empty and on one line")
        # Refused here, once, rather than by the Login action at every reconnect.
        if any(c in self.secret.reveal() for c in "\r\n"):
            raise ValueError("AmiSettings.secret must be on one line (no CR or LF)")
