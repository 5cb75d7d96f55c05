"""Garbage on the AMI link: the server skips it, keeps the link and applies every
valid event around it."""

from __future__ import annotations

from telephony.http import INGEST
from tests.component.conftest import (
    StartLiandong,
    expected_legs,
    leg_view,
    legs_by_id,
    trace,
    wire,
)

CALL = "liandong-1795930660.0"

GARBAGE = [
    # Binary noise (a TLS ClientHello start, invalid UTF-8), as one "message".
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xfe garbage\r\n\r\n",
    # An event with a line that has no "Name: value" separator.
    b"Event: Newstate\r\nthis line has no separator\r\nUniqueid: liandong-1795930660.0\r\n\r\n",
    # An invalid header name.
    b"Event: Hangup\r\nUnique id: liandong-1795930660.0\r\nCause: 16\r\n\r\n",
    # Neither Event nor Response.
    b"Foo: bar\r\nBaz: qux\r\n\r\n",
    # Stray blank lines.
    b"\r\n\r\n\r\n\r\n",
    # Larger than the client's message limit (4 KiB here), no line breaks at all.
    b"x" * 20_000 + b"\r\n\r\n",
    # Well-framed but meaningless to the call model: no Uniqueid, a bad state,
    # a bad timestamp on an unknown channel, a Hangup for a channel never seen.
    b"Event: Newchannel\r\nChannel: PJSIP/trunk-110-000000ff\r\n\r\n",
    b"Event: Newstate\r\nUniqueid: liandong-1795930660.0\r\nChannelState: banana\r\n\r\n",
    b"Event: Newchannel\r\nTimestamp: yesterday\r\nChannel: PJSIP/x\r\n\r\n",
    b"Event: Hangup\r\nUniqueid: nobody-1.0\r\nCause: sixteen\r\n\r\n",
]
FRAME_ERRORS = {0, 1, 2, 3, 5}  # the entries above the framer itself refuses


async def test_garbage_between_valid_events_is_skipped(start_liandong: StartLiandong) -> None:
    server = await start_liandong(ami={"max_message_bytes": 4096})
    events = trace("answered_110")

    # Garbage after every valid event, cycling through the kinds above.
    stream = b"".join(wire([event]) + GARBAGE[i % len(GARBAGE)] for i, event in enumerate(events))
    server.fake.push_bytes(stream)

    call = await server.call_where(CALL, lambda c: not c["active"], "call ended")
    legs = legs_by_id(call)
    assert {uid: leg_view(leg) for uid, leg in legs.items()} == expected_legs(events)
    assert call["caller_name"] == "张三丰"
    assert call["caller_number"] == "13900001"
    assert call["answered_at"] is not None
    assert {leg["role"] for leg in legs.values()} == {"citizen", "operator_110"}
    # No leg or call was made up from the garbage.
    assert [c["id"] for c in await server.calls()] == [CALL]

    # The link was never dropped for it, and everything is healthy.
    status, health = await server.health()
    assert status == 200
    assert health["ok"] is True
    assert health["ami"]["state"] == "connected"
    assert health["ami"]["last_error"] is None
    assert health["database"]["last_error"] is None
    assert len(server.fake.connection_times) == 1
    # (The garbage did reach the client's framer and was skipped there.)
    skipped = sum(1 for i in range(len(events)) if i % len(GARBAGE) in FRAME_ERRORS)
    assert server.app[INGEST].client is not None
    assert server.app[INGEST].client.stats.frames_skipped == skipped

    # And the link still carries events after the garbage.
    server.push(trace("busy_110"))
    busy_call = trace("busy_110")[0]["Linkedid"]
    await server.call_where(busy_call, lambda c: not c["active"], "the next call ended")


async def test_garbage_split_across_reads_does_not_swallow_the_next_event(
    start_liandong: StartLiandong,
) -> None:
    """A Chinese name split inside a multibyte character, with garbage before it in
    its own TCP writes: the name arrives whole."""
    server = await start_liandong()
    events = trace("answered_110")
    first = wire(events[:1])
    cut = first.index("张".encode()) + 1  # inside the first character
    data = GARBAGE[0] + first + wire(events[1:])
    await server.fake.push_split(data, [5, len(GARBAGE[0]), len(GARBAGE[0]) + cut])
    call = await server.call_where(CALL, lambda c: not c["active"], "call ended")
    assert call["caller_name"] == "张三丰"
    assert legs_by_id(call)[CALL]["caller_name"] == "张三丰"
