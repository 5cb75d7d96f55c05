"""What the case API refuses before anything is stored (records.core.payloads):
text that cannot be sent back out, deadlines that do not exist, reply times in
the future, a lead unit that is also a co-unit, caller numbers that are not
phone numbers. Each refusal names the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from county.time_limits import CLOCKS
from records.core import payloads
from records.core.lifecycle import Command
from records.core.payloads import CREATE_FIELDS, InvalidField, validate, validate_fields

REPLY = {"measures": "更换阀门", "result": "已恢复供水", "handler": "张某某"}
CLASSIFY = {"demand_type": "help", "route": "hotline"}


def refused(command: Command, body: dict[str, Any]) -> InvalidField:
    with pytest.raises(InvalidField) as caught:
        validate(command, body)
    return caught.value


def refused_opening(body: dict[str, Any]) -> InvalidField:
    with pytest.raises(InvalidField) as caught:
        validate_fields(CREATE_FIELDS, body, "a new case")
    return caught.value


# ------------------------------------------------------ 1. unprintable text

UNPRINTABLE = ["\ud800", "停水\udfff", "a\x00b", "\x00", "bell\x07", "esc\x1b[2J", "x\x1f"]


@pytest.mark.parametrize("bad", UNPRINTABLE)
@pytest.mark.parametrize(
    ("command", "body", "field"),
    [
        (Command.CLASSIFY, {**CLASSIFY, "description": "{}"}, "description"),
        (Command.CLASSIFY, {**CLASSIFY, "note": "{}"}, "note"),
        (Command.CLASSIFY, {**CLASSIFY, "category": "{}"}, "category"),
        (Command.CLASSIFY, {"demand_type": "{}", "route": "hotline"}, "demand_type"),
        (Command.CLASSIFY, {**CLASSIFY, "township": "{}"}, "township"),
        (Command.DISPATCH, {"lead_unit": "{}"}, "lead_unit"),
        (Command.DISPATCH, {"lead_unit": "water", "co_units": ["{}"]}, "co_units"),
        (Command.MERGE, {"into": "{}"}, "into"),
        (Command.SEND_BACK, {"reason": "{}"}, "reason"),
        (Command.REPLY, {**REPLY, "attachments": [{"name": "{}", "url": "u"}]}, "attachments[0]"),
        (Command.REPLY, {**REPLY, "attachments": [{"name": "n", "url": "{}"}]}, "attachments[0]"),
        (Command.REMIND, {"deadline": "{}"}, "deadline"),
    ],
)
def test_text_that_cannot_be_sent_back_is_refused_naming_the_field(
    command: Command, body: dict[str, Any], field: str, bad: str
) -> None:
    error = refused(command, with_text(body, bad))
    assert error.field == field
    str(error).encode("utf-8")  # the refusal itself can be sent


def with_text(value: Any, bad: str) -> Any:
    """`value` with every "{}" in its strings replaced by `bad`."""
    if isinstance(value, str):
        return value.replace("{}", bad)
    if isinstance(value, list):
        return [with_text(item, bad) for item in value]
    if isinstance(value, dict):
        return {key: with_text(item, bad) for key, item in value.items()}
    return value


@pytest.mark.parametrize("name", ["caller_name", "description", "address", "police_ticket"])
def test_a_new_case_with_unprintable_text_is_refused(name: str) -> None:
    assert refused_opening({"description": "停水", name: "王\ud83d"}).field == name
    assert refused_opening({"description": "停水", name: "王\x00"}).field == name


def test_unit_codes_are_whole_matches() -> None:
    assert refused(Command.DISPATCH, {"lead_unit": "water\n"}).field == "lead_unit"


def test_an_unknown_field_with_a_lone_surrogate_is_named_in_a_sendable_way() -> None:
    error = refused(Command.SIGN, {"n\ud800te": "x"})
    error.field.encode("utf-8")
    str(error).encode("utf-8")


def test_tab_newline_and_carriage_return_and_real_emoji_are_kept() -> None:
    text = "第一行\r\n\t第二行 😀"
    assert validate(Command.ARRIVE, {"note": text}) == {"note": text}


# ------------------------------------------------------ 3. ladder deadlines


def test_the_ladder_commands_take_only_the_deadlines_that_exist() -> None:
    for command in (Command.REMIND, Command.NOTICE, Command.BULLETIN):
        for name in CLOCKS:
            assert validate(command, {"deadline": name})["deadline"] == name
        error = refused(command, {"deadline": "tomorrow"})
        assert error.field == "deadline" and "sign_for" in error.message


def test_the_deadline_names_are_the_time_limits_clocks() -> None:
    assert tuple(getattr(payloads, "Deadline", ())) == CLOCKS


# ------------------------------------------------------ 4. reply time


def test_a_reply_finished_in_the_future_is_refused() -> None:
    now = datetime.now(UTC)
    later = (now + timedelta(minutes=10)).isoformat()
    assert refused(Command.REPLY, {**REPLY, "finished_at": later}).field == "finished_at"
    for ok in (now - timedelta(days=1), now + timedelta(minutes=2)):
        data = validate(Command.REPLY, {**REPLY, "finished_at": ok.isoformat()})
        assert data["finished_at"] == ok


# ------------------------------------------------------ 5. lead unit and co-units


@pytest.mark.parametrize("command", [Command.DISPATCH, Command.REDISPATCH])
def test_the_lead_unit_cannot_also_be_a_co_unit(command: Command) -> None:
    error = refused(command, {"lead_unit": "water", "co_units": ["housing", "water"]})
    assert error.field == "co_units" and "lead unit" in error.message
    body = {"lead_unit": "water", "co_units": ["housing"]}
    assert validate(command, body) == body


# ------------------------------------------------------ 7. caller numbers


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("+86 139-1234-5678", "+8613912345678"),
        ("0512-12345678", "051212345678"),
        (" 110 ", "110"),
    ],
)
def test_caller_numbers_are_normalised(given: str, stored: str) -> None:
    fields = validate_fields(CREATE_FIELDS, {"caller_number": given}, "a new case")
    assert fields["caller_number"] == stored


@pytest.mark.parametrize(
    "bad",
    ["abc", "139x1234", "++86139", "86+139", "-139", "139-", "+", "1" * 33, "(0512)123", "１３９"],
)
def test_caller_numbers_that_are_not_phone_numbers_are_refused(bad: str) -> None:
    assert refused_opening({"caller_number": bad}).field == "caller_number"
