"""What the services see of the live feed: somewhere to publish JSON messages,
and whether anyone is listening. The web's live bus (web/live.py) is one; the
services do not import it, so nothing below the web depends on the web."""

from __future__ import annotations

from typing import Any, Protocol


class LiveFeed(Protocol):
    @property
    def subscriber_count(self) -> int: ...

    def publish(self, message: dict[str, Any]) -> None: ...
