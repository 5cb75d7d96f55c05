"""Phone keys as RFC 4733 telephone-events, written as pcap files for SIPp's
`play_pcap_audio` — how softphones (baresip, linphone) and carriers send DTMF.

SIPp's own `play_dtmf` always uses payload type 96, which a phone answering
Asterisk's offer (telephone-event on 101) cannot use. SIPp takes only the UDP
payload from the capture (addresses and ports are its own), so the RTP header
written here is what Asterisk receives: payload type 101, one SSRC, sequence
numbers and timestamps that keep rising from one key to the next.
"""

from __future__ import annotations

import struct
from pathlib import Path

PAYLOAD_TYPE = 101
SSRC = 0x4C44_4B45  # "LDKE"
PACKET_MS = 20
SAMPLES_PER_MS = 8  # 8 kHz clock
_EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
_LINKTYPE_ETHERNET = 1


def key_pcap(key: str, index: int, workdir: Path, *, press_ms: int = 120) -> Path:
    """The capture of one key held `press_ms`; `index` (the key's place among
    the phone's presses) keeps sequence numbers and timestamps rising."""
    if key not in _EVENTS:
        raise ValueError(f"not a phone key: {key!r}")
    path = workdir / f"key{index}_{'star' if key == '*' else 'hash' if key == '#' else key}.pcap"
    path.write_bytes(_capture(_packets(_EVENTS[key], index, press_ms)))
    return path


def _packets(event: int, index: int, press_ms: int) -> list[tuple[float, bytes]]:
    """(seconds from the start, RTP packet) for one key: updates every 20 ms
    with a growing duration, then the end packet three times (RFC 4733 2.5.1.4)."""
    seq = index * 100
    timestamp = index * 8000 * 10  # each key 10 s of clock after the previous one
    updates = max(1, press_ms // PACKET_MS)
    out = []
    for n in range(updates):
        duration = (n + 1) * PACKET_MS * SAMPLES_PER_MS
        out.append((n * PACKET_MS / 1000, _rtp(seq + n, timestamp, event, duration, n == 0, False)))
    end_duration = updates * PACKET_MS * SAMPLES_PER_MS
    for n in range(3):
        at = (updates + n) * PACKET_MS / 1000
        out.append((at, _rtp(seq + updates + n, timestamp, event, end_duration, False, True)))
    return out


def _rtp(seq: int, timestamp: int, event: int, duration: int, marker: bool, end: bool) -> bytes:
    header = struct.pack(
        "!BBHII", 0x80, (0x80 if marker else 0) | PAYLOAD_TYPE, seq & 0xFFFF, timestamp, SSRC
    )
    volume = 10
    return header + struct.pack("!BBH", event, (0x80 if end else 0) | volume, duration)


def _capture(packets: list[tuple[float, bytes]]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, _LINKTYPE_ETHERNET)]
    for at, payload in packets:
        frame = _ethernet_ipv4_udp(payload)
        seconds, micros = int(at), round((at % 1) * 1_000_000)
        out.append(struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame)
    return b"".join(out)


def _ethernet_ipv4_udp(payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", 16000, 16000, 8 + len(payload), 0) + payload
    loopback = bytes([127, 0, 0, 1])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, loopback, loopback)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def _checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
