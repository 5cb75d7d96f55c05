"""restore() and sync(): reconciling the model with the database's open legs and
Asterisk's live channel list (CoreShowChannels) after a restart or reconnect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from test_call_model_kit import Ledger, channel_event, core_show_channel, ts

from ami_client.message import AmiMessage
from common.vocabulary import Desk
from telephony.core import events as ev
from telephony.core.events import Direction, LegRole
from telephony.core.model import CallModel, Ending, KnownLeg

NOW = datetime(2026, 11, 29, 6, 0, 0, tzinfo=UTC)

# The database believes these legs are live: call X (a citizen and an operator,
# talking) and call Y (a citizen still ringing the desk).
X, Y = "liandong-1795930000.10", "liandong-1795930000.20"
X0, X1, Y0 = X, "liandong-1795930000.11", Y
KNOWN = [
    KnownLeg(
        X0,
        X,
        "PJSIP/trunk-110-0000000a",
        "trunk-110",
        LegRole.CITIZEN,
        Desk.D110,
        Direction.INBOUND,
        answered=True,
    ),
    KnownLeg(
        X1,
        X,
        "PJSIP/op110-1-0000000b",
        "op110-1",
        LegRole.OPERATOR_110,
        Desk.D110,
        Direction.OUTBOUND,
        answered=True,
    ),
    KnownLeg(
        Y0,
        Y,
        "PJSIP/trunk-12345-00000014",
        "trunk-12345",
        LegRole.CITIZEN,
        Desk.D12345,
        Direction.INBOUND,
        answered=False,
    ),
]


class Line:
    def __init__(self, known: list[KnownLeg] | None = None) -> None:
        self.model = CallModel()
        self.ledger = Ledger()
        if known:
            self.model.restore(known)
            # What the database had: the same legs and calls, open.
            for k in known:
                if k.call_id not in self.ledger.calls:
                    self.ledger.apply(ev.CallStarted(k.call_id, k.trunk, None, None, NOW))
                self.ledger.apply(
                    ev.LegStarted(
                        k.uniqueid,
                        k.call_id,
                        k.channel,
                        k.endpoint,
                        k.role,
                        k.trunk,
                        k.direction,
                        None,
                        None,
                        NOW - timedelta(minutes=5),
                    )
                )

    def sync(
        self, live: list[AmiMessage], now: datetime = NOW, endings: dict[str, Ending] | None = None
    ) -> list[ev.DomainEvent]:
        out = self.model.sync(live, now, endings)
        self.ledger.apply_batch(out)
        return out

    def handle(self, msg: AmiMessage, now: datetime = NOW) -> list[ev.DomainEvent]:
        out = self.model.handle(msg, now)
        self.ledger.apply_batch(out)
        return out


def live_x0(bridge: str = "br-x") -> AmiMessage:
    return core_show_channel(
        X0,
        "PJSIP/trunk-110-0000000a",
        X,
        state="6",
        number="13900001",
        name="张三丰",
        context="ring-desk",
        exten="s",
        application="Dial",
        application_data="PJSIP/op110-1&PJSIP/op110-2,20,tT",
        duration="00:03:12",
        bridge=bridge,
    )


# ---------------------------------------------------------------- (a) vanished legs


def test_legs_asterisk_no_longer_has_are_closed_with_the_cel_ending_or_now() -> None:
    line = Line(KNOWN)
    cel_end = datetime(2026, 11, 29, 5, 58, 1, 250000, tzinfo=UTC)
    out = line.sync([live_x0()], endings={X1: Ending(cel_end, 26)})
    assert out == [
        ev.LegJoinedBridge(X0, "br-x", NOW),
        ev.LegEnded(X1, cel_end, 26, "Answered elsewhere", reconciled=True),
        ev.LegEnded(Y0, NOW, None, None, reconciled=True, at_bound=True),
        ev.CallEnded(Y, NOW),
    ]
    assert set(line.model.legs) == {X0}
    assert set(line.model.calls) == {X}


def test_a_cel_cause_is_named_by_the_cause_table() -> None:
    line = Line(KNOWN)
    endings = {
        X0: Ending(NOW - timedelta(seconds=30), 16),
        X1: Ending(NOW - timedelta(seconds=31), 127),
        Y0: Ending(NOW - timedelta(seconds=9), 99),
    }
    out = line.sync([], endings=endings)
    ended = {e.uniqueid: (e.cause, e.cause_text) for e in out if isinstance(e, ev.LegEnded)}
    assert ended == {
        X0: (16, "Normal Clearing"),
        X1: (127, "Interworking, unspecified"),
        Y0: (99, "Cause 99"),
    }
    # A known CEL ending without a cause keeps the time and says nothing of why.
    line = Line(KNOWN)
    out = line.sync([], endings={Y0: Ending(NOW - timedelta(seconds=2), None)})
    assert ev.LegEnded(Y0, NOW - timedelta(seconds=2), None, None, True) in out


def test_a_call_ends_when_its_last_leg_ended_not_when_the_last_was_listed() -> None:
    """X0 ended after X1 (CEL), though X0 sorts first by id: CallEnded at X0's end."""
    line = Line(KNOWN)
    late, early = NOW - timedelta(seconds=5), NOW - timedelta(seconds=40)
    out = line.sync([], endings={X0: Ending(late, 16), X1: Ending(early, 16), Y0: Ending(late, 19)})
    assert ev.CallEnded(X, late) in out
    kinds = [(type(e).__name__, getattr(e, "uniqueid", getattr(e, "call_id", ""))) for e in out]
    assert kinds.index(("LegEnded", X0)) + 1 == kinds.index(("CallEnded", X))


