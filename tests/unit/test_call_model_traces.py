"""Recorded real traces from the testbed Asterisk, replayed through the call model.

Every expected value below was read off the raw trace (tests/fixtures/*.ami):
the leg's Newchannel `Timestamp` is its start, its Newstate 5 / 6 its ringing /
answer, its Hangup its end, cause and cause text. A citizen hears ringback from
the moment the first phone it dialled rings (or from the DialBegin, when
Asterisk reports the phone ringing first, as in cancel_110).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from test_call_model_kit import (
    NOT_THE_TIME,
    TRACES,
    Ledger,
    check_leg_times,
    replay,
    trace_bytes,
    trace_messages,
    ts,
)

from ami_client.framing import AmiFramer, FrameError
from ami_client.message import AmiMessage
from common.vocabulary import Desk
from telephony.core import events as ev
from telephony.core.events import Direction, LegRole
from telephony.core.model import CallModel

# One row per leg, exactly as the trace has it: the Uniqueid and call (Linkedid)
# without the "liandong-" prefix; "-" where the leg never rang or was never
# answered; the hangup cause text after the bar.
LEG_TABLES = {
    "answered_110": """
1795930660.0  1795930660.0 PJSIP/trunk-110-00000000 citizen      inbound  110 13900001 张三丰
  1795930660.849372 1795930660.860273 1795930661.165590 1795930662.672712 16 | Normal Clearing
1795930660.1  1795930660.0 PJSIP/op110-1-00000001   operator_110 outbound 110 8101 110坐席1
  1795930660.857072 1795930660.860273 1795930661.164828 1795930662.672207 16 | Normal Clearing
1795930660.2  1795930660.0 PJSIP/op110-2-00000002   operator_110 outbound 110 8102 110坐席2
  1795930660.857147 1795930660.861015 -                 1795930661.165599 26 | Answered elsewhere
""",
    "noanswer_12345": """
1795930664.3  1795930664.3 PJSIP/trunk-12345-00000003 citizen      inbound 12345 13800001 李四
  1795930664.615905 1795930664.621569 - 1795930666.625812 19 | User alerting, no answer
1795930664.4  1795930664.3 PJSIP/op12345-1-00000004 operator_12345 outbound 12345 8201 12345坐席1
  1795930664.617258 1795930664.621569 - 1795930666.625416  0 | Unknown
1795930664.5  1795930664.3 PJSIP/op12345-2-00000005 operator_12345 outbound 12345 8202 12345坐席2
  1795930664.619020 1795930664.623841 - 1795930666.625787  0 | Unknown
""",
    "busy_110": """
1795930668.6  1795930668.6 PJSIP/trunk-110-00000006 citizen      inbound  110 13700001 王五
  1795930668.548884 - - 1795930668.554120 17 | User busy
1795930668.7  1795930668.6 PJSIP/op110-1-00000007   operator_110 outbound 110 8101 110坐席1
  1795930668.551957 - - 1795930668.553730 17 | User busy
1795930668.8  1795930668.6 PJSIP/op110-2-00000008   operator_110 outbound 110 8102 110坐席2
  1795930668.552030 - - 1795930668.554021 17 | User busy
""",
    # op110-1 reports Ringing (.479948) before the DialBegin that made it
    # (.479990): the citizen hears ringback from the DialBegin.
    "cancel_110": """
1795930670.9  1795930670.9 PJSIP/trunk-110-00000009 citizen      inbound  110 13600001 赵六
  1795930670.475828 1795930670.479990 - 1795930671.283703 127 | Interworking, unspecified
1795930670.10 1795930670.9 PJSIP/op110-1-0000000a   operator_110 outbound 110 8101 110坐席1
  1795930670.478880 1795930670.479948 - 1795930671.283566 127 | Interworking, unspecified
1795930670.11 1795930670.9 PJSIP/op110-2-0000000b   operator_110 outbound 110 8102 110坐席2
  1795930670.478963 1795930670.481242 - 1795930671.283923 127 | Interworking, unspecified
