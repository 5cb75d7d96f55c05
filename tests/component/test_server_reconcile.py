"""The AMI link drops mid-call (and the server restarts mid-call): on reconnect the
server reconciles with Asterisk's channel list and CEL, so nothing stays open
forever and nothing Asterisk still has is lost."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ami_client import AmiMessage
from telephony.service import ingest
from tests.component.conftest import (
    Liandong,
    StartLiandong,
    add_cel,
    at,
    expected_legs,
    iso_ms,
    leg_view,
    legs_by_id,
    make_cel,
    now_utc,
    parse_iso,
    trace,
    within,
)
from transfer.http import TRANSFERS

CALL = "liandong-1795930660.0"
CITIZEN = "liandong-1795930660.0"  # the 110 caller, 张三丰
OPERATOR = "liandong-1795930660.1"  # desk 110-1, who answered
OTHER_DESK = "liandong-1795930660.2"  # desk 110-2, rang, answered elsewhere
BRIDGE = "37a877bb-b9ff-45d6-94ad-2b3b366daeb6"
NEW_CITIZEN = "liandong-1795930690.3"  # a 12345 caller who arrived while the link was down

# answered_110.ami up to the citizen entering the bridge with the operator.
UNTIL_BRIDGED = 18  # events 0..17 of trace("answered_110")


def until_bridged() -> list[AmiMessage]:
    events = trace("answered_110")
    assert events[UNTIL_BRIDGED - 1].event == "BridgeEnter"
    assert events[UNTIL_BRIDGED - 1].get("Uniqueid") == CITIZEN
    return events[:UNTIL_BRIDGED]


def citizen_channel_now() -> dict[str, str]:
    """CoreShowChannel for the citizen, still talking in the bridge."""
    return {
        "Channel": "PJSIP/trunk-110-00000000",
        "ChannelState": "6",
        "ChannelStateDesc": "Up",
        "CallerIDNum": "13900001",
        "CallerIDName": "张三丰",
        "ConnectedLineNum": "8101",
        "ConnectedLineName": "110坐席1",
        "Language": "zh",
        "AccountCode": "",
        "Context": "ring-desk",
        "Exten": "s",
        "Priority": "11",
        "Uniqueid": CITIZEN,
        "Linkedid": CALL,
        "ChanVariable": "LD_ROLE=citizen",
        "BridgeId": BRIDGE,
        "Application": "Dial",
        "ApplicationData": "PJSIP/op110-1&PJSIP/op110-2,30,tT",
        "Duration": "00:00:15",
    }


def new_citizen_channel() -> dict[str, str]:
    """CoreShowChannel for a 12345 call that started and was answered (by the IVR)
    while the link was down: the server never saw any event of it."""
    return {
        "Channel": "PJSIP/trunk-12345-00000003",
        "ChannelState": "6",
        "ChannelStateDesc": "Up",
        "CallerIDNum": "13800000002",
        "CallerIDName": "李四",
        "ConnectedLineNum": "<unknown>",
        "ConnectedLineName": "<unknown>",
        "Language": "zh",
        "AccountCode": "",
        "Context": "ivr-12345",
        "Exten": "12345",
        "Priority": "4",
        "Uniqueid": NEW_CITIZEN,
        "Linkedid": NEW_CITIZEN,
        "ChanVariable": "LD_ROLE=citizen",
        "BridgeId": "",
        "Application": "BackGround",
        "ApplicationData": "liandong/12345-welcome",
        "Duration": "00:00:42",
    }


async def test_link_drop_mid_call_is_reconciled_from_channels_and_cel(
    start_liandong: StartLiandong, tmp_path: Path
) -> None:
    cel_path = tmp_path / "cel.db"
    server = await start_liandong(cel_url=make_cel(cel_path))
    fake = server.fake
    first = await server.reconciled()

    # -- the call, up to both parties bridged, as Asterisk sent it
    events = until_bridged()
    server.push(events)
    call = await server.call_where(
        CALL, lambda c: bool(legs_by_id(c).get(CITIZEN, {}).get("bridges")), "citizen bridged"
    )
    expected = expected_legs(events)
    assert call["active"] is True
    assert call["answered_at"] is not None
    assert call["caller_name"] == "张三丰"
    legs = legs_by_id(call)
    assert {uid: leg_view(leg) for uid, leg in legs.items()} == expected
    assert legs[CITIZEN]["answered_at"] is not None
    assert legs[OPERATOR]["answered_at"] is not None
    assert legs[OTHER_DESK]["hangup_cause"] == 26  # answered elsewhere, by a real Hangup

    # -- the link drops, and stays down while the call changes
    fake.refuse_logins = True
    fake.drop_connections()

    async def link_down() -> dict[str, object] | None:
        status, body = await server.health()
        return body if status == 503 and body["ami"]["state"] != "connected" else None

    down = await server.eventually(link_down, "health to report the AMI link down")
    assert down["ok"] is False
    assert down["ami"]["last_error"]

    # The operator hangs up (Asterisk's CEL records it), the citizen is still in
    # the bridge, and a new citizen calls 12345 and reaches the IVR.
    hangup_at, chan_end_at = "1795930671.250300", "1795930671.251800"
    add_cel(
        cel_path,
        [
            {
                "eventtype": "HANGUP",
                "eventtime": hangup_at,
                "uniqueid": OPERATOR,
                "linkedid": CALL,
                "channame": "PJSIP/op110-1-00000001",
                "extra": '{"hangupcause":16,"hangupsource":"PJSIP/op110-1-00000001",'
                '"dialstatus":""}',
            },
            {
                "eventtype": "CHAN_END",
                "eventtime": chan_end_at,
                "uniqueid": OPERATOR,
                "linkedid": CALL,
                "channame": "PJSIP/op110-1-00000001",
                "extra": "",
            },
        ],
    )
    fake.channels = [citizen_channel_now(), new_citizen_channel()]
    fake.uptime = 7200  # Asterisk itself kept running

    # -- the link comes back
    before = now_utc()
    fake.refuse_logins = False
    health = await server.reconciled(after=first["ami"]["reconciled_at"])
    after = now_utc()
    assert health["ok"] is True
    assert within(health["ami"]["reconciled_at"], before, after)
    assert health["ami"]["reconcile_error"] is None
    assert 7200 <= health["asterisk"]["uptime_s"] <= 7202

    call = await server.call_where(
        CALL, lambda c: legs_by_id(c)[OPERATOR]["ended_at"] is not None, "operator leg closed"
    )
    legs = legs_by_id(call)
    operator = legs[OPERATOR]
    # CEL's CHAN_END (1795930671.251800), exactly; not its HANGUP, not the reconnect.
    assert operator["ended_at"] == "2026-11-29T05:37:51.251Z"
    assert operator["hangup_cause"] == 16
    assert operator["hangup_cause_text"] == "Normal Clearing"
    assert operator["reconciled"] is True
    assert operator["ended_at_bound"] is False  # CEL's own row: a fact
    assert operator["bridges"] == [
        {
            "bridge_id": BRIDGE,
            "joined_at": expected[OPERATOR]["bridges"][0]["joined_at"],
            "left_at": operator["ended_at"],
        }
    ]
    citizen = legs[CITIZEN]
    assert citizen["ended_at"] is None
    assert citizen["reconciled"] is False
    assert [b["left_at"] for b in citizen["bridges"]] == [None]
    assert leg_view(legs[OTHER_DESK]) == expected[OTHER_DESK]  # untouched
    assert call["active"] is True

    # The 12345 caller nobody saw arrive is picked up as a live, answered leg.
    (new_call,) = [c for c in await server.calls(active="true") if c["id"] == NEW_CITIZEN]
    assert new_call["trunk"] == "12345"
    assert new_call["caller_name"] == "李四"
    assert new_call["caller_number"] == "13800000002"
    (new_leg,) = new_call["legs"]
    assert new_leg["uniqueid"] == NEW_CITIZEN
    assert new_leg["role"] == "citizen"
    assert new_leg["trunk"] == "12345"
    assert new_leg["direction"] == "inbound"
    assert within(
        new_leg["created_at"],
        before - timedelta(seconds=42),
        after - timedelta(seconds=42),
        slack_s=1.0,
    )
    # Answered while nobody watched, and CEL has no ANSWER row: at the earliest
    # when it started, and marked as a bound.
    assert new_leg["answered_at"] == new_leg["created_at"]
    assert new_leg["answered_at_bound"] is True
    assert new_leg["ended_at"] is None
    assert new_leg["reconciled"] is False

    # -- the citizen hangs up later, over the restored link: a normal end
    events = trace("answered_110")
    leave, destroy, hangup = (
        m
        for m in events
        if m.event in ("BridgeLeave", "BridgeDestroy", "Hangup")
        and m.get("Uniqueid") in (CITIZEN, None)
    )
    later = "1795930684.020406"
    server.push(
        AmiMessage(tuple((k, later if k == "Timestamp" else v) for k, v in m.headers))
        for m in (leave, destroy, hangup)
    )
    call = await server.call_where(CALL, lambda c: not c["active"], "call ended")
    citizen = legs_by_id(call)[CITIZEN]
    assert citizen["ended_at"] == "2026-11-29T05:38:04.020Z"
    assert citizen["hangup_cause"] == 16
    assert citizen["reconciled"] is False
    assert citizen["bridges"][0]["left_at"] == citizen["ended_at"]
    assert call["ended_at"] == citizen["ended_at"]
    assert [c["id"] for c in await server.calls(active="true")] == [NEW_CITIZEN]
    assert (await server.health())[0] == 200


async def test_restart_mid_call_closes_every_open_leg(
    start_liandong: StartLiandong, tmp_path: Path
) -> None:
    first = await start_liandong()
    events = until_bridged()
    first.push(events)
    await first.call_where(
        CALL, lambda c: bool(legs_by_id(c).get(CITIZEN, {}).get("bridges")), "citizen bridged"
    )
    await first.written()
    await first.client.close()  # the server stops with the call open in the database

    # Asterisk restarted meanwhile: no channels, and its CEL never saw the ends.
    first.fake.uptime = 3
    before = now_utc()
    second = await start_liandong(cel_url=make_cel(tmp_path / "cel.db"))
    after = now_utc()

    call = await second.call_where(CALL, lambda c: not c["active"], "call closed")
    legs = legs_by_id(call)
    # The legs were last seen (their recorded times) before Asterisk restarted:
    # they ended by that restart at the latest, 3 s (its uptime) before now.
    restart = (before - timedelta(seconds=3 + 1), after - timedelta(seconds=3 - 1))
    for uid in (CITIZEN, OPERATOR):
        assert within(legs[uid]["ended_at"], *restart), legs[uid]
        assert legs[uid]["reconciled"] is True
        assert legs[uid]["ended_at_bound"] is True  # nobody saw the end
        assert legs[uid]["hangup_cause"] is None
        assert all(b["left_at"] == legs[uid]["ended_at"] for b in legs[uid]["bridges"])
    assert legs[OTHER_DESK]["hangup_cause"] == 26
    assert legs[OTHER_DESK]["reconciled"] is False
    assert within(call["ended_at"], *restart)
    assert await second.calls(active="true") == []
    health = await second.reconciled()
    assert within(health["ami"]["reconciled_at"], before, after)
    assert 3 <= health["asterisk"]["uptime_s"] <= 5  # it says Asterisk restarted


async def test_reconciliation_retries_until_asterisk_lists_its_channels(
    start_liandong: StartLiandong, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CoreShowChannels goes unanswered after a restart: health says so, calls are
    still recorded meanwhile, and the stale legs are closed once it is answered."""
    monkeypatch.setattr(ingest, "RECONCILE_RETRY_S", 0.1)
    first = await start_liandong()
    first.push(until_bridged())
    await first.call_where(CALL, lambda c: len(c["legs"]) == 3, "call recorded")
    await first.written()
    await first.client.close()

    fake = first.fake
    fake.ignored_actions = {"CoreShowChannels"}
    second = await start_liandong(wait=False, ami={"action_timeout": 0.3})

    async def postponed() -> dict[str, Any] | None:
        status, body = await second.health()
        return {**body, "status": status} if body["ami"]["reconcile_error"] else None

    health = await second.eventually(postponed, "health to report the failed reconciliation")
    assert "CoreShowChannels" in health["ami"]["reconcile_error"]
    assert (health["status"], health["ok"]) == (503, False)  # degraded, and says why
    assert health["ami"]["reconciled_at"] is None
    assert health["ami"]["state"] == "connected"

    # A new call is recorded while reconciliation keeps failing.
    busy = trace("busy_110")
    second.push(busy)
    await second.call_where(busy[0]["Linkedid"], lambda c: not c["active"], "busy call ended")
    assert (await second.call(CALL))["active"] is True  # not reconciled yet
    assert len(fake.actions_named("CoreShowChannels")) >= 1
    # Nor do the transfers act (timers, give-backs) on a model not yet in line.
    transfers = second.app[TRANSFERS]
    assert not transfers.reconciler.link_ready()

    fake.ignored_actions = set()
    health = await second.reconciled()
    assert health["ami"]["reconcile_error"] is None
    call = await second.call_where(CALL, lambda c: not c["active"], "stale call closed")
    assert all(leg["ended_at"] for leg in call["legs"])

    async def told() -> bool | None:
        return transfers.reconciler.link_ready() or None

    await second.eventually(told, "the transfers told the link is up, once reconciled")
    assert await second.calls(active="true") == []


