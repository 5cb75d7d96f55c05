"""The tail of Asterisk's queue_log since a time: found without reading the
whole (large) file, a line still being written left for the next read, and
a rotated or truncated file read anew."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr_flows.core.queue_log import parse_lines
from ivr_flows.service import queue_log_file
from ivr_flows.service.queue_log_file import QueueLogFile

E0 = 1795930000


def line(epoch: int, n: int) -> str:
    return f"{epoch}|liandong-{epoch}.{n}|desk-110|NONE|ENTERQUEUE||13900{n:06d}|1\n"


def times(lines: list[str]) -> list[int]:
    return [int(e.at.timestamp()) for e in parse_lines(lines).entries]


def test_a_large_file_is_read_from_the_time_asked_not_from_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "queue_log"
    # A day of lines, ten a second for the last part: about 11 MB.
    with path.open("w") as f:
        for i in range(150_000):
            f.write(line(E0 + i // 10, i))
    reads: list[int] = []
    real_open = Path.open

    def counting_open(self: Path, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        handle = real_open(self, *args, **kw)  # type: ignore[call-overload]
        real_read = handle.read

        def read(n: int = -1) -> bytes:
            data: bytes = real_read(n)
            reads.append(len(data))
            return data

        handle.read = read
        return handle

    monkeypatch.setattr(Path, "open", counting_open)
    since = datetime.fromtimestamp(E0 + 14_990, UTC)
    got = times(QueueLogFile(path).read_since(since))
    wanted = [E0 + i // 10 for i in range(150_000) if E0 + i // 10 >= E0 + 14_990]
    assert got[-len(wanted) :] == wanted  # everything from the time asked
    assert all(t >= E0 + 14_990 - 5 - 100 for t in got)  # and little before it
    assert sum(reads) < os.path.getsize(path) / 20


def test_a_line_being_written_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(line(E0, 1) + line(E0 + 1, 2)[:20])
    tail = QueueLogFile(path)
    since = datetime.fromtimestamp(E0, UTC)
    assert times(tail.read_since(since)) == [E0]
    with path.open("a") as f:
        f.write(line(E0 + 1, 2)[20:] + line(E0 + 2, 3))
    assert times(tail.read_since(since)) == [E0, E0 + 1, E0 + 2]


def test_a_rotated_or_truncated_file_is_read_anew(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text("".join(line(E0 + i, i) for i in range(50)))
    tail = QueueLogFile(path)
    assert len(tail.read_since(datetime.fromtimestamp(E0 + 40, UTC))) >= 10
    # `logger rotate`: the file is renamed and Asterisk starts a new one.
    path.rename(tmp_path / "queue_log.0")
    path.write_text(line(E0 + 100, 100))
    assert times(tail.read_since(datetime.fromtimestamp(E0 + 90, UTC))) == [E0 + 100]
    # Truncated in place (logrotate's copytruncate), shorter than the last read.
    path.write_text(line(E0 + 200, 200))
    assert times(tail.read_since(datetime.fromtimestamp(E0 + 150, UTC))) == [E0 + 200]


def test_a_later_read_starts_where_the_last_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "queue_log"
    path.write_text("".join(line(E0 + i, i) for i in range(10)))
    tail = QueueLogFile(path)
    tail.read_since(datetime.fromtimestamp(E0, UTC))
    with path.open("a") as f:
        f.write(line(E0 + 10, 10))
    calls: list[int] = []
    bisect = queue_log_file._first_at

    def spy(f, target, lo, hi):  # type: ignore[no-untyped-def]
        calls.append(lo)
        return bisect(f, target, lo, hi)

    monkeypatch.setattr(queue_log_file, "_first_at", spy)
    later = datetime.now(UTC) + timedelta(seconds=10)
    assert times(tail.read_since(later)) == [E0 + 10]
    assert calls == [len("".join(line(E0 + i, i) for i in range(10)))]


def test_a_missing_file_is_an_os_error_for_the_caller_to_report(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        QueueLogFile(tmp_path / "nope").read_since(datetime.now(UTC))
