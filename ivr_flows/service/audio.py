"""The programs behind the prompts' audio: espeak-ng speaks, ffmpeg decodes any
format and resamples, pydub trims and levels and writes the WAV Asterisk plays.

ffmpeg resamples, not pydub: pydub's `set_frame_rate` (audioop.ratecv) has no
low-pass filter, so going from espeak-ng's 22 050 Hz to 8 000 Hz folds
everything above 4 kHz back into the band a caller hears (a 6 kHz tone comes
out as a 2 kHz one at nearly full level; through ffmpeg it is gone, -65 dBFS).
Hissing sounds (s, sh, x) are exactly there.

Synchronous, one subprocess at a time per call: the service runs these in
worker threads.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

from pydub import AudioSegment
from pydub.silence import detect_nonsilent

from ivr_flows.core.prompt_render import AudioFormat, Toolchain

TIMEOUT_S = 60.0
_VERSION = re.compile(r"(\d+(?:\.\d+)+)")


class AudioError(Exception):
    """A program is missing or failed, or the audio is unusable; the message says why."""


def toolchain(voice: str, speed_wpm: int) -> Toolchain:
    """The versions of espeak-ng and ffmpeg here; `AudioError` if either is
    missing or espeak-ng has no `voice`."""
    engine = _version("espeak-ng", ["--version"])
    decoder = _version("ffmpeg", ["-version"])
    voices = _run(["espeak-ng", "--voices"], what="espeak-ng --voices").decode(errors="replace")
    if voice not in voices.split():
        raise AudioError(f"espeak-ng has no voice {voice!r} (espeak-ng --voices lists them)")
    return Toolchain(engine=engine, decoder=decoder, voice=voice, speed_wpm=speed_wpm)


def _version(program: str, args: list[str]) -> str:
    if shutil.which(program) is None:
        raise AudioError(f"{program} is not installed (Debian: apt-get install {program})")
    out = _run([program, *args], what=program).decode(errors="replace")
    found = _VERSION.search(out)
    return f"{program} {found.group(1) if found else out.splitlines()[0].strip()}"


def synthesize(spoken: str, tools: Toolchain, wav: Path) -> None:
    """espeak-ng reads `spoken` (pinyin with tone numbers) into `wav` (its own 22 050 Hz)."""
    command = ["espeak-ng", "-v", tools.voice, "-s", str(tools.speed_wpm), "-w", str(wav)]
    _run([*command, "--stdin"], what="espeak-ng", stdin=spoken.encode())
    if not wav.exists() or wav.stat().st_size <= 44:
        raise AudioError("espeak-ng wrote no audio")


def decode(path: Path, fmt: AudioFormat) -> AudioSegment:
    """Any file ffmpeg reads, as `fmt`'s rate, channels and sample width."""
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", str(path), "-vn"]
    command += ["-ac", str(fmt.channels), "-ar", str(fmt.rate)]
    command += ["-c:a", f"pcm_s{8 * fmt.sample_width}le", "-f", "wav", "-"]
    wav = _run(command, what="ffmpeg")
    try:
        segment = AudioSegment.from_wav(io.BytesIO(wav))
    except Exception as exc:  # pydub raises whatever its parser met
        raise AudioError(f"ffmpeg's output is not a WAV file: {exc}") from None
    if len(segment) == 0:
        raise AudioError("no audio in it")
    return segment


def normalise(segment: AudioSegment, fmt: AudioFormat) -> AudioSegment:
    """Silence cut to `fmt.edge_ms` at both ends, speech levelled to `fmt.speech_dbfs`
    (its peak kept under `fmt.peak_dbfs`). `AudioError` if there is no speech."""
    segment = (
        segment.set_channels(fmt.channels)
        .set_sample_width(fmt.sample_width)
        .set_frame_rate(fmt.rate)
    )
    if segment.max_dBFS < fmt.silent_below_dbfs:
        raise AudioError(f"silent (loudest sample {segment.max_dBFS:.0f} dBFS)")
    spans = detect_nonsilent(
        segment, min_silence_len=100, silence_thresh=segment.max_dBFS - 35, seek_step=5
    )
    start = max(0, spans[0][0] - fmt.edge_ms)
    end = min(len(segment), spans[-1][1] + fmt.edge_ms)
    speech = sum((segment[a:b] for a, b in spans), AudioSegment.empty())
    gain = min(fmt.speech_dbfs - speech.dBFS, fmt.peak_dbfs - segment.max_dBFS)
    return segment[start:end].apply_gain(gain)


def write_wav(segment: AudioSegment, path: Path) -> None:
    segment.export(str(path), format="wav").close()  # pydub writes WAV itself, no ffmpeg


def _run(command: list[str], *, what: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            command, input=stdin, capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except FileNotFoundError:
        raise AudioError(f"{command[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise AudioError(f"{what} took more than {TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        said = lines[-1] if lines else "no message"
        raise AudioError(f"{what} failed (exit status {done.returncode}): {said}")
    return done.stdout