""",
    # Six calls at 20 calls/s on a two-phone desk: .12 rings both phones and
    # op12345-2 answers; .15-.18 find no idle phone and the dialplan answers
    # busy at once; .19 comes when op12345-1 is free again and only it rings.
    "burst_12345": """
1795930673.12 1795930673.12 PJSIP/trunk-12345-0000000c citizen inbound 12345 13500001 市民
  1795930673.155592 1795930673.160131 1795930673.368235 1795930674.176427 16 | Normal Clearing
1795930673.13 1795930673.12 PJSIP/op12345-1-0000000d operator_12345 outbound 12345 8201 12345坐席1
  1795930673.158246 1795930673.160131 - 1795930673.368243 26 | Answered elsewhere
1795930673.14 1795930673.12 PJSIP/op12345-2-0000000e operator_12345 outbound 12345 8202 12345坐席2
  1795930673.159746 1795930673.160991 1795930673.367471 1795930674.176183 16 | Normal Clearing
1795930673.15 1795930673.15 PJSIP/trunk-12345-0000000f citizen inbound 12345 13500002 市民
  1795930673.207924 - - 1795930673.209260 17 | User busy
1795930673.16 1795930673.16 PJSIP/trunk-12345-00000010 citizen inbound 12345 13500003 市民
  1795930673.257382 - - 1795930673.258043 17 | User busy
1795930673.17 1795930673.17 PJSIP/trunk-12345-00000011 citizen inbound 12345 13500004 市民
  1795930673.308229 - - 1795930673.309007 17 | User busy
1795930673.18 1795930673.18 PJSIP/trunk-12345-00000012 citizen inbound 12345 13500005 市民
  1795930673.355936 - - 1795930673.357488 17 | User busy
1795930673.19 1795930673.19 PJSIP/trunk-12345-00000013 citizen inbound 12345 13500006 市民
  1795930673.407511 1795930673.410110 1795930673.615486 1795930674.424244 16 | Normal Clearing
1795930673.20 1795930673.19 PJSIP/op12345-1-00000014 operator_12345 outbound 12345 8201 12345坐席1
  1795930673.409171 1795930673.410110 1795930673.614867 1795930674.424817 16 | Normal Clearing
""",
}

# One row per call: id, trunk, caller number and name, started, answered, ended.
CALL_TABLES = {
    "answered_110": """
1795930660.0 110 13900001 张三丰 1795930660.849372 1795930661.165590 1795930662.672712
""",
    "noanswer_12345": """
1795930664.3 12345 13800001 李四 1795930664.615905 - 1795930666.625812
""",
    "busy_110": """
1795930668.6 110 13700001 王五 1795930668.548884 - 1795930668.554120
""",
    "cancel_110": """
1795930670.9 110 13600001 赵六 1795930670.475828 - 1795930671.283923
""",
    "burst_12345": """
