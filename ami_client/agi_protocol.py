"""FastAGI wire parsing, Asterisk to us: bytes in, events out. No asyncio, no sockets.

What Asterisk 22's res_agi sends on a FastAGI connection (res/res_agi.c:
launch_netscript, setup_env, agi_handle_command, run_agi; checked on the
testbed), one line each, every line ending in a bare "\\n":

    agi_network: yes                  the environment: "agi_<name>: <value>"
    agi_network_script: probe?x=1     (only if the URL has a path)
    agi_request: agi://127.0.0.1:4573/probe?x=1
    agi_channel: …  agi_uniqueid: …  agi_callerid: …  agi_calleridname: 张三 …
    agi_arg_1: …  …  agi_arg_<n>: …
    (empty line)                      end of the environment
    200 result=1 [(<data>)] [k=v …]  the reply to a command
    510 Invalid or unknown command
    511 Command Not Permitted on a dead channel or intercept routine
    520-Invalid command syntax.  Proper usage follows:
    <usage text, any number of lines>
    520 End of proper usage.
    100 result=0 Trying...            provisional; the real reply follows
    HANGUP                            the channel hung up (unless AGISIGHUP=no);
                                      res_agi also sends it once the script ended

Modelled on h11: feed what the socket produced with `receive_data()` (b"" for
end of file), then drain `next_event()` until it returns None. Lines are cut on
b"\\n" *before* decoding, so a Chinese caller name split across two reads is
decoded whole. The buffer is bounded: a line longer than `max_line_bytes`
without a newline is an `AgiRemoteProtocolError`, as is anything that is not
the protocol above (an HTTP request, garbage). After an error the parser stays
broken (every `next_event()` raises it again) and drops whatever it is fed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from ami_client.agi_errors import AgiRemoteProtocolError

__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "AgiClosed",
    "AgiEnvironment",
    "AgiEvent",
    "AgiHangup",
    "AgiParser",
    "AgiResponse",
    "ParserState",
]

# res_agi writes no line longer than this in practice; our own commands are
# capped at 8191 bytes (agi_commands), the same as Asterisk's read buffer.
DEFAULT_MAX_LINE_BYTES = 8192
DEFAULT_MAX_ENVIRONMENT_LINES = 512  # ~25 fixed lines plus at most 127 arguments
DEFAULT_MAX_USAGE_LINES = 256

_ENV_NAME = re.compile(r"agi_[a-z0-9_]+")
_REPLY = re.compile(r"([1-5][0-9][0-9])([ -])(.*)", re.DOTALL)
_HANGUP = "HANGUP"


class ParserState(StrEnum):
    ENVIRONMENT = "environment"  # reading the agi_* lines up to the empty line
    DIALOG = "dialog"  # replies to our commands, and HANGUP
    CLOSED = "closed"  # the peer closed its side (end of file was fed)
    ERROR = "error"  # the peer broke the protocol; final


@dataclass(frozen=True, slots=True)
class AgiEnvironment:
    """The `agi_*` lines, in order. `decode_replacements` counts lines that were
    not valid UTF-8 (decoded with U+FFFD)."""

    variables: Mapping[str, str]
    decode_replacements: int = 0


@dataclass(frozen=True, slots=True)
class AgiResponse:
    """One reply: `code` (200, 510, 511, 520, 100 …) and the text after it.

    For "200 result=1 (value)": `result` is "1" and `data` is "value" (what
    GET VARIABLE returns). A multi-line reply (520-) has its lines in `usage`.
    """

    code: int
    text: str
    result: str | None = None
    data: str | None = None
    usage: tuple[str, ...] = field(default=())

    @property
    def provisional(self) -> bool:
        """100 Trying: the command runs; its real reply comes later."""
        return self.code < 200

    @property
    def ok(self) -> bool:
        """Asterisk accepted and ran the command (its own result aside)."""
        return self.code == 200


@dataclass(frozen=True, slots=True)
class AgiHangup:
    """The `HANGUP` line: the channel is gone (or, after our last command, the
    script is over). Nothing we set any more reaches a caller."""


@dataclass(frozen=True, slots=True)
class AgiClosed:
    """End of file. `truncated`: the peer left in the middle of a line, of the
    environment or of a multi-line reply."""

    truncated: bool = False


AgiEvent = AgiEnvironment | AgiResponse | AgiHangup | AgiClosed


class AgiParser:
    """Incremental parser for one FastAGI connection (Asterisk to us)."""

    def __init__(
        self,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_environment_lines: int = DEFAULT_MAX_ENVIRONMENT_LINES,
        max_usage_lines: int = DEFAULT_MAX_USAGE_LINES,
    ) -> None:
        if max_line_bytes < 64:
            raise ValueError(f"max_line_bytes must be at least 64, got {max_line_bytes}")
        self._max_line = max_line_bytes
        self._max_env_lines = max_environment_lines
        self._max_usage_lines = max_usage_lines
        self._buf = bytearray()
        self._pos = 0  # start of the unconsumed bytes
        self._scan = 0  # where to resume looking for b"\n"
        self._eof = False
        self._state = ParserState.ENVIRONMENT
        self._error: AgiRemoteProtocolError | None = None
        self._env: dict[str, str] = {}
        self._env_lines = 0
        self._replacements = 0
        self._usage: list[str] | None = None  # lines of a multi-line reply under way
        self._usage_head: tuple[int, str] = (0, "")
        self._closed: AgiClosed | None = None

    @property
    def state(self) -> ParserState:
        return self._state

    @property
    def buffered_bytes(self) -> int:
        return len(self._buf) - self._pos

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the socket; b"" means the peer closed its side."""
        if self._state is ParserState.ERROR:
            return  # nothing more is read from a broken peer; do not grow
        if self._eof:
            if data:
                raise RuntimeError("AgiParser: data fed after end of file")
            return
        if not data:
            self._eof = True
            return
        if self._pos:
            del self._buf[: self._pos]
            self._scan -= self._pos
            self._pos = 0
        self._buf += data

    def next_event(self) -> AgiEvent | None:
        """The next event, or None when more data is needed. Raises
        AgiRemoteProtocolError (again and again) once the peer broke the protocol."""
        if self._error is not None:
            raise self._error
        try:
            return self._next_event()
        except AgiRemoteProtocolError as exc:
            self._fail(exc)
            raise

    # -- internals -------------------------------------------------------------

    def _fail(self, exc: AgiRemoteProtocolError) -> None:
        self._error = exc
        self._state = ParserState.ERROR
        self._buf = bytearray()
        self._pos = self._scan = 0

    def _next_event(self) -> AgiEvent | None:
        while True:
            if self._closed is not None:
                return self._closed
            line = self._next_line()
            if line is None:
                if not self._eof:
                    return None
                truncated = (
                    self.buffered_bytes > 0
                    or self._state is ParserState.ENVIRONMENT
                    or self._usage is not None
                )
                self._state = ParserState.CLOSED
                self._closed = AgiClosed(truncated=truncated)
                return self._closed
            if self._state is ParserState.ENVIRONMENT:
                env = self._environment_line(line)
                if env is not None:
                    return env
                continue
            event = self._dialog_line(line)
            if event is not None:
                return event

    def _next_line(self) -> str | None:
        end = self._buf.find(b"\n", self._scan)
        if end < 0:
            pending = len(self._buf) - self._pos
            if pending > self._max_line:
                raise AgiRemoteProtocolError(
                    f"a line of more than {self._max_line} bytes with no end in sight "
                    f"({pending} bytes buffered, state {self._state.value})"
                )
            self._scan = len(self._buf)
            return None
        if end - self._pos > self._max_line:
            raise AgiRemoteProtocolError(
                f"a line of {end - self._pos} bytes exceeds the limit of {self._max_line} bytes"
            )
        raw = bytes(self._buf[self._pos : end])
        self._pos = self._scan = end + 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]  # res_agi sends "\n"; tolerate "\r\n"
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            # One bad byte in a caller's name must not lose the request.
            self._replacements += 1
            return raw.decode("utf-8", "replace")

    def _environment_line(self, line: str) -> AgiEnvironment | None:
        if not line:
            env = AgiEnvironment(MappingProxyType(self._env), self._replacements)
            self._env = {}
            self._state = ParserState.DIALOG
            return env
        self._env_lines += 1
        if self._env_lines > self._max_env_lines:
            raise AgiRemoteProtocolError(
                f"the environment has more than {self._max_env_lines} lines"
            )
        name, sep, value = line.partition(": ")
        if not sep and line.endswith(":"):
            name, value = line[:-1], ""  # "agi_accountcode:" with nothing after
        if not _ENV_NAME.fullmatch(name):
            # Say where, never what: the line may hold a caller's name.
            raise AgiRemoteProtocolError(
                f"environment line {self._env_lines} ({len(line)} characters) is not "
                "'agi_<name>: <value>'"
            )
        self._env[name] = value
        return None

    def _dialog_line(self, line: str) -> AgiEvent | None:
        if self._usage is not None:
            return self._usage_line(line)
        if line == _HANGUP:
            return AgiHangup()
        match = _REPLY.fullmatch(line)
        if match is None:
            raise AgiRemoteProtocolError(
                f"a line of {len(line)} characters that is neither an AGI reply nor HANGUP"
            )
        code, separator, text = int(match[1]), match[2], match[3]
        if separator == "-":
            self._usage = []
            self._usage_head = (code, text)
            return None
        result, data = _result(text)
        return AgiResponse(code, text, result, data)

    def _usage_line(self, line: str) -> AgiResponse | None:
        assert self._usage is not None
        code, text = self._usage_head
        if line.startswith(f"{code} "):
            usage, self._usage = tuple(self._usage), None
            return AgiResponse(code, text, usage=usage)
        if len(self._usage) >= self._max_usage_lines:
            raise AgiRemoteProtocolError(
                f"a multi-line {code} reply of more than {self._max_usage_lines} lines"
            )
        self._usage.append(line)
        return None


def _result(text: str) -> tuple[str | None, str | None]:
    """'result=1 (some value) endpos=3' -> ('1', 'some value')."""
    if not text.startswith("result="):
        return None, None
    result, _, rest = text[len("result=") :].partition(" ")
    if rest.startswith("("):
        end = rest.rfind(")")
        if end > 0:
            return result, rest[1:end]
    return result, None
