"""The call model's rules on synthetic AMI messages laid out as Asterisk 22 sends them:
idempotence, Linkedid merges and aliases, plumbing channels, roles learned late,
Timestamp handling."""

from __future__ import annotations

from datetime import UTC, datetime

from test_call_model_kit import NOT_THE_TIME, Ledger, channel_event, ts

from ami_client.message import AmiMessage
from common.vocabulary import Desk
from telephony.core import events as ev
from telephony.core.events import Direction, LegRole
from telephony.core.model import CallModel

T0 = 1795940000


def at(n: float) -> str:
    return f"{T0 + n:.6f}"


class Line:
    """A model and a ledger fed together; every batch is checked by the ledger."""

    def __init__(self) -> None:
        self.model = CallModel()
        self.ledger = Ledger()

    def __call__(self, msg: AmiMessage, now: datetime = NOT_THE_TIME) -> list[ev.DomainEvent]:
        out = self.model.handle(msg, now)
        self.ledger.apply_batch(out)
        return out


# Two calls, each a citizen on a trunk and an operator phone.
A, B = "liandong-1795940000.1", "liandong-1795940000.5"
A0, A1 = A, "liandong-1795940000.2"
B0, B1 = B, "liandong-1795940000.6"
C0 = "liandong-1795940000.9"
CHAN = {
    A0: "PJSIP/trunk-110-00000001",
    A1: "PJSIP/op110-1-00000002",
    B0: "PJSIP/trunk-12345-00000005",
    B1: "PJSIP/op12345-1-00000006",
    C0: "PJSIP/unit-01-00000009",
}


def newchannel(
    uid: str,
    linkedid: str,
    t: float,
    *,
    number: str = "",
    name: str = "",
    role: str = "",
    trunk: str = "",
) -> AmiMessage:
    """A Newchannel as Asterisk sends it: a trunk channel in Ring, a phone Down."""
    state = "4" if CHAN[uid].startswith("PJSIP/trunk") else "0"
    return channel_event(
        "Newchannel",
        uid,
        CHAN[uid],
        linkedid,
        at=at(t),
        state=state,
        number=number or "<unknown>",
        name=name or "<unknown>",
        role=role,
        trunk=trunk,
    )


def event(kind: str, uid: str, linkedid: str, t: float, **kw: str) -> AmiMessage:
    """A channel event of `kind`; Capitalised keywords become extra headers."""
    extra = [(k, v) for k, v in kw.items() if k[0].isupper()]
    rest = {k: v for k, v in kw.items() if not k[0].isupper()}
    return channel_event(kind, uid, CHAN[uid], linkedid, at=at(t), extra=extra, **rest)


def hangup(uid: str, linkedid: str, t: float, cause: str = "16") -> AmiMessage:
    return event("Hangup", uid, linkedid, t, Cause=cause, **{"Cause-txt": "Normal Clearing"})


def two_answered_calls(line: Line) -> None:
    line(newchannel(A0, A, 0, number="13900001", name="张三丰"))
    line(newchannel(A1, A, 0.1))
    line(event("Newstate", A1, A, 0.5, state="6"))
    line(event("Newstate", A0, A, 0.6, state="6"))
    line(newchannel(B0, B, 1, number="13800001", name="李四"))
    line(newchannel(B1, B, 1.1))
    line(event("Newstate", B1, B, 1.5, state="6"))
    line(event("Newstate", B0, B, 1.6, state="6"))
    assert set(line.model.calls) == {A, B}


# ---------------------------------------------------------------- idempotence


def test_a_duplicate_newchannel_emits_no_second_leg() -> None:
    line = Line()
    first = line(newchannel(A0, A, 0, number="13900001"))
    assert [type(e) for e in first] == [ev.CallStarted, ev.LegStarted]
    assert line(newchannel(A0, A, 0)) == []
    assert line(newchannel(A0, A, 0.2, role="citizen")) == []  # same role as the endpoint's
    assert list(line.model.legs) == [A0]


def test_a_duplicate_newchannel_that_brings_ld_role_updates_the_role_only() -> None:
    line = Line()
    line(newchannel(A0, A, 0))
    out = line(newchannel(A0, A, 0.2, role="unit"))
    assert [(type(e), getattr(e, "role", None)) for e in out] == [(ev.LegUpdated, LegRole.UNIT)]


