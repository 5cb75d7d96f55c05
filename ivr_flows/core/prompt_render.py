"""What rendering the prompts has to do, decided without touching a file: which
prompts have a recording, what each one's audio is keyed by in the cache, and
the one audio format Asterisk is given.

A prompt's audio is cached under a hash of everything that makes it: for a
synthetic prompt its text, what the voice is given, the voice and its speed,
the engine's and the decoder's versions and the output format; for a recorded
one the recording's own content hash, the decoder and the format. Changing any
of them renders the prompt again; nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ivr_flows.core.prompt_catalogue import PROMPT_ID, PromptCatalogue

# espeak-ng's voice that reads pinyin with tone numbers (ivr_flows.core.pinyin).
PINYIN_VOICE = "cmn-latn-pinyin"
# Words a minute: every syllable is a word for this voice. espeak-ng's default
# of 175 reads a hotline's sentence at ~0.29 s a syllable; 150 gives ~0.35 s,
# slower than a person but easier to follow over a phone line.
SPEED_WPM = 150
# Files in recorded/ that are not recordings.
NOT_RECORDINGS = (".md", ".txt")


class Source(StrEnum):
    RECORDED = "recorded"
    SYNTHETIC = "synthetic"


@dataclass(frozen=True)
class AudioFormat:
    """What Asterisk plays (`zh/liandong/<id>.wav`), and how the audio is levelled."""

    rate: int = 8000
    channels: int = 1
    sample_width: int = 2  # bytes: 16-bit PCM
    speech_dbfs: float = -20.0  # loudness (RMS) of the speech, silences left out
    peak_dbfs: float = -1.0  # never louder than this at the loudest sample
    edge_ms: int = 40  # silence kept before and after the speech
    silent_below_dbfs: float = -50.0  # a file whose loudest sample is quieter is silence

    def describe(self) -> str:
        return (
            f"wav s{8 * self.sample_width}le {self.rate}Hz {self.channels}ch "
            f"speech {self.speech_dbfs}dBFS peak {self.peak_dbfs}dBFS edges {self.edge_ms}ms"
        )


ASTERISK_FORMAT = AudioFormat()


@dataclass(frozen=True)
class Toolchain:
    """The programs that make the audio, with their versions (part of every key)."""

    engine: str  # "espeak-ng 1.51"
    decoder: str  # "ffmpeg 5.1.9"
    voice: str = PINYIN_VOICE
    speed_wpm: int = SPEED_WPM


@dataclass(frozen=True)
class Recording:
    path: str  # relative to recorded/, '/'-separated
    sha256: str  # of the file's bytes


@dataclass(frozen=True)
class PromptJob:
    prompt_id: str
    source: Source
    key: str  # the cache key: the audio is <cache>/<key>.wav
    spoken: str  # what the voice is given (synthetic prompts)
    recording: str | None  # the recording's path relative to recorded/ (recorded prompts)


@dataclass(frozen=True)
class RenderedPrompt:
    prompt_id: str
    source: Source
    seconds: float
    cached: bool  # the audio came from the cache, nothing was rendered
    path: str


def synthetic_key(text: str, spoken: str, tools: Toolchain, fmt: AudioFormat) -> str:
    voice = f"{tools.voice} {tools.speed_wpm}wpm"
    return _key("synthetic", text, spoken, voice, tools.engine, tools.decoder, fmt.describe())


def recorded_key(content_sha256: str, tools: Toolchain, fmt: AudioFormat) -> str:
    return _key("recorded", content_sha256, tools.decoder, fmt.describe())


def _key(*parts: str) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def match_recordings(
    prompt_ids: Iterable[str], files: Iterable[str]
) -> tuple[dict[str, str], list[str]]:
    """The recording of each prompt, from the files under recorded/ ('/'-separated
    paths relative to it), and the problems: a recording no prompt has (a
    misspelt name would otherwise never be heard) and two recordings of one prompt.
    """
    known = set(prompt_ids)
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    for path in sorted(files):
        name = posixpath.basename(path)
        if name.startswith(".") or name.lower().endswith(NOT_RECORDINGS):
            continue
        prompt_id, extension = posixpath.splitext(path)
        if not extension or not PROMPT_ID.fullmatch(prompt_id):
            problems.append(
                f"recorded/{path}: not named <prompt id>.<format> (e.g. recorded/digits/7.mp3)"
            )
        elif prompt_id not in known:
            problems.append(f"recorded/{path}: no prompt {prompt_id!r} in prompts.yaml")
        else:
            found.setdefault(prompt_id, []).append(path)
    for prompt_id, paths in found.items():
        if len(paths) > 1:
            listed = ", ".join(f"recorded/{p}" for p in paths)
            problems.append(f"{prompt_id}: {len(paths)} recordings ({listed}); keep one")
    return {prompt_id: paths[0] for prompt_id, paths in found.items()}, problems


def plan(
    catalogue: PromptCatalogue,
    recordings: Mapping[str, Recording],
    tools: Toolchain,
    fmt: AudioFormat = ASTERISK_FORMAT,
) -> list[PromptJob]:
    """One job per prompt of the catalogue, in its order: the recording if there
    is one, else the voice."""
    jobs = []
    for prompt in catalogue.values():
        recording = recordings.get(prompt.id)
        if recording is not None:
            key = recorded_key(recording.sha256, tools, fmt)
            jobs.append(PromptJob(prompt.id, Source.RECORDED, key, prompt.spoken, recording.path))
        else:
            key = synthetic_key(prompt.text, prompt.spoken, tools, fmt)
            jobs.append(PromptJob(prompt.id, Source.SYNTHETIC, key, prompt.spoken, None))
    return jobs
