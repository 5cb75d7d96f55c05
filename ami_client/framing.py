"""AMI wire framing: bytes in, complete `AmiMessage`s out. No asyncio, no sockets.

Modelled on h11: feed whatever the socket produced with `receive_data()`, then
drain `next_message()` until it returns None. Messages are split on the blank
line (b"\\r\\n\\r\\n") *before* any decoding, so a multi-byte character split
across two TCP reads (a Chinese `CallerIDName`) is decoded whole.

Problems never raise: a malformed or oversized message comes out as a
`FrameError` in its place and the stream carries on with the next message.
The buffer is bounded by `max_message_bytes` (plus the last chunk fed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ami_client.message import AmiMessage

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "GREETING_PREFIX",
    "AmiFramer",
    "FrameError",
    "parse_stream",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024
GREETING_PREFIX = b"Asterisk Call Manager/"
_FRAME_END = b"\r\n\r\n"
_LINE_END = "\r\n"
_SEPARATOR = ": "
# The greeting is one short line; anything longer is not a greeting.
_MAX_GREETING_BYTES = 1024
_EXCERPT_BYTES = 80
# Header names are printable ASCII tokens (no spaces, no colon).
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_KNOWN_NAMES_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class FrameError:
    """A message that was skipped, and why. `excerpt` is short and printable."""

    reason: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.reason} (starts {self.excerpt})"


def excerpt(raw: bytes, limit: int = _EXCERPT_BYTES) -> str:
    """A short printable rendering of raw bytes for logs: escapes, no control chars."""
    text = repr(raw[:limit].decode("utf-8", "backslashreplace"))
    return text + "…" if len(raw) > limit else text


class AmiFramer:
    """Incremental AMI parser for one connection (one direction: server to client)."""

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        if max_message_bytes < 64:
            raise ValueError(f"max_message_bytes must be at least 64, got {max_message_bytes}")
        self._max = max_message_bytes
        self._buf = bytearray()
        self._pos = 0  # start of the unconsumed bytes in _buf
        self._scan = 0  # where to resume looking for a frame end (no re-scanning)
        self._expect_greeting = True
        self._skipping = False  # dropping an oversized message up to the next frame end
        self._greeting: str | None = None
        # Header names already found valid, with their lower-case form: a
        # connection uses a few dozen, so most lines skip the checks.
        self._known_names: dict[str, str] = {}
        self.decode_replacements = 0  # messages that needed U+FFFD for invalid UTF-8
        self.bytes_dropped = 0  # bytes thrown away by oversized-message skipping

    @property
    def greeting(self) -> str | None:
        """The first line, e.g. 'Asterisk Call Manager/11.0.0', once seen."""
        return self._greeting

    @property
    def version(self) -> str | None:
        """The AMI protocol version from the greeting, e.g. '11.0.0'."""
        if self._greeting is None:
            return None
        return self._greeting.partition("/")[2].strip() or None

    @property
    def buffered_bytes(self) -> int:
        return len(self._buf) - self._pos

    def receive_data(self, data: bytes) -> None:
        if self._pos:
            # Compact once per read rather than once per message.
            del self._buf[: self._pos]
            self._scan = max(0, self._scan - self._pos)
            self._pos = 0
        self._buf += data

    def next_message(self) -> AmiMessage | FrameError | None:
        """The next complete message, a FrameError for a skipped one, or None for 'need data'."""
        while True:
            if self._expect_greeting:
                greeting = self._take_greeting()
                if greeting is not None or self._expect_greeting:
                    return greeting
            if self._skipping and not self._skip_oversized():
                return None
            end = self._buf.find(_FRAME_END, self._scan)
            if end < 0:
                pending = len(self._buf) - self._pos
                if pending > self._max:
                    return self._start_skipping(pending)
                self._scan = max(self._pos, len(self._buf) - len(_FRAME_END) + 1)
                return None
            frame = bytes(self._buf[self._pos : end]).lstrip(b"\r\n")
            self._pos = self._scan = end + len(_FRAME_END)
            if not frame:
                continue  # stray blank lines between messages are harmless
            if len(frame) > self._max:
                return FrameError(
                    f"message of {len(frame)} bytes exceeds the limit of {self._max} bytes",
                    excerpt(frame),
                )
            return self._parse(frame)

    def messages(self) -> Iterator[AmiMessage | FrameError]:
        """Drain everything currently complete."""
        while (item := self.next_message()) is not None:
            yield item

    # -- internals -------------------------------------------------------------

    def _take_greeting(self) -> FrameError | None:
        """Consume the 'Asterisk Call Manager/x.y.z\\r\\n' line if the stream starts with it.

        It is the only line not followed by a blank line. Returns a FrameError only
        for an absurdly long greeting; leaves _expect_greeting set while undecided.
        """
        head = bytes(self._buf[self._pos : self._pos + len(GREETING_PREFIX)])
        if not head.startswith(GREETING_PREFIX):
            if not GREETING_PREFIX.startswith(head) or not head:
                # Not a greeting (or nothing yet and we must wait).
                self._expect_greeting = not head
            return None
        line_end = self._buf.find(b"\r\n", self._pos)
        if line_end < 0:
            if len(self._buf) - self._pos > _MAX_GREETING_BYTES:
                self._expect_greeting = False
                return self._start_skipping(len(self._buf) - self._pos, what="greeting line")
            return None
        raw = bytes(self._buf[self._pos : line_end])
        self._greeting = raw.decode("utf-8", "replace")
        self._pos = self._scan = line_end + 2
        self._expect_greeting = False
        return None

    def _start_skipping(self, pending: int, what: str = "message") -> FrameError:
        error = FrameError(
            f"{what} exceeds the limit of {self._max} bytes with no end in sight "
            f"({pending} bytes buffered); dropping bytes up to the next blank line",
            excerpt(bytes(self._buf[self._pos : self._pos + _EXCERPT_BYTES + 1])),
        )
        self._skipping = True
        self._skip_oversized()
        return error

    def _skip_oversized(self) -> bool:
        """Drop bytes up to and including the next frame end. True once found."""
        end = self._buf.find(_FRAME_END, self._scan)
        if end >= 0:
            self.bytes_dropped += end + len(_FRAME_END) - self._pos
            self._pos = self._scan = end + len(_FRAME_END)
            self._skipping = False
            return True
        # Keep only a possible partial frame end; the rest is garbage.
        keep_from = max(self._pos, len(self._buf) - len(_FRAME_END) + 1)
        self.bytes_dropped += keep_from - self._pos
        self._pos = self._scan = keep_from
        return False

    def _parse(self, frame: bytes) -> AmiMessage | FrameError:
        try:
            text = frame.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Keep the message (one bad byte in a name must not lose a Hangup) but say so.
            text = frame.decode("utf-8", "replace")
            self.decode_replacements += 1
            log.warning(
                "AMI message has invalid UTF-8 at byte %d (%s); decoded with U+FFFD: %s",
                exc.start,
                exc.reason,
                excerpt(frame),
            )
        lines = text.split(_LINE_END)
        parts = [line.partition(_SEPARATOR) for line in lines]
        known = self._known_names
        try:
            # The hot path: every line is "Name: value" with a name seen before.
            lowered = [known[name] for name, sep, _ in parts if sep]
        except KeyError:
            lowered = []
        if len(lowered) != len(parts):
            return self._parse_checked(lines, frame)
        return _message(tuple([(name, value) for name, _, value in parts]), lowered, frame)

    def _parse_checked(self, lines: list[str], frame: bytes) -> AmiMessage | FrameError:
        """Line by line, naming the first bad line; remembers the valid names."""
        headers: list[tuple[str, str]] = []
        for number, line in enumerate(lines, start=1):
            name, sep, value = line.partition(_SEPARATOR)
            if not sep:
                if line.endswith(":"):  # "Name:" with an empty value
                    name, value = line[:-1], ""
                else:
                    return FrameError(
                        f"line {number} has no ': ' separator: {excerpt(line.encode())}",
                        excerpt(frame),
                    )
            if name not in self._known_names:
                if not _HEADER_NAME.fullmatch(name):
                    return FrameError(
                        f"line {number} has an invalid header name {excerpt(name.encode(), 40)}",
                        excerpt(frame),
                    )
                if len(self._known_names) < _KNOWN_NAMES_LIMIT:  # garbage cannot grow it
                    self._known_names[name] = name.lower()
            headers.append((name, value))
        return _message(tuple(headers), [name.lower() for name, _ in headers], frame)


def _message(
    headers: tuple[tuple[str, str], ...], lowered: list[str], frame: bytes
) -> AmiMessage | FrameError:
    message = AmiMessage.from_lowered(headers, tuple(lowered))
    if message.event is None and message.response is None:
        return FrameError("message has neither an Event nor a Response header", excerpt(frame))
    return message


def parse_stream(
    data: bytes, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> list[AmiMessage]:
    """Every well-formed message in a complete byte stream (e.g. a recorded trace).

    Skipped frames are logged; a trailing incomplete message is ignored.
    """
    framer = AmiFramer(max_message_bytes)
    framer.receive_data(data)
    found: list[AmiMessage] = []
    for item in framer.messages():
        if isinstance(item, FrameError):
            log.warning("AMI trace: skipped %s", item)
        else:
            found.append(item)
    return found
