"""UtcDateTime and to_utc_ms: aware in, UTC milliseconds out, naive refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from database.types import UtcDateTime, to_utc_ms

BEIJING = timezone(timedelta(hours=8))


def test_to_utc_ms_converts_and_truncates() -> None:
    value = datetime(2025, 3, 1, 10, 0, 0, 999_999, tzinfo=BEIJING)
    assert to_utc_ms(value) == datetime(2025, 3, 1, 2, 0, 0, 999_000, tzinfo=UTC)
    assert to_utc_ms(value).tzinfo is UTC


def test_to_utc_ms_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_utc_ms(datetime(2025, 3, 1))


def test_bind_stores_utc_per_dialect() -> None:
    column = UtcDateTime()
    value = datetime(2025, 3, 1, 10, 0, 0, 123_456, tzinfo=BEIJING)
    assert column.process_bind_param(value, sqlite.dialect()) == datetime(
        2025, 3, 1, 2, 0, 0, 123_000
    )
    assert column.process_bind_param(value, postgresql.dialect()) == datetime(
        2025, 3, 1, 2, 0, 0, 123_000, tzinfo=UTC
    )
    assert column.process_bind_param(None, sqlite.dialect()) is None
    with pytest.raises(ValueError):
        column.process_bind_param(datetime(2025, 3, 1), postgresql.dialect())


def test_results_are_aware_utc() -> None:
    column = UtcDateTime()
    naive_utc = datetime(2025, 3, 1, 2, 0)
    assert column.process_result_value(naive_utc, sqlite.dialect()) == naive_utc.replace(tzinfo=UTC)
    shifted = datetime(2025, 3, 1, 10, 0, tzinfo=BEIJING)
    result = column.process_result_value(shifted, postgresql.dialect())
    assert result is not None and result.tzinfo is UTC and result.hour == 2
    assert column.process_result_value(None, sqlite.dialect()) is None
