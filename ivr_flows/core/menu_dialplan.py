"""The voice menus as Asterisk dialplan: loaded flows → the text of
`extensions_ivr.conf`, following the fixed conventions of ivr_flows/README.md
(contexts `ivr-<flow>` and `ivr-<flow>-<node>`, `ivr-mark` for every node
visited and key pressed, `desk-queue` for every queue, FastAGI for a case's
state). Pure: text in memory, nothing written.

Escaping, decided: nothing a flow names is escaped, because nothing needs
to be. Every value that reaches the dialplan — flow names, node ids, hint
codes, prompt ids, desks, keys, numbers — is from a plain ASCII alphabet
(letters, digits, `_`, `-`, and the keys `*` and `#`) that the loader
enforces and this module checks again (`UnsafeValue`). Escaping would have
to be right for three parsers at once — the config file (`;` starts a
comment), the application arguments (`,` `(` `)` `|` and quotes) and the
`${…}` / `$[…]` substitution done before them — and one slip is a menu that
misroutes callers. Chinese appears only in comments (the hints' names, the
nodes' notes), as UTF-8 on a line of its own, line breaks removed; the
hints travel as ASCII codes (`hint=complaint_report`) that the flow maps to
their names (投诉举报), so the AMI and the case see a stable code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ivr_flows.core.flow_model import (
    FLOW_NAME,
    HINT_CODE,
    KEYS,
    NODE_ID,
    PROMPT_ID,
    CaseStatus,
    Flow,
    Hangup,
    Key,
    Menu,
    Node,
    Play,
    Queue,
    key_mark,
)

TRIES = "LD_IVR_TRIES"  # a menu's failed tries since the caller came to it
CASE_NO = "LD_CASE_NO"  # the digits typed at a case-status node
_DESK = re.compile(r"[0-9A-Za-z_]{1,20}")
_IMPLICIT_ID = re.compile(r"(operator|hangup|queue_[0-9A-Za-z_]{1,20})")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


class UnsafeValue(ValueError):
    """A value that cannot be written into the dialplan as it is (the loader
    refuses such values; this guards flows built by other means)."""


def dialplan(flows: Iterable[Flow]) -> str:
    """The text of extensions_ivr.conf for `flows`."""
    flows = tuple(flows)
    sources = ", ".join(_comment(flow.source) for flow in flows)
    lines = [
        "; GENERATED FILE: do not edit by hand. Your changes would be lost.",
        f"; Generated from {sources} by ivr_flows/core/menu_dialplan.py",
        "; (`liandong ivr check --dialplan FILE`): edit the flow file, check it, generate again.",
        "; Uses the static contexts desk-queue and ivr-mark of extensions.conf.",
    ]
    for flow in flows:
        lines += _flow(flow)
    return "\n".join(lines) + "\n"


def _flow(flow: Flow) -> list[str]:
    name = _safe(flow.name, FLOW_NAME, "flow name")
    lines = ["", f"; {'-' * 64} flow {name}"]
    if flow.note:
        lines.append(f"; {_comment(flow.note)}")
    lines += [
        f"[ivr-{name}]",
        "exten => s,1,Answer()",
        f" same => n,Goto({_context(flow, flow.start)},s,1)",
    ]
    for node in flow.nodes:
        lines.append("")
        lines.append(f"[{_context(flow, node.id)}]")
        if node.note:
            lines.append(f"; {_comment(node.note)}")
        lines += _NODE_WRITERS[type(node)](flow, node)
    return lines


def _play(flow: Flow, node: Node) -> list[str]:
    assert isinstance(node, Play)
    app = "Background" if node.keys else "Playback"
    lines = [
        f"exten => s,1,{_mark(flow, node.id)}",
        f" same => n,{app}({_files(node.prompts)})",
        f" same => n,Goto({_context(flow, node.next)},s,1)",
    ]
    lines += _keys(flow, node.id, node.keys)
    if node.keys:  # any other key: on at once, as if the prompts had ended
        lines += [
            f"exten => i,1,{_mark(flow, node.id, '${INVALID_EXTEN}')}",
            f" same => n,Goto({_context(flow, node.next)},s,1)",
        ]
    return lines


def _menu(flow: Flow, node: Node) -> list[str]:
    assert isinstance(node, Menu)
    lines = [
        f"exten => s,1,Set({TRIES}=0)",
        f" same => n(play),{_mark(flow, node.id)}",
        f" same => n,Background({_files(node.prompts)})",
        f" same => n,WaitExten({_number(node.timeout)})",
    ]
    lines += _keys(flow, node.id, node.keys)
    invalid = _retry(flow, node, node.invalid_prompts)
    lines += [f"exten => i,1,{_mark(flow, node.id, '${INVALID_EXTEN}')}", *_same(invalid)]
    timeout = _retry(flow, node, node.timeout_prompts)
    lines += [f"exten => t,1,{timeout[0]}", *_same(timeout[1:])]
    return lines


def _retry(flow: Flow, node: Menu, prompts: tuple[str, ...]) -> list[str]:
    """A wrong key or silence: count it, say why, and the menu again or, past
    the retries, on to `after_retries`."""
    steps = [f"Set({TRIES}=$[${{{TRIES}}} + 1])"]
    if prompts:
        steps.append(f"Playback({_files(prompts)})")
    steps += [
        f"GotoIf($[${{{TRIES}}} > {_number(node.retries)}]?over)",
        "Goto(s,play)",
        f"(over)Goto({_context(flow, node.after_retries)},s,1)",
    ]
    return steps


def _queue(flow: Flow, node: Node) -> list[str]:
    assert isinstance(node, Queue)
    desk = _safe(node.desk, _DESK, "desk")
    steps = [f"Playback({_files(node.prompts)})"] if node.prompts else []
    steps += [f"Gosub(desk-queue,s,1({desk},{_number(node.priority)},{node.via}))", "Hangup()"]
    return [f"exten => s,1,{_mark(flow, node.id)}", *_same(steps)]


def _case_status(flow: Flow, node: Node) -> list[str]:
    assert isinstance(node, CaseStatus)
    ask = f"{_files(node.prompts)},{_number(node.max_digits)},,1,{_number(node.timeout)}"
    steps = [
        "Set(LD_FOUND=)",
        "Set(LD_SAY=)",
        f"Read({CASE_NO},{ask})",
        f'GotoIf($["${{{CASE_NO}}}" = ""]?ask)',  # nothing typed: the calling number's case
        _mark(flow, node.id, f"${{{CASE_NO}}}"),
        f"(ask)Gosub(ld-agi,s,1(case-status,${{{CASE_NO}}}))",
        'GotoIf($["${GOSUB_RETVAL}" != "SUCCESS"]?failed)',
        'GotoIf($["${LD_FOUND}" != "1"]?unknown)',
        'GotoIf($["${LD_SAY}" = ""]?failed)',
        # What the lookup gave is on the record too (found, not found, no answer).
        _mark(flow, node.id, "", "case_found"),
        "Playback(${LD_SAY})",
        f"Goto({_context(flow, node.next)},s,1)",
        f"(unknown){_mark(flow, node.id, '', 'case_not_found')}",
        f"Playback({_files(node.not_found_prompts)})",
        f"Goto({_context(flow, node.next)},s,1)",
        f"(failed){_mark(flow, node.id, '', 'case_unavailable')}",
        f"Playback({_files(node.unavailable_prompts)})",
        f"Goto({_context(flow, node.fallback)},s,1)",
    ]
    return [f"exten => s,1,{_mark(flow, node.id)}", *_same(steps)]


def _hangup(flow: Flow, node: Node) -> list[str]:
    assert isinstance(node, Hangup)
    steps = [f"Playback({_files(node.prompts)})"] if node.prompts else []
    return [f"exten => s,1,{_mark(flow, node.id)}", *_same([*steps, "Hangup()"])]


_NODE_WRITERS = {
    Play: _play,
    Menu: _menu,
    Queue: _queue,
    CaseStatus: _case_status,
    Hangup: _hangup,
}


def _keys(flow: Flow, node_id: str, keys: tuple[Key, ...]) -> list[str]:
    lines: list[str] = []
    for key in keys:
        if len(key.key) != 1 or key.key not in KEYS:
            raise UnsafeValue(f"key {key.key!r}: one of {KEYS}")
        mark = key_mark(flow.node(key.to))
        if mark.startswith("hint="):
            code = _safe(mark.removeprefix("hint="), HINT_CODE, "hint code")
            lines.append(f"; {key.key}: {code} = {_comment(flow.hint_label(code))}")
        lines += [
            f"exten => {key.key},1,{_mark(flow, node_id, key.key, mark)}",
            f" same => n,Goto({_context(flow, key.to)},s,1)",
        ]
    return lines


def _mark(flow: Flow, node_id: str, key: str = "", mark: str = "") -> str:
    """ivr-mark's call: a visit (no key), or a key (a digit, or a variable)."""
    name = _safe(flow.name, FLOW_NAME, "flow name")
    return f"Gosub(ivr-mark,s,1({name},{_node_id(node_id)},{key},{mark}))"


