"""Rendering the prompt catalogue into the WAV files Asterisk plays.

Every prompt of `prompts.yaml` becomes `<id>.wav` (8 kHz, mono, 16-bit PCM,
levelled): from its recording in `recorded/<id>.<any format ffmpeg reads>`
when there is one, else spoken by espeak-ng's pinyin voice. The audio is
cached under its key (ivr_flows.core.prompt_render), so only what changed is
rendered again.

All or nothing: every prompt is rendered (or found in the cache) before a
single file is installed, and every problem — a missing or corrupt recording,
a recording of no prompt, espeak-ng failing — is reported together, each
naming its prompt and file, in one `PromptError`. A catalogue that cannot be
read is the catalogue's `ConfigFileError` (file:line). Both are meant for
`liandong ivr prompts`, `ivr check` and start-up, never a live call.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import wave
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ivr_flows.core.asterisk_sounds import ASTERISK_SOUNDS
from ivr_flows.core.prompt_catalogue import PromptCatalogue, load_catalogue
from ivr_flows.core.prompt_render import (
    ASTERISK_FORMAT,
    PINYIN_VOICE,
    SPEED_WPM,
    AudioFormat,
    PromptJob,
    Recording,
    RenderedPrompt,
    Toolchain,
    match_recordings,
    plan,
)
from ivr_flows.core.spoken import SPOKEN_IDS
from ivr_flows.service import audio

CATALOGUE = "prompts.yaml"
RECORDED = "recorded"


class PromptError(Exception):
    """Prompts that cannot be rendered or installed, each problem on its own line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} prompt problem(s), nothing installed:\n{listed}")


@dataclass(frozen=True)
class PromptSet:
    """What is to be rendered: the catalogue, its recordings, the programs."""

    prompts_dir: Path
    catalogue: PromptCatalogue
    jobs: list[PromptJob]
    tools: Toolchain


def prepare(
    prompts_dir: Path,
    *,
    required: Iterable[str] = SPOKEN_IDS,
    fmt: AudioFormat = ASTERISK_FORMAT,
) -> PromptSet:
    """The catalogue read and checked, the recordings matched, the programs found.

    `ConfigFileError` for a bad catalogue; `PromptError` for prompts the code
    needs (`required`) that it lacks, bad recordings or missing programs.
    """
    catalogue = load_catalogue(prompts_dir / CATALOGUE)
    problems = [
        f"{CATALOGUE}: no text for {prompt_id!r}, which is spoken from data at call time"
        for prompt_id in catalogue.missing(frozenset(required))
    ]
    recordings, bad = _recordings(prompts_dir / RECORDED, catalogue)
    problems += bad
    try:
        tools = audio.toolchain(PINYIN_VOICE, SPEED_WPM)
    except audio.AudioError as exc:
        problems.append(str(exc))
    if problems:
        raise PromptError(problems)
    return PromptSet(prompts_dir, catalogue, plan(catalogue, recordings, tools, fmt), tools)


def render_prompts(
    prompts_dir: Path,
    cache_dir: Path,
    out_dir: Path | None = None,
    *,
    required: Iterable[str] = SPOKEN_IDS,
    workers: int | None = None,
    fmt: AudioFormat = ASTERISK_FORMAT,
) -> list[RenderedPrompt]:
    """Render every prompt (into `cache_dir`), then install them as `<out_dir>/<id>.wav`
    if `out_dir` is given. The list is in the catalogue's order; its paths are
    the installed files (or the cached ones when nothing is installed)."""
    prompt_set = prepare(prompts_dir, required=required, fmt=fmt)
    rendered = render(prompt_set, cache_dir, workers=workers, fmt=fmt)
    return install(rendered, out_dir) if out_dir is not None else rendered


