"""The voice menu's flow files: the shipped 12345 menu loads, and every kind
of mistake is refused with its file and exact line — all of them at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from county.config_file import ConfigFileError, read_yaml
from ivr_flows.core.flow_load import FileProblem, check_flows, load_flows
from ivr_flows.core.flow_model import CaseStatus, Hangup, Menu, Play, Queue

FLOWS = Path(__file__).resolve().parents[2] / "ivr_flows" / "flows"
DESKS = {"110", "12345"}
PROMPTS = {"hello", "menu", "sorry", "again", "ask", "unknown", "down", "bye"}
# The prompt ids the shipped 12345 menu uses: the prompt catalogue must have them all.
PROMPTS_12345 = {
    *("greeting/12345", "menu/emergency", "menu/main", "menu/invalid", "menu/timeout"),
    *(
        "transfer/operator",
        "case/enter_number",
        "case/not_found",
        "service/unavailable",
    ),
}

# Line numbers matter: each refusal test edits this and expects a line named.
BASE = """\
desk: "12345"
start: hello
hints:
  enquiry: 咨询
nodes:
  hello:
    kind: play
    prompt: hello
    keys:
      "0": urgent
    next: main
  main:
    kind: menu
    prompt: [menu]
    keys:
      "0": urgent
      "1": person
      "2": status
      "*": operator
    invalid_prompt: sorry
    timeout_prompt: again
    after_retries: operator
  person:
    kind: queue
    hint: enquiry
  urgent:
    kind: queue
    desk: "110"
    priority: 10
    emergency: true
  status:
    kind: case_status
    prompt: ask
    not_found_prompt: unknown
    unavailable_prompt: down
    next: main
    fallback: operator
