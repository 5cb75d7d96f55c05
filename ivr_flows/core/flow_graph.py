"""The checks that need a whole flow: destinations that name no node, nodes
the start never leads to, and nodes with no way out.

"No way out" (ivr_flows/README.md): from every node, a caller who presses no
key at all — who lets every prompt play, every menu time out and run out of
retries, and every case lookup end either way — must reach a queue or a
hang-up. Keys can only add ways out, never be the only one: a silent caller
(a child, a bad line, someone who does not understand the menu) must not go
round for ever. A node with no silent way on at all (a play without `next`)
is a missing required field; a silent way that comes back round is a cycle,
reported once, on the line of its first node in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ivr_flows.core.flow_fields import Edge
from ivr_flows.core.flow_model import (
    HANGUP,
    OPERATOR,
    Hangup,
    Node,
    Queue,
    desk_queue_id,
)


@dataclass(frozen=True)
class Implicit:
    """What the destination words' implicit nodes are made of."""

    desk: str
    priority: int
    operator_prompts: tuple[str, ...]
    desks: frozenset[str]


def implicit_nodes(edges: Iterable[Edge], implicit: Implicit) -> tuple[Node, ...]:
    """The implicit nodes the edges lead to, each once, in a fixed order."""
    made: dict[str, Node] = {}
    for edge in edges:
        if edge.target == OPERATOR:
            made[OPERATOR] = Queue(
                OPERATOR,
                implicit.desk,
                implicit.priority,
                prompts=implicit.operator_prompts,
                implicit=True,
            )
        elif edge.target == HANGUP:
            made[HANGUP] = Hangup(HANGUP, implicit=True)
        else:
            for desk in implicit.desks:
                if edge.target == desk_queue_id(desk):
                    made[edge.target] = Queue(edge.target, desk, implicit.priority, implicit=True)
    return tuple(made[key] for key in sorted(made))


def graph_problems(
    nodes: tuple[Node, ...],
    declared: frozenset[str],
    edges: list[Edge],
    start: str,
    *,
    complete: bool,
) -> list[tuple[int, str]]:
    """(line, message) for each unknown destination, unreachable node and
    silent cycle. `nodes` are the nodes read (implicit ones included),
    `declared` every id the file names (some may have failed to read).
    Unreachable nodes are looked for only when every way out could be read
    (`complete`): one broken destination would make a whole branch look
    unreachable, burying the one mistake under its consequences."""
    found: list[tuple[int, str]] = []
    ids = {node.id for node in nodes}
    for edge in edges:
        if edge.target not in ids and edge.target not in declared:
            found.append((edge.line, f"unknown destination “{edge.written}”: no node of that id"))
            complete = False
    if complete and start in ids and declared <= ids:  # every node of the file was read
        reached = _reachable(start, edges)
        for node in nodes:
            if node.id not in reached and node.line:
                message = f"node “{node.id}” is unreachable from the start node “{start}”"
                found.append((node.line, message))
    found.extend(_silent_cycles(nodes, edges))
    return found


def _reachable(start: str, edges: list[Edge]) -> set[str]:
    onward: dict[str, set[str]] = {}
    for edge in edges:
        onward.setdefault(edge.source, set()).add(edge.target)
    seen, todo = {start}, [start]
    while todo:
        for target in onward.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _silent_cycles(nodes: tuple[Node, ...], edges: list[Edge]) -> list[tuple[int, str]]:
    by_id = {node.id: node for node in nodes}
    silent: dict[str, list[str]] = {}
    for edge in edges:
        if edge.silent and edge.target in by_id:
            silent.setdefault(edge.source, []).append(edge.target)
    order = {node.id: index for index, node in enumerate(nodes)}
    done: set[str] = set()
    found: list[tuple[int, str]] = []
    for node in nodes:
        if node.id in done:
            continue
        # Depth first, iteratively; `path` is the chain of nodes being walked.
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(node.id, 0)]
        while stack:
            current, index = stack.pop()
            if index == 0:
                path.append(current)
                on_path.add(current)
            targets = silent.get(current, [])
            if index < len(targets):
                stack.append((current, index + 1))
                target = targets[index]
                if target in on_path:
                    cycle = path[path.index(target) :]
                    found.append(_cycle_problem(cycle, by_id, order))
                elif target not in done:
                    stack.append((target, 0))
            else:
                path.pop()
                on_path.discard(current)
                done.add(current)
    return found


def _cycle_problem(
    cycle: list[str], by_id: dict[str, Node], order: dict[str, int]
) -> tuple[int, str]:
    first = min(cycle, key=order.__getitem__)
    at = cycle.index(first)
    ring = [*cycle[at:], *cycle[:at], first]
    message = (
        f"node “{first}” has no way out: a caller who presses no key goes round "
        f"{' → '.join(ring)} for ever (a queue or a hangup must be reached)"
    )
    return by_id[first].line, message