def test_a_hangup_for_an_unknown_uniqueid_emits_nothing() -> None:
    line = Line()
    line(newchannel(A0, A, 0))
    stranger = channel_event(
        "Hangup",
        "liandong-999.9",
        "PJSIP/op110-2-00000099",
        "liandong-999.9",
        at=at(1),
        extra=[("Cause", "16"), ("Cause-txt", "Normal Clearing")],
    )
    assert line(stranger) == []
    assert list(line.model.legs) == [A0]


def test_a_second_hangup_and_late_events_for_an_ended_leg_emit_nothing() -> None:
    line = Line()
    line(newchannel(A0, A, 0))
    assert [type(e) for e in line(hangup(A0, A, 1))] == [ev.LegEnded, ev.CallEnded]
    assert line(hangup(A0, A, 1)) == []
    assert line(event("Newstate", A0, A, 1.1, state="6")) == []
    assert line(event("BridgeEnter", A0, A, 1.2, BridgeUniqueid="b")) == []
    # A late copy of its Newchannel must not bring the leg back to life.
    assert line(newchannel(A0, A, 0)) == []
    assert line.model.legs == {} and line.model.calls == {}


def test_duplicate_state_and_bridge_events_are_idempotent() -> None:
    line = Line()
    line(newchannel(A0, A, 0))
    line(newchannel(A1, A, 0.1))
    line(event("DialBegin", A0, A, 0.2, DestUniqueid=A1))
    ring = event("Newstate", A1, A, 0.3, state="5")
    assert [type(e) for e in line(ring)] == [ev.LegRinging, ev.LegRinging]
    assert line(ring) == []
    up = event("Newstate", A1, A, 0.4, state="6")
    assert [type(e) for e in line(up)] == [ev.LegAnswered]
    assert line(up) == []
    assert line(event("Newstate", A1, A, 0.45, state="5")) == []  # no ringing after answer
    enter = event("BridgeEnter", A1, A, 0.5, BridgeUniqueid="b1")
    assert line(enter) == [ev.LegJoinedBridge(A1, "b1", ts(at(0.5)))]
    assert line(enter) == []
    leave = event("BridgeLeave", A1, A, 0.6, BridgeUniqueid="b1")
    assert line(leave) == [ev.LegLeftBridge(A1, "b1", ts(at(0.6)))]
    assert line(leave) == []


def test_hanging_up_inside_a_bridge_leaves_it_first() -> None:
    line = Line()
    line(newchannel(A0, A, 0))
    line(event("BridgeEnter", A0, A, 0.5, BridgeUniqueid="b1"))
    out = line(hangup(A0, A, 1))
    assert out == [
        ev.LegLeftBridge(A0, "b1", ts(at(1))),
        ev.LegEnded(A0, ts(at(1)), 16, "Normal Clearing"),
        ev.CallEnded(A, ts(at(1))),
    ]


# ---------------------------------------------------------------- times


def test_an_event_without_timestamp_takes_now_and_a_bad_one_too() -> None:
    now = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    line = Line()
    bare = AmiMessage.from_pairs((k, v) for k, v in newchannel(A0, A, 0) if k != "Timestamp")
    assert {e.at for e in line(bare, now)} == {now}
    for bad in ("", "soon", "nan", "inf", "1e300", "-1e300"):
        line2 = Line()
        msg = AmiMessage.from_pairs(
            (k, bad if k == "Timestamp" else v) for k, v in newchannel(A0, A, 0)
        )
        assert {e.at for e in line2(msg, now)} == {now}, bad


def test_the_timestamp_is_read_to_the_microsecond_in_utc() -> None:
    line = Line()
    out = line(channel_event("Newchannel", A0, CHAN[A0], A, at="1795930660.849372", state="4"))
    assert {e.at for e in out} == {datetime(2026, 11, 29, 5, 37, 40, 849372, tzinfo=UTC)}


# ---------------------------------------------------------------- linkedid merges