async def test_restart_while_asterisk_keeps_the_call_resumes_it(
    start_liandong: StartLiandong,
) -> None:
    """Only the server restarted: the call goes on, and its record ends up exactly
    as if the server had never been away (one bridge stay per leg, no made-up ends)."""
    first = await start_liandong()
    events = trace("answered_110")
    first.push(events[:UNTIL_BRIDGED])  # both parties in the bridge
    await first.call_where(
        CALL, lambda c: bool(legs_by_id(c).get(CITIZEN, {}).get("bridges")), "citizen bridged"
    )
    await first.written()
    await first.client.close()

    first.fake.channels = [citizen_channel_now(), operator_channel_now()]
    second = await start_liandong()
    await second.written()
    call = await second.call(CALL)
    assert call["active"] is True
    assert {uid: leg_view(leg) for uid, leg in legs_by_id(call).items()} == expected_legs(
        events[:UNTIL_BRIDGED]
    )

    second.push(events[UNTIL_BRIDGED:])  # the rest of the call, as Asterisk sent it
    call = await second.call_where(CALL, lambda c: not c["active"], "call ended")
    assert {uid: leg_view(leg) for uid, leg in legs_by_id(call).items()} == expected_legs(events)
    assert call["ended_at"] == iso_ms(at(events[-1]))


