"""Property: whatever the interleaving of several calls, duplicated deliveries, a
link outage and a reconciliation in the middle, the model's domain events stay
consistent and nothing stays open after a final sync with no live channels.

Each synthetic call follows the shapes of the recorded traces (answered,
no answer, busy, caller cancels; phones ringing before or after the DialBegin;
dialled straight or through a Local channel), and may be joined to another
call by a Linkedid rewrite (a transfer). A small "truth" tracker replays the
same events as Asterisk lived them to build the CoreShowChannels list and the
CEL endings for the reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st
from test_call_model_kit import Ledger, channel_event, check_leg_times, core_show_channel

from ami_client.message import AmiMessage
from telephony.core import events as ev
from telephony.core.causes import cause_text
from telephony.core.model import CallModel, Ending

T0 = 1795950000


def at(pos: float) -> datetime:
    return datetime.fromtimestamp(T0 + pos, tz=UTC)


@dataclass(frozen=True)
class Op:
    """One AMI event of one call's script, stamped when it is delivered."""

    kind: str
    uid: str
    channel: str
    linkedid: str
    state: str
    extra: tuple[tuple[str, str], ...] = ()
    # After a transfer: the Linkedid this leg takes if the transfer happens,
    # which it does only when that call is still live when the transfer comes.
    transfer_to: str | None = None
    transfer_point: bool = False

    def message(self, pos: int) -> AmiMessage:
        return channel_event(
            self.kind,
            self.uid,
            self.channel,
            self.linkedid,
            at=f"{T0 + pos}.000000",
            state=self.state,
            extra=self.extra,
        )

    @property
    def cause(self) -> int | None:
        return next((int(v) for k, v in self.extra if k == "Cause"), None)


@dataclass(frozen=True)
class CallPlan:
    phones: int  # 0: the desk is busy, the dialplan hangs up at once
    outcome: str  # answer | noanswer | cancel | busy
    answered_by: int
    ring_first: bool  # the phone reports Ringing before the DialBegin (cancel_110)
    via_local: bool
    merge_into: int | None  # a transfer joins this call to another's Linkedid
    citizen_follows: bool  # the citizen's later events carry the new Linkedid too
    caller_hangs_up_first: bool


def script(i: int, plan: CallPlan, n_calls: int) -> list[Op]:
    linked = f"ld-{i}.0"
    citizen = (f"ld-{i}.0", f"PJSIP/trunk-110-{16 * i:08x}")
    phones = [(f"ld-{i}.{k}", f"PJSIP/op110-{k}-{16 * i + k:08x}") for k in (1, 2)]
    phones = phones[: plan.phones]
    local1 = (f"ld-{i}.8", f"Local/110@ring-desk-{i:08x};1")
    local2 = (f"ld-{i}.9", f"Local/110@ring-desk-{i:08x};2")
    moved: dict[str, str] = {}  # uniqueid -> the Linkedid a transfer gives it

    def op(kind: str, who: tuple[str, str], state: str, **extra: str) -> Op:
        return Op(kind, who[0], who[1], linked, state, tuple(extra.items()), moved.get(who[0]))

    def hang(who: tuple[str, str], state: str, cause: int) -> Op:
        return op("Hangup", who, state, Cause=str(cause), **{"Cause-txt": cause_text(cause) or ""})

    ops = [op("Newchannel", citizen, "4")]
    dialler = citizen
    if plan.via_local and phones:
        ops += [op("Newchannel", local1, "0"), op("Newchannel", local2, "4")]
        ops.append(op("DialBegin", citizen, "4", DestUniqueid=local1[0]))
        dialler = local2
    if plan.outcome == "busy" or not phones:
        ops += [op("Newchannel", p, "0") for p in phones]
        ops += [op("DialBegin", dialler, "4", DestUniqueid=p[0]) for p in phones]
        ops += [hang(p, "0", 17) for p in phones]
        ops.append(hang(citizen, "4", 17))
        ops += [hang(x, "4", 16) for x in (local2, local1) if dialler is local2]
        return ops
    for p in phones:
        ops.append(op("Newchannel", p, "0"))
        dial = op("DialBegin", dialler, "4", DestUniqueid=p[0])
        ring = op("Newstate", p, "5")
        ops += [ring, dial] if plan.ring_first else [dial, ring]
    winner = phones[plan.answered_by % len(phones)]
    merging = plan.merge_into is not None and plan.merge_into % n_calls != i

    def merge(state: str) -> None:
        # A transfer or a pickup: the phone's call is joined to another call.
        moved[winner[0]] = f"ld-{(plan.merge_into or 0) % n_calls}.0"
        ops.append(replace(op("NewConnectedLine", winner, state), transfer_point=True))
        if plan.citizen_follows:
            moved[citizen[0]] = moved[winner[0]]

    if plan.outcome in ("noanswer", "cancel") and merging:
        merge("5")
    if plan.outcome == "noanswer":
        ops += [hang(p, "5", 0) for p in phones] + [hang(citizen, "4", 19)]
    elif plan.outcome == "cancel":
        ops += [hang(citizen, "4", 127)] + [hang(p, "5", 127) for p in phones]
    else:
        bridge = {"BridgeUniqueid": f"bridge-{i}"}
        ops += [op("Newstate", winner, "6"), op("Newstate", citizen, "6")]
        if dialler is local2:
            ops += [op("Newstate", local1, "6"), op("Newstate", local2, "6")]
        ops += [hang(p, "5", 26) for p in phones if p is not winner]
        ops += [op("BridgeEnter", winner, "6", **bridge), op("BridgeEnter", citizen, "6", **bridge)]
        if merging:
            merge("6")
        first, second = (citizen, winner) if plan.caller_hangs_up_first else (winner, citizen)
        for who in (first, second):
            ops += [op("BridgeLeave", who, "6", **bridge), hang(who, "6", 16)]
    ops += [hang(x, "6", 16) for x in (local2, local1) if dialler is local2]
    return ops