def _context(flow: Flow, node_id: str) -> str:
    return f"ivr-{_safe(flow.name, FLOW_NAME, 'flow name')}-{_node_id(node_id)}"


def _node_id(node_id: str) -> str:
    if NODE_ID.fullmatch(node_id) or _IMPLICIT_ID.fullmatch(node_id):
        return node_id
    raise UnsafeValue(f"node id {node_id!r} cannot be written into the dialplan")


def _files(prompts: tuple[str, ...]) -> str:
    """Prompt ids as Playback / Background / Read take them: liandong/<id>&…"""
    if not prompts:
        raise UnsafeValue("no prompt to play")
    return "&".join(f"liandong/{_safe(p, PROMPT_ID, 'prompt id')}" for p in prompts)


def _number(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnsafeValue(f"{value!r}: a whole number ≥ 0 is expected")
    return str(value)


def _safe(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise UnsafeValue(f"{what} {value!r} cannot be written into the dialplan")
    return value


def _same(steps: list[str]) -> list[str]:
    """Priorities n, n, …; a step written "(label)App(…)" gets that label."""
    lines = []
    for step in steps:
        label = ""
        if step.startswith("("):
            label, step = step[1:].split(")", 1)
            label = f"({label})"
        lines.append(f" same => n{label},{step}")
    return lines


def _comment(text: str) -> str:
    """Text for a `;` comment: one line, whatever it held (the config parser
    ends a comment at the line's end and nowhere else)."""
    return " ".join(_UNPRINTABLE.sub(" ", text).split())