def test_a_known_live_leg_catches_up_on_state_and_bridges() -> None:
    line = Line(KNOWN)
    ringing_y0 = core_show_channel(
        Y0,
        "PJSIP/trunk-12345-00000014",
        Y,
        state="5",
        context="ring-desk",
        application="Dial",
        duration="00:00:12",
    )
    assert line.sync([live_x0("br-1"), ringing_y0]) == [
        ev.LegJoinedBridge(X0, "br-1", NOW),
        ev.LegRinging(Y0, NOW),
        ev.LegEnded(X1, NOW, None, None, reconciled=True, at_bound=True),
    ]
    # The citizen moved to another bridge while we were away; Y0 is answered now.
    up_y0 = core_show_channel(
        Y0,
        "PJSIP/trunk-12345-00000014",
        Y,
        state="6",
        context="ring-desk",
        application="Dial",
        duration="00:00:20",
    )
    later = NOW + timedelta(seconds=8)
    out = line.sync([live_x0("br-2"), up_y0], later)
    assert out == [
        ev.LegLeftBridge(X0, "br-1", later),
        ev.LegJoinedBridge(X0, "br-2", later),
        ev.LegAnswered(Y0, NOW, at_bound=True),  # ringing at the last sync: no earlier
    ]
    assert line.sync([live_x0("br-2"), up_y0], later) == []  # a repeated sync changes nothing


def test_restoring_twice_counts_each_leg_once() -> None:
    """Y's citizen alone being up (an IVR) is not an answered call, restored twice or not."""
    known = [
        KnownLeg(
            Y0,
            Y,
            "PJSIP/trunk-12345-00000014",
            "trunk-12345",
            LegRole.CITIZEN,
            Desk.D12345,
            Direction.INBOUND,
            answered=True,
        )
    ]
    line = Line(known)
    line.model.restore(known)
    op = "liandong-1795930000.21"
    line.handle(
        channel_event("Newchannel", op, "PJSIP/op12345-2-00000015", Y, at="1795930000.100000")
    )
    out = line.handle(
        channel_event(
            "Newstate", op, "PJSIP/op12345-2-00000015", Y, state="6", at="1795930001.000000"
        )
    )
    assert out == [ev.LegAnswered(op, ts("1795930001")), ev.CallAnswered(Y, ts("1795930001"))]


