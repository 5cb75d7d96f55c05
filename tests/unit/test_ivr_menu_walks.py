"""A caller's walk through the shipped 12345 menu, step by step as the
generated dialplan marks it (`UserEvent(LdIvr)`: node, key, mark), read into
the lines the case records: the choice with its hint from the flow's
`hints:`, the emergency key to 110, an operator reached and why, a lookup's
outcome, a hang-up — each with every step since the last, none twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ivr_flows.core.desk_events import MenuStep
from ivr_flows.core.flow_load import load_flows
from ivr_flows.core.flow_model import Flow, Hint, Queue
from ivr_flows.core.menu_walks import MenuWalks
from records.core.menu_notes import MenuNote, MenuOutcome, PathStep
from tests.unit.test_ivr_flow_load import DESKS, FLOWS, PROMPTS_12345

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
UID = "liandong-1.7"


@pytest.fixture(scope="module")
def flow() -> Flow:
    (loaded,) = load_flows(FLOWS, PROMPTS_12345, DESKS)
    return loaded


def steps(*marks: tuple[str, str, str]) -> list[MenuStep]:
    """(node, key, mark) as ivr-mark raises them, a second apart."""
    return [
        MenuStep(T0 + timedelta(seconds=i), UID, UID, "12345", node, key, mark)
        for i, (node, key, mark) in enumerate(marks)
    ]


def walk(flow: Flow, *marks: tuple[str, str, str]) -> list[MenuNote]:
    walks = MenuWalks([flow])
    notes: list[MenuNote] = []
    for step in steps(*marks):
        fresh, made = walks.step(step)
        assert fresh
        notes += made
    return notes


ENTERED = [("greeting", "", ""), ("main", "", "")]


@pytest.mark.parametrize(
    ("key", "hint", "label"),
    [
        ("1", "enquiry", "咨询"),
        ("2", "help", "求助"),
        ("3", "complaint_report", "投诉举报"),
        ("4", "suggestion", "意见建议"),
    ],
)
def test_a_demand_type_chosen_is_one_note_with_the_flows_hint_and_name(
    flow: Flow, key: str, hint: str, label: str
) -> None:
    [note] = walk(flow, *ENTERED, ("main", key, f"hint={hint}"), (hint, "", ""))
    assert (note.outcome, note.hint, note.hint_label) == (MenuOutcome.CHOICE, hint, label)
    assert (note.node, note.key, note.to_desk, note.desk) == ("main", key, "12345", "12345")
    assert note.path == (
        PathStep("greeting"),
        PathStep("main"),
        PathStep("main", key),
        PathStep(hint),
    )
    assert note.step_id == f"{UID}@{(T0 + timedelta(seconds=3)).isoformat()}"


def test_the_hint_names_come_from_the_flow_file_not_the_code(flow: Flow) -> None:
    """A county that renames a demand type in `hints:` gets its name on the case."""
    renamed = replace(flow, hints=(Hint("help", "求助类"),))
    [note] = walk(renamed, *ENTERED, ("main", "2", "hint=help"), ("help", "", ""))
    assert note.hint_label == "求助类"


def test_the_emergency_key_in_the_greeting_goes_to_110(flow: Flow) -> None:
    [note] = walk(flow, ("greeting", "", ""), ("greeting", "0", "emergency"), ("emergency", "", ""))
    assert (note.outcome, note.node, note.key, note.to_desk) == (
        MenuOutcome.EMERGENCY,
        "greeting",
        "0",
        "110",
    )
    assert note.hint is None


def test_star_is_an_operator_by_key(flow: Flow) -> None:
    [note] = walk(flow, ("greeting", "", ""), ("greeting", "*", ""), ("operator", "", ""))
    assert (note.outcome, note.reason, note.key, note.node) == (
        MenuOutcome.OPERATOR,
        "key",
        "*",
        "greeting",
    )


def test_no_valid_choice_counts_the_wrong_keys_and_silences(flow: Flow) -> None:
    """retries: 2 — said three times: a wrong key, then silence twice."""
    [note] = walk(
        flow,
        *ENTERED,
        ("main", "9", ""),
        ("main", "", ""),
        ("main", "", ""),
        ("operator", "", ""),
    )
    assert (note.outcome, note.reason, note.key) == (MenuOutcome.OPERATOR, "no_choice", None)
    assert (note.invalid_keys, note.timeouts, note.node) == (1, 2, "main")
    assert [s.key for s in note.path] == [None, None, "9", None, None, None]


def test_a_lookup_is_a_note_and_the_typed_digits_are_counted_not_kept(flow: Flow) -> None:
    notes = walk(
        flow,
        *ENTERED,
        ("main", "5", ""),
        ("case_status", "", ""),
        ("case_status", "13912345678", ""),
        ("case_status", "", "case_not_found"),
        ("main", "", ""),
        ("main", "2", "hint=help"),
        ("help", "", ""),
    )
    lookup, choice = notes
    assert (lookup.outcome, lookup.reason, lookup.typed) == (
        MenuOutcome.CASE_STATUS,
        "not_found",
        True,
    )
    assert PathStep("case_status", None, typed=11) in lookup.path
    assert "13912345678" not in repr(lookup)
    # The choice carries only what came after the lookup.
    assert choice.path == (PathStep("main"), PathStep("main", "2"), PathStep("help"))


def test_a_lookup_the_server_could_not_answer_sends_to_an_operator(flow: Flow) -> None:
    lookup, operator = walk(
        flow,
        *ENTERED,
        ("main", "5", ""),
        ("case_status", "", ""),
        ("case_status", "", "case_unavailable"),
        ("operator", "", ""),
    )
    assert (lookup.reason, lookup.typed) == ("unavailable", False)
    assert (operator.reason, operator.node) == ("lookup_failed", "case_status")


def test_a_hang_up_in_the_menu_ends_the_walk_with_its_steps(flow: Flow) -> None:
    walks = MenuWalks([flow])
    for step in steps(*ENTERED, ("main", "8", "")):
        walks.step(step)
    [note] = walks.ended(UID, T0 + timedelta(seconds=9))
    assert (note.outcome, note.reason, note.node) == (MenuOutcome.HUNG_UP, "caller", "main")
    assert [s.key for s in note.path] == [None, None, "8"]
    assert walks.ended(UID, T0) == [] and len(walks) == 0


def test_a_hang_up_in_the_queue_says_nothing_more(flow: Flow) -> None:
    walks = MenuWalks([flow])
    for step in steps(*ENTERED, ("main", "1", "hint=enquiry"), ("enquiry", "", "")):
        walks.step(step)
    assert walks.ended(UID, T0 + timedelta(seconds=30)) == []


def test_the_same_event_twice_is_one_step(flow: Flow) -> None:
    walks = MenuWalks([flow])
    *before, key, queue = steps(*ENTERED, ("main", "2", "hint=help"), ("help", "", ""))
    for step in before:
        walks.step(step)
    assert walks.step(key) == (True, [])
    assert walks.step(key) == (False, [])
    fresh, [note] = walks.step(queue)
    assert fresh and note.outcome is MenuOutcome.CHOICE
    assert walks.step(queue) == (False, [])


def test_a_node_the_loaded_flow_lacks_still_counts_by_its_keys_mark(flow: Flow) -> None:
    """The file was edited after Asterisk loaded the dialplan: the mark says
    what the key meant, the flow's emergency queue where it went."""
    [note] = walk(flow, *ENTERED, ("main", "7", "emergency"), ("urgent_old", "", ""))
    assert (note.outcome, note.key, note.to_desk) == (MenuOutcome.EMERGENCY, "7", "110")
    emergency = next(n for n in flow.nodes if isinstance(n, Queue) and n.emergency)
    assert emergency.desk == "110"


def test_a_menu_without_a_file_is_on_the_call_only(flow: Flow) -> None:
    walks = MenuWalks([flow])
    other = MenuStep(T0, UID, UID, "other", "main", "1", "hint=x")
    assert walks.step(other) == (True, [])
