"""The case lifecycle table: every allowed move, every refused move, and the
checks beyond the table (desk, unit, hand-over, extension)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.vocabulary import TOKEN_ROLES, Desk, Role
from county.case_words import Route
from records.core.case_file import (
    Actor,
    CaseFile,
    Extension,
    Handover,
    IllegalMove,
    NotPermitted,
    Refused,
    act,
    permitted,
    record,
)
from records.core.lifecycle import (
    FINAL_STATES,
    GIVEN,
    OPEN_STATES,
    RECORDED,
    ROLES,
    TRANSITIONS,
    CaseState,
    Command,
    allowed_commands,
)

S, C, R = CaseState, Command, Role
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

OP110 = Actor("王警官", R.OPERATOR_110)
OP12345 = Actor("李话务", R.OPERATOR_12345)
WATER = Actor("供水公司张某某", R.UNIT, unit="WATER")
HOUSING = Actor("住建局刘某某", R.UNIT, unit="HOUSING")
SUPERVISOR = Actor("督查局赵某某", R.SUPERVISOR)
ADMIN = Actor("管理员", R.ADMIN)
SYSTEM = Actor("liandong", R.SYSTEM)

# Enough data for any command (only what each needs is looked at).
DATA: dict[Command, dict[str, Any]] = {
    C.DISPATCH: {"lead_unit": "WATER"},
    C.REDISPATCH: {"lead_unit": "HOUSING"},
    C.MERGE: {"into": "2026-000001"},
}


def case_in(state: CaseState, command: Command) -> CaseFile:
    """A case sitting in `state`, set up so that `command` is the actor's to give."""
    desk = Desk.D110 if command in (C.ACCEPT_POLICE, C.REFER_TO_12345) else Desk.D12345
    if state is S.POLICE_HANDLING:
        desk = Desk.D110
    case = CaseFile(
        desk=desk, state=state, lead_unit="WATER", category="water_supply", route=Route.HOTLINE
    )
    if command is C.SEND_BACK:
        case.handover = Handover(desk.other, "对方话务员", "water_supply", T0)
    if command in (C.APPROVE_EXTENSION, C.REFUSE_EXTENSION):
        case.extension = Extension.REQUESTED
    return case


def actor_for(command: Command, case: CaseFile) -> Actor:
    roles = ROLES[command]
    if R.UNIT in roles:
        return WATER
    if R.OPERATOR_12345 in roles and case.desk is Desk.D12345:
        return OP12345
    if R.OPERATOR_110 in roles and case.desk is Desk.D110:
        return OP110
    for actor in (SUPERVISOR, SYSTEM, ADMIN, OP12345, OP110):
        if actor.role in roles:
            return actor
    raise AssertionError(f"no actor for {command}")


ALLOWED = [(c, s, to) for c in GIVEN for s, to in TRANSITIONS[c].items()]


@pytest.mark.parametrize(("command", "state", "to"), ALLOWED, ids=lambda v: str(v))
def test_every_allowed_move_lands_where_the_table_says(
    command: Command, state: CaseState, to: CaseState
) -> None:
    case = case_in(state, command)
    entry = act(case, command, actor_for(command, case), T0, DATA.get(command, {}))
    assert case.state is to
    assert (entry.from_state, entry.to_state, entry.command) == (state, to, command)
    assert case.timeline == [entry]


REFUSED = [(c, s) for c in GIVEN for s in CaseState if s not in TRANSITIONS[c]]


@pytest.mark.parametrize(("command", "state"), REFUSED, ids=lambda v: str(v))
def test_every_other_move_is_refused_with_the_allowed_ones(
    command: Command, state: CaseState
) -> None:
    case = case_in(state, command)
    with pytest.raises(IllegalMove) as refused:
        act(case, command, actor_for(command, case), T0, DATA.get(command, {}))
    assert case.state is state and case.timeline == []
    actor = actor_for(command, case)
    assert refused.value.allowed == permitted(case, actor, T0)
    for move in refused.value.allowed:  # what the 409 offers instead really goes through
        act(copy.deepcopy(case), move, actor, T0, DATA.get(move, {}))


