"""AmiFramer: bytes in, the same messages out however TCP happens to cut the stream."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from ami_client.framing import AmiFramer, FrameError, parse_stream
from ami_client.message import AmiMessage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

GREETING = b"Asterisk Call Manager/11.0.0\r\n"
LOGIN_OK = b"Response: Success\r\nActionID: ld-1\r\nMessage: Authentication accepted\r\n\r\n"
FULLY_BOOTED = (
    b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 21\r\n"
    b"LastReload: 21\r\nStatus: Fully Booted\r\n\r\n"
)
NEWCHANNEL = (
    "Event: Newchannel\r\n"
    "Privilege: call,all\r\n"
    "Timestamp: 1795929523.894588\r\n"
    "Channel: PJSIP/trunk-110-00000003\r\n"
    "ChannelState: 4\r\n"
    "ChannelStateDesc: Ring\r\n"
    "CallerIDNum: 13900001\r\n"
    "CallerIDName: 张三丰\r\n"
    "ConnectedLineNum: <unknown>\r\n"
    "ConnectedLineName: <unknown>\r\n"
    "Language: zh\r\n"
    "AccountCode: \r\n"
    "Context: from-trunk-110\r\n"
    "Exten: 110\r\n"
    "Priority: 1\r\n"
    "Uniqueid: liandong-1795929523.3\r\n"
    "Linkedid: liandong-1795929523.3\r\n"
    "ChanVariable: LD_ROLE=citizen\r\n"
    "ChanVariable: LD_CASE=\r\n"
    "ChanVariable: LD_CALL=案件-2024-0001\r\n"
    "\r\n"
).encode()
HANGUP = (
    "Event: Hangup\r\n"
    "Privilege: call,all\r\n"
    "Timestamp: 1795929530.100000\r\n"
    "Channel: PJSIP/trunk-110-00000003\r\n"
    "CallerIDName: 张三丰\r\n"
    "Uniqueid: liandong-1795929523.3\r\n"
    "Linkedid: liandong-1795929523.3\r\n"
    "Cause: 16\r\n"
    "Cause-txt: Normal Clearing\r\n"
    "ChanVariable: LD_CALL=案件-2024-0001\r\n"
    "\r\n"
).encode()
TRACE = GREETING + LOGIN_OK + FULLY_BOOTED + NEWCHANNEL + HANGUP


# Any: tests index into the results freely; equality checks cover the types.
def feed(chunks: Iterable[bytes], max_message_bytes: int = 256 * 1024) -> tuple[AmiFramer, Any]:
    """Feed chunks one by one, draining after each, as the protocol does."""
    framer = AmiFramer(max_message_bytes)
    out: list[AmiMessage | FrameError] = []
    for chunk in chunks:
        framer.receive_data(chunk)
        out.extend(framer.messages())
    return framer, out


def whole(data: bytes) -> Any:
    return feed([data])[1]


# -- the happy path --------------------------------------------------------------------


def test_trace_parses_into_the_messages_asterisk_sent() -> None:
    framer, items = feed([TRACE])

    assert framer.greeting == "Asterisk Call Manager/11.0.0"
    assert framer.version == "11.0.0"
    assert [m.response or m.event for m in items] == [
        "Success",
        "FullyBooted",
        "Newchannel",
        "Hangup",
    ]
    newchannel = items[2]
    assert newchannel["CallerIDName"] == "张三丰"
    assert newchannel["callerIDname"] == "张三丰"  # case-insensitive lookup
    assert newchannel["AccountCode"] == ""
    assert newchannel.channel_variables() == {
        "LD_ROLE": "citizen",
        "LD_CASE": "",
        "LD_CALL": "案件-2024-0001",
    }
    assert items[3]["Cause-txt"] == "Normal Clearing"
    assert framer.buffered_bytes == 0


def test_every_two_way_split_gives_the_same_messages() -> None:
    expected = whole(TRACE)
    for cut in range(len(TRACE) + 1):
        framer, items = feed([TRACE[:cut], TRACE[cut:]])
        assert items == expected, f"split at byte {cut}"
        assert framer.greeting == "Asterisk Call Manager/11.0.0"


def test_many_three_way_splits_give_the_same_messages() -> None:
    expected = whole(TRACE)
    n = len(TRACE)
    runs = 0
    for first in range(0, n + 1, 11):
        for second in range(first, n + 1, 17):
            _, items = feed([TRACE[:first], TRACE[first:second], TRACE[second:]])
            assert items == expected, f"split at bytes {first} and {second}"
            runs += 1
    assert runs > 2000


def test_byte_by_byte_gives_the_same_messages() -> None:
    _, items = feed(TRACE[i : i + 1] for i in range(len(TRACE)))
    assert items == whole(TRACE)


def test_chinese_name_cut_inside_a_character_arrives_intact() -> None:
    name_at = TRACE.index("张".encode())
    cut = name_at + 1  # between the first and second byte of 张 (e5 bc a0)

    _, items = feed([TRACE[:cut], TRACE[cut:]])

    assert items[2]["CallerIDName"] == "张三丰"
    assert "\ufffd" not in items[2]["CallerIDName"]


def test_greeting_split_anywhere_is_recognised() -> None:
    for cut in range(len(GREETING) + 1):
        framer, items = feed([GREETING[:cut], GREETING[cut:] + LOGIN_OK])
        assert framer.greeting == "Asterisk Call Manager/11.0.0", cut
        assert [m.response for m in items] == ["Success"]


def test_stream_without_greeting_is_parsed_from_the_first_byte() -> None:
    framer, items = feed([LOGIN_OK, FULLY_BOOTED])
    assert framer.greeting is None
    assert [m.response or m.event for m in items] == ["Success", "FullyBooted"]


def test_stray_blank_lines_between_messages_are_harmless() -> None:
    _, items = feed([GREETING + b"\r\n" + LOGIN_OK + b"\r\n\r\n" + FULLY_BOOTED])
    assert [m.response or m.event for m in items] == ["Success", "FullyBooted"]


def test_header_with_nothing_after_the_colon_is_an_empty_value() -> None:
    (message,) = whole(b"Event: Newchannel\r\nAccountCode:\r\n\r\n")
    assert isinstance(message, AmiMessage)
    assert message["AccountCode"] == ""


def test_a_value_may_contain_colon_space() -> None:
    (message,) = whole(b"Event: UserEvent\r\nNote: a: b\r\n\r\n")
    assert message["Note"] == "a: b"


def test_parse_stream_returns_the_good_messages_only() -> None:
    messages = parse_stream(TRACE + b"garbage\r\n\r\n" + FULLY_BOOTED + b"Event: Partial\r\n")
    assert [m.response or m.event for m in messages] == [
        "Success",
        "FullyBooted",
        "Newchannel",
        "Hangup",
        "FullyBooted",
    ]


# -- bad input ---------------------------------------------------------------------------


def test_garbage_between_messages_is_skipped_and_the_next_message_survives() -> None:
    garbage = b"\x00\x01\xfe\xff\x1b[31mgarbage\r\n\r\n"
    _, items = feed([LOGIN_OK, garbage, HANGUP])

    assert isinstance(items[0], AmiMessage)
    error = items[1]
    assert isinstance(error, FrameError)
    assert "line 1 has no ': ' separator" in error.reason
    assert error.excerpt.startswith("'\\x00\\x01")  # printable, escaped
    assert isinstance(items[2], AmiMessage)
    assert items[2]["CallerIDName"] == "张三丰"


def test_message_with_a_broken_line_is_skipped_whole() -> None:
    broken = b"Event: Newchannel\r\nUniqueid: 1.1\r\nthis line has no separator\r\n\r\n"
    _, items = feed([broken, FULLY_BOOTED])

    error = items[0]
    assert isinstance(error, FrameError)
    assert "line 3 has no ': ' separator" in error.reason
    assert "this line has no separator" in error.reason
    assert error.excerpt.startswith("'Event: Newchannel\\r\\n")
    assert items[1] == whole(FULLY_BOOTED)[0]


def test_header_name_with_spaces_is_rejected() -> None:
    (error,) = whole(b"Event: Hangup\r\nCaller Name: x\r\n\r\n")
    assert isinstance(error, FrameError)
    assert "line 2 has an invalid header name 'Caller Name'" in error.reason


def test_message_without_event_or_response_is_rejected() -> None:
    (error,) = whole(b"Channel: PJSIP/x\r\nUniqueid: 1.1\r\n\r\n")
    assert isinstance(error, FrameError)
    assert error.reason == "message has neither an Event nor a Response header"


def test_oversized_message_is_skipped_with_a_bounded_buffer() -> None:
    limit, chunk_size = 1024, 4096
    huge = b"Event: Huge\r\n" + b"X-Padding: " + b"y" * 100_000 + b"\r\n\r\n"
    stream = LOGIN_OK + huge + HANGUP
    framer = AmiFramer(limit)
    items: list[AmiMessage | FrameError] = []
    peak = 0
    for start in range(0, len(stream), chunk_size):
        framer.receive_data(stream[start : start + chunk_size])
        items.extend(framer.messages())
        peak = max(peak, framer.buffered_bytes)

    assert peak <= limit + chunk_size
    assert [type(i).__name__ for i in items] == ["AmiMessage", "FrameError", "AmiMessage"]
    error = items[1]
    assert isinstance(error, FrameError)
    assert "exceeds the limit of 1024 bytes" in error.reason
    assert error.excerpt.startswith("'Event: Huge")
    assert items[2] == whole(HANGUP)[0]
    assert framer.bytes_dropped >= 100_000


def test_oversized_message_arriving_whole_is_skipped() -> None:
    huge = b"Event: Huge\r\nX-Padding: " + b"y" * 5000 + b"\r\n\r\n"
    _, items = feed([huge + FULLY_BOOTED], max_message_bytes=1024)
    assert isinstance(items[0], FrameError)
    assert "exceeds the limit of 1024 bytes" in items[0].reason
    assert items[1]["Event"] == "FullyBooted"


def test_invalid_utf8_is_replaced_and_logged_not_dropped(caplog: pytest.LogCaptureFixture) -> None:
    bad = b"Event: Newchannel\r\nCallerIDName: \xe5\xbc\xff\r\nUniqueid: 1.1\r\n\r\n"
    with caplog.at_level(logging.WARNING, logger="ami_client.framing"):
        framer, items = feed([bad, HANGUP])

    assert items[0]["Uniqueid"] == "1.1"
    assert "\ufffd" in items[0]["CallerIDName"]
    assert items[1]["CallerIDName"] == "张三丰"
    assert framer.decode_replacements == 1
    assert "invalid UTF-8 at byte 33" in caplog.text


def test_oversized_greeting_like_line_does_not_grow_the_buffer() -> None:
    framer = AmiFramer(1024)
    framer.receive_data(b"Asterisk Call Manager/" + b"9" * 5000)
    (error,) = list(framer.messages())
    assert isinstance(error, FrameError)
    assert "greeting line exceeds" in error.reason
    assert framer.buffered_bytes < 8
    framer.receive_data(b"\r\n\r\n" + FULLY_BOOTED)
    assert list(framer.messages()) == whole(FULLY_BOOTED)


# -- recorded traces from the real Asterisk testbed ---------------------------------------


TRACES = sorted(FIXTURES.glob("*.ami"))


def test_recorded_traces_are_present() -> None:
    assert TRACES, f"no *.ami traces in {FIXTURES}"


@pytest.mark.parametrize("path", TRACES, ids=[p.name for p in TRACES])
def test_recorded_trace_parses_cleanly_however_it_is_cut(path: Path) -> None:
    """No frame errors, and the same messages whether fed whole, byte by byte (every
    offset at once), in random chunks, or split in two at a few hundred offsets (all
    the first non-ASCII bytes among them)."""
    rng = random.Random(20241129)
    data = path.read_bytes()
    expected = whole(data)
    assert expected
    assert not [e for e in expected if isinstance(e, FrameError)]

    assert feed(data[i : i + 1] for i in range(len(data)))[1] == expected
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(data)), k=min(len(data) - 1, 30)))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert feed(pieces)[1] == expected

    non_ascii = [i for i, byte in enumerate(data) if byte >= 0x80]
    offsets = set(non_ascii[:200]) | set(range(0, len(data), max(1, len(data) // 200)))
    for cut in sorted(offsets):
        assert feed([data[:cut], data[cut:]])[1] == expected, f"cut at {cut}"