def test_a_leg_reporting_another_calls_linkedid_merges_its_call_once() -> None:
    line = Line()
    two_answered_calls(line)
    # An attended transfer: B's operator leg now carries A's Linkedid.
    out = line(event("BridgeEnter", B1, A, 2, BridgeUniqueid="b-xfer"))
    assert out == [ev.CallMerged(B, A, ts(at(2))), ev.LegJoinedBridge(B1, "b-xfer", ts(at(2)))]
    assert line(event("BridgeEnter", B0, A, 2.1, BridgeUniqueid="b-xfer")) == [
        ev.LegJoinedBridge(B0, "b-xfer", ts(at(2.1)))
    ]
    # A stale event still naming B maps to A: no second merge, nothing else.
    assert line(event("NewConnectedLine", B0, B, 2.2)) == []
    assert {u: leg.call_id for u, leg in line.model.legs.items()} == dict.fromkeys(
        [A0, A1, B0, B1], A
    )
    assert set(line.model.calls) == {A}
    assert line.ledger.calls[B].merged_into == A
    assert line.ledger.legs_of(A) == {A0, A1, B0, B1}

    assert [type(e) for e in line(hangup(A0, A, 3))] == [ev.LegEnded]
    assert [type(e) for e in line(hangup(A1, A, 3.1))] == [ev.LegEnded]
    assert [type(e) for e in line(hangup(B0, A, 3.2))] == [ev.LegLeftBridge, ev.LegEnded]
    out = line(hangup(B1, B, 3.3))  # its Hangup may still name B
    assert [type(e) for e in out] == [ev.LegLeftBridge, ev.LegEnded, ev.CallEnded]
    assert out[-1] == ev.CallEnded(A, ts(at(3.3)))
    assert line.ledger.counts["CallMerged"] == 1
    assert line.ledger.counts["CallEnded"] == 1
    assert line.model.calls == {} and line.model.legs == {}


def test_merging_an_answered_call_into_a_ringing_one_answers_it() -> None:
    line = Line()
    line(newchannel(A0, A, 0))
    line(newchannel(A1, A, 0.1))
    line(event("Newstate", A1, A, 0.2, state="5"))
    line(newchannel(B0, B, 1))
    line(newchannel(B1, B, 1.1))
    line(event("Newstate", B1, B, 1.2, state="6"))
    line(event("Newstate", B0, B, 1.3, state="6"))
    out = line(event("NewConnectedLine", B0, A, 2))
    assert out == [ev.CallMerged(B, A, ts(at(2))), ev.CallAnswered(A, ts(at(2)))]
    assert line(event("Newstate", A1, A, 2.5, state="6")) == [ev.LegAnswered(A1, ts(at(2.5)))]


def test_an_unknown_linkedid_is_a_new_name_for_the_same_call() -> None:
    line = Line()
    line(newchannel(A0, A, 0))
    z = "liandong-1795940000.77"
    assert line(event("NewConnectedLine", A0, z, 1)) == []
    # A new channel with that Linkedid joins the same call, no CallStarted.
    out = line(channel_event("Newchannel", "u-new", "PJSIP/unit-01-00000009", z, at=at(2)))
    assert [type(e) for e in out] == [ev.LegStarted]
    assert isinstance(out[0], ev.LegStarted) and out[0].call_id == A
    assert line(event("Newstate", A0, z, 3, state="6")) == [ev.LegAnswered(A0, ts(at(3)))]
    assert set(line.model.calls) == {A}
    line(hangup(A0, z, 4))
    out = line(
        channel_event(
            "Hangup", "u-new", "PJSIP/unit-01-00000009", z, at=at(5), extra=[("Cause", "16")]
        )
    )
    assert out[-1] == ev.CallEnded(A, ts(at(5)))
    assert "CallMerged" not in line.ledger.counts
    # The alias died with its call: the same Linkedid now names a call of its own.
    out = line(channel_event("Newchannel", "u-later", "PJSIP/unit-02-0000000a", z, at=at(6)))
    assert [type(e) for e in out] == [ev.CallStarted, ev.LegStarted]
    assert out[0] == ev.CallStarted(z, None, None, None, ts(at(6)))


def test_merges_chain_old_names_to_the_last_survivor() -> None:
    line = Line()
    two_answered_calls(line)
    line(newchannel(C0, C0, 2))
    line(event("NewConnectedLine", B1, A, 3))  # B → A
    out = line(event("NewConnectedLine", A0, C0, 4))  # A (with B) → C
    # C (a unit's phone, not yet up) takes over A's answer.
    assert out == [ev.CallMerged(A, C0, ts(at(4))), ev.CallAnswered(C0, ts(at(4)))]
    assert {leg.call_id for leg in line.model.legs.values()} == {C0}
    # Events naming the old ids (A or B) follow to C and merge nothing.
    assert line(event("NewConnectedLine", B0, B, 5)) == []
    assert line(event("NewConnectedLine", A1, A, 5)) == []
    assert set(line.model.calls) == {C0}
    for n, uid in enumerate([A0, A1, B0, B1, C0]):
        out = line(hangup(uid, B, 6 + n))
    assert out[-1] == ev.CallEnded(C0, ts(at(10)))
    assert line.ledger.counts["CallEnded"] == 1


# ---------------------------------------------------------------- plumbing


