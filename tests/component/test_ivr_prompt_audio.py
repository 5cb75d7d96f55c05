"""Prompt rendering with the real espeak-ng and ffmpeg: what a caller will hear.

Nobody listens here, so the checks are what can be measured: the WAV is what
Asterisk plays (8 kHz, mono, 16-bit, read back with the standard library's
`wave`, not with the code under test), it is speech (loud enough, with the
pauses the punctuation asks for), of a sane length for its syllables, and the
tone numbers are not read aloud (the pinyin voice's phonemes switch to English
nowhere, and it is clearly shorter than espeak-ng's `cmn` voice reading the
characters, which says "nin two hao three"). Recordings in other formats win
and come out the same way; bad ones stop everything before a file is installed;
the second run renders nothing.
"""

from __future__ import annotations

import re
import subprocess
import wave
from dataclasses import replace
from pathlib import Path

import pytest
from pydub import AudioSegment
from pydub.silence import detect_nonsilent

from ivr_flows.core.pinyin import to_pinyin
from ivr_flows.core.prompt_catalogue import load_catalogue
from ivr_flows.core.prompt_render import (
    ASTERISK_FORMAT,
    PINYIN_VOICE,
    SPEED_WPM,
    RenderedPrompt,
    Source,
    Toolchain,
)
from ivr_flows.service import audio
from ivr_flows.service.prompts import PromptError, render_prompts

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "ivr_flows" / "prompts"
GREETING = "您好，这里是宝丰县12345政务服务便民热线。"
SECONDS_PER_SYLLABLE = (0.15, 0.6)


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    (folder / "recorded").mkdir(parents=True)
    (folder / "prompts.yaml").write_text(
        f"greeting: {GREETING}\nhello: 您好\ndigits/7: 七\n", encoding="utf-8"
    )
    return folder


def render(prompts_dir: Path, tmp_path: Path, out: bool = True) -> dict[str, RenderedPrompt]:
    rendered = render_prompts(
        prompts_dir, tmp_path / "cache", tmp_path / "out" if out else None, required=()
    )
    return {r.prompt_id: r for r in rendered}


def wav_facts(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as wav:
        frames = wav.getnframes()
        return wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), frames / 8000


def syllables(spoken: str) -> int:
    return len(re.findall(r"[a-z]+[1-5]", spoken))


