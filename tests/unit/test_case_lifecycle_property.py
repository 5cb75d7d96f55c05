"""Random command sequences, from random actors, never break the lifecycle
table and never lose (or invent) a timeline entry."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from common.vocabulary import DESK_ROLE, Desk, Role
from county.case_words import Route
from records.core.case_file import Actor, CaseFile, IllegalMove, NotPermitted, Refused, act
from records.core.lifecycle import FINAL_STATES, GIVEN, ROLES, CaseState, Command, next_state

UNITS = ["WATER", "HOUSING", "T01"]
actors = st.one_of(
    st.builds(
        Actor,
        st.sampled_from(["甲", "乙"]),
        st.sampled_from([r for r in Role if r is not Role.UNIT]),
    ),
    st.builds(Actor, st.just("单位员工"), st.just(Role.UNIT), st.sampled_from(UNITS)),
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "lead_unit": st.sampled_from(UNITS),
        "co_units": st.lists(st.sampled_from(UNITS), unique=True, max_size=2),
        "into": st.just("2026-000001"),
        "category": st.sampled_from(["water_supply", "noise"]),
        "days": st.integers(1, 5),
    },
)
steps = st.lists(
    st.tuples(
        st.integers(0, 3).map(bool),
        st.integers(0, 99),
        st.sampled_from(list(Command)),
        actors,
        payloads,
        st.integers(0, 72),
    ),
    min_size=10,
    max_size=80,
)


def fitting(case: CaseFile, pick: int) -> tuple[Command, Actor]:
    """A command the table allows now, from an actor of a role that may give it:
    without these, random sequences rarely get past the first two states."""
    allowed = case.allowed() or list(GIVEN)
    ending = {Command.MERGE, Command.CANCEL, Command.ARCHIVE}
    if pick < 90:  # mostly keep the case alive, to reach the deep states
        allowed = [c for c in allowed if c not in ending] or allowed
    command = allowed[pick % len(allowed)]
    roles = sorted(ROLES[command])
    role = DESK_ROLE[case.desk] if DESK_ROLE[case.desk] in roles else roles[pick % len(roles)]
    return command, Actor("合适的人", role, unit=case.lead_unit if role is Role.UNIT else None)


@settings(max_examples=400, deadline=None)
@given(desk=st.sampled_from(list(Desk)), steps=steps)
def test_random_commands_keep_the_table_and_the_timeline(
    desk: Desk, steps: list[tuple[Command, Actor, dict[str, object], int]]
) -> None:
    case = CaseFile(desk=desk, due_close=datetime(2026, 12, 3, tzinfo=UTC))
    at = datetime(2026, 11, 30, tzinfo=UTC)
    accepted = 0
    for use_allowed, pick, command, actor, data, hours in steps:
        if use_allowed:
            command, actor = fitting(case, pick)
        at += timedelta(hours=hours)
        if command in (Command.DISPATCH, Command.REDISPATCH):
            data.setdefault("lead_unit", "WATER")
        if command is Command.MERGE:
            data.setdefault("into", "2026-000001")
        if command is Command.CLASSIFY:  # mostly the route that leads on to a unit
            data.setdefault("route", Route.HOTLINE if pick % 4 else Route.ANSWER)
        before = copy.deepcopy(case)
        try:
            entry = act(case, command, actor, at, data)
        except (IllegalMove, NotPermitted, Refused):
            assert case == before, f"a refused {command} changed the case"
            continue
        accepted += 1
        assert before.state not in FINAL_STATES
        assert entry.from_state is before.state
        expected = next_state(command, before.state, signed=before.signed)
        assert entry.to_state is expected is case.state
        assert case.timeline[:-1] == before.timeline and case.timeline[-1] is entry
        assert (entry.actor, entry.role) == (actor.name, actor.role)
        assert case.lead_unit not in case.co_units
        assert case.handover is None or case.handover.from_desk is not case.desk
    for visited in {e.to_state for e in case.timeline}:
        event(f"visited {visited.value}")
    assert len(case.timeline) == accepted
    assert [e.seq for e in case.timeline] == list(range(accepted))
    # The timeline alone replays the state: no move happened off the record.
    state = CaseState.RECEIVED
    for entry in case.timeline:
        assert entry.from_state is state
        state = entry.to_state
    assert state is case.state