# ---------------------------------------------------------------- (b) picked-up channels


def test_a_live_channel_we_never_saw_is_picked_up() -> None:
    line = Line()
    z0, z1 = "liandong-1795930300.40", "liandong-1795930300.41"
    citizen = core_show_channel(
        z0,
        "PJSIP/trunk-110-00000028",
        z0,
        state="6",
        number="13900001",
        name="张三丰",
        context="ring-desk",
        exten="s",
        application="Dial",
        application_data="PJSIP/op110-1&PJSIP/op110-2,20,tT",
        duration="00:00:09",
        bridge="br-z",
    )
    phone = core_show_channel(
        z1,
        "PJSIP/op110-2-00000029",
        z0,
        state="6",
        number="8102",
        name="110坐席2",
        context="from-desk",
        exten="",
        duration="00:00:07",
        bridge="br-z",
    )
    # Listed youngest first: the call still starts with its oldest leg.
    out = line.sync([phone, citizen])
    assert out == [
        ev.CallStarted(z0, Desk.D110, "13900001", "张三丰", NOW - timedelta(seconds=9)),
        ev.LegStarted(
            z0,
            z0,
            "PJSIP/trunk-110-00000028",
            "trunk-110",
            LegRole.CITIZEN,
            Desk.D110,
            Direction.INBOUND,
            "13900001",
            "张三丰",
            NOW - timedelta(seconds=9),
        ),
        ev.LegAnswered(z0, NOW - timedelta(seconds=9), at_bound=True),  # at the earliest
        ev.LegJoinedBridge(z0, "br-z", NOW),
        ev.LegStarted(
            z1,
            z0,
            "PJSIP/op110-2-00000029",
            "op110-2",
            LegRole.OPERATOR_110,
            None,
            Direction.OUTBOUND,
            "8102",
            "110坐席2",
            NOW - timedelta(seconds=7),
        ),
        ev.LegAnswered(z1, NOW - timedelta(seconds=7), at_bound=True),
        ev.CallAnswered(z0, NOW - timedelta(seconds=7)),
        ev.LegJoinedBridge(z1, "br-z", NOW),
    ]
    assert set(line.model.legs) == {z0, z1}


def test_a_ringing_channel_is_picked_up_ringing_and_not_answered() -> None:
    line = Line()
    uid = "liandong-1795930300.50"
    ringing = core_show_channel(
        uid,
        "PJSIP/unit-03-00000032",
        uid,
        state="5",
        context="",
        exten="",
        application="",
        application_data="",
        duration="01:02:03",
    )
    out = line.sync([ringing])
    started = out[1]
    assert isinstance(started, ev.LegStarted)
    assert started.at == NOW - timedelta(hours=1, minutes=2, seconds=3)
    assert (started.role, started.direction) == (LegRole.UNIT, Direction.OUTBOUND)
    assert out[2:] == [ev.LegRinging(uid, NOW)]


def test_plumbing_and_nameless_channels_in_the_list_are_ignored() -> None:
    line = Line(KNOWN)
    local = core_show_channel("loc-1", "Local/110@ring-desk-00000001;2", X, duration="00:00:03")
    nameless = core_show_channel("", "PJSIP/op110-2-00000031", X)
    out = line.sync([live_x0(), local, nameless], endings={})
    assert "loc-1" not in line.model.legs
    assert not any(isinstance(e, ev.LegStarted) for e in out)


def test_a_picked_up_channel_joins_a_known_call_that_now_has_a_new_linkedid() -> None:
    line = Line(KNOWN)
    x0_new_name = core_show_channel(
        X0,
        "PJSIP/trunk-110-0000000a",
        "liandong-1795930000.99",
        state="6",
        application="Dial",
        context="ring-desk",
        duration="00:05:00",
    )
    unit = core_show_channel(
        "liandong-1795930000.99",
        "PJSIP/unit-01-00000063",
        "liandong-1795930000.99",
        state="6",
        duration="00:00:30",
    )
    out = line.sync([x0_new_name, unit], endings={})
    started = [e for e in out if isinstance(e, ev.LegStarted)]
    assert [(e.uniqueid, e.call_id) for e in started] == [("liandong-1795930000.99", X)]
    assert not any(isinstance(e, ev.CallStarted | ev.CallMerged) for e in out)


