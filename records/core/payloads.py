"""What each command carries, declared once: the API validates bodies with it
(errors name the field) and the OpenAPI document is generated from it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from common.instants import BadInstant, parse_instant
from common.vocabulary import Desk
from county.case_words import DemandType, Route, Urgency
from records.core.lifecycle import Command

MAX_TEXT = 4000
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_TEXT = {"name": 200, "url": 2000}
MAX_PHONE = 32
# A reported time may run this far ahead of the server's clock (a PC's clock).
CLOCK_SKEW = timedelta(minutes=5)
_UNIT_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Neither stored nor sent back: C0 controls other than tab, newline and carriage
# return (PostgreSQL refuses NUL), and lone UTF-16 surrogates (a JSON "\ud800"
# decodes to one; no UTF-8 encoder takes it, so every later read would fail).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# Digits, an optional leading +, and - or spaces between digits.
_PHONE = re.compile(r"\+?[0-9]+(?:[ -]+[0-9]+)*")


class Deadline(StrEnum):
    """The clocks a dispatched case runs on (time_limits.CLOCKS), which the
    ladder's remind/notice/bulletin name."""

    SIGN_FOR = "sign_for"
    ARRIVE = "arrive"
    FEEDBACK = "feedback"
    CLOSE = "close"


class InvalidField(ValueError):
    """A request field is missing or wrong; `field` names it for the caller."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | enum | unit | units | rating | days | time | attachments | flag
    required: bool = False
    enum: type[StrEnum] | None = None
    description: str = ""
    # text only: a further check and normalisation of the stripped text
    refine: Callable[[Field, str], str] | None = None


def _text(name: str, required: bool = False, description: str = "") -> Field:
    return Field(name, "text", required, description=description)


def phone_number(text: str, name: str = "caller_number") -> str:
    """A caller number as stored: spaces dropped; InvalidField naming `name` if it is none."""
    return _phone_number(Field(name, "text"), text.strip())


def _phone_number(field: Field, text: str) -> str:
    # Digits only, as the network gives a call's number: a repeat caller's
    # call then finds the case (case_candidates) however the number was typed.
    number = text.replace(" ", "").replace("-", "")
    if not _PHONE.fullmatch(text) or len(number) > MAX_PHONE:
        raise InvalidField(
            field.name,
            f"a phone number: digits, an optional leading +, - or spaces between digits, "
            f"at most {MAX_PHONE} characters",
        )
    return number


NOTE = _text("note", description="free text for the timeline")
REASON = _text("reason", required=True, description="why (shown to the other side)")
NO_FOLLOW_UP = Field(
    "no_follow_up", "flag", description="the caller asked not to be called back (拒绝回访)"
)
_CLASSIFY = (
    Field("demand_type", "enum", True, DemandType, "咨询/求助/投诉/举报/建议 or 110's types"),
    Field(
        "route", "enum", True, Route, "the operator's decision (the suggestion is kept beside it)"
    ),
    Field("urgency", "enum", False, Urgency),
    _text("category", description="routing catalogue category code"),
    Field("township", "unit", description="township unit code of the location"),
    _text("address"),
    _text("description"),
    NO_FOLLOW_UP,
    NOTE,
)
_DISPATCH = (
    Field("lead_unit", "unit", True, description="the unit that leads (牵头单位)"),
    Field("co_units", "units", description="co-operating units (协办单位)"),
    NOTE,
)
DEADLINE = Field("deadline", "enum", True, Deadline, "the clock the step is about")

FIELDS: dict[Command, tuple[Field, ...]] = {
    Command.CLASSIFY: _CLASSIFY,
    Command.REFER_TO_110: (NOTE,),
    Command.ACCEPT_POLICE: (_text("police_ticket", description="接警单号"), NOTE),
    Command.REFER_TO_12345: (NOTE,),
    Command.POLICE_FEEDBACK: (
        _text("officer", True, "民警"),
        _text("findings", True, "现场核实情况"),
        _text("measures", True, "先期处置措施"),
        _text("police_ticket"),
        NOTE,
    ),
    Command.SEND_BACK: (REASON,),
    Command.POLICE_CLOSE: (_text("result", True), _text("police_ticket"), NOTE),
    Command.DISPATCH: _DISPATCH,
    Command.SIGN: (NOTE,),
    Command.ARRIVE: (NOTE,),
    Command.FEED_BACK: (_text("measures", True, "措施与进展"), NOTE),
    Command.REPLY: (
        _text("measures", True, "采取的措施"),
        _text("result", True, "办理结果"),
        _text("handler", True, "承办人"),
        Field("finished_at", "time", description="办结时间; default: now"),
        Field("attachments", "attachments", description="[{name, url}]"),
        NOTE,
    ),
    Command.APPROVE_REPLY: (NOTE,),
    Command.REJECT_REPLY: (REASON,),
    Command.CLOSE: (NOTE,),
    Command.ANSWER_DIRECTLY: (_text("answer", True, "答复内容"), NOTE),
    Command.REQUEST_RETURN: (REASON,),
    Command.REDISPATCH: _DISPATCH,
    Command.REJECT_RETURN: (REASON,),
    Command.REQUEST_EXTENSION: (Field("days", "days", True, description="working days"), REASON),
    Command.APPROVE_EXTENSION: (NOTE,),
    Command.REFUSE_EXTENSION: (REASON,),
    Command.FOLLOW_UP: (Field("satisfaction", "rating", True, description="1 very satisfied … 5"),),
    Command.REOPEN: (REASON,),
    Command.ARCHIVE: (NOTE,),
    Command.MERGE: (_text("into", True, "case number or id to merge into"), NOTE),
    Command.CANCEL: (REASON,),
    Command.REMIND: (DEADLINE, NOTE),
    Command.NOTICE: (DEADLINE, NOTE),
    Command.BULLETIN: (DEADLINE, NOTE),
}


# A case opened through the API (web form, another channel) or by a desk.
CREATE_FIELDS: tuple[Field, ...] = (
    Field("desk", "enum", False, Desk, "the desk that holds it; an operator's own by default"),
    _text("caller_name"),
    Field(
        "caller_number",
        "text",
        description=f"digits, an optional leading +, - or spaces between digits "
        f"(stored as digits: spaces and - are dropped); at most {MAX_PHONE} characters",
        refine=_phone_number,
    ),
    Field("anonymous", "flag", description="the caller asked not to be named (匿名)"),
    _text("police_ticket", description="接警单号"),
    *(f for f in _CLASSIFY if f.name not in ("route", "note", "demand_type")),
    Field("demand_type", "enum", False, DemandType),
)


def validate(command: Command, body: Any) -> dict[str, Any]:
    """The body's known fields, checked and normalised; unknown fields are refused."""
    return validate_fields(FIELDS[command], body, command.value)