EVERYONE = (
    OP110,
    OP12345,
    WATER,
    HOUSING,
    Actor("交通局", R.UNIT, unit="ROADS"),
    SUPERVISOR,
    ADMIN,
    SYSTEM,
)


@pytest.mark.parametrize("desk", list(Desk))
@pytest.mark.parametrize("state", [s for s in CaseState if s not in FINAL_STATES])
def test_allowed_lists_exactly_the_moves_that_go_through(desk: Desk, state: CaseState) -> None:
    """What a case's `allowed` offers each actor is what `act` then accepts:
    no button in the operators' page that answers 403 or 409."""
    base = CaseFile(
        desk=desk,
        state=state,
        lead_unit="WATER",
        co_units=("HOUSING",),
        route=Route.HOTLINE,
        due_close=T0 + timedelta(days=3),
    )
    for actor in EVERYONE:
        listed = permitted(base, actor, T0)
        for command in Command:
            try:
                act(copy.deepcopy(base), command, actor, T0, DATA.get(command, {}))
            except (IllegalMove, NotPermitted, Refused):
                assert command not in listed, (actor.name, command.value)
            else:
                assert command in listed, (actor.name, command.value)


def test_a_co_unit_is_told_only_the_lead_unit_may_sign() -> None:
    case = case_in(S.DISPATCHED, C.SIGN)
    case.co_units = ("HOUSING",)
    with pytest.raises(NotPermitted, match=r"only the lead unit \(WATER\) may sign"):
        act(case, C.SIGN, HOUSING, T0, {})


def test_a_role_that_never_gives_a_command_is_403_whatever_the_state() -> None:
    case = case_in(S.FED_BACK, C.DISPATCH)
    with pytest.raises(NotPermitted, match="role unit may not dispatch"):
        act(case, C.DISPATCH, WATER, T0, {"lead_unit": "WATER"})


def test_a_case_classified_for_another_route_is_not_dispatched() -> None:
    case = case_in(S.RECEIVED, C.CLASSIFY)
    act(case, C.CLASSIFY, OP12345, T0, {"route": "excluded"})
    with pytest.raises(Refused, match="route excluded"):
        act(case, C.DISPATCH, OP12345, T0, {"lead_unit": "WATER"})
    act(case, C.CLASSIFY, OP12345, T0, {"route": "hotline"})
    act(case, C.DISPATCH, OP12345, T0, {"lead_unit": "WATER"})
    assert case.state is S.DISPATCHED


def test_a_rejected_return_goes_back_to_where_the_unit_was() -> None:
    for signed_first, back_to in ((True, S.SIGNED), (False, S.DISPATCHED)):
        case = case_in(S.DISPATCHED, C.SIGN)
        if signed_first:
            act(case, C.SIGN, WATER, T0, {})
        act(case, C.REQUEST_RETURN, WATER, T0, {"reason": "不属本单位职责"})
        entry = act(case, C.REJECT_RETURN, OP12345, T0, {"reason": "属供水范围"})
        assert entry.to_state is case.state is back_to


def test_no_command_leaves_a_final_state_not_even_a_record_only_one() -> None:
    for state in FINAL_STATES:
        assert allowed_commands(state) == [], state


def test_archived_cases_are_immutable() -> None:
    case = CaseFile(desk=Desk.D12345, state=S.CLOSED)
    act(case, C.ARCHIVE, OP12345, T0, {})
    for command in GIVEN:
        with pytest.raises(IllegalMove):
            act(case, command, actor_for(command, case), T0, DATA.get(command, {}))
    for command in RECORDED:  # not even a merge into it or an attached call
        with pytest.raises(IllegalMove):
            record(case, command, OP12345, T0, {})
    assert len(case.timeline) == 1