# ---------------------------------------------------------------- (c) then events go on


def test_a_picked_up_channel_then_ends_on_its_normal_hangup() -> None:
    line = Line()
    uid = "liandong-1795930300.60"
    chan = "PJSIP/trunk-110-0000003c"
    playing = core_show_channel(
        uid,
        chan,
        uid,
        state="4",
        context="from-trunk-110",
        application="Playback",
        duration="00:00:02",
    )
    line.sync([playing])
    # The Newchannel that was queued behind the snapshot: nothing new.
    assert (
        line.handle(channel_event("Newchannel", uid, chan, uid, state="4", at="1795930298.000000"))
        == []
    )
    hangup = channel_event(
        "Hangup",
        uid,
        chan,
        uid,
        state="4",
        at="1795930310.500000",
        extra=[("Cause", "16"), ("Cause-txt", "Normal Clearing")],
    )
    out = line.handle(hangup)
    assert out == [
        ev.LegEnded(uid, ts("1795930310.5"), 16, "Normal Clearing", reconciled=False),
        ev.CallEnded(uid, ts("1795930310.5")),
    ]
    assert line.model.legs == {} and line.model.calls == {}


def test_a_restored_leg_ends_on_its_hangup_without_any_sync() -> None:
    line = Line(KNOWN)
    out = line.handle(
        channel_event(
            "Hangup",
            Y0,
            "PJSIP/trunk-12345-00000014",
            Y,
            state="5",
            at="1795930400.000000",
            extra=[("Cause", "19"), ("Cause-txt", "User alerting, no answer")],
        )
    )
    assert out == [
        ev.LegEnded(Y0, ts("1795930400"), 19, "User alerting, no answer"),
        ev.CallEnded(Y, ts("1795930400")),
    ]


# ---------------------------------------------------------------- (d) nothing stays open


def test_a_sync_with_no_live_channels_closes_everything() -> None:
    line = Line(KNOWN)
    z = "liandong-1795930300.70"
    line.sync([live_x0(), core_show_channel(z, "PJSIP/unit-02-00000046", z)])
    out = line.sync([], NOW + timedelta(minutes=1))
    later = NOW + timedelta(minutes=1)
    assert line.model.legs == {}
    assert line.model.calls == {}
    assert line.ledger.open_legs == set() and line.ledger.open_calls == set()
    assert {e.uniqueid for e in out if isinstance(e, ev.LegEnded)} == {X0, z}
    assert all(e.reconciled and e.at == later for e in out if isinstance(e, ev.LegEnded))
    assert {e.call_id for e in out if isinstance(e, ev.CallEnded)} == {X, z}
    assert line.sync([], later) == []


def test_a_caller_that_vanished_gets_no_ringback_from_its_ringing_phone() -> None:
    """The citizen hung up while we were away; its phone still rings (for now):
    the citizen is closed, not marked ringing after it ended."""
    line = Line()
    c, p = "liandong-1795930500.1", "liandong-1795930500.2"
    line.handle(
        channel_event(
            "Newchannel", c, "PJSIP/trunk-110-00000001", c, state="4", at="1795930500.000000"
        )
    )
    line.handle(channel_event("Newchannel", p, "PJSIP/op110-1-00000002", c, at="1795930500.100000"))
    line.handle(
        channel_event(
            "DialBegin",
            c,
            "PJSIP/trunk-110-00000001",
            c,
            state="4",
            at="1795930500.200000",
            extra=[("DestUniqueid", p)],
        )
    )
    ringing = core_show_channel(p, "PJSIP/op110-1-00000002", c, state="5", duration="00:00:04")
    gone = ts("1795930503.5")
    out = line.sync([ringing], endings={c: Ending(gone, 127)})
    assert out == [
        ev.LegRinging(p, NOW),
        ev.LegEnded(c, gone, 127, "Interworking, unspecified", reconciled=True),
    ]