def validate_fields(declared: tuple[Field, ...], body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidField("body", "must be a JSON object")
    fields = {f.name: f for f in declared}
    for name in body:
        if name not in fields:
            known = ", ".join(fields) or "none"
            raise InvalidField(_sendable(str(name)), f"not a field of {what} (fields: {known})")
    result: dict[str, Any] = {}
    for field in fields.values():
        value = body.get(field.name)
        if value is None or value == "":
            if field.required:
                raise InvalidField(field.name, "required")
            continue
        result[field.name] = _check(field, value)
    if result.get("lead_unit") in result.get("co_units", ()):
        raise InvalidField("co_units", "the lead unit cannot also be a co-unit")
    return result


def _check(field: Field, value: Any) -> Any:
    if isinstance(value, str):
        _check_printable(field.name, value)
    checker = _CHECKERS[field.kind]
    return checker(field, value)


def _check_printable(name: str, value: str) -> None:
    found = _UNPRINTABLE.search(value)
    if found is not None:
        char = found.group()
        surrogate = "\ud800" <= char <= "\udfff"
        what = "an unpaired UTF-16 surrogate" if surrogate else "a control character"
        raise InvalidField(
            name,
            f"contains {what} (U+{ord(char):04X}) at position {found.start()}; "
            "text may hold tab, newline and carriage return but no other control characters",
        )


def _sendable(name: str) -> str:
    """A name as it can be sent back (an unknown field's name may hold anything)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_text(field: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidField(field.name, "must be a string")
    text = value.strip()
    if not text and field.required:
        raise InvalidField(field.name, "required")
    if len(text) > MAX_TEXT:
        raise InvalidField(field.name, f"longer than {MAX_TEXT} characters")
    if field.refine is not None and text:
        text = field.refine(field, text)
    return text


def _check_enum(field: Field, value: Any) -> StrEnum:
    assert field.enum is not None
    try:
        return field.enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in field.enum)
        raise InvalidField(field.name, f"one of: {allowed}") from None


def _check_unit(field: Field, value: Any) -> str:
    if not isinstance(value, str) or not _UNIT_CODE.fullmatch(value):
        raise InvalidField(field.name, "a unit code (letters, digits, - or _)")
    return value


def _check_units(field: Field, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise InvalidField(field.name, "a list of unit codes")
    codes = [_check_unit(field, item) for item in value]
    if len(set(codes)) != len(codes):
        raise InvalidField(field.name, "lists a unit twice")
    return codes


def _check_int(field: Field, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidField(field.name, f"an integer from {low} to {high}")
    return value


def _check_time(field: Field, value: Any) -> datetime:
    """A time that has happened (a reply's 办结时间), give or take CLOCK_SKEW."""
    if not isinstance(value, str):
        raise InvalidField(field.name, "an ISO 8601 time with a UTC offset")
    try:
        when = parse_instant(value)
    except BadInstant as exc:
        raise InvalidField(field.name, str(exc)) from None
    if when > datetime.now(UTC) + CLOCK_SKEW:
        minutes = int(CLOCK_SKEW.total_seconds() // 60)
        raise InvalidField(field.name, f"in the future (more than {minutes} minutes from now)")
    return when


def _check_attachments(field: Field, value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise InvalidField(field.name, f"a list of at most {MAX_ATTACHMENTS} {{name, url}}")
    result = []
    for index, item in enumerate(value):
        if (
            not isinstance(item, dict)
            or set(item) != {"name", "url"}
            or not all(isinstance(v, str) and v.strip() for v in item.values())
        ):
            raise InvalidField(f"{field.name}[{index}]", "an object {name, url} of strings")
        for key, text in item.items():
            _check_printable(f"{field.name}[{index}]", text)
            if len(text) > MAX_ATTACHMENT_TEXT[key]:
                limit = MAX_ATTACHMENT_TEXT[key]
                raise InvalidField(
                    f"{field.name}[{index}].{key}", f"longer than {limit} characters"
                )
        result.append({"name": item["name"].strip(), "url": item["url"].strip()})
    return result


_CHECKERS: dict[str, Any] = {
    "text": _check_text,
    "enum": _check_enum,
    "unit": _check_unit,
    "units": _check_units,
    "rating": lambda f, v: _check_int(f, v, 1, 5),
    "days": lambda f, v: _check_int(f, v, 1, 60),
    "time": _check_time,
    "attachments": _check_attachments,
    "flag": lambda f, v: _check_flag(f, v),
}


def _check_flag(field: Field, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidField(field.name, "true or false")
    return value