"""


def problems(tmp_path: Path, text: str, name: str = "12345.yaml") -> list[tuple[int | None, str]]:
    folder = tmp_path / "flows"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return [(p.line, p.message) for p in check_flows(folder, PROMPTS, DESKS)]


def edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def line_of(text: str, fragment: str, nth: int = 1) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    return lines[nth - 1]


def only(found: list[tuple[int | None, str]]) -> tuple[int | None, str]:
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------ what loads


def test_the_base_flow_loads_with_its_implicit_operator(tmp_path: Path) -> None:
    assert problems(tmp_path, BASE) == []
    (flow,) = load_flows(tmp_path / "flows", PROMPTS, DESKS)
    assert flow.name == "12345" and flow.start == "hello" and flow.desk == "12345"
    assert [n.id for n in flow.nodes] == ["hello", "main", "person", "urgent", "status", "operator"]
    main = flow.node("main")
    assert isinstance(main, Menu)
    assert (main.timeout, main.retries) == (5, 2)  # the defaults
    assert [(k.key, k.to) for k in main.keys] == [
        ("0", "urgent"),
        ("1", "person"),
        ("2", "status"),
        ("*", "operator"),
    ]
    operator = flow.node("operator")
    assert isinstance(operator, Queue) and operator.implicit
    assert (operator.desk, operator.priority, operator.via) == ("12345", 0, "menu")
    urgent = flow.node("urgent")
    assert isinstance(urgent, Queue) and urgent.via == "emergency"
    assert flow.hint_label("enquiry") == "咨询"


def test_the_shipped_12345_menu_loads_with_the_prompts_it_names() -> None:
    assert check_flows(FLOWS, PROMPTS_12345, DESKS) == []
    (flow,) = load_flows(FLOWS, PROMPTS_12345, DESKS)
    used: set[str] = set()
    for node in flow.nodes:
        for name in ("prompts", "invalid_prompts", "timeout_prompts"):
            used.update(getattr(node, name, ()))
        if isinstance(node, CaseStatus):
            used.update(node.not_found_prompts + node.unavailable_prompts)
    assert used == PROMPTS_12345  # the list to reconcile with the prompt catalogue

    greeting = flow.node(flow.start)
    assert isinstance(greeting, Play)
    assert {k.key: k.to for k in greeting.keys}["0"] == "emergency"  # during the greeting too
    main = flow.node(greeting.next)
    assert isinstance(main, Menu)
    assert main.prompts[0] == "menu/emergency"  # the emergency key is announced first
    keys = {k.key: flow.node(k.to) for k in main.keys}
    assert set(keys) == {"0", "1", "2", "3", "4", "5", "*"}
    hints = {key: getattr(node, "hint", None) for key, node in keys.items()}
    assert [flow.hint_label(hints[k] or "") for k in "1234"] == [
        "咨询",
        "求助",
        "投诉举报",
        "意见建议",
    ]
    emergency = keys["0"]
    assert isinstance(emergency, Queue) and emergency.emergency and emergency.desk == "110"
    assert isinstance(keys["5"], CaseStatus)
    assert keys["5"].fallback == "operator"
    assert main.after_retries == "operator" and keys["*"].id == "operator"


def test_a_prompt_missing_from_the_catalogue_is_named_on_its_line() -> None:
    found = check_flows(FLOWS, PROMPTS_12345 - {"case/not_found"}, DESKS)
    (problem,) = found
    text = (FLOWS / "12345.yaml").read_text(encoding="utf-8")
    assert problem.line == line_of(text, "not_found_prompt: case/not_found")
    assert "unknown prompt “case/not_found”" in problem.message


def test_nodes_of_every_kind_and_destination_words(tmp_path: Path) -> None:
    text = edit("    after_retries: operator\n", "    after_retries: bye\n") + (
        "  bye:\n    kind: hangup\n    prompt: bye\n"
        "  elsewhere:\n    kind: play\n    prompt: hello\n    next: queue:110\n"
    )
    text = text.replace('      "*": operator\n', '      "*": queue\n      "#": elsewhere\n')
    assert problems(tmp_path, text) == []
    (flow,) = load_flows(tmp_path / "flows", PROMPTS, DESKS)
    assert isinstance(flow.node("bye"), Hangup)
    queue_110 = flow.node("queue_110")
    assert isinstance(queue_110, Queue) and queue_110.desk == "110" and queue_110.implicit
    main = flow.node("main")
    assert isinstance(main, Menu)
    assert {k.key: k.to for k in main.keys}["*"] == "operator"  # queue = operator


# ------------------------------------------------------------------ each refusal, on its line


def test_unknown_prompt(tmp_path: Path) -> None:
    text = edit("    prompt: ask\n", "    prompt: [ask, nope]\n")
    assert only(problems(tmp_path, text)) == (
        line_of(text, "prompt: [ask, nope]"),
        "node “status”: prompt: unknown prompt “nope” (not in the catalogue)",
    )


def test_a_prompt_in_a_list_is_named_on_its_own_line(tmp_path: Path) -> None:
    text = edit("    prompt: [menu]\n", "    prompt:\n      - menu\n      - nope\n")
    line, message = only(problems(tmp_path, text))
    assert line == line_of(text, "- nope") and "unknown prompt “nope”" in message


def test_unreachable_node(tmp_path: Path) -> None:
    text = BASE + "  lonely:\n    kind: hangup\n"
    assert only(problems(tmp_path, text)) == (
        line_of(text, "lonely:"),
        "node “lonely” is unreachable from the start node “hello”",
    )


def test_a_play_without_next_has_no_way_out(tmp_path: Path) -> None:
    text = edit("    next: main\n  main:\n", '      "1": main\n  main:\n')
    assert only(problems(tmp_path, text)) == (
        line_of(text, "  hello:"),
        "node “hello” (play): “next” is required",
    )


def test_a_menu_without_after_retries_has_no_way_out(tmp_path: Path) -> None:
    text = edit("    after_retries: operator\n", "")
    assert only(problems(tmp_path, text)) == (
        line_of(text, "  main:"),
        "node “main” (menu): “after_retries” is required",
    )


def test_a_silent_caller_going_round_for_ever_has_no_way_out(tmp_path: Path) -> None:
    text = edit("    after_retries: operator\n", "    after_retries: hello\n")
    line, message = only(problems(tmp_path, text))
    assert line == line_of(text, "  hello:")
    assert message == (
        "node “hello” has no way out: a caller who presses no key goes round "
        "hello → main → hello for ever (a queue or a hangup must be reached)"
    )


def test_a_cycle_through_a_lookup_is_a_cycle_too(tmp_path: Path) -> None:
    text = edit("    fallback: operator\n", "    fallback: status\n")
    line, message = only(problems(tmp_path, text))
    assert line == line_of(text, "  status:")
    assert "status → status for ever" in message


def test_keys_leading_out_do_not_excuse_a_silent_cycle(tmp_path: Path) -> None:
    # Key 1 reaches a queue, but a caller who presses nothing never leaves.
    text = edit("    after_retries: operator\n", "    after_retries: main\n")
    line, message = only(problems(tmp_path, text))
    assert line == line_of(text, "  main:") and "main → main" in message


def test_a_key_used_twice_is_named_on_the_second(tmp_path: Path) -> None:
    text = edit('      "2": status\n', '      "2": status\n      1: urgent\n')
    first = line_of(text, '"1": person')
    assert only(problems(tmp_path, text)) == (
        line_of(text, "1: urgent"),
        f"node “main”: key “1” is used twice (first on line {first})",
    )


def test_unknown_destination(tmp_path: Path) -> None:
    # Only the mistake: not also "status is unreachable", its consequence.
    text = edit('      "2": status\n', '      "2": nowhere\n')
    assert only(problems(tmp_path, text)) == (
        line_of(text, '"2": nowhere'),
        "unknown destination “nowhere”: no node of that id",
    )


@pytest.mark.parametrize("written", ["Main", '"queue:"', "main menu", "12"])
def test_malformed_destinations(tmp_path: Path, written: str) -> None:
    text = edit("    next: main\n  main:", f"    next: {written}\n  main:")
    line, message = only(problems(tmp_path, text))
    assert line == line_of(text, f"next: {written}") and "node “hello”: next: unknown" in message


def test_unknown_desk_in_a_queue_and_in_a_destination(tmp_path: Path) -> None:
    text = edit('    desk: "110"\n', '    desk: "119"\n')
    text = text.replace("    fallback: operator\n", "    fallback: queue:120\n")
    found = problems(tmp_path, text)
    assert found == [
        (line_of(text, 'desk: "119"'), "node “urgent”: desk: unknown desk “119” (110, 12345)"),
        (
            line_of(text, "fallback: queue:120"),
            "node “status”: fallback: unknown desk “120” (110, 12345)",
        ),
    ]


def test_unknown_flow_desk(tmp_path: Path) -> None:
    text = edit('desk: "12345"\n', "desk: 12346\n")
    assert only(problems(tmp_path, text)) == (1, "desk: unknown desk “12346” (110, 12345)")


@pytest.mark.parametrize("key", ['"12"', "a", '"i"', "true", '"-"'])
def test_bad_keys(tmp_path: Path, key: str) -> None:
    text = edit('      "1": person\n', f"      {key}: person\n")
    found = problems(tmp_path, text)
    line = line_of(text, f"{key}: person")
    assert (line, found[0][1]) == found[0] and "bad key" in found[0][1], found


def test_an_unquoted_hash_key_is_not_lost_silently(tmp_path: Path) -> None:
    text = edit('      "*": operator\n', '      "*": operator\n      #: operator\n')
    line, message = only(problems(tmp_path, text))
    assert line == line_of(text, "#: operator") and "quoted" in message


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("timeout", "0", "timeout: a whole number 1–60 is expected"),
        ("timeout", "61", "timeout: a whole number 1–60 is expected"),
        ("timeout", '"5"', "timeout: a whole number 1–60 is expected"),
        ("timeout", "2.5", "timeout: a whole number 1–60 is expected"),
        ("retries", "-1", "retries: a whole number 0–9 is expected"),
        ("retries", "true", "retries: a whole number 0–9 is expected"),
        ("retries", "10", "retries: a whole number 0–9 is expected"),
    ],
)
def test_bad_timeout_and_retries(tmp_path: Path, field: str, value: str, expected: str) -> None:
    text = edit("    invalid_prompt: sorry\n", f"    invalid_prompt: sorry\n    {field}: {value}\n")
    assert only(problems(tmp_path, text)) == (
        line_of(text, f"{field}: {value}"),
        f"node “main”: {expected}",
    )


def test_bad_case_status_and_queue_numbers(tmp_path: Path) -> None:
    text = edit("    next: main\n    fallback", "    next: main\n    max_digits: 0\n    fallback")
    text = text.replace("    priority: 10\n", "    priority: 101\n")
    assert problems(tmp_path, text) == [
        (
            line_of(text, "priority: 101"),
            "node “urgent”: priority: a whole number 0–100 is expected",
        ),
        (
            line_of(text, "max_digits: 0"),
            "node “status”: max_digits: a whole number 1–30 is expected",
        ),
    ]


def test_a_misspelt_field_is_named_with_the_one_meant(tmp_path: Path) -> None:
    text = edit("    invalid_prompt: sorry\n", "    invalid_prompt: sorry\n    timout: 5\n")
    line, message = only(problems(tmp_path, text))
    assert line == line_of(text, "timout: 5")
    assert message.startswith(
        "node “main” (menu): unknown field “timout” — did you mean “timeout”?"
    )


def test_a_field_of_another_kind_is_unknown(tmp_path: Path) -> None:
    text = edit("    hint: enquiry\n", "    hint: enquiry\n    retries: 2\n")
    line, message = only(problems(tmp_path, text))
    assert line == line_of(text, "retries: 2") and "(queue): unknown field “retries”" in message


def test_unknown_top_level_field(tmp_path: Path) -> None:
    text = edit("start: hello\n", "start: hello\nstrat: hello\n")
    line, message = only(problems(tmp_path, text))
    assert line == 3 and "unknown field “strat” — did you mean “start”?" in message


def test_a_field_given_twice(tmp_path: Path) -> None:
    text = edit("    next: main\n  main:\n", "    next: main\n    next: hello\n  main:\n")
    assert only(problems(tmp_path, text)) == (
        line_of(text, "next: hello"),
        f"node “hello” (play): “next” given twice (first on line {line_of(text, 'next: main')})",
    )


def test_node_ids_kinds_and_start(tmp_path: Path) -> None:
    text = BASE.replace("start: hello", "start: nobody") + (
        "  operator:\n    kind: hangup\n"
        "  Bad-Id:\n    kind: hangup\n"
        "  odd:\n    kind: ring\n"
        "  bare:\n    prompt: hello\n"
        "  main:\n    kind: hangup\n"
    )
    found = problems(tmp_path, text)
    assert found == [
        (2, "start: unknown node “nobody”"),
        (line_of(text, "  operator:"), "node id “operator” is a destination word: choose another"),
        (line_of(text, "  Bad-Id:"), "bad node id “Bad-Id”: a-z first, then a-z, 0-9 and _"),
        (
            line_of(text, "kind: ring"),
            "node “odd”: kind: one of play, menu, queue, case_status, hangup is required",
        ),
        (
            line_of(text, "  bare:"),
            "node “bare”: kind: one of play, menu, queue, case_status, hangup is required",
        ),
        (
            line_of(text, "  main:", 2),
            f"node “main” is defined twice (first on line {line_of(text, '  main:')})",
        ),
    ]


def test_hints(tmp_path: Path) -> None:
    text = edit("  enquiry: 咨询\n", "  enquiry: 咨询\n  Bad: 坏\n  empty: ''\n")
    text = text.replace("    emergency: true\n", "    emergency: true\n    hint: enquiry\n")
    text = text.replace("    hint: enquiry\n  urgent", "    hint: complaint\n  urgent")
    assert problems(tmp_path, text) == [
        (line_of(text, "Bad: 坏"), "hints: bad code “Bad”: lower-case letters, digits and _"),
        (line_of(text, "empty: ''"), "hints: empty: a name (中文) is expected"),
        (line_of(text, "hint: complaint"), "node “person”: unknown hint “complaint” (enquiry)"),
        (line_of(text, "hint: enquiry", 1), "node “urgent”: an emergency queue takes no hint"),
    ]


def test_a_prompt_id_the_dialplan_cannot_name_is_refused_even_in_the_catalogue(
    tmp_path: Path,
) -> None:
    hostile = "x;y,(z)${EXTEN}"
    folder = tmp_path / "flows"
    folder.mkdir()
    text = edit("    prompt: hello\n", f'    prompt: "{hostile}"\n')
    (folder / "12345.yaml").write_text(text, encoding="utf-8")
    (problem,) = check_flows(folder, {*PROMPTS, hostile}, DESKS)
    assert problem.line == line_of(text, hostile)
    assert "cannot be named in the dialplan" in problem.message


# ------------------------------------------------------------------ all at once, with files


def test_several_problems_are_reported_together_in_line_order(tmp_path: Path) -> None:
    text = (
        edit("    prompt: ask\n", "    prompt: nope\n")
        .replace('      "2": status\n', '      "2": status\n      "2": person\n')
        .replace("    invalid_prompt: sorry\n", "    invalid_prompt: sorry\n    timout: 5\n")
        .replace('    desk: "110"\n', '    desk: "119"\n')
    ) + "  lonely:\n    kind: hangup\n"
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "12345.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_flows(folder, PROMPTS, DESKS)
    rendered = str(caught.value).splitlines()
    assert rendered[0] == f"{folder}: 5 problem(s), nothing loaded:"
    path = folder / "12345.yaml"
    twice, first = line_of(text, '"2": person'), line_of(text, '"2": status')
    desk = line_of(text, 'desk: "119"')
    assert rendered[1:] == [
        f"{path}:{twice}: node “main”: key “2” is used twice (first on line {first})",
        f"{path}:{line_of(text, 'timout')}: node “main” (menu): unknown field “timout” — "
        "did you mean “timeout”? (kind, prompt, after_retries, keys, timeout, retries, "
        "invalid_prompt, timeout_prompt, note)",
        f"{path}:{desk}: node “urgent”: desk: unknown desk “119” (110, 12345)",
        f"{path}:{line_of(text, 'prompt: nope')}: node “status”: prompt: unknown prompt “nope” "
        "(not in the catalogue)",
        f"{path}:{line_of(text, 'lonely')}: node “lonely” is unreachable from the start node "
        "“hello”",
    ]


def test_problems_of_two_files_each_name_their_file(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "a.yaml").write_text(edit("    prompt: ask\n", "    prompt: nope\n"), "utf-8")
    (folder / "b.yaml").write_text("desk: [\n", "utf-8")
    found = check_flows(folder, PROMPTS, DESKS)
    assert [(Path(p.path).name, p.line) for p in found] == [
        ("a.yaml", line_of(BASE, "prompt: ask")),
        ("b.yaml", 2),
    ]
    assert found[1].render().startswith(f"{folder / 'b.yaml'}:2: YAML: ")
    assert all(isinstance(p, FileProblem) for p in found)


def test_a_folder_without_flows(tmp_path: Path) -> None:
    assert [p.render() for p in check_flows(tmp_path, PROMPTS, DESKS)] == [
        f"{tmp_path}: no flow files (*.yaml) here"
    ]
    missing = tmp_path / "nope"
    assert [p.render() for p in check_flows(missing, PROMPTS, DESKS)] == [
        f"{missing}: no such folder of flow files"
    ]


def test_a_bad_file_name(tmp_path: Path) -> None:
    assert problems(tmp_path, BASE, name="12345-Menu.yaml") == [
        (None, "a flow file's name is lower-case letters, digits and _ (12345.yaml)")
    ]


def test_not_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- one\n- two\n") == [
        (None, "the file must be a YAML mapping with desk:, start: and nodes:")
    ]


# ------------------------------------------------------------------ the shared YAML reader


def test_read_yaml_still_refuses_duplicate_keys_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n", encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        read_yaml(path)
    assert [(p.line, p.message) for p in caught.value.problems] == [(3, "YAML: duplicate key 'a'")]
    kept = read_yaml(path, keep_duplicates=True)
    assert kept == {"a": 1, "b": 2} and kept.repeated == (("a", 3),)