1795930673.12 12345 13500001 市民 1795930673.155592 1795930673.368235 1795930674.176427
1795930673.15 12345 13500002 市民 1795930673.207924 - 1795930673.209260
1795930673.16 12345 13500003 市民 1795930673.257382 - 1795930673.258043
1795930673.17 12345 13500004 市民 1795930673.308229 - 1795930673.309007
1795930673.18 12345 13500005 市民 1795930673.355936 - 1795930673.357488
1795930673.19 12345 13500006 市民 1795930673.407511 1795930673.615486 1795930674.424817
""",
}


@dataclass(frozen=True)
class ExpectedLeg:
    call_id: str
    channel: str
    endpoint: str | None
    role: LegRole
    direction: Direction
    trunk: Desk | None
    number: str | None
    name: str | None
    created: datetime
    ringing: datetime | None
    answered: datetime | None
    ended: datetime | None
    cause: int | None
    cause_text: str | None


@dataclass(frozen=True)
class ExpectedCall:
    trunk: Desk | None
    number: str | None
    name: str | None
    started: datetime
    answered: datetime | None
    ended: datetime | None


def _time(raw: str) -> datetime | None:
    return None if raw == "-" else ts(raw)


def _parse_legs(table: str) -> dict[str, ExpectedLeg]:
    rows = table.strip().split("\n")
    legs = {}
    for first, second in zip(rows[::2], rows[1::2], strict=True):
        uid, call, channel, role, direction, trunk, number, name = first.split()
        times, _, text = second.partition(" | ")
        created, ringing, answered, ended, cause = times.split()
        legs[f"liandong-{uid}"] = ExpectedLeg(
            f"liandong-{call}",
            channel,
            channel.removeprefix("PJSIP/").rsplit("-", 1)[0],
            LegRole(role),
            Direction(direction),
            Desk(trunk),
            number,
            name,
            ts(created),
            _time(ringing),
            _time(answered),
            ts(ended),
            int(cause),
            text,
        )
    return legs


def _parse_calls(table: str) -> dict[str, ExpectedCall]:
    calls = {}
    for row in table.strip().split("\n"):
        call_id, trunk, number, name, started, answered, ended = row.split()
        calls[f"liandong-{call_id}"] = ExpectedCall(
            Desk(trunk), number, name, ts(started), _time(answered), ts(ended)
        )
    return calls


EXPECTED_LEGS = {name: _parse_legs(table) for name, table in LEG_TABLES.items()}
EXPECTED_CALLS = {name: _parse_calls(table) for name, table in CALL_TABLES.items()}

# uniqueid -> [(bridge, joined, left)]
B1 = "37a877bb-b9ff-45d6-94ad-2b3b366daeb6"
B2 = "bf50c8e3-5ef3-4b91-bdd2-84ea2e9ff87e"
B3 = "e41ca2a0-1c55-4907-a502-8825f40d4727"
EXPECTED_STAYS: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "answered_110": {
        "liandong-1795930660.1": [(B1, "1795930661.166090", "1795930662.671590")],
        "liandong-1795930660.0": [(B1, "1795930661.166656", "1795930662.672227")],
    },
    "burst_12345": {
        "liandong-1795930673.14": [(B2, "1795930673.368833", "1795930674.175681")],
        "liandong-1795930673.12": [(B2, "1795930673.368842", "1795930674.175367")],
        "liandong-1795930673.20": [(B3, "1795930673.616833", "1795930674.424098")],
        "liandong-1795930673.19": [(B3, "1795930673.616854", "1795930674.423578")],
    },
}


# ---------------------------------------------------------------- replay facts


@pytest.mark.parametrize("name", TRACES)
def test_replay_gives_exactly_the_recorded_legs(name: str) -> None:
    model, ledger, _ = replay(trace_messages(name))
    expected = EXPECTED_LEGS[name]
    assert set(ledger.legs) == set(expected)
    for uniqueid, leg in ledger.legs.items():
        got = ExpectedLeg(
            leg.call_id,
            leg.channel,
            leg.endpoint,
            leg.role,
            leg.direction,
            leg.trunk,
            leg.caller_number,
            leg.caller_name,
            leg.created_at,
            leg.ringing_at,
            leg.answered_at,
            leg.ended_at,
            leg.cause,
            leg.cause_text,
        )
        assert got == expected[uniqueid]
        assert leg.reconciled is False
        check_leg_times(leg)
    assert model.legs == {}
    assert model.calls == {}


@pytest.mark.parametrize("name", TRACES)
def test_replay_gives_exactly_the_recorded_calls(name: str) -> None:
    _, ledger, _ = replay(trace_messages(name))
    expected = EXPECTED_CALLS[name]
    assert set(ledger.calls) == set(expected)
    for call_id, call in ledger.calls.items():
        got = ExpectedCall(
            call.trunk,
            call.caller_number,
            call.caller_name,
            call.started_at,
            call.answered_at,
            call.ended_at,
        )
        assert got == expected[call_id]
        assert call.merged_into is None
    answered = sum(1 for call in expected.values() if call.answered is not None)
    assert ledger.counts.get("CallStarted") == len(expected)
    assert ledger.counts.get("CallAnswered", 0) == answered
    assert ledger.counts.get("CallEnded") == len(expected)
    assert "CallMerged" not in ledger.counts


@pytest.mark.parametrize("name", TRACES)
def test_each_call_ends_once_right_after_its_last_leg(name: str) -> None:
    _, _, emitted = replay(trace_messages(name))
    legs = EXPECTED_LEGS[name]
    for i, event in enumerate(emitted):
        if isinstance(event, ev.CallEnded):
            mine = [u for u, leg in legs.items() if leg.call_id == event.call_id]
            last = max(mine, key=lambda u: legs[u].ended or legs[u].created)
            before = emitted[i - 1]
            assert isinstance(before, ev.LegEnded) and before.uniqueid == last
            assert event.at == before.at == legs[last].ended
    ended = [e.call_id for e in emitted if isinstance(e, ev.CallEnded)]
    assert sorted(ended) == sorted(EXPECTED_CALLS[name])


@pytest.mark.parametrize("name", TRACES)
def test_bridge_joins_and_leaves_pair_up(name: str) -> None:
    _, ledger, emitted = replay(trace_messages(name))
    stays = {u: leg.stays for u, leg in ledger.legs.items() if leg.stays}
    want = {
        u: [(b, ts(joined), ts(left)) for b, joined, left in s]
        for u, s in EXPECTED_STAYS.get(name, {}).items()
    }
    assert stays == want
    joins = [(e.uniqueid, e.bridge_id) for e in emitted if isinstance(e, ev.LegJoinedBridge)]
    leaves = [(e.uniqueid, e.bridge_id) for e in emitted if isinstance(e, ev.LegLeftBridge)]
    assert sorted(joins) == sorted(leaves)


@pytest.mark.parametrize("name", TRACES)
def test_every_time_comes_from_the_ami_timestamp(name: str) -> None:
    messages = trace_messages(name)
    stamps = {ts(m["Timestamp"]) for m in messages if "Timestamp" in m}
    _, _, emitted = replay(messages, now=NOT_THE_TIME)
    assert emitted
    for event in emitted:
        assert event.at.tzinfo is not None
        assert event.at.utcoffset() == timedelta(0)
        assert event.at in stamps, event


def test_operators_learn_their_trunk_from_ld_trunk_and_nothing_else_changes() -> None:
    """Newchannel carries LD_* empty; NewConnectedLine then brings LD_TRUNK (and
    an LD_ROLE equal to what the endpoint name said, so no role change)."""
    _, _, emitted = replay(trace_messages("answered_110"))
    updates = [e for e in emitted if isinstance(e, ev.LegUpdated)]
    assert [(u.uniqueid, u.role, u.trunk, u.at) for u in updates] == [
        ("liandong-1795930660.1", None, Desk.D110, ts("1795930660.857139")),
        ("liandong-1795930660.2", None, Desk.D110, ts("1795930660.857254")),
    ]
    started = {e.uniqueid: e for e in emitted if isinstance(e, ev.LegStarted)}
    assert started["liandong-1795930660.1"].trunk is None
    assert started["liandong-1795930660.0"].trunk is Desk.D110


def test_the_citizen_rings_when_the_first_phone_does() -> None:
    _, _, emitted = replay(trace_messages("answered_110"))
    ringing = [(e.uniqueid, e.at) for e in emitted if isinstance(e, ev.LegRinging)]
    assert ringing == [
        ("liandong-1795930660.1", ts("1795930660.860273")),
        ("liandong-1795930660.0", ts("1795930660.860273")),
        ("liandong-1795930660.2", ts("1795930660.861015")),
    ]


def test_the_call_is_answered_when_the_citizen_goes_up_after_the_operator() -> None:
    _, _, emitted = replay(trace_messages("answered_110"))
    kinds = [type(e).__name__ for e in emitted]
    i = kinds.index("CallAnswered")
    assert kinds[i - 2 : i + 1] == ["LegAnswered", "LegAnswered", "CallAnswered"]
    assert emitted[i] == ev.CallAnswered("liandong-1795930660.0", ts("1795930661.165590"))


def test_all_traces_in_one_stream_give_every_leg_once() -> None:
    """One Asterisk run recorded all five (Uptime 0 → 13, Uniqueids run on):
    concatenated, they are one valid stream."""
    messages = [m for name in TRACES for m in trace_messages(name)]
    model, ledger, _ = replay(messages)
    want = {u for legs in EXPECTED_LEGS.values() for u in legs}
    assert set(ledger.legs) == want
    assert len(want) == 3 + 3 + 3 + 3 + 9
    assert ledger.counts["CallStarted"] == ledger.counts["CallEnded"] == 10
    assert ledger.counts["CallAnswered"] == 3
    assert model.legs == {} and model.calls == {}


@pytest.mark.parametrize("name", TRACES)
def test_every_message_delivered_twice_changes_nothing(name: str) -> None:
    messages = trace_messages(name)
    _, _, once = replay(messages)
    _, _, twice = replay(m for msg in messages for m in (msg, msg))
    assert twice == once


# ---------------------------------------------------------------- framing + model


def _frame_and_replay(chunks: list[bytes]) -> Ledger:
    framer = AmiFramer()
    model, ledger = CallModel(), Ledger()
    for chunk in chunks:
        framer.receive_data(chunk)
        for item in framer.messages():
            assert not isinstance(item, FrameError), item
            ledger.apply_batch(model.handle(item, NOT_THE_TIME))
    assert framer.buffered_bytes == 0
    assert model.legs == {}
    return ledger


def _interesting_offsets(data: bytes, budget: int) -> list[int]:
    """Every offset that cuts a multi-byte character or sits within a few bytes
    of a message end, plus evenly spread others, up to about `budget`."""
    picked: set[int] = set()
    picked.update(i for i, byte in enumerate(data) if 0x80 <= byte < 0xC0)  # inside a character
    start = 0
    while (end := data.find(b"\r\n\r\n", start)) >= 0:
        picked.update(range(max(0, end - 2), min(len(data), end + 6)))
        start = end + 4
    half = budget // 2
    chosen = set(sorted(picked)[:: -(-len(picked) // half)])
    chosen.update(range(0, len(data) + 1, -(-len(data) // half)))
    return sorted(chosen)


@pytest.mark.parametrize("name", TRACES)
def test_the_same_legs_whatever_the_byte_split(name: str) -> None:
    data = trace_bytes(name)
    whole = _frame_and_replay([data]).snapshot()
    _, reference, _ = replay(trace_messages(name))
    assert whole == reference.snapshot()
    offsets = _interesting_offsets(data, budget=400)
    assert len(offsets) > 250
    for cut in offsets:
        assert _frame_and_replay([data[:cut], data[cut:]]).snapshot() == whole, cut
    rng = random.Random(name)
    for _ in range(20):
        chunks, i = [], 0
        while i < len(data):
            step = rng.randint(1, 300)
            chunks.append(data[i : i + step])
            i += step
        assert _frame_and_replay(chunks).snapshot() == whole


def test_a_chinese_name_cut_in_half_survives() -> None:
    data = trace_bytes("answered_110")
    name = "张三丰".encode()
    at = data.index(name) + 1  # inside 张
    ledger = _frame_and_replay([data[:at], data[at:]])
    assert ledger.legs["liandong-1795930660.0"].caller_name == "张三丰"
    assert ledger.calls["liandong-1795930660.0"].caller_name == "张三丰"


def test_a_split_trace_is_framed_into_the_same_messages() -> None:
    data = trace_bytes("burst_12345")
    framer = AmiFramer()
    got: list[AmiMessage] = []
    for i in range(0, len(data), 7):
        framer.receive_data(data[i : i + 7])
        got += [m for m in framer.messages() if isinstance(m, AmiMessage)]
    assert got == trace_messages("burst_12345")
