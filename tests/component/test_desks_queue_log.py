"""The AMI link drops while a caller waits at 110; during the outage an
operator answers them, another pauses, and a 12345 caller comes and hangs
up unseen. Asterisk's queue_log has it all: when the link is back, the
call's page and the desks show what happened, at the times it happened."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.component.conftest import Liandong, StartLiandong, iso_ms, replace_values, trace
from tests.component.test_desks_api import waiting_caller

LATER = "liandong-1795930999.9"  # a 12345 caller in the menu at the drop, who queued unseen


def iso_s(epoch: int) -> str:
    return iso_ms(datetime.fromtimestamp(epoch, UTC))


async def link_down(server: Liandong) -> None:
    server.fake.refuse_logins = True
    server.fake.drop_connections()

    async def down() -> bool:
        status, body = await server.health()
        return status == 503 and body["ami"]["state"] != "connected"

    await server.eventually(down, "the AMI link down")


async def desk(server: Liandong, name: str) -> dict[str, Any]:
    body = await server.ok("/api/v1/desks")
    [found] = [d for d in body["desks"] if d["desk"] == name]
    return found  # type: ignore[no-any-return]


async def test_the_outage_is_read_from_the_queue_log_when_the_link_returns(
    start_liandong: StartLiandong, tmp_path: Path
) -> None:
    queue_log = tmp_path / "queue_log"
    queue_log.write_text(f"{int(time.time()) - 3600}|NONE|NONE|NONE|QUEUESTART|\n")
    server = await start_liandong(queue_log=queue_log)
    [first] = [m for m in trace("answered_110") if m.event == "Newchannel"][:1]
    call_id, uid = first["Linkedid"], first["Uniqueid"]
    server.push([first, *replace_values([first], uid, LATER)])
    for name, headers in waiting_caller(uid):
        server.fake.push_event(name, headers)
    await server.applied()
    assert [w["call_id"] for w in (await desk(server, "110"))["waiting"]] == [call_id]
    joined = (await desk(server, "110"))["waiting"][0]["joined_at"]

    await link_down(server)
    t = int(time.time()) + 1  # what happened while nobody saw it
    with queue_log.open("a", encoding="utf-8", newline="") as f:
        f.write(
            f"{t}|{uid}|desk-110|op110-1|CONNECT|4|liandong-{t}.7|2\r\n"
            f"{t + 1}|NONE|desk-110|op110-2|PAUSE|小休\r\n"
            f"{t + 2}|{LATER}|desk-12345|NONE|ENTERQUEUE||13800000002|1\r\n"
            "a line that is not a queue_log line\r\n"
            f"{t + 9}|{LATER}|desk-12345|NONE|ABANDON|1|1|7\r\n"
            f"{t + 30}|{uid}|desk-110|op110-1|CALLBACKCUSTOM|x\r\n"
        )
    # Asterisk now: op110-1 talks with the caller, op110-2 is paused, nobody waits.
    server.fake.queues = [
        {
            "Event": "QueueMember",
            "Queue": "desk-110",
            "Location": "PJSIP/op110-1",
            "Name": "op110-1",
            "Status": "2",
            "Paused": "0",
        },
        {
            "Event": "QueueMember",
            "Queue": "desk-110",
            "Location": "PJSIP/op110-2",
            "Name": "op110-2",
            "Status": "1",
            "Paused": "1",
            "PausedReason": "小休",
        },
    ]
    server.fake.refuse_logins = False

    async def answered() -> dict[str, Any] | None:
        status, body = await server.get(f"/api/v1/calls/{call_id}")
        waits = body.get("queue_waits") if status == 200 else None
        return body if waits and waits[0]["outcome"] == "answered" else None

    call = await server.eventually(answered, "the wait answered in the outage, recorded")
    [wait] = call["queue_waits"]
    assert wait["joined_at"] == joined  # the same wait, closed: not a second one
    assert (wait["operator"], wait["answered_at"]) == ("op110-1", iso_s(t))

    the_110 = await desk(server, "110")
    assert the_110["waiting"] == []
    ops = {op["phone"]: op for op in the_110["operators"]}
    assert (ops["op110-2"]["state"], ops["op110-2"]["reason"]) == ("paused", "小休")
    assert ops["op110-2"]["since"] == iso_s(t + 1)  # when they paused, not when we learnt it
    assert ops["op110-1"]["state"] == "talking"

    # The 12345 caller's whole wait was in the outage: abandoned after 7 s.
    [later] = (await server.call(LATER))["queue_waits"]
    assert (later["desk"], later["outcome"], later["waited_s"]) == ("12345", "abandoned", 7.0)
    assert (later["joined_at"], later["left_at"]) == (iso_s(t + 2), iso_s(t + 9))
    assert later["position_on_joining"] == 1 and later["via"] == "citizen"


async def test_a_queue_log_that_cannot_be_read_is_a_warning_and_the_server_goes_on(
    start_liandong: StartLiandong, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "asterisk" / "queue_log"
    server = await start_liandong(queue_log=missing)
    server.fake.push_event("QueueMemberPause", {"Queue": "desk-110", "Interface": "PJSIP/x"})
    await server.applied()
    with caplog.at_level(logging.WARNING, logger="ivr_flows.service.desks"):
        await link_down(server)
        server.fake.refuse_logins = False

        async def warned() -> bool:
            return any(str(missing) in r.getMessage() for r in caplog.records)

        await server.eventually(warned, "a warning naming the queue_log")
    [warning] = [r for r in caplog.records if str(missing) in r.getMessage()]
    assert warning.levelno == logging.WARNING and "No such file" in warning.getMessage()
    assert (await server.health())[1]["ami"]["state"] == "connected"
    assert (await desk(server, "110"))["waiting"] == []


async def test_a_wait_open_when_the_server_stopped_ends_as_the_queue_log_says(
    start_liandong: StartLiandong, tmp_path: Path
) -> None:
    queue_log = tmp_path / "queue_log"
    queue_log.write_text("")
    first = await start_liandong(queue_log=queue_log)
    [newchannel] = [m for m in trace("answered_110") if m.event == "Newchannel"][:1]
    call_id, uid = newchannel["Linkedid"], newchannel["Uniqueid"]
    first.push([newchannel])
    for name, headers in waiting_caller(uid):
        first.fake.push_event(name, headers)
    await first.written()

    async def saved_waiting() -> bool:
        waits = (await first.call(call_id)).get("queue_waits")
        return bool(waits) and waits[0]["outcome"] == "waiting"

    await first.eventually(saved_waiting, "the wait saved, open")
    await first.client.close()  # the server stops while the caller waits

    t = int(time.time()) + 1
    with queue_log.open("a", encoding="utf-8") as f:
        f.write(
            f"{t}|{uid}|desk-110|op110-1|CONNECT|5|liandong-{t}.8|1\n"
            f"{t + 40}|{uid}|desk-110|op110-1|COMPLETECALLER|5|40|1\n"
        )
    second = await start_liandong(queue_log=queue_log)

    async def closed() -> dict[str, Any] | None:
        waits = (await second.call(call_id)).get("queue_waits") or []
        return waits[0] if waits and waits[0]["outcome"] != "waiting" else None

    wait = await second.eventually(closed, "the wait closed after the restart")
    assert (wait["outcome"], wait["operator"], wait["answered_at"]) == (
        "answered",
        "op110-1",
        iso_s(t),
    )
    assert (wait["talk_s"], wait["ended_by"]) == (40, "caller")
    assert (await desk(second, "110"))["waiting"] == []