def render(
    prompt_set: PromptSet,
    cache_dir: Path,
    *,
    workers: int | None = None,
    fmt: AudioFormat = ASTERISK_FORMAT,
) -> list[RenderedPrompt]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    workers = workers or min(8, os.cpu_count() or 1)

    def one(job: PromptJob) -> RenderedPrompt | str:
        return _render(job, prompt_set, cache_dir, fmt)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prompt") as pool:
        outcomes = list(pool.map(one, prompt_set.jobs))
    problems = [o for o in outcomes if isinstance(o, str)]
    if problems:
        raise PromptError(problems)
    return [o for o in outcomes if isinstance(o, RenderedPrompt)]


def install(rendered: list[RenderedPrompt], out_dir: Path) -> list[RenderedPrompt]:
    """Copy each rendered prompt to `<out_dir>/<id>.wav` (one atomic rename each;
    a file already the same is left untouched)."""
    installed = []
    for prompt in rendered:
        target = out_dir / f"{prompt.prompt_id}.wav"
        source = Path(prompt.path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            data = source.read_bytes()
            if not (target.exists() and target.read_bytes() == data):
                part = target.with_name(f".{target.name}.part")
                part.write_bytes(data)
                os.replace(part, target)
        except OSError as exc:
            raise PromptError([f"{prompt.prompt_id}: cannot install {target}: {exc}"]) from None
        installed.append(replace(prompt, path=str(target)))
    return installed


def install_asterisk_sounds(rendered: list[RenderedPrompt], zh_dir: Path) -> int:
    """Install the catalogue's prompts under the names Asterisk's own Mandarin
    sounds have (core/asterisk_sounds.py) in `zh_dir`; how many."""
    by_id = {prompt.prompt_id: prompt for prompt in rendered}
    missing = sorted(set(ASTERISK_SOUNDS.values()) - set(by_id))
    if missing:
        raise PromptError([f"{m}: needed for Asterisk's own sounds, not rendered" for m in missing])
    own = [replace(by_id[prompt_id], prompt_id=name) for name, prompt_id in ASTERISK_SOUNDS.items()]
    return len(install(own, zh_dir))


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def _render(
    job: PromptJob, prompt_set: PromptSet, cache_dir: Path, fmt: AudioFormat
) -> RenderedPrompt | str:
    """The rendered prompt, or the problem that stopped it (naming the prompt and file)."""
    target = cache_dir / f"{job.key}.wav"
    try:
        return RenderedPrompt(job.prompt_id, job.source, wav_seconds(target), True, str(target))
    except (OSError, EOFError, wave.Error):
        pass  # not in the cache (or unreadable there): render it
    recorded = prompt_set.prompts_dir / RECORDED / job.recording if job.recording else None
    try:
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".render-") as scratch:
            source = recorded or Path(scratch) / "espeak.wav"
            if recorded is None:
                audio.synthesize(job.spoken, prompt_set.tools, source)
            segment = audio.normalise(audio.decode(source, fmt), fmt)
            part = Path(scratch) / "prompt.wav"
            audio.write_wav(segment, part)
            os.replace(part, target)
    except (audio.AudioError, OSError) as exc:
        if recorded is not None:
            return f"{job.prompt_id}: {recorded}: {exc}"
        return f"{job.prompt_id}: espeak-ng could not say {job.spoken!r}: {exc}"
    return RenderedPrompt(job.prompt_id, job.source, wav_seconds(target), False, str(target))


def _recordings(
    recorded_dir: Path, catalogue: PromptCatalogue
) -> tuple[dict[str, Recording], list[str]]:
    if not recorded_dir.is_dir():
        return {}, []
    files = [p.relative_to(recorded_dir).as_posix() for p in recorded_dir.rglob("*") if p.is_file()]
    matched, problems = match_recordings(catalogue, files)
    recordings = {}
    for prompt_id, relative in matched.items():
        path = recorded_dir / relative
        try:
            content = path.read_bytes()
        except OSError as exc:
            problems.append(f"{prompt_id}: {path}: cannot read: {exc.strerror}")
            continue
        recordings[prompt_id] = Recording(relative, hashlib.sha256(content).hexdigest())
    return recordings, problems
