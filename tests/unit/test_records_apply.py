"""The pure rules by which events change call record rows (telephony.storage.apply)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from common.vocabulary import Desk
from telephony.core.events import (
    CallEnded,
    CallMerged,
    CallStarted,
    Direction,
    DomainEvent,
    LegEnded,
    LegJoinedBridge,
    LegLeftBridge,
    LegRole,
    LegStarted,
    LegUpdated,
)
from telephony.storage.apply import Batch, CallRow, apply_all, needs

T0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def started(uniqueid: str, call_id: str, ms: float, **overrides: object) -> LegStarted:
    fields: dict[str, object] = {
        "uniqueid": uniqueid,
        "call_id": call_id,
        "channel": f"PJSIP/x-{uniqueid}",
        "endpoint": "desk",
        "role": LegRole.CITIZEN,
        "trunk": Desk.D110,
        "direction": Direction.INBOUND,
        "caller_number": "138",
        "caller_name": "张三",
        "at": at(ms),
    }
    fields.update(overrides)
    return LegStarted(**fields)  # type: ignore[arg-type]


def replay(*events: DomainEvent) -> tuple[Batch, list[DomainEvent]]:
    batch = Batch([], [], [])
    return batch, apply_all(batch, list(events))


def test_needs_lists_rows_to_load() -> None:
    need = needs(
        [
            started("l1", "c1", 0),
            LegEnded("l2", at(1), 16, None),
            CallMerged("c2", "c3", at(2)),
            CallEnded("c4", at(3)),
        ]
    )
    assert need.call_ids == {"c1", "c2", "c3", "c4"}
    assert need.leg_ids == {"l1", "l2"}
    assert need.merged_call_ids == {"c2"}
    assert need.membership_leg_ids == {"l2"}


def test_repeated_leg_started_updates_without_erasing() -> None:
    batch, skipped = replay(
        started("l", "c1", 10),
        started(
            "l",
            "c2",
            5,
            role=LegRole.UNKNOWN,
            endpoint=None,
            trunk=None,
            caller_number=None,
            caller_name=None,
            channel="PJSIP/new",
        ),
    )
    leg = batch.legs["l"]
    assert skipped == []
    assert (leg["call_id"], leg["channel"], leg["role"]) == ("c2", "PJSIP/new", LegRole.CITIZEN)
    assert (leg["endpoint"], leg["trunk"], leg["caller_name"]) == ("desk", Desk.D110, "张三")
    assert leg["created_at"] == at(5)
    assert set(batch.calls) == {"c1", "c2"}  # minimal rows for both calls


def test_leg_updated_overwrites_caller_id() -> None:
    batch, _ = replay(started("l", "c", 0), LegUpdated("l", "PJSIP/r", None, "李四", at(1)))
    leg = batch.legs["l"]
    assert (leg["channel"], leg["caller_number"], leg["caller_name"]) == ("PJSIP/r", None, "李四")


def test_event_times_are_normalised_to_utc_milliseconds() -> None:
    beijing = timezone(timedelta(hours=8))
    batch, _ = replay(
        started("l", "c", 0, at=datetime(2025, 3, 1, 10, 0, 0, 1_999, tzinfo=beijing))
    )
    assert batch.legs["l"]["created_at"] == datetime(2025, 3, 1, 2, 0, 0, 1_000, tzinfo=UTC)


def test_unknown_rows_are_skipped_not_raised() -> None:
    events: list[DomainEvent] = [
        LegUpdated("ghost", "PJSIP/g", None, None, at(0)),
        LegEnded("ghost", at(1), 16, None),
        LegJoinedBridge("ghost", "b", at(2)),
        CallEnded("nope", at(3)),
        CallMerged("nope", "other", at(4)),
    ]
    batch, skipped = replay(*events)
    assert skipped == events
    assert batch.changed_calls() == [] and batch.changed_legs() == []


def test_merge_back_and_forth_leaves_no_cycle() -> None:
    batch, _ = replay(
        CallStarted("A", None, None, None, at(0)),
        CallStarted("B", None, None, None, at(1)),
        CallMerged("A", "B", at(2)),
        CallMerged("B", "A", at(3)),
        CallMerged("A", "A", at(4)),  # merging into itself changes nothing
    )
    assert {call_id: row["merged_into"] for call_id, row in batch.calls.items()} == {
        "A": None,
        "B": "A",
    }


def test_merge_creates_a_missing_survivor_and_widens_times() -> None:
    batch, _ = replay(
        CallStarted("m", Desk.D12345, "010", None, at(100)),
        started("l", "m", 100),
        CallEnded("m", at(900)),
        CallMerged("m", "s", at(1000)),
    )
    survivor: CallRow = batch.calls["s"]
    assert (survivor["started_at"], survivor["ended_at"], survivor["trunk"]) == (
        at(100),
        None,  # the survivor was open: a merged end does not close it
        Desk.D12345,
    )
    assert batch.legs["l"]["call_id"] == "s"
    # Survivors are written first so the merged row's foreign key resolves.
    assert [row["id"] for row in batch.changed_calls()] == ["s", "m"]


def test_merge_of_two_ended_calls_ends_at_the_later() -> None:
    batch, _ = replay(
        CallStarted("a", None, None, None, at(0)),
        CallEnded("a", at(50)),
        CallStarted("b", None, None, None, at(10)),
        CallEnded("b", at(80)),
        CallMerged("b", "a", at(90)),
    )
    assert batch.calls["a"]["ended_at"] == at(80)


def test_leaving_closes_only_the_open_stay_in_that_bridge() -> None:
    batch, _ = replay(
        started("l", "c", 0),
        LegJoinedBridge("l", "b1", at(1)),
        LegLeftBridge("l", "b1", at(2)),
        LegJoinedBridge("l", "b1", at(3)),
        LegJoinedBridge("l", "b2", at(3)),
        LegJoinedBridge("l", "b2", at(3)),  # replayed: same stay
        LegLeftBridge("l", "b1", at(4)),
    )
    stays = sorted(
        (s["bridge_id"], s["joined_at"], s["left_at"]) for s in batch.changed_memberships()
    )
    assert stays == [("b1", at(1), at(2)), ("b1", at(3), at(4)), ("b2", at(3), None)]


def test_text_the_database_would_refuse_is_cleaned() -> None:
    batch, _ = replay(started("l", "c", 0, caller_name="张\x00三", channel="PJSIP/\udcff"))
    assert batch.legs["l"]["caller_name"] == "张三"
    assert batch.legs["l"]["channel"] == "PJSIP/?"


def test_leg_updated_learns_role_and_trunk_and_keeps_them_when_unchanged() -> None:
    batch, skipped = replay(
        CallStarted("c1", None, None, None, at(0)),
        started("l1", "c1", 0, role=LegRole.UNKNOWN, trunk=None),
        LegUpdated(
            "l1",
            "PJSIP/op110-1-01",
            "8101",
            "110坐席1",
            at(1),
            role=LegRole.OPERATOR_110,
            trunk=Desk.D110,
        ),
        LegUpdated("l1", "PJSIP/op110-1-01", "8101", "110坐席1", at(2)),
    )
    assert skipped == []
    [leg] = batch.changed_legs()
    assert (leg["role"], leg["trunk"]) == (LegRole.OPERATOR_110, Desk.D110)
