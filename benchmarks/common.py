"""What every benchmark needs around its measurement: a scratch SQLite file,
the CPU time of this process, and what machine and versions it ran on."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterable
from importlib import metadata
from pathlib import Path


@contextlib.asynccontextmanager
async def sqlite_database(directory: str, name: str) -> AsyncIterator[str]:
    """A fresh SQLite file (WAL, as the server runs it) in `directory`, removed after."""
    path = os.path.join(directory, f"{name}-{secrets.token_hex(4)}.db")
    try:
        yield f"sqlite+aiosqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path + suffix)


def cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine(packages: Iterable[str]) -> dict[str, str]:
    """The machine, Python, SQLite and the versions of `packages`."""
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "?"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu or platform.processor() or "?",
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        **versions,
    }
