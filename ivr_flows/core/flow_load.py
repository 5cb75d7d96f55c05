"""Loading the voice menus: every `*.yaml` of the flows folder, each one flow
(ivr_flows/README.md, "Editing the 12345 menu").

All problems of all files are collected, each with its file and line, and
raised together as one `ConfigFileError`: a bad flow is refused whole, and
whoever edits it sees every mistake in one pass (`liandong ivr check`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from county.config_file import ConfigFileError, LineDict, Problem, Problems, read_yaml
from ivr_flows.core.flow_fields import Reader
from ivr_flows.core.flow_graph import Implicit, graph_problems, implicit_nodes
from ivr_flows.core.flow_model import (
    FLOW_NAME,
    HINT_CODE,
    NODE_ID,
    Flow,
    Hint,
    Node,
    is_reserved_id,
)
from ivr_flows.core.flow_nodes import PRIORITY, FlowDefaults, read_node

_REQUIRED = ("desk", "start", "nodes")
_OPTIONAL = ("priority", "operator_prompt", "hints", "note")
# `#: operator` unquoted is a YAML comment: the key would vanish without a word.
_COMMENTED_KEY = re.compile(r"^\s*#\s*:")


@dataclass(frozen=True)
class FileProblem(Problem):
    """A problem that knows its file: flows come from several files."""

    path: str = ""

    def render(self, path: Path | str = "") -> str:
        return super().render(self.path or path)


def load_flows(
    flows_dir: Path | str, prompt_ids: Collection[str], desks: Collection[str]
) -> tuple[Flow, ...]:
    """The flows of `flows_dir`, by name; `ConfigFileError` (on the folder,
    each problem rendered with its own file) when anything is wrong."""
    flows, problems = _read_all(Path(flows_dir), frozenset(prompt_ids), frozenset(desks))
    if problems:
        raise ConfigFileError(flows_dir, list[Problem](problems))
    return flows


def check_flows(
    flows_dir: Path | str, prompt_ids: Collection[str], desks: Collection[str]
) -> list[FileProblem]:
    """Every problem of the flows, in file and line order (none: they load)."""
    return _read_all(Path(flows_dir), frozenset(prompt_ids), frozenset(desks))[1]


def _read_all(
    flows_dir: Path, prompt_ids: frozenset[str], desks: frozenset[str]
) -> tuple[tuple[Flow, ...], list[FileProblem]]:
    if not flows_dir.is_dir():
        return (), [FileProblem(None, "no such folder of flow files", str(flows_dir))]
    files = sorted(flows_dir.glob("*.yaml"))
    if not files:
        return (), [FileProblem(None, "no flow files (*.yaml) here", str(flows_dir))]
    flows: list[Flow] = []
    problems: list[FileProblem] = []
    for path in files:
        found = Problems(path)
        flow = read_flow(path, prompt_ids, desks, found)
        problems.extend(FileProblem(p.line, p.message, str(path)) for p in found.found)
        if flow is not None:
            flows.append(flow)
    problems.sort(key=lambda p: (p.path, p.line or 0))
    return tuple(flows), problems


def read_flow(
    path: Path, prompt_ids: frozenset[str], desks: frozenset[str], problems: Problems
) -> Flow | None:
    """The flow in `path`, or None with problems added."""
    name = path.stem
    if not FLOW_NAME.fullmatch(name):
        problems.add(None, "a flow file's name is lower-case letters, digits and _ (12345.yaml)")
    try:
        data = read_yaml(path, keep_duplicates=True)
        text = path.read_text(encoding="utf-8-sig")
    except ConfigFileError as exc:
        problems.found.extend(exc.problems)
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if _COMMENTED_KEY.match(line):
            problems.add(number, 'a key # must be quoted ("#": …): unquoted, YAML reads a comment')
    if not isinstance(data, LineDict):
        problems.add(None, "the file must be a YAML mapping with desk:, start: and nodes:")
        return None
    reader = Reader(problems, prompt_ids, desks)
    reader.fields(data, "flow", _REQUIRED, _OPTIONAL, 1)
    desk = reader.desk(data["desk"], data.line_of("desk"), "desk") if "desk" in data else None
    priority = reader.integer(data, "priority", "flow", 0, *PRIORITY)
    hints = _hints(data, reader)
    defaults = FlowDefaults(desk or "", priority, frozenset(h.code for h in hints))
    nodes, declared = _nodes(data, defaults, reader)
    start = data.get("start")
    if "start" in data and (not isinstance(start, str) or start not in declared):
        problems.add(data.line_of("start"), f"start: unknown node “{start}”")
    implicit = Implicit(
        desk or "", priority, reader.prompts(data, "operator_prompt", "flow"), desks
    )
    nodes += implicit_nodes(reader.edges, implicit)
    for at, message in graph_problems(
        nodes, declared, reader.edges, str(start), complete=not reader.incomplete
    ):
        problems.add(at, message)
    if problems.found or desk is None:
        return None
    return Flow(
        name, str(path), desk, priority, str(start), nodes, hints, reader.text(data, "note", "flow")
    )


def _hints(data: LineDict, reader: Reader) -> tuple[Hint, ...]:
    table = data.get("hints")
    if table is None:
        return ()
    if not isinstance(table, LineDict):
        reader.add(data.line_of("hints"), "hints: “code: 中文名” lines are expected")
        return ()
    for code, line in table.repeated:
        reader.add(line, f"hints: “{code}” given twice (first on line {table.line_of(code)})")
    found: list[Hint] = []
    for code, label in table.items():
        line = table.line_of(code)
        if not HINT_CODE.fullmatch(code):
            reader.add(line, f"hints: bad code “{code}”: lower-case letters, digits and _")
        elif not isinstance(label, str) or not label.strip():
            reader.add(line, f"hints: {code}: a name (中文) is expected")
        else:
            found.append(Hint(code, label.strip()))
    return tuple(found)


def _nodes(
    data: LineDict, defaults: FlowDefaults, reader: Reader
) -> tuple[tuple[Node, ...], frozenset[str]]:
    table = data.get("nodes")
    if table is None:
        return (), frozenset()
    if not isinstance(table, LineDict) or not table:
        reader.add(data.line_of("nodes"), "nodes: “id:” followed by each node's fields")
        return (), frozenset()
    for node_id, line in table.repeated:
        first = table.line_of(node_id)
        reader.add(line, f"node “{node_id}” is defined twice (first on line {first})")
    nodes: list[Node] = []
    for node_id, item in table.items():
        line = table.line_of(node_id)
        if not NODE_ID.fullmatch(node_id):
            reader.add(line, f"bad node id “{node_id}”: a-z first, then a-z, 0-9 and _")
        elif is_reserved_id(node_id):
            reader.add(line, f"node id “{node_id}” is a destination word: choose another")
        elif not isinstance(item, LineDict):
            reader.add(line, f"node “{node_id}”: its fields are expected (kind: …)")
        else:
            node = read_node(node_id, line, item, defaults, reader)
            if node is not None:
                nodes.append(node)
    return tuple(nodes), frozenset(table)
