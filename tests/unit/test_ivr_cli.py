"""`liandong ivr`: where it looks for the county's data and its cache, and the
table it prints."""

from __future__ import annotations

from pathlib import Path

from ivr_flows.core.prompt_render import RenderedPrompt, Source
from server import build_parser
from startup.ivr_cli import DEFAULT_IVR_DIR, IvrPaths, summary, table

ROOT = Path(__file__).resolve().parents[2]


def test_paths_default_to_the_repository_and_the_current_folder() -> None:
    paths = IvrPaths.from_env({})
    assert paths.ivr_dir == DEFAULT_IVR_DIR == ROOT / "ivr_flows"
    assert paths.prompts_dir == ROOT / "ivr_flows" / "prompts"
    assert (paths.prompts_dir / "prompts.yaml").is_file()
    assert paths.prompt_cache == Path(".cache") / "prompts"  # relative: under the current folder


def test_paths_from_the_environment() -> None:
    paths = IvrPaths.from_env({"LIANDONG_IVR_DIR": "/srv/ivr", "LIANDONG_PROMPT_CACHE": "/var/c"})
    assert paths.prompts_dir == Path("/srv/ivr/prompts")
    assert paths.prompt_cache == Path("/var/c")


def test_the_command_line() -> None:
    args = build_parser().parse_args(["ivr", "prompts", "--out", "/snd", "--cache", "/c"])
    assert (args.command, args.verb, args.out, args.cache) == (
        "ivr",
        "prompts",
        Path("/snd"),
        Path("/c"),
    )
    defaults = build_parser().parse_args(["ivr", "prompts"])
    assert defaults.out is None and defaults.cache is None


def test_table_and_summary() -> None:
    rendered = [
        RenderedPrompt("greeting/12345", Source.RECORDED, 6.654, False, "/x/a.wav"),
        RenderedPrompt("digits/7", Source.SYNTHETIC, 0.4, True, "/x/b.wav"),
    ]
    assert table(rendered).splitlines() == [
        "id              source     seconds  cached",
        "greeting/12345  recorded      6.65  no",
        "digits/7        synthetic     0.40  yes",
    ]
    assert summary(rendered) == (
        "2 prompts (1 recorded, 1 synthetic), 7.1 s of audio; 1 from the cache, 1 rendered"
    )
