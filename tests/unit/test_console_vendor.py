"""The third-party files the pages load are the ones pinned, each with its
licence beside it, and no page loads anything from elsewhere."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from console.http import STATIC

VENDOR = STATIC / "vendor"


def pinned() -> dict[str, str]:
    lines = (VENDOR / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines)}


def test_every_vendored_file_is_pinned_and_matches_its_pin() -> None:
    files = {
        path.relative_to(VENDOR).as_posix()
        for path in VENDOR.rglob("*")
        if path.is_file() and path.name not in {"SHA256SUMS", "README.md"}
    }
    assert files == set(pinned())
    for name, digest in pinned().items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_every_vendored_library_carries_its_licence() -> None:
    for folder in {Path(name).parts[0] for name in pinned()}:
        assert (VENDOR / folder / "LICENSE").stat().st_size > 1000, folder


def test_the_pages_and_scripts_load_nothing_from_another_host() -> None:
    ours = [p for p in STATIC.rglob("*") if p.suffix in {".html", ".js", ".css"}]
    ours = [p for p in ours if VENDOR not in p.parents]
    assert ours
    for path in ours:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), path
        assert not re.search(r"""(import|from)\s*\(?\s*["'](https?:)?//""", text), path
