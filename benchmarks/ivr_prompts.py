"""Prompt rendering benchmark: the whole shipped catalogue rendered cold (an
empty cache: espeak-ng, ffmpeg and pydub for every prompt) and cached (the
second run: the catalogue read, every key computed, nothing rendered).

    .venv/bin/python -m benchmarks.ivr_prompts [--runs N] [--workers N]

Each run uses a fresh cache in a scratch folder and installs nothing; wall
times are what `liandong ivr prompts` and start-up wait for (without the
Python start), the median of the runs is printed with the fastest and slowest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine
from ivr_flows.core.prompt_render import PINYIN_VOICE, SPEED_WPM, RenderedPrompt
from ivr_flows.service import audio
from ivr_flows.service.prompts import render_prompts

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "ivr_flows" / "prompts"


def timed(
    prompts_dir: Path, cache: Path, workers: int | None
) -> tuple[float, list[RenderedPrompt]]:
    started = time.perf_counter()
    rendered = render_prompts(prompts_dir, cache, workers=workers)
    return time.perf_counter() - started, rendered


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"


def run(runs: int, workers: int | None) -> int:
    tools = audio.toolchain(PINYIN_VOICE, SPEED_WPM)
    facts = machine(["pypinyin", "pydub"])
    print(f"machine: nproc {facts['nproc']}, {facts['cpu']}; Python {facts['python']}")
    print(
        f"programs: {tools.engine}, {tools.decoder}, pypinyin {facts['pypinyin']}, "
        f"pydub {facts['pydub']}; voice {tools.voice} at {tools.speed_wpm} words/min"
    )
    print(f"load average (1 min) at the start: {os.getloadavg()[0]:.2f}")
    cold: list[float] = []
    cached: list[float] = []
    rendered: list[RenderedPrompt] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="liandong-prompts-") as scratch:
            cache = Path(scratch) / "cache"
            seconds, rendered = timed(PROMPTS_DIR, cache, workers)
            if any(r.cached for r in rendered):
                print("invalid run: the cold run found a cache", file=sys.stderr)
                return 1
            cold.append(seconds)
            seconds, again = timed(PROMPTS_DIR, cache, workers)
            if not all(r.cached for r in again):
                print("invalid run: the cached run rendered something", file=sys.stderr)
                return 1
            cached.append(seconds)
    audio_seconds = sum(r.seconds for r in rendered)
    count = len(rendered)
    print(f"workers: {workers or min(8, os.cpu_count() or 1)}; runs: {runs}")
    print(f"prompts: {count}, {audio_seconds:.1f} s of audio")
    per_prompt_ms = 1000 * statistics.median(cold) / count
    print(
        f"cold (empty cache): {spread(cold)}; {per_prompt_ms:.0f} ms a prompt, "
        f"{audio_seconds / statistics.median(cold):.0f} s of audio per second"
    )
    print(f"cached (second run): {spread(cached)}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ivr_prompts")
    parser.add_argument("--runs", type=int, default=3, help="cold + cached pairs (default 3)")
    parser.add_argument("--workers", type=int, help="rendering threads (default: CPUs, at most 8)")
    args = parser.parse_args(argv)
    return run(max(1, args.runs), args.workers)


if __name__ == "__main__":
    sys.exit(main())
