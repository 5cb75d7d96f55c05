"""aiosqlite 0.22's close must not wait for ever.

SQLAlchemy closes a connection whose statement was cancelled through a
shielded graceful close (`connection.close()`), and if that in turn is
cancelled it force-closes with `connection.stop()`. In aiosqlite 0.22
`close()` ends by calling `stop()` and awaiting it; when the force close's
`stop()` came first, the worker thread has already read its stop and ended,
so the second one is never answered and the close waits for ever. A server
stopping (or a test loop closing) with a query in flight then hangs in
asyncio's final cancellation of all tasks (seen in CI; the same bug as
omnilib/aiosqlite#371 and wapiti-scanner/wapiti#802).

The mend: a stop asked for while one is already under way returns nothing to
wait for. It changes nothing else: the first stop still closes the sqlite
connection in its worker thread and ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiosqlite.core

_MENDED = "_liandong_stop_once"


def mend_aiosqlite_close() -> None:
    """Make `aiosqlite.Connection.stop()` a no-op after the first (idempotent, safe to repeat)."""
    connection_class: Any = aiosqlite.core.Connection
    original: Callable[[Any], Any] | None = getattr(connection_class, "stop", None)
    if original is None or getattr(original, _MENDED, False):
        return  # aiosqlite before 0.22.1 has no stop() (and no such close), or already mended

    def stop(self: Any) -> Any:
        if not self._running:
            return None  # already stopping: a second stop would queue behind the worker's end
        return original(self)

    setattr(stop, _MENDED, True)
    connection_class.stop = stop
