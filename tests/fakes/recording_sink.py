"""A sink for AmiClient that records everything it is given, in order."""

from __future__ import annotations

from collections.abc import Callable

from ami_client import AmiMessage, LinkDown, LinkUp, SinkItem
from tests.fakes.waiting import Changes


class RecordingSink:
    def __init__(self) -> None:
        self.items: list[SinkItem] = []
        self._changes = Changes()

    def __call__(self, item: SinkItem) -> None:
        self.items.append(item)
        self._changes.bump()

    @property
    def events(self) -> list[AmiMessage]:
        return [item for item in self.items if isinstance(item, AmiMessage)]

    @property
    def link_ups(self) -> list[LinkUp]:
        return [item for item in self.items if isinstance(item, LinkUp)]

    @property
    def link_downs(self) -> list[LinkDown]:
        return [item for item in self.items if isinstance(item, LinkDown)]

    def kinds(self) -> list[str]:
        """'LinkUp', 'LinkDown' or the event name of each item, in order."""
        return [
            item.event or "?" if isinstance(item, AmiMessage) else type(item).__name__
            for item in self.items
        ]

    async def wait_for(
        self, predicate: Callable[[list[SinkItem]], bool], within: float = 2.0, what: str = ""
    ) -> None:
        await self._changes.wait_until(
            lambda: predicate(self.items), within, what or "a sink condition"
        )

    async def wait_for_count(self, kind: str, count: int = 1, within: float = 2.0) -> None:
        """Until `count` items of `kind` (as in kinds()) have arrived."""
        await self.wait_for(
            lambda _: self.kinds().count(kind) >= count, within, f"{count} x {kind}"
        )
