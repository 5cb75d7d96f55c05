"""Raw parse rates of the trace body: panoramisk's AMIProtocol and our AmiFramer.

Both are fed the same bytes in the same TCP-sized chunks, with nothing behind
them but a counter: the ceiling a parser on this machine can reach.
"""

from __future__ import annotations

import time
from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from ami_client.framing import AmiFramer, FrameError

CHUNK_BYTES = 64 * 1024


def chunked(body: bytes, size: int = CHUNK_BYTES) -> list[bytes]:
    return [body[start : start + size] for start in range(0, len(body), size)]


class _Counter:
    """The minimal panoramisk factory: `dispatch` counts the events it is handed."""

    def __init__(self) -> None:
        self.count = 0

    def dispatch(self, message: Any) -> None:
        self.count += 1


class _NullTransport:
    def write(self, data: bytes) -> None:  # pragma: no cover - nothing is sent
        pass

    def close(self) -> None:  # pragma: no cover
        pass


def panoramisk_parse(chunks: list[bytes]) -> tuple[int, float]:
    """(events dispatched, seconds) for panoramisk 1.4's AMIProtocol.data_received."""
    protocol = AMIProtocol()
    protocol.connection_made(_NullTransport())
    # What panoramisk's Manager sets on its protocol (its default encoding).
    protocol.encoding = "utf8"
    counter = _Counter()
    protocol.factory = counter
    started = time.perf_counter()
    for chunk in chunks:
        protocol.data_received(chunk)
    elapsed = time.perf_counter() - started
    return counter.count, elapsed


def framer_parse(chunks: list[bytes]) -> tuple[int, float]:
    """(messages, seconds) for ami_client.framing.AmiFramer (frame, decode, headers)."""
    framer = AmiFramer()
    count = errors = 0
    started = time.perf_counter()
    for chunk in chunks:
        framer.receive_data(chunk)
        for item in framer.messages():
            if isinstance(item, FrameError):
                errors += 1
            else:
                count += 1
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"AmiFramer skipped {errors} messages of the trace")
    return count, elapsed
