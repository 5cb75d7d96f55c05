"""Shared helpers for the call-model tests, and the tests of those helpers.

- `Ledger`: a tiny in-test "database" that applies domain events to a dict of
  legs and calls, and fails loudly on any event that names a leg or call that
  is not open, starts one twice, ends one twice, or leaves a bridge it never
  joined. After every batch it checks that no call is open without a leg.
- Builders for realistic AMI messages (the header order and names Asterisk 22
  uses, as in tests/fixtures/*.ami) and for CoreShowChannel list items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ami_client.framing import parse_stream
from ami_client.message import AmiMessage
from common.vocabulary import Desk
from telephony.core import events as ev
from telephony.core.model import CallModel

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TRACES = ("answered_110", "noanswer_12345", "busy_110", "cancel_110", "burst_12345")

# A `now` far from every trace's time: any event stamped with it did not take
# its time from the AMI Timestamp header.
NOT_THE_TIME = datetime(2001, 1, 1, tzinfo=UTC)


def ts(raw: str) -> datetime:
    """An AMI `Timestamp` ("1795930660.849372") as an exact UTC datetime."""
    seconds, _, fraction = raw.partition(".")
    micros = int((fraction + "000000")[:6])
    return datetime.fromtimestamp(int(seconds), tz=UTC) + timedelta(microseconds=micros)


def trace_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.ami").read_bytes()


def trace_messages(name: str) -> list[AmiMessage]:
    return parse_stream(trace_bytes(name))


def replay(
    messages: Iterable[AmiMessage],
    model: CallModel | None = None,
    ledger: Ledger | None = None,
    now: datetime = NOT_THE_TIME,
) -> tuple[CallModel, Ledger, list[ev.DomainEvent]]:
    """Feed every message to the model (one batch each) and the events to a ledger."""
    model = model or CallModel()
    ledger = ledger or Ledger()
    emitted: list[ev.DomainEvent] = []
    for msg in messages:
        batch = model.handle(msg, now)
        ledger.apply_batch(batch)
        emitted += batch
    return model, ledger, emitted


# ---------------------------------------------------------------- the ledger


@dataclass
class LegView:
    uniqueid: str
    call_id: str
    channel: str
    endpoint: str | None
    role: ev.LegRole
    trunk: Desk | None
    direction: ev.Direction
    caller_number: str | None
    caller_name: str | None
    created_at: datetime
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    cause: int | None = None
    cause_text: str | None = None
    reconciled: bool | None = None
    bridges: set[str] = field(default_factory=set)  # open memberships
    stays: list[tuple[str, datetime, datetime | None]] = field(default_factory=list)


@dataclass
class CallView:
    call_id: str
    trunk: Desk | None
    caller_number: str | None
    caller_name: str | None
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    merged_into: str | None = None


class LedgerError(AssertionError):
    pass


class Ledger:
    """Domain events applied to plain dicts, strictly."""

    def __init__(self) -> None:
        self.legs: dict[str, LegView] = {}
        self.calls: dict[str, CallView] = {}
        self.counts: dict[str, int] = {}
        self._open_legs: set[str] = set()
        self._open_calls: set[str] = set()
        self._members: dict[str, set[str]] = {}  # call id -> its legs, open or not
        self._answered: set[str] = set()  # calls the model said CallAnswered for

    # -- queries

    @property
    def open_legs(self) -> set[str]:
        return set(self._open_legs)

    @property
    def open_calls(self) -> set[str]:
        return set(self._open_calls)

    def legs_of(self, call_id: str) -> set[str]:
        """Every leg (open or ended) that belongs to the call now."""
        return set(self._members.get(call_id, ()))

    def snapshot(self) -> tuple[dict[str, LegView], dict[str, CallView]]:
        return dict(self.legs), dict(self.calls)

    # -- applying

    def apply_batch(self, events: Sequence[ev.DomainEvent]) -> None:
        for event in events:
            self.apply(event)
        # Every call the batch touched still has an open leg, or has ended.
        touched = {e.call_id for e in events if isinstance(e, ev.CallStarted | ev.LegStarted)}
        touched |= {e.into for e in events if isinstance(e, ev.CallMerged)}
        touched |= {self.legs[e.uniqueid].call_id for e in events if isinstance(e, ev.LegEnded)}
        for call_id in touched & self._open_calls:
            if not self._open_legs & self._members.get(call_id, set()):
                raise LedgerError(f"call {call_id} is open with no open leg after {events}")

    def apply(self, event: ev.DomainEvent) -> None:
        name = type(event).__name__
        self.counts[name] = self.counts.get(name, 0) + 1
        if event.at.utcoffset() != timedelta(0):
            raise LedgerError(f"{event} is not in UTC")
        match event:
            case ev.CallStarted():
                if event.call_id in self.calls:
                    raise LedgerError(f"call {event.call_id} started twice")
                self.calls[event.call_id] = CallView(
                    event.call_id, event.trunk, event.caller_number, event.caller_name, event.at
                )
                self._open_calls.add(event.call_id)
            case ev.LegStarted():
                if event.uniqueid in self.legs:
                    raise LedgerError(f"leg {event.uniqueid} started twice")
                self._open_call(event.call_id, event)
                self.legs[event.uniqueid] = LegView(
                    event.uniqueid,
                    event.call_id,
                    event.channel,
                    event.endpoint,
                    event.role,
                    event.trunk,
                    event.direction,
                    event.caller_number,
                    event.caller_name,
                    event.at,
                )
                self._open_legs.add(event.uniqueid)
                self._members.setdefault(event.call_id, set()).add(event.uniqueid)
            case ev.LegUpdated():
                leg = self._open_leg(event.uniqueid, event)
                leg.channel = event.channel
                leg.caller_number, leg.caller_name = event.caller_number, event.caller_name
                leg.role = event.role or leg.role
                leg.trunk = event.trunk or leg.trunk
            case ev.LegRinging():
                leg = self._open_leg(event.uniqueid, event)
                if leg.ringing_at is not None or leg.answered_at is not None:
                    raise LedgerError(f"{event}: already ringing or answered")
                leg.ringing_at = event.at
            case ev.LegAnswered():
                leg = self._open_leg(event.uniqueid, event)
                if leg.answered_at is not None:
                    raise LedgerError(f"{event}: answered twice")
                leg.answered_at = event.at
            case ev.LegJoinedBridge():
                leg = self._open_leg(event.uniqueid, event)
                if event.bridge_id in leg.bridges:
                    raise LedgerError(f"{event}: already in that bridge")
                leg.bridges.add(event.bridge_id)
                leg.stays.append((event.bridge_id, event.at, None))
            case ev.LegLeftBridge():
                leg = self._open_leg(event.uniqueid, event)
                if event.bridge_id not in leg.bridges:
                    raise LedgerError(f"{event}: not in that bridge")
                leg.bridges.discard(event.bridge_id)
                for i, (bridge, joined, left) in enumerate(leg.stays):
                    if bridge == event.bridge_id and left is None:
                        leg.stays[i] = (bridge, joined, event.at)
            case ev.LegEnded():
                leg = self._open_leg(event.uniqueid, event)
                if leg.bridges:
                    raise LedgerError(f"{event}: still in bridges {leg.bridges}")
                leg.ended_at, leg.cause, leg.cause_text = event.at, event.cause, event.cause_text
                leg.reconciled = event.reconciled
                self._open_legs.discard(event.uniqueid)
            case ev.CallAnswered():
                call = self._open_call(event.call_id, event)
                if event.call_id in self._answered:
                    raise LedgerError(f"{event}: answered twice")
                self._answered.add(event.call_id)
                call.answered_at = _earliest(call.answered_at, event.at)
            case ev.CallMerged():
                if event.merged == event.into:
                    raise LedgerError(f"{event}: merged into itself")
                merged = self._open_call(event.merged, event)
                survivor = self._open_call(event.into, event)
                merged.merged_into = event.into
                self._open_calls.discard(event.merged)
                moved = self._members.pop(event.merged, set())
                for uniqueid in moved:
                    self.legs[uniqueid].call_id = event.into
                self._members.setdefault(event.into, set()).update(moved)
                # As the records do: the survivor spans both calls.
                survivor.started_at = min(survivor.started_at, merged.started_at)
                survivor.answered_at = _earliest(survivor.answered_at, merged.answered_at)
            case ev.CallEnded():
                call = self._open_call(event.call_id, event)
                still = self.open_legs & self.legs_of(event.call_id)
                if still:
                    raise LedgerError(f"{event}: legs {still} are still open")
                last = max(
                    (self.legs[u].ended_at or event.at for u in self.legs_of(event.call_id)),
                    default=event.at,
                )
                if event.at < last:
                    raise LedgerError(f"{event}: before its last leg ended ({last})")
                call.ended_at = event.at
                self._open_calls.discard(event.call_id)

    def _open_leg(self, uniqueid: str, event: ev.DomainEvent) -> LegView:
        leg = self.legs.get(uniqueid)
        if leg is None or uniqueid not in self._open_legs:
            raise LedgerError(f"{event} names leg {uniqueid}, which is not open")
        return leg

    def _open_call(self, call_id: str, event: ev.DomainEvent) -> CallView:
        call = self.calls.get(call_id)
        if call is None or call_id not in self._open_calls:
            raise LedgerError(f"{event} names call {call_id}, which is not open")
        return call


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    present = [t for t in (a, b) if t is not None]
    return min(present) if present else None


def check_leg_times(leg: LegView) -> None:
    """created ≤ ringing ≤ answered ≤ ended, for the ones present."""
    times = [leg.created_at, leg.ringing_at, leg.answered_at, leg.ended_at]
    present = [t for t in times if t is not None]
    assert present == sorted(present), f"{leg.uniqueid}: times out of order {times}"
    for bridge, joined, left in leg.stays:
        assert leg.created_at <= joined, (leg.uniqueid, bridge)
        if left is not None:
            assert joined <= left, (leg.uniqueid, bridge)
            assert leg.ended_at is None or left <= leg.ended_at, (leg.uniqueid, bridge)


# ---------------------------------------------------------------- AMI builders

STATE_DESC = {"0": "Down", "4": "Ring", "5": "Ringing", "6": "Up"}


def channel_event(
    event: str,
    uniqueid: str,
    channel: str,
    linkedid: str,
    *,
    at: str | None = None,
    state: str = "0",
    number: str = "<unknown>",
    name: str = "<unknown>",
    context: str = "from-desk",
    role: str = "",
    trunk: str = "",
    extra: Sequence[tuple[str, str]] = (),
) -> AmiMessage:
    """A channel event laid out as Asterisk 22 sends it (see tests/fixtures)."""
    headers: list[tuple[str, str]] = [("Event", event), ("Privilege", "call,all")]
    if at is not None:
        headers.append(("Timestamp", at))
    headers += [
        ("SystemName", "liandong"),
        ("Channel", channel),
        ("ChannelState", state),
        ("ChannelStateDesc", STATE_DESC.get(state, "Unknown")),
        ("CallerIDNum", number),
        ("CallerIDName", name),
        ("ConnectedLineNum", "<unknown>"),
        ("ConnectedLineName", "<unknown>"),
        ("Language", "zh"),
        ("AccountCode", ""),
        ("Context", context),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Uniqueid", uniqueid),
        ("Linkedid", linkedid),
        ("ChanVariable", f"LD_ROLE={role}"),
        ("ChanVariable", f"LD_TRUNK={trunk}"),
        ("ChanVariable", "LD_DESK="),
        ("ChanVariable", "LD_UNIT="),
        ("ChanVariable", "LD_CASE="),
    ]
    return AmiMessage.from_pairs([*headers, *extra])


def core_show_channel(
    uniqueid: str,
    channel: str,
    linkedid: str,
    *,
    state: str = "6",
    number: str = "<unknown>",
    name: str = "<unknown>",
    context: str = "from-desk",
    exten: str = "s",
    application: str = "AppDial",
    application_data: str = "(Outgoing Line)",
    duration: str = "00:00:07",
    bridge: str = "",
) -> AmiMessage:
    """One item of a CoreShowChannels list, as Asterisk 22 sends it."""
    return AmiMessage.from_pairs(
        [
            ("Event", "CoreShowChannel"),
            ("ActionID", "ld-7"),
            ("Channel", channel),
            ("ChannelState", state),
            ("ChannelStateDesc", STATE_DESC.get(state, "Unknown")),
            ("CallerIDNum", number),
            ("CallerIDName", name),
            ("ConnectedLineNum", "<unknown>"),
            ("ConnectedLineName", "<unknown>"),
            ("Language", "zh"),
            ("AccountCode", ""),
            ("Context", context),
            ("Exten", exten),
            ("Priority", "1"),
            ("Uniqueid", uniqueid),
            ("Linkedid", linkedid),
            ("Application", application),
            ("ApplicationData", application_data),
            ("Duration", duration),
            ("BridgeId", bridge),
        ]
    )


# ---------------------------------------------------------------- tests of the kit


def test_ts_is_exact_and_utc() -> None:
    assert ts("1795930660.849372") == datetime(2026, 11, 29, 5, 37, 40, 849372, tzinfo=UTC)
    assert ts("1795930660.5") == datetime(2026, 11, 29, 5, 37, 40, 500000, tzinfo=UTC)


def test_every_trace_parses_whole() -> None:
    for name in TRACES:
        messages = trace_messages(name)
        assert messages[0].response == "Success"
        assert messages[1].event == "FullyBooted"
        assert all(m.event or m.response for m in messages)


def test_the_ledger_refuses_events_about_legs_it_never_saw() -> None:
    ledger = Ledger()
    with pytest.raises(LedgerError):
        ledger.apply(ev.LegEnded("nobody", NOT_THE_TIME, 16, "Normal Clearing"))
    with pytest.raises(LedgerError):
        ledger.apply(ev.CallEnded("no-call", NOT_THE_TIME))


def test_the_ledger_refuses_a_call_left_open_without_legs() -> None:
    ledger = Ledger()
    with pytest.raises(LedgerError):
        ledger.apply_batch([ev.CallStarted("c", None, None, None, NOT_THE_TIME)])


def test_builders_produce_what_the_model_reads() -> None:
    msg = channel_event("Newchannel", "u1", "PJSIP/op110-1-00000001", "u0", role="unit")
    assert msg.channel_variables()["LD_ROLE"] == "unit"
    item = core_show_channel("u1", "PJSIP/op110-1-00000001", "u0", bridge="b")
    assert (item["Duration"], item["BridgeId"], item.event) == ("00:00:07", "b", "CoreShowChannel")
