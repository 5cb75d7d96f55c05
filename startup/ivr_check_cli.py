"""`liandong ivr check [--flows DIR] [--prompts FILE] [--dialplan FILE]`: the
voice menus' flow files checked against the prompt catalogue and the desks,
every problem printed as `file:line: message`; exit status 1 when there is
any. With `--dialplan`, a clean check also writes the generated
extensions_ivr.conf there.

The prompt ids are the catalogue's (ivr_flows/core/prompt_catalogue.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from common.vocabulary import Desk
from county.config_file import ConfigFileError
from ivr_flows.core.desk_rules import load_desk_rules
from ivr_flows.core.flow_load import check_flows, load_flows
from ivr_flows.core.flow_model import Flow
from ivr_flows.core.menu_dialplan import dialplan
from ivr_flows.core.prompt_catalogue import load_catalogue
from startup.settings import DEFAULT_IVR_DIR, SettingsError

DEFAULT_FLOWS = DEFAULT_IVR_DIR / "flows"
DEFAULT_PROMPTS = DEFAULT_IVR_DIR / "prompts" / "prompts.yaml"


def add_check_parser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = verbs.add_parser(
        "check", help="check the voice menus (flows) against the prompts and desks"
    )
    check.add_argument(
        "--flows", type=Path, help="the flow files' folder (default: LIANDONG_IVR_DIR/flows)"
    )
    check.add_argument(
        "--prompts",
        type=Path,
        help="the prompt catalogue (default: LIANDONG_IVR_DIR/prompts/prompts.yaml)",
    )
    check.add_argument(
        "--dialplan", type=Path, help="when all is well, write the generated dialplan here"
    )
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    # The county's folder, as `liandong serve` reads it: a check of other
    # files than the server's would say "all well" of the wrong ones.
    ivr_dir = Path(os.environ.get("LIANDONG_IVR_DIR") or DEFAULT_IVR_DIR)
    flows_arg = args.flows or ivr_dir / "flows"
    prompts = args.prompts or ivr_dir / "prompts" / "prompts.yaml"
    if args.flows is None and args.prompts is None and not desks_well(ivr_dir / "desks.yaml"):
        return 1
    try:
        prompt_ids = catalogue_ids(prompts)
    except ConfigFileError as exc:
        for problem in exc.problems:
            print(problem.render(exc.path))
        print("liandong ivr check: the prompt catalogue could not be read", file=sys.stderr)
        return 1
    desks = _desks()
    flows_dir = _shown(flows_arg)
    problems = check_flows(flows_dir, prompt_ids, desks)
    for problem in problems:
        print(problem.render())
    if problems:
        print(f"liandong ivr check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    flows = load_flows(flows_dir, prompt_ids, desks)
    nodes = sum(len(flow.nodes) for flow in flows)
    print(f"{flows_dir}: {len(flows)} flow(s), {nodes} node(s): all well")
    if args.dialplan is not None:
        _write(args.dialplan, dialplan(flows))
        print(f"{args.dialplan}: written")
    return 0


def desks_well(path: Path) -> bool:
    """The desks' queue rules, as `liandong serve` would load them."""
    try:
        load_desk_rules(path)
    except ConfigFileError as exc:
        for problem in exc.problems:
            print(problem.render(exc.path))
        print("liandong ivr check: the desks' rules could not be loaded", file=sys.stderr)
        return False
    return True


def check_at_start(
    flows: Path = DEFAULT_FLOWS, prompts: Path = DEFAULT_PROMPTS
) -> tuple[Flow, ...]:
    """The same check for `liandong serve`: a `SettingsError` naming every
    problem stops the start. The flows, when all is well (the server reads
    the menus' steps with them)."""
    try:
        prompt_ids = catalogue_ids(prompts)
        problems = [p.render() for p in check_flows(flows, prompt_ids, _desks())]
    except ConfigFileError as exc:
        problems = [p.render(exc.path) for p in exc.problems]
    if problems:
        raise SettingsError("the voice menus: " + "; ".join(problems))
    return load_flows(flows, prompt_ids, _desks())


def catalogue_ids(path: Path) -> frozenset[str]:
    """The prompt ids of the catalogue at `path` (a recording is of one of
    them: `liandong ivr prompts` refuses one named after no prompt)."""
    return frozenset(load_catalogue(path))


def _desks() -> list[str]:
    return [desk.value for desk in Desk]


def _shown(path: Path) -> Path:
    """`path` relative to the working directory when it is below it: what the
    messages and the generated file's header then name (ivr_flows/flows/…)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _write(path: Path, text: str) -> None:
    """Whole or not at all: Asterisk may reload the file at any moment."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