# ---------------------------------------------------------------- what nobody saw

LIVE_PATH = "/api/v1/live"
OUTAGE_S = 0.5  # how long Asterisk stays unreachable in the scenarios below


def operator_channel_now() -> dict[str, str]:
    """CoreShowChannel for desk 110-1, talking to the citizen in the bridge."""
    return {
        **citizen_channel_now(),
        "Channel": "PJSIP/op110-1-00000001",
        "CallerIDNum": "8101",
        "CallerIDName": "110坐席1",
        "ConnectedLineNum": "13900001",
        "ConnectedLineName": "张三丰",
        "Context": "from-desk",
        "Uniqueid": OPERATOR,
        "ChanVariable": "LD_ROLE=operator_110",
        "Application": "AppDial",
        "ApplicationData": "(Outgoing Line)",
    }


def epoch(value: datetime) -> str:
    """A time as cel.conf's `dateformat = %s.%6q` writes it."""
    return f"{value.timestamp():.6f}"


async def drop_link(server: Liandong) -> tuple[datetime, datetime]:
    """Asterisk goes away (kill -9: the TCP link closes at once) and does not
    let us back in. Returns the window in which liandong saw the link drop."""
    before = now_utc()
    server.fake.refuse_logins = True
    server.fake.drop_connections()

    async def down() -> bool:
        status, body = await server.health()
        return status == 503 and body["ami"]["state"] != "connected"

    await server.eventually(down, "health to report the AMI link down")
    return before, now_utc()