def test_local_channels_are_not_legs_but_what_they_dial_is() -> None:
    line = Line()
    local1 = "Local/110@ring-desk-00000003;1"
    local2 = "Local/110@ring-desk-00000003;2"
    l1, l2 = "liandong-1795940000.3", "liandong-1795940000.4"

    def local(name: str, uid: str, chan: str, t: float, **kw: str) -> AmiMessage:
        extra = [(k, v) for k, v in kw.items() if k[0].isupper()]
        state = kw.get("state", "0")
        return channel_event(name, uid, chan, A, at=at(t), state=state, extra=extra)

    line(newchannel(A0, A, 0, number="13900001", name="张三丰"))
    assert line(local("Newchannel", l1, local1, 0.1)) == []
    assert line(local("Newchannel", l2, local2, 0.1)) == []
    assert line(local("DialBegin", A0, CHAN[A0], 0.15, DestUniqueid=l1)) == []
    assert line(newchannel(A1, A, 0.2)) != []  # the phone the Local channel dials
    assert line(local("DialBegin", l2, local2, 0.25, DestUniqueid=A1)) == []
    assert line(local("Newstate", l1, local1, 0.3, state="5")) == []
    assert line(local("BridgeEnter", l2, local2, 0.4, BridgeUniqueid="b")) == []
    assert line(local("Newstate", l2, local2, 0.45, state="6")) == []
    out = line(event("Newstate", A1, A, 0.5, state="6"))
    assert out == [ev.LegAnswered(A1, ts(at(0.5)))]
    assert line(local("Hangup", l1, local1, 1, Cause="16")) == []
    assert line(local("Hangup", l2, local2, 1, Cause="16")) == []
    assert set(line.model.legs) == {A0, A1}
    assert line.ledger.legs[A1].call_id == A
    assert line.ledger.legs[A1].role is LegRole.OPERATOR_110
    for plumbing in ("CBAnn/conf-00000001", "Snoop/liandong-1-00000002", "Recorder/x-1"):
        assert line(channel_event("Newchannel", "p-" + plumbing, plumbing, A, at=at(2))) == []
    assert set(line.model.legs) == {A0, A1}


# ---------------------------------------------------------------- roles learned late


def test_role_from_the_endpoint_then_from_ld_role_and_trunk_from_ld_trunk() -> None:
    line = Line()
    (started,) = line(newchannel(A1, A, 0))[1:]  # empty LD_ROLE / LD_TRUNK
    assert isinstance(started, ev.LegStarted)
    assert (started.role, started.trunk, started.endpoint) == (
        LegRole.OPERATOR_110,
        None,
        "op110-1",
    )
    out = line(event("NewConnectedLine", A1, A, 1, role="operator_110", trunk="110"))
    assert out == [ev.LegUpdated(A1, CHAN[A1], None, None, ts(at(1)), role=None, trunk=Desk.D110)]
    # The phone was moved to the other desk: its LD_ROLE says so.
    out = line(event("Newstate", A1, A, 2, state="5", role="operator_12345", trunk="110"))
    assert out[0] == ev.LegUpdated(
        A1, CHAN[A1], None, None, ts(at(2)), role=LegRole.OPERATOR_12345, trunk=None
    )
    assert isinstance(out[1], ev.LegRinging)
    assert line.ledger.legs[A1].role is LegRole.OPERATOR_12345
    assert line.ledger.legs[A1].trunk is Desk.D110
    # Nonsense values are ignored, and so is the same value again.
    assert line(event("Newstate", A1, A, 3, state="5", role="boss", trunk="999")) == []
    assert line(event("Newstate", A1, A, 3, state="5", role="operator_12345")) == []


def test_an_unknown_endpoint_is_unknown_until_ld_role_names_it() -> None:
    line = Line()
    uid, chan = "liandong-1795940000.30", "PJSIP/softphone-7-0000001e"
    out = line(channel_event("Newchannel", uid, chan, uid, at=at(0), state="4"))
    assert out[1] == ev.LegStarted(
        uid,
        uid,
        chan,
        "softphone-7",
        LegRole.UNKNOWN,
        None,
        Direction.INBOUND,
        None,
        None,
        ts(at(0)),
    )
    out = line(channel_event("Newstate", uid, chan, uid, at=at(1), state="6", role="unit"))
    assert out == [
        ev.LegUpdated(uid, chan, None, None, ts(at(1)), role=LegRole.UNIT),
        ev.LegAnswered(uid, ts(at(1))),
    ]


