"""Reading the tail of Asterisk's queue_log since a time, without reading
the whole file: its lines are in time order, so the first line of that
time is found by bisection over byte offsets. Blocking (run it in a
thread).

The file is Asterisk's: it grows while we read (a last line without its
newline is left for the next read), and `logger rotate` (or logrotate)
renames it and starts a new one — a file that is another (inode) or shorter
than where the last read ended is read from wherever the time falls in it.
Lines of an outage that went to the rotated file are not read.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from ivr_flows.core.queue_log import parse_line

log = logging.getLogger(__name__)

# Below this many bytes between the bounds, read them rather than bisect.
SCAN_BYTES = 64 * 1024
# Lines may be out of order by a second or so (threads log as they go).
ORDER_SLACK = timedelta(seconds=5)


class QueueLogFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._inode: int | None = None
        self._end = 0  # where the last read stopped: the start of a line
        self._read_at: datetime | None = None  # lines before _end were written before it

    def read_since(self, since: datetime) -> list[str]:
        """The complete lines written from `since` on (a few earlier ones
        too: the caller filters by time). OSError if it cannot be read."""
        read_at = datetime.now(UTC)
        with self.path.open("rb") as f:
            st = os.fstat(f.fileno())
            start = 0
            if self._inode == st.st_ino and self._end <= st.st_size:
                if self._read_at is not None and self._read_at + ORDER_SLACK <= since:
                    start = self._end  # nothing before it is wanted
            elif self._inode is not None:
                log.info(
                    "queue_log %s was rotated or truncated since the last read: "
                    "reading the new file",
                    self.path,
                )
            start = _first_at(f, since - ORDER_SLACK, start, st.st_size)
            f.seek(start)
            data = f.read(st.st_size - start)
        complete = data.rfind(b"\n") + 1  # a line still being written waits
        self._inode, self._end = st.st_ino, start + complete
        self._read_at = read_at
        text = data[:complete].decode("utf-8", errors="replace")
        return text.split("\n")[:-1] if text else []


def _first_at(f: BinaryIO, target: datetime, lo: int, hi: int) -> int:
    """The offset of a line start at or before the first line of `target`
    or later, in [lo, hi]."""
    while hi - lo > SCAN_BYTES:
        mid = (lo + hi) // 2
        found = _line_after(f, mid, hi)
        if found is None:
            hi = mid
            continue
        start, at = found
        if at < target:
            lo = start  # everything before this line is earlier too
        else:
            hi = mid
    return lo


def _line_after(f: BinaryIO, pos: int, hi: int) -> tuple[int, datetime] | None:
    """The first parseable line starting after `pos` and before `hi`: its
    offset and time."""
    f.seek(pos)
    chunk = f.read(min(SCAN_BYTES, hi - pos))
    first = chunk.find(b"\n") + 1
    if first == 0:
        return None
    offset = first
    while offset < len(chunk):
        end = chunk.find(b"\n", offset)
        if end < 0:
            return None
        entry = parse_line(chunk[offset:end].decode("utf-8", errors="replace"))
        if entry is not None:
            return pos + offset, entry.at
        offset = end + 1
    return None