def test_restored_bridges_are_not_joined_again_but_left_when_asterisk_says_so() -> None:
    known = [
        KnownLeg(
            X0,
            X,
            "PJSIP/trunk-110-0000000a",
            "trunk-110",
            LegRole.CITIZEN,
            Desk.D110,
            Direction.INBOUND,
            answered=True,
            bridges=frozenset({"br-x"}),
        ),
        KnownLeg(
            X1,
            X,
            "PJSIP/op110-1-0000000b",
            "op110-1",
            LegRole.OPERATOR_110,
            Desk.D110,
            Direction.OUTBOUND,
            answered=True,
            bridges=frozenset({"br-x"}),
        ),
    ]
    model = CallModel()
    model.restore(known)
    alone = core_show_channel(X1, "PJSIP/op110-1-0000000b", X, duration="00:03:10")
    out = model.sync([live_x0("br-x"), alone], NOW)
    assert out == [ev.LegLeftBridge(X1, "br-x", NOW)]
    out = model.sync([], NOW)
    assert out[:2] == [
        ev.LegLeftBridge(X0, "br-x", NOW),
        ev.LegEnded(X0, NOW, None, None, True, at_bound=True),
    ]


# ---------------------------------------------------------------- the periodic audit


def test_differences_name_vanished_legs_and_unknown_channels_only() -> None:
    line = Line(KNOWN)
    new = core_show_channel(
        "liandong-1795930000.30",
        "PJSIP/trunk-110-0000001e",
        "liandong-1795930000.30",
        context="from-trunk-110",
        exten="110",
    )
    local = core_show_channel(
        "liandong-1795930000.31", "Local/110@from-desk-0001;1", "liandong-1795930000.31"
    )
    assert line.model.differences([live_x0(), new, local]) == {X1, Y0, "liandong-1795930000.30"}


def test_an_audit_settles_only_what_it_is_told_and_never_catches_up() -> None:
    line = Line(KNOWN)
    new = core_show_channel(
        "liandong-1795930000.30",
        "PJSIP/trunk-110-0000001e",
        "liandong-1795930000.30",
        context="from-trunk-110",
        exten="110",
    )
    out = line.model.sync([live_x0(), new], NOW, settled={X1})
    line.ledger.apply_batch(out)
    # Only X1 closed: no bridge catch-up for X0, Y0 (also missing) kept, the
    # new channel not picked up yet.
    assert out == [ev.LegEnded(X1, NOW, None, None, reconciled=True, at_bound=True)]
    assert set(line.model.legs) == {X0, Y0}


# ---------------------------------------------------------------- what nobody saw: bounds


def _ringing_call(line: Line) -> tuple[str, str]:
    """A 110 call seen up to the desk phone ringing (events at 05:59:40.0 – .3)."""
    c, p = "liandong-1795931980.1", "liandong-1795931980.2"
    line.handle(
        channel_event(
            "Newchannel", c, "PJSIP/trunk-110-00000001", c, state="4", at="1795931980.000000"
        )
    )
    line.handle(channel_event("Newchannel", p, "PJSIP/op110-1-00000002", c, at="1795931980.100000"))
    line.handle(
        channel_event(
            "DialBegin",
            c,
            "PJSIP/trunk-110-00000001",
            c,
            state="4",
            at="1795931980.200000",
            extra=[("DestUniqueid", p)],
        )
    )
    line.handle(
        channel_event("Newstate", p, "PJSIP/op110-1-00000002", c, state="5", at="1795931980.300000")
    )
    return c, p