def tone(tmp_path: Path, name: str, seconds: float = 1.0, hz: int = 440) -> Path:
    """A stereo 44.1 kHz tone encoded by ffmpeg (the format from `name`'s extension)."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    source = f"sine=frequency={hz}:sample_rate=44100:duration={seconds}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-ac", "2", str(path)],
        check=True,
    )
    return path


# ------------------------------------------------------------------ synthetic speech


def test_a_sentence_becomes_8khz_mono_16bit_speech_of_a_sane_length(
    prompts_dir: Path, tmp_path: Path
) -> None:
    greeting = render(prompts_dir, tmp_path)["greeting"]
    path = tmp_path / "out" / "greeting.wav"
    assert greeting.path == str(path) and greeting.source is Source.SYNTHETIC
    rate, channels, width, seconds = wav_facts(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert seconds == pytest.approx(greeting.seconds)
    count = syllables(to_pinyin(GREETING))
    assert count == 21  # 您好 这里是宝丰县 一二三四五 政务服务便民热线
    low, high = SECONDS_PER_SYLLABLE
    assert low * count <= seconds <= high * count

    segment = AudioSegment.from_wav(str(path))
    assert segment.dBFS > -30  # speech, not a near-silent file
    assert -23 < _speech_dbfs(segment) < -17  # levelled to -20 dBFS
    assert segment.max_dBFS <= -0.9
    # A pause at the comma (and between words): more than one stretch of sound.
    spans = detect_nonsilent(segment, min_silence_len=80, silence_thresh=segment.max_dBFS - 30)
    assert len(spans) >= 2
    # Trimmed: the speech starts and ends within the kept edges.
    assert spans[0][0] <= 60 and len(segment) - spans[-1][1] <= 60


def test_the_tone_numbers_are_not_read_aloud(prompts_dir: Path, tmp_path: Path) -> None:
    # What espeak-ng makes of it, in its phonemes: the cmn voice switches to
    # English for "two" and "three"; the pinyin voice, given our pinyin, never does.
    assert "(en)" in _phonemes("cmn", "您好")
    for text in ("您好", GREETING, "请拨打110"):
        assert "(en)" not in _phonemes(PINYIN_VOICE, to_pinyin(text)), text

    # And in what a caller hears: the rendered 您好 is clearly shorter than the
    # cmn voice reading the characters at the same speed.
    hello = render(prompts_dir, tmp_path)["hello"]
    tools = audio.toolchain(PINYIN_VOICE, SPEED_WPM)
    naive = _spoken_seconds("您好", replace(tools, voice="cmn"), tmp_path / "cmn.wav")
    assert hello.seconds < 0.85 * naive, (hello.seconds, naive)
    assert 2 * SECONDS_PER_SYLLABLE[0] <= hello.seconds <= 2 * SECONDS_PER_SYLLABLE[1]


def test_every_shipped_prompt_renders_as_speech(tmp_path: Path) -> None:
    catalogue = load_catalogue(SHIPPED / "prompts.yaml")
    rendered = render_prompts(SHIPPED, tmp_path / "cache", tmp_path / "out")
    assert [r.prompt_id for r in rendered] == list(catalogue)
    low, high = SECONDS_PER_SYLLABLE
    for prompt in rendered:
        path = tmp_path / "out" / f"{prompt.prompt_id}.wav"
        rate, channels, width, seconds = wav_facts(path)
        assert (rate, channels, width) == (8000, 1, 2), prompt.prompt_id
        count = syllables(catalogue[prompt.prompt_id].spoken)
        assert low * count <= seconds <= high * count + 0.1, (prompt.prompt_id, seconds, count)
        assert AudioSegment.from_wav(str(path)).dBFS > -30, prompt.prompt_id


# ------------------------------------------------------------------ the cache


def test_the_second_run_renders_nothing(
    prompts_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = render(prompts_dir, tmp_path)
    assert not any(r.cached for r in first.values())
    cached = sorted((tmp_path / "cache").glob("*.wav"))
    assert len(cached) == 3
    before = {p: p.stat().st_mtime_ns for p in [*cached, *(tmp_path / "out").rglob("*.wav")]}

    def no_program(*args: object, **kwargs: object) -> None:
        raise AssertionError("a program ran on a cached prompt")

    monkeypatch.setattr(audio, "synthesize", no_program)
    monkeypatch.setattr(audio, "decode", no_program)
    second = render(prompts_dir, tmp_path)
    assert all(r.cached for r in second.values())
    assert {p: p.stat().st_mtime_ns for p in before} == before  # nothing rewritten
    assert [r.seconds for r in second.values()] == [r.seconds for r in first.values()]


def test_a_changed_text_renders_only_that_prompt(prompts_dir: Path, tmp_path: Path) -> None:
    render(prompts_dir, tmp_path)
    catalogue = prompts_dir / "prompts.yaml"
    catalogue.write_text(catalogue.read_text().replace("七", "柒"), encoding="utf-8")
    again = render(prompts_dir, tmp_path)
    assert {i for i, r in again.items() if not r.cached} == {"digits/7"}


# ------------------------------------------------------------------ recordings


@pytest.mark.parametrize("extension", ["mp3", "m4a", "ogg", "wav"])
def test_a_recording_wins_and_comes_out_8khz_mono(
    prompts_dir: Path, tmp_path: Path, extension: str
) -> None:
    tone(prompts_dir / "recorded", f"greeting.{extension}", seconds=1.0)
    tone(prompts_dir / "recorded", f"digits/7.{extension}", seconds=0.5, hz=880)
    rendered = render(prompts_dir, tmp_path)
    assert {i: r.source for i, r in rendered.items()} == {
        "greeting": Source.RECORDED,
        "hello": Source.SYNTHETIC,
        "digits/7": Source.RECORDED,
    }
    for prompt_id, length in (("greeting", 1.0), ("digits/7", 0.5)):
        rate, channels, width, seconds = wav_facts(tmp_path / "out" / f"{prompt_id}.wav")
        assert (rate, channels, width) == (8000, 1, 2)
        assert seconds == pytest.approx(length, abs=0.06)  # a tone has no silence to trim
        assert -21 < AudioSegment.from_wav(str(tmp_path / "out" / f"{prompt_id}.wav")).dBFS < -19


def test_a_new_recording_replaces_the_old_one(prompts_dir: Path, tmp_path: Path) -> None:
    recording = tone(prompts_dir / "recorded", "greeting.mp3", seconds=1.0)
    first = render(prompts_dir, tmp_path)["greeting"]
    tone(prompts_dir / "recorded", "greeting.mp3", seconds=2.0)
    second = render(prompts_dir, tmp_path)["greeting"]
    assert not second.cached and second.seconds == pytest.approx(2.0, abs=0.06)
    assert first.seconds == pytest.approx(1.0, abs=0.06)
    recording.unlink()
    assert render(prompts_dir, tmp_path)["greeting"].source is Source.SYNTHETIC


def test_a_corrupt_recording_stops_everything_before_anything_is_installed(
    prompts_dir: Path, tmp_path: Path
) -> None:
    (prompts_dir / "recorded" / "digits").mkdir()
    (prompts_dir / "recorded" / "digits" / "7.mp3").write_bytes(b"ID3 not really an mp3" * 50)
    with pytest.raises(PromptError) as caught:
        render(prompts_dir, tmp_path)
    [problem] = caught.value.problems
    assert problem.startswith(f"digits/7: {prompts_dir / 'recorded' / 'digits' / '7.mp3'}: ffmpeg")
    assert "nothing installed" in str(caught.value)
    assert not (tmp_path / "out").exists()  # not even the prompts that rendered


def test_a_silent_recording_is_refused(prompts_dir: Path, tmp_path: Path) -> None:
    path = prompts_dir / "recorded" / "hello.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=8000:cl=mono",
            "-t",
            "1",
            str(path),
        ],
        check=True,
    )
    with pytest.raises(PromptError) as caught:
        render(prompts_dir, tmp_path)
    assert caught.value.problems == [f"hello: {path}: silent (loudest sample -inf dBFS)"]


def test_recordings_of_no_prompt_and_missing_programs_are_reported_together(
    prompts_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tone(prompts_dir / "recorded", "greting.mp3")
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    with pytest.raises(PromptError) as caught:
        render(prompts_dir, tmp_path)
    assert caught.value.problems == [
        "recorded/greting.mp3: no prompt 'greting' in prompts.yaml",
        "espeak-ng is not installed (Debian: apt-get install espeak-ng)",
    ]


def test_prompts_spoken_from_data_must_be_in_the_catalogue(
    prompts_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(PromptError) as caught:
        render_prompts(prompts_dir, tmp_path / "cache", tmp_path / "out")  # required: all
    assert "prompts.yaml: no text for 'date/day', which is spoken from data at call time" in (
        caught.value.problems
    )
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ installing and resampling


def test_installing_makes_folders_and_leaves_unchanged_files_alone(
    prompts_dir: Path, tmp_path: Path
) -> None:
    render(prompts_dir, tmp_path)
    installed = tmp_path / "out" / "digits" / "7.wav"
    cached = [
        p for p in (tmp_path / "cache").glob("*.wav") if p.read_bytes() == installed.read_bytes()
    ]
    assert len(cached) == 1
    before = installed.stat().st_mtime_ns
    render(prompts_dir, tmp_path)
    assert installed.stat().st_mtime_ns == before
    assert sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")
    ) == [
        "digits",
        "digits/7.wav",
        "greeting.wav",
        "hello.wav",
    ]


def test_without_an_out_folder_only_the_cache_is_written(prompts_dir: Path, tmp_path: Path) -> None:
    rendered = render(prompts_dir, tmp_path, out=False)
    assert all(Path(r.path).parent == tmp_path / "cache" for r in rendered.values())
    assert not (tmp_path / "out").exists()


def test_resampling_to_8khz_filters_what_a_phone_line_cannot_carry(tmp_path: Path) -> None:
    # 6 kHz is above 8 kHz audio's 4 kHz limit: it must vanish, not fold back as 2 kHz.
    path = tmp_path / "high.wav"
    source = "sine=frequency=6000:sample_rate=22050:duration=1"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", source, str(path)], check=True)
    assert AudioSegment.from_wav(str(path)).dBFS > -25
    assert audio.decode(path, ASTERISK_FORMAT).dBFS < -50


# ------------------------------------------------------------------ helpers


def _phonemes(voice: str, text: str) -> str:
    done = subprocess.run(
        ["espeak-ng", "-v", voice, "-q", "-x", text], capture_output=True, text=True, check=True
    )
    return done.stdout


def _spoken_seconds(text: str, tools: Toolchain, path: Path) -> float:
    audio.synthesize(text, tools, path)
    return len(audio.normalise(audio.decode(path, ASTERISK_FORMAT), ASTERISK_FORMAT)) / 1000


def _speech_dbfs(segment: AudioSegment) -> float:
    spans = detect_nonsilent(segment, min_silence_len=100, silence_thresh=segment.max_dBFS - 35)
    return float(sum((segment[a:b] for a, b in spans), AudioSegment.empty()).dBFS)
