"""`liandong ivr …`: the way in's commands.

    liandong ivr prompts [--out DIR] [--cache DIR]

Each verb is added by one function in `VERBS`, with its own handler, so a new
verb (`ivr check`) is one more function there. Where the county's data is:
`LIANDONG_IVR_DIR` (default: the repository's `ivr_flows/`, whose `prompts/`
holds `prompts.yaml` and `recorded/`); the rendered audio is cached in
`LIANDONG_PROMPT_CACHE` (default: `.cache/prompts` under the current folder).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from county.config_file import ConfigFileError
from ivr_flows.core.prompt_render import RenderedPrompt, Source
from ivr_flows.service.prompts import PromptError, render_prompts
from startup.ivr_check_cli import add_check_parser
from startup.settings import DEFAULT_IVR_DIR

# A string: argparse's class is not subscriptable at run time on 3.11.
Verbs: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True)
class IvrPaths:
    ivr_dir: Path
    prompt_cache: Path

    @property
    def prompts_dir(self) -> Path:
        return self.ivr_dir / "prompts"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IvrPaths:
        env = os.environ if env is None else env
        return cls(
            ivr_dir=Path(env.get("LIANDONG_IVR_DIR") or DEFAULT_IVR_DIR),
            prompt_cache=Path(env.get("LIANDONG_PROMPT_CACHE") or Path(".cache") / "prompts"),
        )


def add_parser(subparsers: Verbs) -> None:
    parser = subparsers.add_parser("ivr", help="the way in: voice menus, queues and prompts")
    verbs = parser.add_subparsers(dest="verb", required=True)
    for add_verb in VERBS:
        add_verb(verbs)


def _add_prompts(verbs: Verbs) -> None:
    parser = verbs.add_parser(
        "prompts",
        help="render every prompt (its recording, else the Mandarin voice) and list them",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="install them as DIR/<id>.wav (Asterisk's sounds/zh/liandong); "
        "without it they are only rendered into the cache",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="the rendered audio by key (default: $LIANDONG_PROMPT_CACHE or ./.cache/prompts)",
    )
    parser.set_defaults(handler=prompts)


VERBS: list[Callable[[Verbs], None]] = [_add_prompts, add_check_parser]


def prompts(args: argparse.Namespace) -> int:
    paths = IvrPaths.from_env()
    try:
        rendered = render_prompts(paths.prompts_dir, args.cache or paths.prompt_cache, args.out)
    except (ConfigFileError, PromptError) as exc:
        print(f"liandong ivr prompts: {exc}", file=sys.stderr)
        return 1
    print(table(rendered))
    where = f"installed in {args.out}" if args.out else "not installed (no --out)"
    print(summary(rendered) + f"; {where}")
    return 0


def table(rendered: list[RenderedPrompt]) -> str:
    width = max([len("id"), *(len(r.prompt_id) for r in rendered)])
    lines = [f"{'id':<{width}}  {'source':<9}  {'seconds':>7}  cached"]
    for r in rendered:
        cached = "yes" if r.cached else "no"
        lines.append(f"{r.prompt_id:<{width}}  {r.source:<9}  {r.seconds:>7.2f}  {cached}")
    return "\n".join(lines)


def summary(rendered: list[RenderedPrompt]) -> str:
    recorded = sum(r.source is Source.RECORDED for r in rendered)
    cached = sum(r.cached for r in rendered)
    seconds = sum(r.seconds for r in rendered)
    return (
        f"{len(rendered)} prompts ({recorded} recorded, {len(rendered) - recorded} synthetic), "
        f"{seconds:.1f} s of audio; {cached} from the cache, {len(rendered) - cached} rendered"
    )