async def test_after_asterisk_was_killed_legs_end_at_the_link_drop_marked_as_bounds(
    start_liandong: StartLiandong, tmp_path: Path
) -> None:
    """kill -9 of Asterisk mid-call: no Hangup, no CEL row. The legs end when the
    link dropped (not at the reconnect), with no made-up cause, marked as bounds,
    in the calls API and on the live feed."""
    server = await start_liandong(cel_url=make_cel(tmp_path / "cel.db"))
    first = await server.reconciled()
    server.push(until_bridged())
    await server.call_where(
        CALL, lambda c: bool(legs_by_id(c).get(CITIZEN, {}).get("bridges")), "citizen bridged"
    )
    ws = await server.client.ws_connect(LIVE_PATH, headers=server.auth())
    assert (await ws.receive_json())["type"] == "hello"

    drop_from, drop_to = await drop_link(server)
    await asyncio.sleep(OUTAGE_S)  # the outage itself: Asterisk restarting
    server.fake.channels = []  # a new Asterisk: none of the old channels
    server.fake.uptime = 0
    back = now_utc()
    server.fake.refuse_logins = False
    await server.reconciled(after=first["ami"]["reconciled_at"])

    call = await server.call_where(CALL, lambda c: not c["active"], "call closed")
    legs = legs_by_id(call)
    for uid in (CITIZEN, OPERATOR):
        leg = legs[uid]
        assert within(leg["ended_at"], drop_from, drop_to), leg
        assert parse_iso(leg["ended_at"]) < back  # not the reconnect
        assert (leg["ended_at_bound"], leg["reconciled"]) == (True, True)
        assert (leg["hangup_cause"], leg["hangup_cause_text"]) == (None, None)
        assert leg["answered_at_bound"] is False  # that answer was seen
        assert [b["left_at"] for b in leg["bridges"]] == [leg["ended_at"]]
    assert call["ended_at"] == max(legs[CITIZEN]["ended_at"], legs[OPERATOR]["ended_at"])
    # Desk 110-2's end was seen (its Hangup): a fact.
    assert (legs[OTHER_DESK]["ended_at_bound"], legs[OTHER_DESK]["hangup_cause"]) == (False, 26)

    ended = []
    async with asyncio.timeout(5):
        while len(ended) < 2:
            message = await ws.receive_json()
            if message["type"] == "leg.ended":
                ended.append(message["data"])
    await ws.close()
    assert {e["uniqueid"]: (e["at"], e["at_bound"], e["cause"]) for e in ended} == {
        uid: (legs[uid]["ended_at"], True, None) for uid in (CITIZEN, OPERATOR)
    }


