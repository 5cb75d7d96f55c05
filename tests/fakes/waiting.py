"""Wait for a condition without polling loops: whoever changes state calls `bump()`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Changes:
    def __init__(self) -> None:
        self._epoch: asyncio.Future[None] | None = None

    def bump(self) -> None:
        if self._epoch is not None and not self._epoch.done():
            self._epoch.set_result(None)
        self._epoch = None

    async def wait_until(self, predicate: Callable[[], bool], within: float, what: str) -> None:
        """Return once `predicate()` holds; AssertionError naming `what` after `within` s."""
        try:
            async with asyncio.timeout(within):
                while not predicate():
                    if self._epoch is None:
                        self._epoch = asyncio.get_running_loop().create_future()
                    await asyncio.shield(self._epoch)
        except TimeoutError:
            raise AssertionError(f"timed out after {within}s waiting for {what}") from None
