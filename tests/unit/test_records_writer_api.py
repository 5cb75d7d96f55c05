"""RecordWriter's contract that needs no database: what submit() refuses,
flush/stop edge cases, and how errors are described."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker

from telephony.core.events import CallEnded, LegRinging
from telephony.storage.writer import RecordWriter, describe_error


def _writer(**options: float) -> RecordWriter:
    return RecordWriter(async_sessionmaker(), **options)  # type: ignore[arg-type]


def test_submit_refuses_naive_times_and_non_events() -> None:
    writer = _writer()
    with pytest.raises(ValueError, match="naive"):
        writer.submit(LegRinging("l", datetime(2025, 3, 1)))
    with pytest.raises(TypeError):
        writer.submit("LegRinging")  # type: ignore[arg-type]
    assert writer.stats.pending == 0


def test_submit_only_queues() -> None:
    writer = _writer()
    for n in range(1000):
        writer.submit(CallEnded(str(n), datetime(2025, 3, 1, tzinfo=UTC)))
    stats = writer.stats
    assert (stats.pending, stats.committed, stats.retries, stats.last_error) == (1000, 0, 0, None)


async def test_flush_and_stop_before_start() -> None:
    writer = _writer()
    await writer.flush()  # nothing submitted: nothing to wait for
    await writer.stop()  # never started: nothing to stop
    writer.submit(CallEnded("c", datetime(2025, 3, 1, tzinfo=UTC)))
    with pytest.raises(RuntimeError, match="not running"):
        await writer.flush()


@pytest.mark.parametrize(
    "options",
    [{"batch_size": 0}, {"max_delay": -1}, {"retry_initial": 0}, {"retry_max": 0.1}],
)
def test_bad_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        _writer(**options)


class _DriverError(Exception):
    sqlstate = "40P01"


def test_describe_error_names_the_driver_error_not_the_sql() -> None:
    adapted = Exception("wrapper text")
    adapted.__cause__ = _DriverError("deadlock detected\nDETAIL: lots")
    error = DBAPIError("INSERT INTO legs ... huge statement", None, adapted)
    assert describe_error(error) == "_DriverError [40P01]: deadlock detected"
    assert describe_error(OSError("connection refused")) == "OSError: connection refused"
