"""The benchmark trace: the recorded testbed traces, replicated into many distinct calls.

How the trace is made, exactly:

1. Every ``tests/fixtures/*.ami`` file (raw AMI bytes captured from the testbed
   Asterisk) is read and split on the blank line (``b"\\r\\n\\r\\n"``). The
   greeting line, every ``Response`` message (the login reply) and the
   ``FullyBooted`` event are dropped: what is left is the call events, as they
   came off the wire, byte for byte.
2. The files are put in the order of their first ``Timestamp`` (they come from
   one Asterisk run, so their ids do not collide) and concatenated: that is the
   *base* (111 events, 21 legs, 10 calls with today's fixtures). Its
   ``Timestamp`` values must be non-decreasing, or the build fails.
3. The base is repeated ``copies`` times. Copy ``k`` (0-based; copy 0 is the
   base unchanged) has these header values rewritten, everything else is kept
   byte for byte:

   - ``Timestamp``: ``+ k × period`` seconds, where ``period`` is the base's span
     rounded up to whole seconds plus one second, so the whole trace stays
     monotonic and copies follow each other without overlapping;
   - ``Uniqueid``, ``Linkedid``, ``DestUniqueid``, ``DestLinkedid``
     (``<system>-<epoch>.<seq>``): epoch ``+ k × period``,
     seq ``+ k × (max seq − min seq + 1)`` of the base;
   - ``Channel``, ``DestChannel`` (``PJSIP/op110-1-0000000a``): the 8-hex-digit
     channel counter ``+ k × (max counter − min counter + 1)`` of the base;
   - ``BridgeUniqueid``: ``uuid5(NAMESPACE_URL, "<original>#<k>")``.

   So every copy is new legs, calls and bridges, exactly like the base.
4. The body is the copies concatenated. The expected number of legs is the
   base's non-plumbing ``Newchannel`` count times ``copies``.
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ami_client.framing import parse_stream
from telephony.core.roles import is_plumbing

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"

_FRAME_END = b"\r\n\r\n"
_GREETING = b"Asterisk Call Manager/"
_UID_HEADERS = frozenset({b"Uniqueid", b"Linkedid", b"DestUniqueid", b"DestLinkedid"})
_CHANNEL_HEADERS = frozenset({b"Channel", b"DestChannel"})
_UID = re.compile(rb"^(?P<prefix>.*?)(?P<epoch>\d+)\.(?P<seq>\d+)$")
_CHANNEL = re.compile(rb"^(?P<prefix>.+-)(?P<counter>[0-9a-f]{8})(?P<tail>;\d+)?$")
_TIMESTAMP = re.compile(rb"^(?P<sec>\d+)\.(?P<frac>\d+)$")

# One piece of the template: literal bytes, or a function of the copy number.
_Piece = bytes | Callable[[int], bytes]


@dataclass(frozen=True)
class Trace:
    body: bytes  # what the loopback server writes after login: call events only
    greeting: bytes  # the recorded greeting line, CRLF included
    fully_booted: bytes  # the recorded FullyBooted message, blank line included
    copies: int
    events: int  # AMI events in `body`
    legs: int  # legs the pipeline must persist
    calls: int  # distinct Linkedids of the legs (calls before any merging)
    base_events: int
    base_legs: int
    base_calls: int
    period_s: int
    sources: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"{self.events:,} AMI events, {len(self.body) / 1e6:.1f} MB, {self.legs:,} legs, "
            f"{self.calls:,} calls ({self.copies} copies of {len(self.sources)} recorded traces: "
            f"{self.base_events} events, {self.base_legs} legs, {self.base_calls} calls each)"
        )


@dataclass(frozen=True)
class _Recording:
    name: str
    greeting: bytes
    fully_booted: bytes | None
    events: list[bytes]  # frames without their terminating blank line
    first_timestamp: float


def _read_recording(path: Path) -> _Recording:
    raw = path.read_bytes()
    greeting = b""
    if raw.startswith(_GREETING):
        line_end = raw.index(b"\r\n") + 2
        greeting, raw = raw[:line_end], raw[line_end:]
    fully_booted = None
    events: list[bytes] = []
    for frame in raw.split(_FRAME_END):
        frame = frame.strip(b"\r\n")
        if not frame:
            continue
        first = frame.split(b"\r\n", 1)[0]
        if first.startswith(b"Response:"):
            continue  # the login reply
        if first == b"Event: FullyBooted":
            fully_booted = frame + _FRAME_END
            continue
        if not first.startswith(b"Event:"):
            raise ValueError(f"{path.name}: unexpected message {first!r}")
        events.append(frame)
    if not events:
        raise ValueError(f"{path.name}: no events")
    return _Recording(path.name, greeting, fully_booted, events, _timestamp_of(events[0]))


def _timestamp_of(frame: bytes) -> float:
    for line in frame.split(b"\r\n"):
        if line.startswith(b"Timestamp: "):
            return float(line[len(b"Timestamp: ") :])
    raise ValueError(f"event without a Timestamp: {frame[:60]!r}")


def _int_span(values: Iterable[int]) -> tuple[int, int]:
    found = list(values)
    return min(found), max(found)


def build_trace(
    *, target_events: int = 50_000, calls: int | None = None, fixtures: Path = FIXTURES
) -> Trace:
    """Replicate the recorded traces into at least `target_events` events, or at
    least `calls` calls when given (see the module docstring for how)."""
    recordings = sorted(
        (_read_recording(path) for path in sorted(fixtures.glob("*.ami"))),
        key=lambda r: r.first_timestamp,
    )
    if not recordings:
        raise ValueError(f"no *.ami traces in {fixtures}")
    frames = [frame for recording in recordings for frame in recording.events]
    fully_booted = next((r.fully_booted for r in recordings if r.fully_booted), None)
    greeting = next((r.greeting for r in recordings if r.greeting), b"")
    if fully_booted is None or not greeting:
        raise ValueError("the recorded traces have no greeting or no FullyBooted")

    # What the base holds (ids, counters, times), read once.
    lines = [frame.split(b"\r\n") for frame in frames]
    values: dict[bytes, list[bytes]] = {}
    for frame_lines in lines:
        for line in frame_lines:
            name, _, value = line.partition(b": ")
            values.setdefault(name, []).append(value)
    floats = [float(v) for v in values[b"Timestamp"]]
    if any(b < a for a, b in itertools.pairwise(floats)):
        raise ValueError("the recorded traces' Timestamps are not monotonic once concatenated")
    period = math.ceil(floats[-1] - floats[0]) + 1
    uid_values = [v for name in _UID_HEADERS for v in values.get(name, [])]
    seq_low, seq_high = _int_span(int(_match(_UID, v)["seq"]) for v in uid_values)
    chan_values = [v for name in _CHANNEL_HEADERS for v in values.get(name, [])]
    chan_low, chan_high = _int_span(int(_match(_CHANNEL, v)["counter"], 16) for v in chan_values)
    seq_stride = seq_high - seq_low + 1
    chan_stride = chan_high - chan_low + 1

    template = _template(lines, period, seq_stride, chan_stride)
    base = b"".join(_render(template, 0))
    base_messages = parse_stream(base)
    if len(base_messages) != len(frames):
        raise ValueError(f"the base parses into {len(base_messages)} messages, not {len(frames)}")
    base_legs = [
        m
        for m in base_messages
        if m.event == "Newchannel" and not is_plumbing(m.get("Channel") or "")
    ]
    base_calls = len({m.get("Linkedid") for m in base_legs})

    if calls is not None:
        copies = max(1, math.ceil(calls / base_calls))
    else:
        copies = max(1, math.ceil(target_events / len(frames)))
    pieces: list[bytes] = []
    for k in range(copies):
        pieces.extend(_render(template, k))
    body = b"".join(pieces)
    return Trace(
        body=body,
        greeting=greeting,
        fully_booted=fully_booted,
        copies=copies,
        events=len(frames) * copies,
        legs=len(base_legs) * copies,
        calls=base_calls * copies,
        base_events=len(frames),
        base_legs=len(base_legs),
        base_calls=base_calls,
        period_s=period,
        sources=tuple(r.name for r in recordings),
    )


def _match(pattern: re.Pattern[bytes], value: bytes) -> re.Match[bytes]:
    found = pattern.match(value)
    if found is None:
        raise ValueError(f"{value!r} does not match {pattern.pattern!r}")
    return found


def _template(
    frames: list[list[bytes]], period: int, seq_stride: int, chan_stride: int
) -> list[_Piece]:
    """The base as literal byte runs and per-copy rewriters, in wire order."""
    pieces: list[_Piece] = []
    literal = bytearray()

    def rewritten(name: bytes, make: Callable[[int], bytes]) -> None:
        literal.extend(name + b": ")
        pieces.append(bytes(literal))
        literal.clear()
        pieces.append(make)

    for frame_lines in frames:
        for line in frame_lines:
            name, _, value = line.partition(b": ")
            if name == b"Timestamp":
                rewritten(name, _timestamp(_match(_TIMESTAMP, value), period))
            elif name in _UID_HEADERS:
                rewritten(name, _uid(_match(_UID, value), period, seq_stride))
            elif name in _CHANNEL_HEADERS:
                rewritten(name, _channel(_match(_CHANNEL, value), chan_stride))
            elif name == b"BridgeUniqueid":
                rewritten(name, _bridge(value))
            else:
                literal.extend(line)
            literal.extend(b"\r\n")
        literal.extend(b"\r\n")
    pieces.append(bytes(literal))
    return pieces


def _render(template: list[_Piece], copy: int) -> list[bytes]:
    return [piece if isinstance(piece, bytes) else piece(copy) for piece in template]


def _timestamp(found: re.Match[bytes], period: int) -> Callable[[int], bytes]:
    sec, frac = int(found["sec"]), found["frac"]
    return lambda k: b"%d.%s" % (sec + k * period, frac)


def _uid(found: re.Match[bytes], period: int, stride: int) -> Callable[[int], bytes]:
    prefix, epoch, seq = found["prefix"], int(found["epoch"]), int(found["seq"])
    return lambda k: b"%s%d.%d" % (prefix, epoch + k * period, seq + k * stride)


def _channel(found: re.Match[bytes], stride: int) -> Callable[[int], bytes]:
    prefix, counter, tail = found["prefix"], int(found["counter"], 16), found["tail"] or b""
    return lambda k: b"%s%08x%s" % (prefix, counter + k * stride, tail)


def _bridge(value: bytes) -> Callable[[int], bytes]:
    original = value.decode()

    def make(k: int) -> bytes:
        if k == 0:
            return value
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{original}#{k}")).encode()

    return make