@pytest.mark.parametrize("cel_knows", [True, False])
async def test_a_desk_that_answered_while_the_link_was_down(
    start_liandong: StartLiandong, tmp_path: Path, cel_knows: bool
) -> None:
    """Both desk phones ring, the AMI link drops, desk 110-1 answers meanwhile.
    Its answer time is CEL's ANSWER row; with none, the earliest it can have been
    (the link drop), marked as a bound. Never the reconnect."""
    cel_path = tmp_path / "cel.db"
    server = await start_liandong(cel_url=make_cel(cel_path))
    first = await server.reconciled()
    ringing = trace("answered_110")[:9]  # up to both desk phones ringing
    server.push(ringing)
    await server.call_where(
        CALL, lambda c: legs_by_id(c).get(OTHER_DESK, {}).get("ringing_at") is not None, "ringing"
    )

    drop_from, drop_to = await drop_link(server)
    await asyncio.sleep(OUTAGE_S / 2)
    answered = now_utc()  # desk 110-1 picks up, nobody watching
    await asyncio.sleep(OUTAGE_S / 2)
    rows = [
        {
            "eventtype": "HANGUP",
            "eventtime": epoch(answered),
            "uniqueid": OTHER_DESK,
            "linkedid": CALL,
            "extra": '{"hangupcause":26,"hangupsource":"","dialstatus":""}',
        },
        {
            "eventtype": "CHAN_END",
            "eventtime": epoch(answered),
            "uniqueid": OTHER_DESK,
            "linkedid": CALL,
            "extra": "",
        },
    ]
    if cel_knows:
        rows += [
            {
                "eventtype": "ANSWER",
                "eventtime": epoch(answered),
                "uniqueid": uid,
                "linkedid": CALL,
                "extra": "",
            }
            for uid in (OPERATOR, CITIZEN)
        ]
    add_cel(cel_path, rows)
    server.fake.channels = [citizen_channel_now(), operator_channel_now()]
    back = now_utc()
    server.fake.refuse_logins = False
    await server.reconciled(after=first["ami"]["reconciled_at"])

    call = await server.call_where(
        CALL, lambda c: legs_by_id(c)[OPERATOR]["answered_at"] is not None, "operator answered"
    )
    legs = legs_by_id(call)
    for uid in (OPERATOR, CITIZEN):
        leg = legs[uid]
        if cel_knows:
            assert (leg["answered_at"], leg["answered_at_bound"]) == (iso_ms(answered), False)
        else:
            assert within(leg["answered_at"], drop_from, drop_to), leg
            assert leg["answered_at_bound"] is True
        assert parse_iso(leg["answered_at"]) < back
        assert (leg["ended_at"], leg["ended_at_bound"]) == (None, False)
    assert call["answered_at"] == legs[OPERATOR]["answered_at"]
    assert call["active"] is True
    other = legs[OTHER_DESK]  # answered elsewhere, as CEL says
    assert (other["ended_at"], other["hangup_cause"]) == (iso_ms(answered), 26)
    assert other["ended_at_bound"] is False