DROP = ts("1795931985")  # the AMI link dropped here, 5 s after the phone started ringing


def test_legs_gone_without_a_cel_row_end_at_the_link_drop_marked_as_a_bound() -> None:
    line = Line()
    c, p = _ringing_call(line)
    out = line.model.sync([], NOW, {}, blind_since=DROP)
    line.ledger.apply_batch(out)
    ended = [e for e in out if isinstance(e, ev.LegEnded)]
    # Not the reconnect (NOW): the last moment anyone knew them alive. No cause.
    assert ended == [
        ev.LegEnded(c, DROP, None, None, reconciled=True, at_bound=True),
        ev.LegEnded(p, DROP, None, None, reconciled=True, at_bound=True),
    ]
    assert out[-1] == ev.CallEnded(c, DROP)


def test_a_cel_ending_is_a_fact_even_after_a_link_drop() -> None:
    line = Line()
    c, p = _ringing_call(line)
    gone = ts("1795931991.25")
    out = line.model.sync([], NOW, {p: Ending(gone, 19), c: Ending(gone, 16)}, blind_since=DROP)
    assert ev.LegEnded(p, gone, 19, "User alerting, no answer", True, at_bound=False) in out


def test_a_phone_that_answered_while_the_link_was_down_gets_cels_answer_time() -> None:
    line = Line()
    c, p = _ringing_call(line)
    up = core_show_channel(p, "PJSIP/op110-1-00000002", c, state="6", duration="00:00:19")
    caller = core_show_channel(
        c,
        "PJSIP/trunk-110-00000001",
        c,
        state="6",
        context="ring-desk",
        application="Dial",
        duration="00:00:20",
    )
    assert line.model.answers_unseen([up, caller]) == {c, p}
    answered = ts("1795931990.5")
    out = line.model.sync(
        [up, caller], NOW, {}, answers={p: answered, c: answered}, blind_since=DROP
    )
    assert ev.LegAnswered(p, answered, at_bound=False) in out
    assert ev.CallAnswered(c, answered) in out
    assert not any(isinstance(e, ev.LegAnswered) and e.at_bound for e in out)


def test_without_cel_an_unseen_answer_is_the_link_drop_marked_as_a_bound() -> None:
    line = Line()
    c, p = _ringing_call(line)
    up = core_show_channel(p, "PJSIP/op110-1-00000002", c, state="6", duration="00:00:19")
    out = line.model.sync([up], NOW, {}, blind_since=DROP)
    assert out[0] == ev.LegAnswered(p, DROP, at_bound=True)  # not NOW
    # Seen answered now: nothing more to learn about it.
    assert line.model.answers_unseen([up]) == set()


def test_asterisk_restarted_legs_end_by_its_start_when_liandong_was_not_running() -> None:
    seen = ts("1795931900")  # the database's latest time of the leg
    known = [
        KnownLeg(
            Y0,
            Y,
            "PJSIP/trunk-12345-00000014",
            "trunk-12345",
            LegRole.CITIZEN,
            Desk.D12345,
            Direction.INBOUND,
            answered=True,
            last_seen=seen,
        ),
        KnownLeg(
            X0,
            X,
            "PJSIP/trunk-110-0000000a",
            "trunk-110",
            LegRole.CITIZEN,
            Desk.D110,
            Direction.INBOUND,
            answered=True,
        ),  # nothing known of when it was alive
    ]
    line = Line(known)
    restart = NOW - timedelta(seconds=30)
    out = line.model.sync([], NOW, {}, asterisk_started=restart)
    assert ev.LegEnded(Y0, restart, None, None, True, at_bound=True) in out
    assert ev.LegEnded(X0, NOW, None, None, True, at_bound=True) in out
    # An Asterisk that started before the leg was last seen is the one it lived in.
    line = Line(known)
    out = line.model.sync([], NOW, {}, asterisk_started=seen - timedelta(seconds=1))
    assert ev.LegEnded(Y0, NOW, None, None, True, at_bound=True) in out
