"""What rendering decides before it runs anything: the cache keys (each input
changes them, nothing else does), which recordings belong to which prompts,
and that a recording wins over the voice."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ivr_flows.core.prompt_catalogue import load_catalogue
from ivr_flows.core.prompt_render import (
    ASTERISK_FORMAT,
    Recording,
    Source,
    Toolchain,
    match_recordings,
    plan,
    recorded_key,
    synthetic_key,
)

TOOLS = Toolchain(engine="espeak-ng 1.51", decoder="ffmpeg 5.1.9")
TEXT, SPOKEN = "您好", "nin2 hao3"
BASE = synthetic_key(TEXT, SPOKEN, TOOLS, ASTERISK_FORMAT)


def test_a_key_is_a_sha256_and_the_same_inputs_give_the_same_key() -> None:
    assert len(BASE) == 64 and int(BASE, 16) >= 0
    assert (
        synthetic_key(TEXT, SPOKEN, Toolchain("espeak-ng 1.51", "ffmpeg 5.1.9"), ASTERISK_FORMAT)
        == BASE
    )


@pytest.mark.parametrize(
    "changed",
    [
        synthetic_key("你好", SPOKEN, TOOLS, ASTERISK_FORMAT),
        synthetic_key(TEXT, "nin2 hao3.", TOOLS, ASTERISK_FORMAT),
        synthetic_key(TEXT, SPOKEN, replace(TOOLS, voice="cmn"), ASTERISK_FORMAT),
        synthetic_key(TEXT, SPOKEN, replace(TOOLS, speed_wpm=175), ASTERISK_FORMAT),
        synthetic_key(TEXT, SPOKEN, replace(TOOLS, engine="espeak-ng 1.52"), ASTERISK_FORMAT),
        synthetic_key(TEXT, SPOKEN, replace(TOOLS, decoder="ffmpeg 7.1"), ASTERISK_FORMAT),
        synthetic_key(TEXT, SPOKEN, TOOLS, replace(ASTERISK_FORMAT, rate=16000)),
        synthetic_key(TEXT, SPOKEN, TOOLS, replace(ASTERISK_FORMAT, speech_dbfs=-18.0)),
        recorded_key("0" * 64, TOOLS, ASTERISK_FORMAT),
    ],
)
def test_every_input_changes_the_key(changed: str) -> None:
    assert changed != BASE


def test_a_recordings_key_is_its_content_not_the_text() -> None:
    one, other = "a" * 64, "b" * 64
    assert recorded_key(one, TOOLS, ASTERISK_FORMAT) != recorded_key(other, TOOLS, ASTERISK_FORMAT)
    assert recorded_key(one, replace(TOOLS, engine="espeak-ng 9"), ASTERISK_FORMAT) == (
        recorded_key(one, TOOLS, ASTERISK_FORMAT)  # espeak-ng plays no part in a recording
    )
    assert recorded_key(one, replace(TOOLS, decoder="ffmpeg 7.1"), ASTERISK_FORMAT) != (
        recorded_key(one, TOOLS, ASTERISK_FORMAT)
    )


def test_recordings_are_matched_to_prompts_by_path() -> None:
    ids = ["greeting/12345", "digits/7", "menu/main"]
    files = ["greeting/12345.mp3", "digits/7.m4a", ".gitkeep", "README.md", "digits/notes.txt"]
    assert match_recordings(ids, files) == (
        {"greeting/12345": "greeting/12345.mp3", "digits/7": "digits/7.m4a"},
        [],
    )


def test_recordings_that_belong_to_no_prompt_or_are_doubled_are_problems() -> None:
    ids = ["greeting/12345", "digits/7"]
    files = [
        "greeting/12345.wav",
        "greeting/12345.mp3",
        "greting/12345.mp3",
        "digits/7",
        "Digits/8.wav",
    ]
    found, problems = match_recordings(ids, files)
    assert problems == [
        "recorded/Digits/8.wav: not named <prompt id>.<format> (e.g. recorded/digits/7.mp3)",
        "recorded/digits/7: not named <prompt id>.<format> (e.g. recorded/digits/7.mp3)",
        "recorded/greting/12345.mp3: no prompt 'greting/12345' in prompts.yaml",
        "greeting/12345: 2 recordings (recorded/greeting/12345.mp3, recorded/greeting/12345.wav); "
        "keep one",
    ]
    assert "digits/7" not in found


def test_a_recording_wins_over_the_voice(tmp_path: Path) -> None:
    path = tmp_path / "prompts.yaml"
    path.write_text("greeting: 您好\ndigits/7: 七\n", encoding="utf-8")
    catalogue = load_catalogue(path)
    recording = Recording("greeting.mp3", "c" * 64)
    jobs = plan(catalogue, {"greeting": recording}, TOOLS)
    assert [(j.prompt_id, j.source, j.recording) for j in jobs] == [
        ("greeting", Source.RECORDED, "greeting.mp3"),
        ("digits/7", Source.SYNTHETIC, None),
    ]
    assert jobs[0].key == recorded_key("c" * 64, TOOLS, ASTERISK_FORMAT)
    assert jobs[1].key == synthetic_key("七", "qi1", TOOLS, ASTERISK_FORMAT)
    assert jobs[1].spoken == "qi1"
