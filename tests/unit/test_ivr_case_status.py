"""What the 12345 menu tells a caller about their own case."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ivr_flows.core import spoken
from ivr_flows.core.case_status import CaseSummary, find_case, told
from records.core.lifecycle import CaseState

T = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
# Due at 20:00 UTC on the 8th: 04:00 on the 9th in the county (UTC+8).
OPEN = CaseSummary("2026-000123", CaseState.DISPATCHED, datetime(2026, 12, 8, 20, tzinfo=UTC), T)
OLD = CaseSummary("2026-000045", CaseState.CLOSED, None, datetime(2026, 11, 1, tzinfo=UTC))
NEWEST_CLOSED = CaseSummary(
    "2026-000223", CaseState.CLOSED, None, datetime(2026, 12, 2, tzinfo=UTC)
)


def test_the_whole_number_or_its_unique_last_digits_name_the_case() -> None:
    cases = [OPEN, OLD]
    assert find_case("2026000123", cases) is OPEN
    assert find_case("123", cases) is OPEN
    assert find_case("45", cases) is OLD
    assert find_case("2026000999", cases) is None


def test_last_digits_two_of_the_callers_cases_share_name_none() -> None:
    assert find_case("23", [OPEN, NEWEST_CLOSED]) is None


def test_nothing_typed_is_the_newest_open_case_else_the_newest() -> None:
    assert find_case("", [NEWEST_CLOSED, OLD, OPEN]) is OPEN
    assert find_case("", [OLD, NEWEST_CLOSED]) is NEWEST_CLOSED
    assert find_case("", []) is None


def test_an_open_case_is_told_with_its_state_and_its_closing_date_in_county_time() -> None:
    said = told(OPEN)
    assert said[0] == "case/your_case"
    assert said[1:11] == [
        "digits/2",
        "digits/0",
        "digits/2",
        "digits/6",
        "digits/0",
        "digits/0",
        "digits/0",
        "digits/yao",
        "digits/2",
        "digits/3",
    ]
    assert said[11:13] == ["case/current_state", "state/dispatched"]
    assert said[13:] == ["case/deadline", *spoken.date(date(2026, 12, 9))]


def test_a_closed_case_has_no_deadline_said() -> None:
    assert "case/deadline" not in told(OLD)
    assert told(OLD)[-1] == "state/closed"