def test_ld_role_on_the_newchannel_itself_wins_over_the_endpoint_name() -> None:
    line = Line()
    out = line(newchannel(A0, A, 0, role="unit", trunk="12345"))
    started = out[1]
    assert isinstance(started, ev.LegStarted)
    assert (started.role, started.trunk) == (LegRole.UNIT, Desk.D12345)
    assert out[0] == ev.CallStarted(A, Desk.D12345, None, None, ts(at(0)))


def test_caller_id_changes_and_renames_update_the_leg() -> None:
    line = Line()
    line(newchannel(A0, A, 0, number="13900001", name="张三丰"))
    out = line(event("NewCallerid", A0, A, 1, number="13900001", name="张三丰"))
    assert out == []
    out = line(event("NewCallerid", A0, A, 2, number="13900002", name="张 三"))
    assert out == [ev.LegUpdated(A0, CHAN[A0], "13900002", "张 三", ts(at(2)))]
    rename = event("Rename", A0, A, 3, Newname="PJSIP/trunk-110-00000001<MASQ>")
    out = line(rename)
    assert out == [
        ev.LegUpdated(A0, "PJSIP/trunk-110-00000001<MASQ>", "13900002", "张 三", ts(at(3)))
    ]
    assert line(rename) == []


def test_a_caller_rings_from_the_dialbegin_when_its_phone_rang_first() -> None:
    """As in cancel_110: the phone's Newstate Ringing precedes the DialBegin."""
    line = Line()
    line(newchannel(A0, A, 0))
    line(newchannel(A1, A, 0.1))
    assert line(event("Newstate", A1, A, 0.2, state="5")) == [ev.LegRinging(A1, ts(at(0.2)))]
    out = line(event("DialBegin", A0, A, 0.3, DestUniqueid=A1))
    assert out == [ev.LegRinging(A0, ts(at(0.3)))]
    assert line(event("DialBegin", A0, A, 0.3, DestUniqueid=A1)) == []
    assert line.ledger.legs[A1].direction is Direction.OUTBOUND


def test_a_linkedid_that_outlived_its_call_starts_a_new_call_not_the_old_one_again() -> None:
    """A notice call through a Local channel: Local;2 rings unit-01 (no answer),
    then unit-02. Both phones carry the Local channel's Linkedid; the first call
    has ended by the time the second phone's channel appears."""
    line = Line()
    lx = "liandong-1795940000.40"  # Local/notice@ivr-notice-00000004;1
    u1, u2 = "liandong-1795940000.42", "liandong-1795940000.43"
    unit1, unit2 = "PJSIP/unit-01-0000002a", "PJSIP/unit-02-0000002b"
    out = line(channel_event("Newchannel", u1, unit1, lx, at=at(0)))
    assert [type(e) for e in out] == [ev.CallStarted, ev.LegStarted]
    assert isinstance(out[0], ev.CallStarted) and out[0].call_id == lx
    line(channel_event("Newstate", u1, unit1, lx, at=at(1), state="5"))
    out = line(channel_event("Hangup", u1, unit1, lx, at=at(20), extra=[("Cause", "19")]))
    assert out[-1] == ev.CallEnded(lx, ts(at(20)))
    out = line(channel_event("Newchannel", u2, unit2, lx, at=at(21)))
    assert out == [
        ev.CallStarted(u2, None, None, None, ts(at(21))),
        ev.LegStarted(
            u2, u2, unit2, "unit-02", LegRole.UNIT, None, Direction.OUTBOUND, None, None, ts(at(21))
        ),
    ]
    # Later events with that Linkedid stay in the new call.
    assert line(channel_event("Newstate", u2, unit2, lx, at=at(22), state="6")) == [
        ev.LegAnswered(u2, ts(at(22)))
    ]
    out = line(channel_event("Hangup", u2, unit2, lx, at=at(30), extra=[("Cause", "16")]))
    assert out[-1] == ev.CallEnded(u2, ts(at(30)))
    assert line.ledger.counts["CallStarted"] == line.ledger.counts["CallEnded"] == 2


def test_the_dialplans_start_extension_is_not_a_callers_number() -> None:
    """A phone without its own caller ID gets Asterisk's "s" as its number."""
    line = Line()
    line(newchannel(A0, A, 0, number="13900001"))
    line(newchannel(C0, A, 0.1, number="s", name="110坐席1"))
    leg = line.model.legs[C0]
    assert (leg.caller_number, leg.caller_name) == (None, "110坐席1")
    updated = line(event("NewCallerid", C0, A, 0.2, number="s", name="110坐席1"))
    assert updated == [] and line.model.legs[C0].caller_number is None
