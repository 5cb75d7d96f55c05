"""AmiClient against a fake AMI server on loopback: login, events, actions, faults."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from itertools import pairwise

import pytest

from ami_client import (
    AmiActionFailed,
    AmiClient,
    AmiLinkLost,
    AmiLoginFailed,
    AmiMessage,
    AmiNotConnected,
    AmiSettings,
    AmiTimeout,
    LinkState,
    Secret,
)
from tests.component.serve_kit import free_port
from tests.fakes.fake_ami import FakeAmiServer, event_message
from tests.fakes.recording_sink import RecordingSink

# Small timings keep the suite fast; the watchdog is slow unless a test wants it.
FAST: dict[str, object] = {
    "connect_timeout": 1.0,
    "action_timeout": 1.0,
    "ping_interval": 5.0,
    "ping_timeout": 1.0,
    "backoff_initial": 0.02,
    "backoff_max": 0.2,
}
PING = {"Action": "Ping"}

MakeClient = Callable[..., Awaitable[tuple[AmiClient, RecordingSink]]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmiServer]:
    async with FakeAmiServer() as server:
        yield server


@pytest.fixture
async def make_client(fake: FakeAmiServer) -> AsyncIterator[MakeClient]:
    """Start a client on the fake (FAST settings, overridable); stopped after the test."""
    clients: list[AmiClient] = []

    async def make(**overrides: object) -> tuple[AmiClient, RecordingSink]:
        sink = RecordingSink()
        client = AmiClient(fake.settings(**{**FAST, **overrides}), sink)
        clients.append(client)
        await client.start()
        return client, sink

    yield make
    for client in clients:
        await client.stop()


@pytest.fixture
async def connected(make_client: MakeClient) -> tuple[AmiClient, RecordingSink]:
    client, sink = await make_client()
    await client.wait_connected(2.0)
    await sink.wait_for_count("FullyBooted")
    return client, sink


# -- login -------------------------------------------------------------------------------


async def test_login_succeeds_and_link_up_comes_before_the_first_event(
    fake: FakeAmiServer, make_client: MakeClient
) -> None:
    client, sink = await make_client()

    await client.wait_connected(2.0)
    await sink.wait_for_count("FullyBooted")

    assert client.state is LinkState.CONNECTED
    # FullyBooted comes in the same TCP read as the login response; LinkUp still leads.
    assert sink.kinds() == ["LinkUp", "FullyBooted"]
    (up,) = sink.link_ups
    assert (up.version, up.attempt) == ("11.0.0", 1)
    assert up.at.tzinfo is not None
    (login,) = fake.actions_named("Login")
    assert login.headers["Username"] == "liandong"
    assert login.headers["Events"] == "on"
    assert client.stats.logins == 1


async def test_wrong_secret_is_surfaced_and_retried_with_backoff(
    fake: FakeAmiServer, make_client: MakeClient
) -> None:
    client, sink = await make_client(secret=Secret("wrong"))

    await fake.wait_until(lambda: fake.login_attempts >= 3, what="three login attempts")

    assert client.state is not LinkState.CONNECTED
    assert isinstance(client.last_error, AmiLoginFailed)
    assert "Authentication failed" in str(client.last_error)
    with pytest.raises(AmiTimeout) as raised:
        await client.wait_connected(0.05)
    assert isinstance(raised.value.__cause__, AmiLoginFailed)
    with pytest.raises(AmiNotConnected):
        await client.send_action(PING)
    assert sink.items == []  # no LinkUp, no events


async def test_login_works_once_the_server_accepts_again(
    fake: FakeAmiServer, make_client: MakeClient
) -> None:
    fake.refuse_logins = True
    client, sink = await make_client()
    await fake.wait_until(lambda: fake.login_attempts >= 2, what="two refused logins")

    fake.refuse_logins = False
    await client.wait_connected(2.0)

    assert client.last_error is None
    assert sink.link_ups[0].attempt >= 3


# -- events --------------------------------------------------------------------------------


async def test_events_reach_the_sink_in_order_with_a_chinese_name_split_across_reads(
    fake: FakeAmiServer, connected: tuple[AmiClient, RecordingSink]
) -> None:
    client, sink = connected
    newchannel = event_message(
        "Newchannel",
        {
            "Channel": "PJSIP/trunk-110-00000003",
            "CallerIDNum": "13900001",
            "CallerIDName": "张三丰",
            "Uniqueid": "liandong-1.3",
            "ChanVariable": "LD_CASE=案件-1",
        },
    )
    cut = newchannel.index("张".encode()) + 1  # inside the three bytes of 张
    reads_before = client.stats.reads

    fake.push_event("Newstate", Uniqueid="liandong-1.2", ChannelStateDesc="Ringing")
    await fake.push_split(newchannel, [cut])
    fake.push_event("Hangup", Uniqueid="liandong-1.3", Cause="16")
    await sink.wait_for_count("Hangup")

    assert sink.kinds() == ["LinkUp", "FullyBooted", "Newstate", "Newchannel", "Hangup"]
    assert client.stats.reads - reads_before >= 2  # the two halves were separate reads
    new = sink.events[2]
    assert new["CallerIDName"] == "张三丰"
    assert new.channel_variables() == {"LD_CASE": "案件-1"}


async def test_garbage_between_messages_does_not_kill_the_connection(
    fake: FakeAmiServer,
    connected: tuple[AmiClient, RecordingSink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, sink = connected

    fake.push_event("Newstate", Uniqueid="1.1")
    fake.push_bytes(b"\x00\xff\xfe\x1b[0m garbage\r\n\r\n")
    fake.push_bytes(b"Event: Hangup\r\nthis is not a header\r\n\r\n")
    fake.push_event("Hangup", Uniqueid="1.1")
    await sink.wait_for_count("Hangup")

    assert sink.kinds() == ["LinkUp", "FullyBooted", "Newstate", "Hangup"]
    assert client.stats.frames_skipped == 2
    assert "skipped a message: line 1 has no ': ' separator" in caplog.text
    assert "line 2 has no ': ' separator: 'this is not a header'" in caplog.text
    assert client.state is LinkState.CONNECTED
    assert (await client.send_action(PING))["Ping"] == "Pong"


async def test_a_raising_sink_loses_one_item_not_the_link(
    fake: FakeAmiServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    good = RecordingSink()

    def sink(item: object) -> None:
        if isinstance(item, AmiMessage) and item.event == "Boom":
            raise RuntimeError("sink bug")
        good(item)  # type: ignore[arg-type]

    client = AmiClient(fake.settings(**FAST), sink)
    await client.start()
    try:
        await client.wait_connected(2.0)
        fake.push_event("Boom")
        fake.push_event("Hangup")
        await good.wait_for_count("Hangup")
        assert "Boom" not in good.kinds()
        assert "AMI sink raised" in caplog.text
        assert client.state is LinkState.CONNECTED
    finally:
        await client.stop()


# -- actions ------------------------------------------------------------------------------


async def test_action_returns_its_response_and_nothing_reaches_the_sink(
    fake: FakeAmiServer, connected: tuple[AmiClient, RecordingSink]
) -> None:
    client, sink = connected

    response = await client.send_action({"Action": "Hangup", "Channel": "PJSIP/x-1"})

    assert response["Message"] == "Channel Hungup"
    (hangup,) = fake.actions_named("Hangup")
    assert response.action_id == hangup.action_id
    assert sink.kinds() == ["LinkUp", "FullyBooted"]


async def test_error_response_raises_action_failed_and_the_link_stays(
    connected: tuple[AmiClient, RecordingSink],
) -> None:
    client, _ = connected

    with pytest.raises(AmiActionFailed) as raised:
        await client.send_action({"Action": "NoSuchThing"})

    assert raised.value.message == "Invalid/unknown command"
    assert raised.value.response["Response"] == "Error"
    assert client.state is LinkState.CONNECTED


async def test_list_action_collects_its_items_and_keeps_them_out_of_the_sink(
    fake: FakeAmiServer, connected: tuple[AmiClient, RecordingSink]
) -> None:
    client, sink = connected
    fake.channels = [
        {"Channel": "PJSIP/trunk-110-00000003", "CallerIDName": "张三丰", "Uniqueid": "1.3"},
        {"Channel": "PJSIP/op110-1-00000004", "CallerIDName": "110坐席-1", "Uniqueid": "1.4"},
    ]

    channels = await client.send_list_action({"Action": "CoreShowChannels"})
    bridges = await client.send_list_action({"Action": "BridgeList"})

    assert [c["CallerIDName"] for c in channels] == ["张三丰", "110坐席-1"]
    assert {c.event for c in channels} == {"CoreShowChannel"}
    assert bridges == []
    assert sink.kinds() == ["LinkUp", "FullyBooted"]


async def test_list_items_never_leak_into_the_sink_after_a_timeout_or_misuse(
    fake: FakeAmiServer, connected: tuple[AmiClient, RecordingSink]
) -> None:
    client, sink = connected
    fake.channels = [{"Channel": "PJSIP/trunk-110-00000003", "Uniqueid": "1.3"}]
    fake.delays["CoreShowChannels"] = 0.1

    with pytest.raises(AmiTimeout, match="no complete reply"):
        await client.send_list_action({"Action": "CoreShowChannels"}, timeout=0.02)
    del fake.delays["CoreShowChannels"]
    # A list action sent as a plain one: the response comes back, the items are dropped.
    response = await client.send_action({"Action": "CoreShowChannels"})
    await fake.wait_until(lambda: fake.replies_sent >= 3, what="the late list")
    await client.send_action(PING)  # answered after everything above was read

    assert response["EventList"] == "start"
    assert sink.kinds() == ["LinkUp", "FullyBooted"]


async def test_event_carrying_our_actionid_after_the_reply_goes_to_the_sink(
    fake: FakeAmiServer, connected: tuple[AmiClient, RecordingSink]
) -> None:
    """An async Originate answers at once; its OriginateResponse event comes later."""
    client, sink = connected
    await client.send_action({"Action": "Originate", "Channel": "PJSIP/unit-7", "Async": "true"})
    (originate,) = fake.actions_named("Originate")

    fake.push_event("OriginateResponse", ActionID=originate.action_id or "", Response="Success")
    await sink.wait_for_count("OriginateResponse")

    assert sink.events[-1].action_id == originate.action_id


async def test_action_timeout_then_the_late_reply_is_ignored(
    fake: FakeAmiServer, connected: tuple[AmiClient, RecordingSink]
) -> None:
    client, sink = connected
    fake.delays["Hangup"] = 0.2

    with pytest.raises(AmiTimeout, match="Hangup"):
        await client.send_action({"Action": "Hangup", "Channel": "PJSIP/x-1"}, timeout=0.05)
    await fake.wait_until(lambda: fake.replies_sent >= 2, what="the late Hangup reply")
    pong = await client.send_action(PING)  # answered after the late reply: it was handled

    assert pong["Ping"] == "Pong"
    assert client.stats.late_replies == 1
    assert client.stats.action_timeouts == 1
    assert sink.kinds() == ["LinkUp", "FullyBooted"]
    assert client.state is LinkState.CONNECTED


async def test_send_action_while_disconnected_fails_at_once() -> None:
    sink = RecordingSink()
    client = AmiClient(AmiSettings(port=free_port(), **FAST), sink)  # type: ignore[arg-type]
    with pytest.raises(AmiNotConnected):
        await client.send_action(PING)  # not started

    await client.start()
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AmiNotConnected, match="nothing was sent"):
            await client.send_action(PING)
        assert loop.time() - started < 0.05
        with pytest.raises(AmiTimeout) as raised:
            await client.wait_connected(0.1)
        assert isinstance(raised.value.__cause__, ConnectionRefusedError)
        assert client.stats.connect_attempts >= 2
        assert client.state is not LinkState.CONNECTED
    finally:
        await client.stop()


# -- link loss and reconnection --------------------------------------------------------------


async def test_half_open_link_is_noticed_by_the_ping_watchdog_and_replaced(
    fake: FakeAmiServer, make_client: MakeClient
) -> None:
    ping_interval, ping_timeout, backoff = 0.1, 0.1, 0.02
    client, sink = await make_client(
        ping_interval=ping_interval, ping_timeout=ping_timeout, backoff_initial=backoff
    )
    await client.wait_connected(2.0)
    loop = asyncio.get_running_loop()

    started = loop.time()
    fake.stall_sessions()  # the server is still there but never answers again
    await sink.wait_for_count("LinkUp", 2)
    elapsed = loop.time() - started

    assert elapsed < ping_interval + ping_timeout + backoff + 0.15
    assert sink.kinds()[:4] == ["LinkUp", "FullyBooted", "LinkDown", "LinkUp"]
    assert "no reply to Ping" in sink.link_downs[0].reason
    assert client.stats.reconnects == 1
    assert (await client.send_action(PING))["Ping"] == "Pong"


async def test_link_dropped_mid_action_fails_it_and_it_is_never_resent(
    fake: FakeAmiServer, connected: tuple[AmiClient, RecordingSink]
) -> None:
    client, sink = connected
    fake.ignored_actions.add("Redirect")
    redirect = {"Action": "Redirect", "Channel": "PJSIP/trunk-110-3", "Exten": "12345"}
    in_flight = asyncio.create_task(client.send_action(redirect, timeout=5.0))
    await fake.wait_for_action("Redirect")

    fake.drop_connections()

    with pytest.raises(AmiLinkLost, match="not re-sent"):
        await in_flight
    await sink.wait_for_count("LinkUp", 2)
    await client.send_action(PING)  # a full round trip on the new link
    assert sink.kinds()[:4] == ["LinkUp", "FullyBooted", "LinkDown", "LinkUp"]
    assert len(fake.actions_named("Redirect")) == 1
    assert len(fake.actions_named("Login")) == 2


async def test_backoff_grows_is_capped_and_resets_after_a_good_login(
    fake: FakeAmiServer, make_client: MakeClient
) -> None:
    initial, cap = 0.02, 0.16
    fake.refuse_logins = True
    client, sink = await make_client(backoff_initial=initial, backoff_max=cap)

    await fake.wait_until(lambda: len(fake.connection_times) >= 8, within=3.0, what="8 attempts")
    gaps = [b - a for a, b in pairwise(fake.connection_times[:8])]
    expected = [0.02, 0.04, 0.08, 0.16, 0.16, 0.16, 0.16]
    for gap, base in zip(gaps, expected, strict=True):
        # 25 % jitter below the base; above it only the login round trip and scheduling.
        assert 0.75 * base - 0.005 <= gap <= base + 0.06, (gaps, expected)

    fake.refuse_logins = False
    await client.wait_connected(2.0)
    dropped_at = asyncio.get_running_loop().time()
    fake.drop_connections()
    await sink.wait_for_count("LinkUp", 2)
    assert fake.connection_times[-1] - dropped_at <= initial + 0.06


# -- secrets and shutdown ----------------------------------------------------------------------


async def test_the_secret_never_appears_in_logs_or_reprs(
    fake: FakeAmiServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, panoramisk's included
    client, sink = await make_client()
    await client.wait_connected(2.0)
    fake.delays["Hangup"] = 0.2
    with pytest.raises(AmiTimeout) as timed_out:
        await client.send_action({"Action": "Hangup", "Channel": "x"}, timeout=0.02)
    fake.drop_connections()
    await sink.wait_for_count("LinkUp", 2)
    fake.refuse_logins = True
    fake.drop_connections()
    await fake.wait_until(lambda: fake.login_attempts >= 4, what="a refused login")
    await client.stop()

    assert fake.actions_named("Login")[0].headers["Secret"] == fake.secret  # it was sent
    shown = [caplog.text, repr(client), repr(client.settings), str(client.settings)]
    shown += [str(timed_out.value), repr(client.last_error), repr(sink.items)]
    for text in shown:
        assert fake.secret not in text
    assert "Login" in caplog.text  # the Login was logged, masked


async def test_stop_fails_actions_in_flight_says_goodbye_and_leaves_no_tasks(
    fake: FakeAmiServer, connected: tuple[AmiClient, RecordingSink]
) -> None:
    client, sink = connected
    fake.ignored_actions.add("Hangup")
    in_flight = asyncio.create_task(client.send_action({"Action": "Hangup", "Channel": "x"}))
    await fake.wait_for_action("Hangup")

    await client.stop()

    with pytest.raises(AmiLinkLost):
        await in_flight
    assert client.state is LinkState.CLOSED
    assert sink.kinds()[-1] == "LinkDown"
    assert sink.link_downs[-1].reason == "client stopped"
    await fake.wait_for_action("Logoff")
    await fake.wait_until(lambda: fake.logged_in_sessions == 0, what="the session to end")
    assert asyncio.all_tasks() == {asyncio.current_task()}
    with pytest.raises(AmiNotConnected):
        await client.send_action(PING)
    with pytest.raises(AmiNotConnected):
        await client.wait_connected(0.1)


async def test_stop_wakes_whoever_waits_for_the_connection(
    fake: FakeAmiServer, make_client: MakeClient
) -> None:
    fake.refuse_logins = True
    client, _ = await make_client()
    waiter = asyncio.create_task(client.wait_connected(5.0))
    await fake.wait_until(lambda: fake.login_attempts >= 1, what="a refused login")

    await client.stop()

    with pytest.raises(AmiNotConnected, match="stopped"):
        await waiter


async def test_stop_while_retrying_leaves_no_tasks(
    fake: FakeAmiServer, make_client: MakeClient
) -> None:
    fake.refuse_logins = True
    client, _ = await make_client()
    await fake.wait_until(lambda: fake.login_attempts >= 2, what="two refused logins")

    await client.stop()
    await fake.wait_until(lambda: fake.logged_in_sessions == 0, what="no sessions")

    leftover = asyncio.all_tasks() - {asyncio.current_task()}
    assert not [t for t in leftover if t.get_name().startswith("ami-client")]
    assert client.state is LinkState.CLOSED
