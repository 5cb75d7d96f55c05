"""The generated extensions_ivr.conf, structurally: its contexts, each key's
extension and mark, the retries, the queues, the case lookup, and what is
refused rather than escaped. (A real Asterisk loads and runs it in
tests/integration/test_ivr_dialplan.py.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from ivr_flows.core.flow_load import load_flows
from ivr_flows.core.flow_model import Flow, Hangup, Hint, Key, Menu, Play, Queue
from ivr_flows.core.menu_dialplan import UnsafeValue, dialplan
from tests.unit.test_ivr_flow_load import DESKS, FLOWS, PROMPTS_12345


@pytest.fixture(scope="module")
def flow() -> Flow:
    (loaded,) = load_flows(FLOWS, PROMPTS_12345, DESKS)
    return loaded


@pytest.fixture(scope="module")
def text(flow: Flow) -> str:
    return dialplan([flow])


def context(text: str, name: str) -> list[str]:
    """The lines of one context, comments left out."""
    lines = text.splitlines()
    start = lines.index(f"[{name}]") + 1
    body: list[str] = []
    for line in lines[start:]:
        if line.startswith("["):
            break
        if line and not line.startswith(";"):
            body.append(line)
    return body


def extension(text: str, name: str, exten: str) -> list[str]:
    """The steps of one extension of a context: its first line, then each `same`."""
    body = context(text, name)
    first = next(i for i, line in enumerate(body) if line.startswith(f"exten => {exten},1,"))
    steps = [body[first].split(",", 2)[2]]
    for line in body[first + 1 :]:
        if not line.startswith(" same => "):
            break
        steps.append(line.removeprefix(" same => "))
    return steps


def test_the_file_says_it_is_generated_and_from_what(text: str, flow: Flow) -> None:
    first = text.splitlines()[:3]
    assert first[0] == "; GENERATED FILE: do not edit by hand. Your changes would be lost."
    assert f"; Generated from {flow.source} by ivr_flows/core/menu_dialplan.py" == first[1]


def test_one_context_per_node_and_the_entry_answers_first(text: str, flow: Flow) -> None:
    names = re.findall(r"^\[([^\]]+)\]$", text, re.MULTILINE)
    assert names == ["ivr-12345", *(f"ivr-12345-{node.id}" for node in flow.nodes)]
    assert extension(text, "ivr-12345", "s") == ["Answer()", "n,Goto(ivr-12345-greeting,s,1)"]


def test_every_goto_names_a_context_of_the_file(text: str) -> None:
    names = set(re.findall(r"^\[([^\]]+)\]$", text, re.MULTILINE))
    targets = set(re.findall(r"Goto\((ivr-[^,]+),s,1\)", text))
    assert targets and targets <= names


def test_the_greeting_takes_the_emergency_key_while_it_plays(text: str) -> None:
    name = "ivr-12345-greeting"
    assert extension(text, name, "s") == [
        "Gosub(ivr-mark,s,1(12345,greeting,,))",
        "n,Background(liandong/greeting/12345)",
        "n,Goto(ivr-12345-main,s,1)",
    ]
    assert extension(text, name, "0") == [
        "Gosub(ivr-mark,s,1(12345,greeting,0,emergency))",
        "n,Goto(ivr-12345-emergency,s,1)",
    ]
    # Any other key: straight on to the menu (without an i extension, Asterisk hangs up).
    assert extension(text, name, "i") == [
        "Gosub(ivr-mark,s,1(12345,greeting,${INVALID_EXTEN},))",
        "n,Goto(ivr-12345-main,s,1)",
    ]


def test_the_menu_marks_each_key_with_its_hint_or_emergency(text: str) -> None:
    name = "ivr-12345-main"
    marks = {
        "0": ("emergency", "emergency"),
        "1": ("hint=enquiry", "enquiry"),
        "2": ("hint=help", "help"),
        "3": ("hint=complaint_report", "complaint_report"),
        "4": ("hint=suggestion", "suggestion"),
        "5": ("", "case_status"),
        "*": ("", "operator"),
    }
    for key, (mark, target) in marks.items():
        assert extension(text, name, key) == [
            f"Gosub(ivr-mark,s,1(12345,main,{key},{mark}))",
            f"n,Goto(ivr-12345-{target},s,1)",
        ]
    # The hints' Chinese names are in comments beside their keys, as UTF-8.
    assert "; 3: complaint_report = 投诉举报" in text.splitlines()


def test_the_menu_counts_wrong_keys_and_silence_then_goes_to_the_operator(text: str) -> None:
    name = "ivr-12345-main"
    assert extension(text, name, "s") == [
        "Set(LD_IVR_TRIES=0)",
        "n(play),Gosub(ivr-mark,s,1(12345,main,,))",
        "n,Background(liandong/menu/emergency&liandong/menu/main)",
        "n,WaitExten(6)",
    ]
    retry = [
        "n,Set(LD_IVR_TRIES=$[${LD_IVR_TRIES} + 1])",
        "n,Playback(liandong/{prompt})",
        "n,GotoIf($[${LD_IVR_TRIES} > 2]?over)",
        "n,Goto(s,play)",
        "n(over),Goto(ivr-12345-operator,s,1)",
    ]
    invalid = extension(text, name, "i")
    assert invalid[0] == "Gosub(ivr-mark,s,1(12345,main,${INVALID_EXTEN},))"
    assert invalid[1:] == [step.replace("{prompt}", "menu/invalid") for step in retry]
    timeout = extension(text, name, "t")
    expected = [step.replace("{prompt}", "menu/timeout") for step in retry]
    assert ["n," + timeout[0], *timeout[1:]] == expected


def test_queues_go_to_their_desk_with_priority_and_via(text: str) -> None:
    assert extension(text, "ivr-12345-emergency", "s") == [
        "Gosub(ivr-mark,s,1(12345,emergency,,))",
        "n,Gosub(desk-queue,s,1(110,10,emergency))",
        "n,Hangup()",
    ]
    assert extension(text, "ivr-12345-help", "s") == [
        "Gosub(ivr-mark,s,1(12345,help,,))",
        "n,Gosub(desk-queue,s,1(12345,0,menu))",
        "n,Hangup()",
    ]
    assert extension(text, "ivr-12345-operator", "s")[1:] == [
        "n,Playback(liandong/transfer/operator)",
        "n,Gosub(desk-queue,s,1(12345,0,menu))",
        "n,Hangup()",
    ]


def test_the_case_lookup_asks_the_server_and_never_depends_on_it(text: str) -> None:
    assert extension(text, "ivr-12345-case_status", "s") == [
        "Gosub(ivr-mark,s,1(12345,case_status,,))",
        "n,Set(LD_FOUND=)",
        "n,Set(LD_SAY=)",
        "n,Read(LD_CASE_NO,liandong/case/enter_number,10,,1,10)",
        'n,GotoIf($["${LD_CASE_NO}" = ""]?ask)',
        "n,Gosub(ivr-mark,s,1(12345,case_status,${LD_CASE_NO},))",
        "n(ask),Gosub(ld-agi,s,1(case-status,${LD_CASE_NO}))",
        'n,GotoIf($["${GOSUB_RETVAL}" != "SUCCESS"]?failed)',
        'n,GotoIf($["${LD_FOUND}" != "1"]?unknown)',
        'n,GotoIf($["${LD_SAY}" = ""]?failed)',
        "n,Gosub(ivr-mark,s,1(12345,case_status,,case_found))",
        "n,Playback(${LD_SAY})",
        "n,Goto(ivr-12345-main,s,1)",
        "n(unknown),Gosub(ivr-mark,s,1(12345,case_status,,case_not_found))",
        "n,Playback(liandong/case/not_found)",
        "n,Goto(ivr-12345-main,s,1)",
        "n(failed),Gosub(ivr-mark,s,1(12345,case_status,,case_unavailable))",
        "n,Playback(liandong/service/unavailable)",
        "n,Goto(ivr-12345-operator,s,1)",
    ]


def test_hash_key_and_a_hangup_node(flow: Flow) -> None:
    greeting = flow.node("greeting")
    assert isinstance(greeting, Play)
    with_hash = replace(greeting, keys=(*greeting.keys, Key("#", "hangup")))
    nodes = tuple(with_hash if n.id == "greeting" else n for n in flow.nodes)
    text = dialplan([replace(flow, nodes=(*nodes, Hangup("hangup", implicit=True)))])
    assert extension(text, "ivr-12345-greeting", "#") == [
        "Gosub(ivr-mark,s,1(12345,greeting,#,))",
        "n,Goto(ivr-12345-hangup,s,1)",
    ]
    assert extension(text, "ivr-12345-hangup", "s") == [
        "Gosub(ivr-mark,s,1(12345,hangup,,))",
        "n,Hangup()",
    ]


def test_a_play_without_keys_is_a_playback(flow: Flow) -> None:
    greeting = flow.node("greeting")
    assert isinstance(greeting, Play)
    nodes = tuple(replace(greeting, keys=()) if n.id == "greeting" else n for n in flow.nodes)
    text = dialplan([replace(flow, nodes=nodes)])
    assert extension(text, "ivr-12345-greeting", "s")[1] == "n,Playback(liandong/greeting/12345)"
    assert not any(line.startswith("exten => i,") for line in context(text, "ivr-12345-greeting"))


# ------------------------------------------------------------------ what the parser sees


def test_what_asterisk_parses_is_plain_ascii_and_free_of_comment_marks(text: str) -> None:
    for line in text.splitlines():
        if line.startswith(";") or not line:
            continue
        assert line.isascii(), line
        assert ";" not in line, line


def test_notes_and_names_with_line_breaks_stay_one_comment_line(flow: Flow) -> None:
    hostile = "第一行\n[ivr-evil]\r\nexten => s,1,Hangup() ;-- \u2028 --; 末"
    main = flow.node("main")
    assert isinstance(main, Menu)
    nodes = tuple(replace(main, note=hostile) if n.id == "main" else n for n in flow.nodes)
    hints = (*flow.hints[:2], Hint("complaint_report", hostile), *flow.hints[3:])
    text = dialplan([replace(flow, nodes=nodes, hints=hints, note=hostile)])
    assert "[ivr-evil]" not in text.splitlines()
    assert not any(line.startswith("exten => s,1,Hangup()") for line in text.splitlines())
    commented = [line for line in text.splitlines() if "第一行" in line]
    assert len(commented) == 3 and all(line.startswith("; ") for line in commented)
    assert "; 第一行 [ivr-evil] exten => s,1,Hangup() ;-- --; 末" in commented


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda f: replace(f, name="12345;x"), "flow name"),
        (lambda f: _with_queue(f, hint="a,b)"), "hint code"),
        (lambda f: _with_queue(f, desk="110)"), "desk"),
        (lambda f: _with_queue(f, prompts=("transfer/110&x",)), "prompt id"),
        (lambda f: _with_queue(f, prompts=("${EXTEN}",)), "prompt id"),
        (lambda f: _with_queue(f, prompts=("a;b",)), "prompt id"),
        (lambda f: _renamed(f, "emergency", "emergency(x"), "node id"),
        (lambda f: _renamed(f, "help", "help,hangup"), "node id"),
    ],
)
def test_hostile_values_are_refused_not_escaped(
    change: Callable[[Flow], Flow], what: str, flow: Flow
) -> None:
    hostile = change(flow)
    with pytest.raises(UnsafeValue, match=what):
        dialplan([hostile])


def _with_queue(flow: Flow, **changes: object) -> Flow:
    """The flow with its emergency queue changed (hint and emergency exclusive:
    a hint makes the key's mark `hint=…`)."""
    queue = flow.node("emergency")
    assert isinstance(queue, Queue)
    changed = replace(queue, **changes)  # type: ignore[arg-type]
    if "hint" in changes:
        changed = replace(changed, emergency=False)
    return replace(flow, nodes=tuple(changed if n is queue else n for n in flow.nodes))


def _renamed(flow: Flow, old: str, new: str) -> Flow:
    """The flow with a node renamed, and the keys that lead to it."""
    nodes = []
    for node in flow.nodes:
        if node.id == old:
            node = replace(node, id=new)
        if isinstance(node, Play | Menu):
            keys = tuple(replace(k, to=new) if k.to == old else k for k in node.keys)
            node = replace(node, keys=keys)
        nodes.append(node)
    return replace(flow, nodes=tuple(nodes))


def test_generating_is_deterministic() -> None:
    """Generating is deterministic: the same flows give the same text."""
    (first,) = load_flows(FLOWS, PROMPTS_12345, DESKS)
    (second,) = load_flows(Path(FLOWS), sorted(PROMPTS_12345), sorted(DESKS))
    assert dialplan([first]) == dialplan([second])