plans = st.builds(
    CallPlan,
    phones=st.integers(0, 2),
    outcome=st.sampled_from(["answer", "answer", "answer", "noanswer", "cancel", "busy"]),
    answered_by=st.integers(0, 1),
    ring_first=st.booleans(),
    via_local=st.booleans(),
    merge_into=st.none() | st.integers(0, 3),
    citizen_follows=st.booleans(),
    caller_hangs_up_first=st.booleans(),
)


# ---------------------------------------------------------------- Asterisk's truth


@dataclass
class Live:
    op: Op
    created: int
    state: str
    linkedid: str
    bridge: str = ""


@dataclass
class Truth:
    live: dict[str, Live] = field(default_factory=dict)
    ended: dict[str, tuple[int, int | None]] = field(default_factory=dict)

    def apply(self, pos: int, op: Op) -> None:
        if op.kind == "Newchannel":
            self.live[op.uid] = Live(op, pos, op.state, op.linkedid)
        chan = self.live.get(op.uid)
        if chan is None:
            return
        chan.linkedid = op.linkedid
        if op.kind == "Newstate":
            chan.state = op.state
        elif op.kind == "BridgeEnter":
            chan.bridge = dict(op.extra)["BridgeUniqueid"]
        elif op.kind == "BridgeLeave":
            chan.bridge = ""
        elif op.kind == "Hangup":
            del self.live[op.uid]
            self.ended[op.uid] = (pos, op.cause)

    def linkedids(self) -> set[str]:
        return {chan.linkedid for chan in self.live.values()}

    def core_show_channels(self, now: float) -> list[AmiMessage]:
        items = []
        for uid, chan in self.live.items():
            age = int(now - T0 - chan.created)  # `created` counts from T0
            duration = f"{age // 3600:02d}:{age // 60 % 60:02d}:{age % 60:02d}"
            dialled = chan.op.state == "0"
            items.append(
                core_show_channel(
                    uid,
                    chan.op.channel,
                    chan.linkedid,
                    state=chan.state,
                    context="from-desk" if dialled else "ring-desk",
                    application="AppDial" if dialled else "Dial",
                    duration=duration,
                    bridge=chan.bridge,
                )
            )
        return items


def interleave(scripts: list[list[Op]], order: list[int]) -> list[Op]:
    """The scripts' events in `order` (a call index per event), with each
    transfer resolved as Asterisk would: a leg takes another call's Linkedid
    only if some live channel still carries it."""
    cursor = [0] * len(scripts)
    truth, transferred = Truth(), set()
    stream: list[Op] = []
    for i in order:
        op = scripts[i][cursor[i]]
        cursor[i] += 1
        if op.transfer_point and op.transfer_to in truth.linkedids():
            transferred.add(i)
        target = op.transfer_to if i in transferred else None
        op = replace(op, linkedid=target or op.linkedid, transfer_to=None)
        truth.apply(len(stream), op)
        stream.append(op)
    return stream


# ---------------------------------------------------------------- the property


