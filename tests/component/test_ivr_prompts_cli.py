"""`liandong ivr prompts` as a process: the table it prints, the cache it keeps,
a recording it picks up, and bad data refused with exit status 1 and a message
naming the file (and line) — never a traceback, never a file installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ivr_flows.core.prompt_catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "ivr_flows" / "prompts" / "prompts.yaml"
COUNT = len(load_catalogue(SHIPPED))


def liandong(*args: str, ivr_dir: Path, cache: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "liandong"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "server"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "LIANDONG_IVR_DIR": str(ivr_dir),
        "LIANDONG_PROMPT_CACHE": str(cache),
    }
    return subprocess.run(
        [*command, "ivr", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module: the shipped catalogue is rendered cold once."""
    return tmp_path_factory.mktemp("prompt-cache")


@pytest.fixture
def ivr_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ivr_flows"
    (folder / "prompts").mkdir(parents=True)
    shutil.copy(SHIPPED, folder / "prompts" / "prompts.yaml")
    return folder


def rows(stdout: str) -> dict[str, list[str]]:
    lines = stdout.splitlines()
    assert lines[0].split() == ["id", "source", "seconds", "cached"]
    return {line.split()[0]: line.split()[1:] for line in lines[1:-1]}


def test_render_install_and_list_then_everything_from_the_cache(
    ivr_dir: Path, cache: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sounds" / "zh" / "liandong"
    first = liandong("prompts", "--out", str(out), ivr_dir=ivr_dir, cache=cache, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    table = rows(first.stdout)
    assert len(table) == COUNT
    source, seconds, cached = table["greeting/12345"]
    assert source == "synthetic" and 3 < float(seconds) < 12 and cached == "no"
    head, audio, tail = re.fullmatch(
        r"(.*\), )([0-9.]+)( s of audio; .*)", first.stdout.splitlines()[-1]
    ).groups()  # type: ignore[union-attr]
    assert head == f"{COUNT} prompts (0 recorded, {COUNT} synthetic), "
    assert tail == f" s of audio; 0 from the cache, {COUNT} rendered; installed in {out}"
    # The total is of the exact lengths; the rows are rounded to 0.1 s each.
    assert abs(float(audio) - sum(float(r[1]) for r in table.values())) <= 0.05 * COUNT
    assert (out / "greeting" / "12345.wav").is_file() and (out / "digits" / "7.wav").is_file()
    assert len(list(out.rglob("*.wav"))) == COUNT

    again = liandong("prompts", ivr_dir=ivr_dir, cache=cache, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert {r[2] for r in rows(again.stdout).values()} == {"yes"}
    assert again.stdout.splitlines()[-1].endswith(
        f"{COUNT} from the cache, 0 rendered; not installed (no --out)"
    )


def test_a_recording_is_listed_as_recorded(ivr_dir: Path, cache: Path, tmp_path: Path) -> None:
    recorded = ivr_dir / "prompts" / "recorded" / "greeting"
    recorded.mkdir(parents=True)
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1.5"]
    subprocess.run(["ffmpeg", "-v", "error", *tone, str(recorded / "12345.m4a")], check=True)
    done = liandong("prompts", ivr_dir=ivr_dir, cache=cache, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    table = rows(done.stdout)
    assert table["greeting/12345"][0] == "recorded" and table["greeting/12345"][2] == "no"
    assert float(table["greeting/12345"][1]) == pytest.approx(1.5, abs=0.06)
    assert sum(r[2] == "no" for r in table.values()) == 1  # the rest from the cache


def test_a_catalogue_without_the_prompts_spoken_from_data_is_refused(
    ivr_dir: Path, cache: Path, tmp_path: Path
) -> None:
    catalogue = ivr_dir / "prompts" / "prompts.yaml"
    catalogue.write_text("greeting/12345: 您好\n", encoding="utf-8")
    done = liandong("prompts", ivr_dir=ivr_dir, cache=cache, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "no text for 'digits/0', which is spoken from data at call time" in done.stderr


def test_a_bad_catalogue_is_refused_with_its_line(
    ivr_dir: Path, cache: Path, tmp_path: Path
) -> None:
    catalogue = ivr_dir / "prompts" / "prompts.yaml"
    catalogue.write_text(catalogue.read_text() + "menu/extra: 请按😀\n", encoding="utf-8")
    line = len(catalogue.read_text().splitlines())
    out = tmp_path / "out"
    done = liandong("prompts", "--out", str(out), ivr_dir=ivr_dir, cache=cache, cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert f"{catalogue}:{line}: menu/extra: cannot be read aloud: '😀' (U+1F600)" in done.stderr
    assert not out.exists()


def test_a_corrupt_recording_is_refused_naming_prompt_and_file(
    ivr_dir: Path, cache: Path, tmp_path: Path
) -> None:
    recording = ivr_dir / "prompts" / "recorded" / "menu" / "main.amr"
    recording.parent.mkdir(parents=True)
    recording.write_bytes(b"#!AMR\n" + b"\xff" * 7)
    out = tmp_path / "out"
    done = liandong("prompts", "--out", str(out), ivr_dir=ivr_dir, cache=cache, cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "Traceback" not in done.stderr
    assert f"menu/main: {recording}: " in done.stderr
    assert "nothing installed" in done.stderr
    assert not out.exists()