@pytest.mark.parametrize("command", sorted(RECORDED))
def test_recorded_entries_land_on_open_cases_and_are_nobodys_to_give(command: Command) -> None:
    assert set(TRANSITIONS[command]) == OPEN_STATES  # open cases, and only those
    for state in OPEN_STATES:
        case = case_in(state, command)
        entry = record(case, command, OP12345, T0, {"case": "2026-000002"})
        assert (entry.from_state, entry.to_state, entry.actor) == (state, state, "李话务")
        assert case.state is state and case.timeline == [entry]
        for actor in EVERYONE:
            assert command not in permitted(case, actor, T0)
            with pytest.raises(NotPermitted):
                act(case, command, actor, T0, {})


def test_the_whole_110_to_12345_to_unit_path() -> None:
    case = CaseFile(desk=Desk.D110)
    act(case, C.REFER_TO_12345, OP110, T0, {})
    act(case, C.CLASSIFY, OP12345, T0, {"category": "water_supply", "route": "hotline"})
    act(case, C.DISPATCH, OP12345, T0, {"lead_unit": "WATER", "co_units": ["HOUSING"]})
    act(case, C.SIGN, WATER, T0, {})
    act(case, C.ARRIVE, HOUSING, T0, {})  # a co-unit may report arrival
    act(case, C.FEED_BACK, WATER, T0, {"measures": "抢修"})
    act(case, C.REPLY, WATER, T0, {"measures": "抢修", "result": "已恢复", "handler": "张某某"})
    act(case, C.APPROVE_REPLY, OP12345, T0, {})
    act(case, C.CLOSE, OP12345, T0, {})
    act(case, C.FOLLOW_UP, OP12345, T0, {"satisfaction": 1})
    act(case, C.ARCHIVE, SYSTEM, T0, {})
    assert case.state is S.ARCHIVED
    assert [e.to_state for e in case.timeline] == [
        S.RECEIVED,
        S.CLASSIFIED,
        S.DISPATCHED,
        S.SIGNED,
        S.ON_SCENE,
        S.FED_BACK,
        S.REPLIED,
        S.REVIEWED,
        S.CLOSED,
        S.CLOSED,
        S.ARCHIVED,
    ]
    assert [e.seq for e in case.timeline] == list(range(11))


def test_ambiguous_matter_goes_to_110_first_and_comes_back_with_the_police_form() -> None:
    case = CaseFile(desk=Desk.D12345)
    act(case, C.CLASSIFY, OP12345, T0, {"category": "neighbour_dispute"})
    act(case, C.REFER_TO_110, OP12345, T0, {})
    assert case.desk is Desk.D110
    form = {"officer": "王警官", "findings": "邻里噪音纠纷，无违法行为", "measures": "现场劝解"}
    entry = act(case, C.POLICE_FEEDBACK, OP110, T0, form)
    assert (case.state, case.desk) == (S.CLASSIFIED, Desk.D12345)
    assert "wrong_transfer" not in entry.data  # investigated: not a wrong transfer
    act(case, C.DISPATCH, OP12345, T0, {"lead_unit": "HOUSING"})
    assert case.lead_unit == "HOUSING"


def test_sending_back_counts_a_wrong_transfer_against_the_sender() -> None:
    case = CaseFile(desk=Desk.D110)
    act(case, C.REFER_TO_12345, OP110, T0, {})
    entry = act(case, C.SEND_BACK, OP12345, T0, {"reason": "持刀威胁，属警情"})
    assert case.desk is Desk.D110 and case.state is S.RECEIVED
    assert entry.data["wrong_transfer"] == {"by": "王警官", "from_desk": "110", "category": None}
    with pytest.raises(Refused):  # and it can't bounce again without a new hand-over
        act(case, C.SEND_BACK, OP110, T0, {"reason": "again"})


def test_once_the_receiving_desk_acts_the_hand_over_is_accepted() -> None:
    case = CaseFile(desk=Desk.D110)
    act(case, C.REFER_TO_12345, OP110, T0, {})
    act(case, C.CLASSIFY, OP12345, T0, {})
    assert case.handover is None
    with pytest.raises(IllegalMove):
        act(case, C.SEND_BACK, OP12345, T0, {"reason": "late"})
    act(case, C.REFER_TO_110, OP12345, T0, {})  # a new, ordinary referral
    assert case.handover is not None and case.handover.by == "李话务"


