"""Whom a notice calls and when: the ladder over the roster (a unit's own PBX
line, or its people's phones through the trunk), and the outbox choosing
what to dial within the limits, urgent first."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from county.case_rules import load_rules
from county.outbound import Contact, LadderStep, Limits, NoticeRules
from notify.core.ladder_plan import LINE_TRUNK, plan
from notify.core.notices import Notice, NoticeState
from notify.core.outbox import to_dial
from startup.settings import DEFAULT_CASE_CONFIG

RULES = load_rules(DEFAULT_CASE_CONFIG)
NOTICES = RULES.outbound.notices
T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def test_a_unit_with_a_pbx_line_is_called_there_for_every_rung() -> None:
    urban = RULES.roster.get("urban")
    assert urban is not None and urban.line == "04"
    rungs = plan(urban, NOTICES)
    assert [(r.contact, r.name, r.dial, r.trunk) for r in rungs] == [
        (Contact.STAFF, "罗某", "PJSIP/unit-04", LINE_TRUNK),
        (Contact.OFFICE, "综合执法大队", "PJSIP/unit-04", LINE_TRUNK),
        (Contact.LEADER, "林某某", "PJSIP/unit-04", LINE_TRUNK),
    ]


def test_a_unit_without_a_line_is_called_on_its_peoples_phones_through_the_trunk() -> None:
    town = RULES.roster.get("chengguan")
    assert town is not None and not town.line
    rules = replace(NOTICES, ladder=(LadderStep(Contact.OFFICE, 2), LadderStep(Contact.DUTY, 1)))
    rungs = plan(town, rules)
    assert [(r.contact, r.phone, r.dial) for r in rungs] == [
        (Contact.OFFICE, "0375-00000102", "PJSIP/037500000102@trunk-12345"),
        (Contact.OFFICE, "0375-00000102", "PJSIP/037500000102@trunk-12345"),
        (Contact.DUTY, "0375-00000100", "PJSIP/037500000100@trunk-12345"),
    ]
    assert {r.trunk for r in rungs} == {"trunk-12345"}


def test_several_phones_are_tried_in_turn_and_a_missing_duty_phone_is_skipped() -> None:
    power = RULES.roster.get("power")
    housing = RULES.roster.get("housing")
    assert power is not None and housing is not None and not housing.duty_phone
    rules: NoticeRules = replace(NOTICES, via="trunk", ladder=(LadderStep(Contact.DUTY, 3),))
    assert [r.phone for r in plan(power, rules)] == [
        "0375-00002800",
        "0375-00002899",
        "0375-00002800",
    ]
    assert plan(housing, rules) == []


def notice(nid: int, *, urgent: bool = False, at: int = 0, **more: object) -> Notice:
    return replace(
        Notice(nid, f"2026-{nid:06d}", "urban", 1, urgent, 3, T0 + timedelta(seconds=at)),
        **more,  # type: ignore[arg-type]
    )


def test_the_outbox_dials_urgent_first_then_by_arrival_within_the_limits() -> None:
    queued = [notice(1, at=0), notice(2, at=1, urgent=True), notice(3, at=2), notice(4, at=3)]
    chosen = to_dial(queued, Counter(), Limits(3, 3), T0 + timedelta(minutes=1), lambda n: "line")
    assert [n.notice_id for n in chosen] == [2, 1, 3]
    busy = to_dial(
        queued, Counter({"line": 2}), Limits(3, 3), T0 + timedelta(minutes=1), lambda n: "line"
    )
    assert [n.notice_id for n in busy] == [2]


def test_the_per_trunk_limit_leaves_room_for_other_trunks() -> None:
    queued = [notice(1), notice(2), notice(3)]
    trunks = {1: "trunk-12345", 2: "trunk-12345", 3: "line"}
    chosen = to_dial(queued, Counter(), Limits(5, 1), T0, lambda n: trunks[n.notice_id])
    assert [n.notice_id for n in chosen] == [1, 3]


def test_a_retry_waits_for_its_time_and_a_call_under_way_is_not_dialled() -> None:
    later = notice(1, next_try_at=T0 + timedelta(seconds=30))
    calling = notice(2, state=NoticeState.CALLING, tries=1)
    assert to_dial([later, calling], Counter(), Limits(3, 3), T0, lambda n: "line") == []
    assert to_dial(
        [later], Counter(), Limits(3, 3), T0 + timedelta(seconds=30), lambda n: "line"
    ) == [later]