@dataclass
class Checked:
    model: CallModel = field(default_factory=CallModel)
    ledger: Ledger = field(default_factory=Ledger)
    endings_given: dict[str, Ending] = field(default_factory=dict)

    def take(self, out: list[ev.DomainEvent]) -> None:
        self.ledger.apply_batch(out)
        assert set(self.model.legs) == self.ledger.open_legs
        assert set(self.model.calls) == self.ledger.open_calls
        for uid, leg in self.model.legs.items():
            assert leg.call_id == self.ledger.legs[uid].call_id
        for event in out:
            if isinstance(event, ev.LegEnded) and event.uniqueid in self.endings_given:
                ending = self.endings_given[event.uniqueid]
                assert event.reconciled
                assert (event.at, event.cause) == (ending.at, ending.cause)
                assert event.cause_text == cause_text(ending.cause)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_interleaving_keeps_legs_and_calls_consistent(data: st.DataObject) -> None:
    n = data.draw(st.sampled_from([1, 2, 3, 3, 4, 4]), label="calls")
    scripts = [script(i, data.draw(plans, label=f"plan {i}"), n) for i in range(n)]
    order = data.draw(st.permutations([i for i, s in enumerate(scripts) for _ in s]))
    stream = interleave(scripts, order)
    total = len(stream)
    cut = data.draw(st.integers(0, total), label="sync after event")
    gap = data.draw(st.integers(0, cut), label="events lost before the sync")
    twice = data.draw(st.sets(st.integers(0, total - 1)), label="delivered twice")
    late = data.draw(
        st.lists(st.tuples(st.integers(0, total - 1), st.integers(1, 8)), max_size=3),
        label="Newchannel copies delivered late",
    )
    cel_known = data.draw(st.booleans(), label="CEL knows the lost hangups")

    lost = set(range(cut - gap, cut))
    copies: dict[int, list[Op]] = {}
    for src, delay in late:
        if stream[src].kind == "Newchannel" and src not in lost:
            copies.setdefault(min(total - 1, src + delay), []).append(stream[src])

    truth, run = Truth(), Checked()
    for pos, op in enumerate(stream):
        if pos == cut:
            now = T0 + cut - 0.5
            vanished = set(run.model.legs) - set(truth.live)
            if cel_known:
                run.endings_given = {
                    uid: Ending(at(truth.ended[uid][0]), truth.ended[uid][1])
                    for uid in vanished
                    if uid in truth.ended
                }
            live = truth.core_show_channels(now)
            mid = run.model.sync(live, at(now - T0), dict(run.endings_given))
            run.take(mid)
            note(f"mid-run sync picks up legs: {any(isinstance(e, ev.LegStarted) for e in mid)}")
            note(f"mid-run sync closes legs: {any(isinstance(e, ev.LegEnded) for e in mid)}")
        truth.apply(pos, op)
        if pos in lost:
            continue
        for _ in range(2 if pos in twice else 1):
            run.take(run.model.handle(op.message(pos), at(-1)))
        for copy in copies.get(pos, []):
            run.take(run.model.handle(copy.message(pos), at(-1)))
    if cut == total:
        run.take(run.model.sync(truth.core_show_channels(T0 + total), at(total)))
    for op in stream:
        if op.kind == "Hangup" and op.uid in run.ledger.legs:
            leg = run.ledger.legs[op.uid]
            if leg.reconciled is False:
                assert leg.cause == op.cause

    # Nothing stays open: a sync with no live channels closes what is left.
    run.endings_given = {}
    run.take(run.model.sync([], at(total + 10)))
    assert run.model.legs == {} and run.model.calls == {}
    assert run.ledger.open_legs == set() and run.ledger.open_calls == set()
    for leg in run.ledger.legs.values():
        assert leg.ended_at is not None
        check_leg_times(leg)
    for call in run.ledger.calls.values():
        assert (call.ended_at is None) != (call.merged_into is None), call
        times = [t for t in (call.started_at, call.answered_at, call.ended_at) if t is not None]
        assert times == sorted(times), call
    counts = run.ledger.counts
    for kind in ("CallMerged", "LegJoinedBridge", "CallAnswered"):
        note(f"{kind}: {'yes' if counts.get(kind) else 'no'}")
    assert counts.get("LegStarted", 0) == counts.get("LegEnded", 0) == len(run.ledger.legs)
    assert counts.get("CallStarted", 0) == counts.get("CallEnded", 0) + counts.get("CallMerged", 0)
    # No plumbing ever became a leg, and every leg is one of the scripted people.
    people = {op.uid for op in stream if op.kind == "Newchannel" and op.channel.startswith("PJSIP")}
    assert set(run.ledger.legs) <= people
    if not lost and cut == total:
        assert set(run.ledger.legs) == people  # with no outage, every leg was seen


def test_a_plain_answered_script_replays_cleanly() -> None:
    """The script builder itself, on the simplest plan."""
    plan = CallPlan(2, "answer", 0, False, False, None, False, True)
    ops = script(0, plan, 1)
    run = Checked()
    for pos, op in enumerate(ops):
        run.take(run.model.handle(op.message(pos), at(-1)))
    assert run.model.legs == {}
    assert run.ledger.counts["CallAnswered"] == 1
    assert {u: leg.cause for u, leg in run.ledger.legs.items()} == {
        "ld-0.0": 16,
        "ld-0.1": 16,
        "ld-0.2": 26,
    }
    assert [op.kind for op in ops].count("BridgeEnter") == 2
    hangup = next(pos for pos, op in enumerate(ops) if op.kind == "Hangup" and op.uid == "ld-0.0")
    assert run.ledger.legs["ld-0.0"].ended_at == at(hangup)