def test_a_desk_acts_only_on_cases_it_holds() -> None:
    case = CaseFile(desk=Desk.D110)
    with pytest.raises(NotPermitted):
        act(case, C.CLASSIFY, OP12345, T0, {})
    assert case.timeline == []


def test_units_act_only_on_their_own_cases_and_only_the_lead_signs() -> None:
    case = CaseFile(desk=Desk.D12345, state=S.DISPATCHED, lead_unit="WATER", co_units=("HOUSING",))
    with pytest.raises(NotPermitted):
        act(case, C.SIGN, HOUSING, T0, {})
    with pytest.raises(NotPermitted):
        act(case, C.SIGN, Actor("某乡镇", R.UNIT, unit="T01"), T0, {})
    act(case, C.SIGN, WATER, T0, {})
    assert case.state is S.SIGNED


def test_roles_outside_the_table_are_not_permitted() -> None:
    case = CaseFile(desk=Desk.D12345, state=S.CLASSIFIED)
    for actor in (WATER, SUPERVISOR, ADMIN, SYSTEM):
        with pytest.raises(NotPermitted):
            act(case, C.DISPATCH, actor, T0, {"lead_unit": "WATER"})
    assert case.state is S.CLASSIFIED


def test_extensions_only_before_expiry_and_one_at_a_time() -> None:
    case = CaseFile(desk=Desk.D12345, state=S.SIGNED, lead_unit="WATER")
    case.due_close = T0 + timedelta(days=2)
    with pytest.raises(Refused):
        act(case, C.APPROVE_EXTENSION, OP12345, T0, {})
    act(case, C.REQUEST_EXTENSION, WATER, T0, {"days": 3, "reason": "管道需更换"})
    with pytest.raises(Refused):
        act(case, C.REQUEST_EXTENSION, WATER, T0, {"days": 3, "reason": "again"})
    act(case, C.APPROVE_EXTENSION, SUPERVISOR, T0, {})
    assert case.extension is Extension.APPROVED
    late = case.due_close + timedelta(seconds=1)
    with pytest.raises(Refused):
        act(case, C.REQUEST_EXTENSION, WATER, late, {"days": 1, "reason": "late"})


def test_a_return_is_reviewed_then_redispatched_elsewhere_or_rejected() -> None:
    case = CaseFile(desk=Desk.D12345, state=S.SIGNED, lead_unit="WATER")
    act(case, C.REQUEST_RETURN, WATER, T0, {"reason": "不属本单位职责"})
    with pytest.raises(Refused):
        act(case, C.REDISPATCH, OP12345, T0, {"lead_unit": "WATER"})
    act(case, C.REDISPATCH, OP12345, T0, {"lead_unit": "HOUSING"})
    assert (case.state, case.lead_unit) == (S.DISPATCHED, "HOUSING")
    act(case, C.REQUEST_RETURN, HOUSING, T0, {"reason": "也不属于"})
    act(case, C.REJECT_RETURN, OP12345, T0, {"reason": "属住建职责"})
    assert (case.state, case.lead_unit) == (S.DISPATCHED, "HOUSING")


def test_every_api_role_is_an_actor_role() -> None:
    # A token carries any role but the server's own.
    assert set(TOKEN_ROLES) == set(Role) - {Role.SYSTEM}
    assert len(TOKEN_ROLES) == len(set(TOKEN_ROLES))


def test_a_case_110_sends_back_goes_on_to_a_unit_from_12345() -> None:
    case = case_in(S.RECEIVED, C.CLASSIFY)
    act(case, C.CLASSIFY, OP12345, T0, {"route": "ambiguous"})
    act(case, C.REFER_TO_110, OP12345, T0, {})
    act(case, C.SEND_BACK, OP110, T0, {"reason": "非警务事项"})
    assert (case.state, case.desk, case.route) == (S.CLASSIFIED, Desk.D12345, Route.HOTLINE)
    act(case, C.DISPATCH, OP12345, T0, {"lead_unit": "WATER"})
