"""The periodic audit on a live link: a Hangup that never arrived (a garbled
frame) does not leave a leg open until the next reconnect."""

from __future__ import annotations

from pathlib import Path

from tests.component.conftest import StartLiandong, add_cel, legs_by_id, make_cel, trace
from tests.component.test_server_reconcile import (
    CALL,
    CITIZEN,
    OPERATOR,
    citizen_channel_now,
    new_citizen_channel,
    until_bridged,
)


async def test_audit_settles_what_the_event_stream_missed(
    start_liandong: StartLiandong, tmp_path: Path
) -> None:
    cel_path = tmp_path / "cel.db"
    server = await start_liandong(cel_url=make_cel(cel_path), audit_interval=0.2)
    fake = server.fake
    server.push(until_bridged())
    await server.call_where(CALL, lambda c: len(c["legs"]) == 3, "call recorded")

    # The operator hangs up, but its Hangup frame arrives garbled and is skipped.
    # Asterisk's channel list and CEL know; so does a new 12345 caller whose
    # Newchannel was lost the same way.
    fake.push_bytes(
        b"Event: Hangup\r\nUniqueid: " + OPERATOR.encode() + b"\r\nCau\x00se 16\r\n\r\n"
    )
    add_cel(
        cel_path,
        [
            {
                "eventtype": "HANGUP",
                "eventtime": "1795930671.250300",
                "uniqueid": OPERATOR,
                "linkedid": CALL,
                "channame": "PJSIP/op110-1-00000001",
                "extra": '{"hangupcause":16,"hangupsource":"","dialstatus":""}',
            },
            {
                "eventtype": "CHAN_END",
                "eventtime": "1795930671.251800",
                "uniqueid": OPERATOR,
                "linkedid": CALL,
                "channame": "PJSIP/op110-1-00000001",
                "extra": "",
            },
        ],
    )
    fake.channels = [citizen_channel_now(), new_citizen_channel()]

    call = await server.call_where(
        CALL, lambda c: legs_by_id(c)[OPERATOR]["ended_at"] is not None, "operator leg settled"
    )
    operator, citizen = legs_by_id(call)[OPERATOR], legs_by_id(call)[CITIZEN]
    assert (operator["ended_at"], operator["hangup_cause"], operator["reconciled"]) == (
        "2026-11-29T05:37:51.251Z",
        16,
        True,
    )
    assert citizen["ended_at"] is None  # still talking: untouched
    picked = await server.call_where(
        new_citizen_channel()["Uniqueid"], lambda c: len(c["legs"]) == 1, "new caller picked up"
    )
    assert picked["caller_name"] == "李四" and picked["active"] is True
    # Twice seen, then settled: at least two audits ran, and the link never dropped.
    assert len(fake.actions_named("CoreShowChannels")) >= 3
    status, health = await server.health()
    assert status == 200 and health["ami"]["state"] == "connected"


async def test_one_sighting_changes_nothing(start_liandong: StartLiandong) -> None:
    """A difference seen by one audit only (events in flight, a list that lags)
    is left to the event stream."""
    # Long enough that the rest of the events are surely applied before the next
    # audit even on a loaded machine (0.3 s was not, once, in CI).
    server = await start_liandong(audit_interval=1.5)
    events = trace("answered_110")
    first_part, rest = until_bridged(), events[len(until_bridged()) :]
    server.push(first_part)
    await server.call_where(CALL, lambda c: len(c["legs"]) == 3, "call recorded")
    audits = len(server.fake.actions_named("CoreShowChannels"))

    async def one_more_audit() -> bool | None:
        return len(server.fake.actions_named("CoreShowChannels")) > audits or None

    # Asterisk's list (empty here) disagrees with every open leg: one sighting.
    await server.eventually(one_more_audit, "an audit")
    call = await server.call(CALL)
    assert call["active"] is True
    assert all(leg["reconciled"] is False for leg in call["legs"])

    server.push(rest)  # the events arrive before the next audit
    call = await server.call_where(CALL, lambda c: not c["active"], "call ended normally")
    assert all(leg["reconciled"] is False for leg in call["legs"])
    assert {leg["hangup_cause"] for leg in call["legs"]} == {16, 26}
