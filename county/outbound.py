"""The calls the server makes by itself ([notify]), from
`case-config/outbound.yaml` (the file documents its own format):

- linkage notices (联动快速办理通知): a dispatch of an urgent matter (or of a
  category the county names) rings the member unit, climbing a ladder of its
  roster contacts until someone presses a key;
- follow-up calls (回访): some time after a case is closed the citizen is
  asked for a rating (1 very satisfied … 5 very dissatisfied); a rating the
  county names re-opens the case for re-handling (重办).

Why a file: how hard to chase a unit at night, when a citizen may be called
and how many lines the county's trunk can spare are the county's decisions,
not the code's. A county folder without the file gets `OFF` (no such calls),
so folders written before the feature keep working. A bad file is refused
whole, every problem with its line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from county.case_words import Urgency
from county.config_file import LineDict, Problems, check_keys, read_yaml
from county.config_section import MISSING, Section, section
from county.time_limits import parse_duration


class Contact(StrEnum):
    """Who at a member unit is called: the roster's columns (units.csv)."""

    STAFF = "staff"  # 专兼职工作人员
    OFFICE = "office"  # 承办科室
    LEADER = "leader"  # 分管领导
    DUTY = "duty"  # 值班电话


CONTACT_LABELS = {
    Contact.STAFF: "工作人员",
    Contact.OFFICE: "承办科室",
    Contact.LEADER: "分管领导",
    Contact.DUTY: "值班电话",
}


@dataclass(frozen=True)
class LadderStep:
    contact: Contact
    tries: int  # 1..5 tries of this contact (each of its phones in turn, cycling)


Via = Literal["line", "trunk"]
# The name a unit's PBX line is counted under in `Limits.max_calls_per_trunk`.
LINE_TRUNK = "line"


@dataclass(frozen=True)
class NoticeRules:
    """Linkage notices (联动快速办理通知): which dispatches call the unit, and how."""

    enabled: bool
    urgencies: frozenset[Urgency]  # a dispatch with one of these urgencies calls
    categories: frozenset[str]  # category codes (routing.yaml) that always call, any urgency
    ladder: tuple[LadderStep, ...]  # in order; at least one step; a contact at most once
    ring_s: int  # 10..120, each try rings this long
    retry_gap_s: int  # 0..3600, between one try's end and the next
    repeat: int  # 0..5, times the message is said again when no key is pressed
    # line: a unit with a PBX line (roster `line`) is called there, others
    # through `trunk`; trunk: always the roster's phones through `trunk`.
    via: Via
    trunk: str  # the PJSIP endpoint numbers are dialled through

    def applies(self, urgency: Urgency | str, category: str | None) -> bool:
        """Whether a dispatch of this urgency and category calls the unit."""
        if not self.enabled:
            return False
        return urgency in self.urgencies or (category is not None and category in self.categories)


@dataclass(frozen=True)
class FollowUpRules:
    """Follow-up calls (回访) to the citizen after closure."""

    enabled: bool
    after: timedelta  # delay after the case is closed (minutes or hours, never working days)
    hours: tuple[time, time]  # calling hours, county local time, start < end
    working_days_only: bool  # skip weekends and holidays per the case calendar
    tries: int  # 1..5
    retry_gap_s: int  # 60..86400
    ring_s: int  # 10..120
    trunk: str
    reopen_ratings: frozenset[int]  # ratings (1..5) that re-open the case (重办); may be empty
    comment_s: int  # 0..120, seconds of spoken comment recorded after the rating (0: none)

    def reopens(self, rating: int) -> bool:
        return rating in self.reopen_ratings


@dataclass(frozen=True)
class Limits:
    max_calls: int  # 1..50 simultaneous server-made calls (notices and follow-ups) overall
    max_calls_per_trunk: int  # 1..50, and per trunk (a unit's PBX line counts as trunk "line")


@dataclass(frozen=True)
class OutboundRules:
    notices: NoticeRules
    follow_up: FollowUpRules
    limits: Limits


# What a county folder without outbound.yaml gets: no server-made calls. The
# other values are what a section written as `{enabled: false}` takes.
OFF = OutboundRules(
    notices=NoticeRules(
        enabled=False,
        urgencies=frozenset({Urgency.URGENT}),
        categories=frozenset(),
        ladder=(
            LadderStep(Contact.STAFF, 1),
            LadderStep(Contact.OFFICE, 1),
            LadderStep(Contact.LEADER, 1),
        ),
        ring_s=20,
        retry_gap_s=5,
        repeat=2,
        via="line",
        trunk="trunk-12345",
    ),
    follow_up=FollowUpRules(
        enabled=False,
        after=timedelta(hours=2),
        hours=(time(8, 30), time(20, 0)),
        working_days_only=False,
        tries=2,
        retry_gap_s=1800,
        ring_s=30,
        trunk="trunk-12345",
        reopen_ratings=frozenset({4, 5}),
        comment_s=20,
    ),
    limits=Limits(max_calls=3, max_calls_per_trunk=3),
)

_TRUNK = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CLOCK = r"([01]?[0-9]|2[0-3])[:：]([0-5][0-9])"
_HOURS = re.compile(rf"{_CLOCK}\s*(?:-|–|—|~|～|至)\s*{_CLOCK}")
# The keys a section of outbound.yaml may have are its rules' fields, in order.
_NOTICE_KEYS = tuple(field.name for field in fields(NoticeRules))
_FOLLOW_UP_KEYS = tuple(field.name for field in fields(FollowUpRules))
_LIMIT_KEYS = tuple(field.name for field in fields(Limits))


def parse_hours(text: str) -> tuple[time, time]:
    """`08:30-20:00` → (08:30, 20:00); the start must come before the end."""
    match = _HOURS.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a span of hours (write e.g. 08:30-20:00)")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    start, end = time(h1, m1), time(h2, m2)
    if start >= end:
        raise ValueError(
            f"{text!r}: the calling hours start after they end "
            "(both within one day, the earlier first, e.g. 08:30-20:00)"
        )
    return start, end


def load_outbound(path: Path | str, *, categories: Iterable[str] = ()) -> OutboundRules:
    """The file's rules, or a ConfigFileError listing every problem with its line;
    an unknown category code (when `categories` is given) is a problem."""
    problems = Problems(path)
    data = read_yaml(path)
    if not isinstance(data, LineDict):
        what = "expected a mapping: notices, follow_up, limits (see case-config/outbound.yaml)"
        problems.add(getattr(data, "line", None), what)
        problems.raise_if_any()
    check_keys(data, ("notices", "follow_up", "limits"), problems)
    block = section(data, "notices", _NOTICE_KEYS, OFF.notices, problems, switched=True)
    notices = _notices(block, frozenset(categories))
    block = section(data, "follow_up", _FOLLOW_UP_KEYS, OFF.follow_up, problems, switched=True)
    follow_up = _follow_up(block)
    # Limits may be left out while nothing calls.
    needed = notices.enabled or follow_up.enabled
    block = section(
        data, "limits", _LIMIT_KEYS, OFF.limits, problems, switched=False, needed=needed
    )
    limits = Limits(
        block.number("max_calls", 1, 50, " calls"),
        block.number("max_calls_per_trunk", 1, 50, " calls"),
    )
    problems.raise_if_any()
    return OutboundRules(notices, follow_up, limits)


def _trunk(block: Section) -> str:
    expect = "the PJSIP endpoint numbers are dialled through, e.g. trunk-12345"
    value = block.raw("trunk", expect)
    if value is MISSING:
        return str(block.default("trunk"))
    if not isinstance(value, str) or not _TRUNK.fullmatch(value):
        block.bad("trunk", f"{expect} (letters, digits, _ . -), not {value!r}")
    elif value == LINE_TRUNK:
        block.bad("trunk", "'line' stands for the units' PBX lines; name the PJSIP endpoint")
    else:
        return value
    return str(block.default("trunk"))


def _notices(block: Section, known: frozenset[str]) -> NoticeRules:
    data = block.data
    if block.required and data.get("urgencies") == [] and data.get("categories") == []:
        block.problems.add(
            block.line,
            "notices: enabled, but no urgency and no category is listed, so no dispatch "
            "would call (list some, or write enabled: false)",
        )
    return NoticeRules(
        enabled=block.required,
        urgencies=_urgencies(block),
        categories=_categories(block, known),
        ladder=_ladder(block),
        ring_s=block.number("ring_s", 10, 120),
        retry_gap_s=block.number("retry_gap_s", 0, 3600),
        repeat=block.number("repeat", 0, 5, " times"),
        via=_via(block),
        trunk=_trunk(block),
    )


def _urgencies(block: Section) -> frozenset[Urgency]:
    names = ", ".join(u.value for u in Urgency)
    items = block.items("urgencies", f"urgencies among {names}; [] for none")
    if items is None:
        return OFF.notices.urgencies
    found: set[Urgency] = set()
    for value, line in items:
        if not isinstance(value, str) or value not in {u.value for u in Urgency}:
            block.bad("urgencies", f"unknown urgency {value!r} (expected {names})", line)
        else:
            block.once("urgencies", value, line, found)
    return frozenset(Urgency(u) for u in found)


def _categories(block: Section, known: frozenset[str]) -> frozenset[str]:
    items = block.items("categories", "category codes from routing.yaml; [] for none")
    if items is None:
        return OFF.notices.categories
    found: set[str] = set()
    for value, line in items:
        if not isinstance(value, str) or not _CODE.fullmatch(value):
            block.bad("categories", f"{value!r} is not a category code", line)
        elif known and value not in known:
            close = difflib.get_close_matches(value, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            message = f"unknown category {value!r} (not a category code in routing.yaml{hint})"
            block.bad("categories", message, line)
        else:
            block.once("categories", value, line, found)
    return frozenset(found)


def _ladder(block: Section) -> tuple[LadderStep, ...]:
    contacts = ", ".join(f"{c.value} ({CONTACT_LABELS[c]})" for c in Contact)
    items = block.items("ladder", "steps such as {contact: staff, tries: 1}")
    if items is None:
        return OFF.notices.ladder
    if not items:
        block.bad("ladder", "at least one step, e.g. - {contact: staff, tries: 1}")
    steps: list[LadderStep] = []
    seen: set[str] = set()
    for item, line in items:
        if not isinstance(item, LineDict):
            block.bad("ladder", f"each step is {{contact: …, tries: …}}, not {item!r}", line)
            continue
        check_keys(item, ("contact", "tries"), block.problems)
        contact: Any = item.get("contact")
        tries: Any = item.get("tries")
        good = True
        if not isinstance(contact, str) or contact not in {c.value for c in Contact}:
            what = "contact missing" if contact is None else f"{contact!r} is not a contact"
            block.bad("ladder", f"{what} (expected {contacts})", item.line_of("contact"))
            good = False
        elif contact in seen:
            message = f"{contact} is on the ladder twice (once each; give it more tries instead)"
            block.bad("ladder", message, item.line_of("contact"))
            good = False
        else:
            seen.add(contact)
        if type(tries) is not int or not 1 <= tries <= 5:
            what = "tries missing" if tries is None else f"tries {tries!r}"
            block.bad("ladder", f"{what}: a whole number 1 to 5", item.line_of("tries"))
            good = False
        if good:
            steps.append(LadderStep(Contact(contact), tries))
    return tuple(steps) or OFF.notices.ladder


def _via(block: Section) -> Via:
    value = block.raw("via", "line or trunk")
    if value is MISSING:
        return OFF.notices.via
    if value not in ("line", "trunk"):
        block.bad("via", f"line (a unit's PBX line where it has one) or trunk, not {value!r}")
        return OFF.notices.via
    return "line" if value == "line" else "trunk"


def _follow_up(block: Section) -> FollowUpRules:
    return FollowUpRules(
        enabled=block.required,
        after=_after(block),
        hours=_hours(block),
        working_days_only=block.flag("working_days_only"),
        tries=block.number("tries", 1, 5, " tries"),
        retry_gap_s=block.number("retry_gap_s", 60, 86400),
        ring_s=block.number("ring_s", 10, 120),
        trunk=_trunk(block),
        reopen_ratings=_ratings(block),
        comment_s=block.number("comment_s", 0, 120),
    )


def _after(block: Section) -> timedelta:
    value = block.raw("after", "minutes such as 30m or hours such as 2h")
    if value is MISSING:
        return OFF.follow_up.after
    if value in ("0m", "0h"):
        return timedelta(0)  # at once (within the calling hours)
    try:
        duration = parse_duration(value)
    except ValueError:
        block.bad(
            "after", f"{value!r} is not a duration (write minutes such as 30m or hours such as 2h)"
        )
        return OFF.follow_up.after
    if duration.in_working_days:
        block.bad(
            "after",
            f"{duration} is in working days; write minutes (30m) or hours (2h) "
            "(working_days_only decides which days are called on)",
        )
        return OFF.follow_up.after
    return duration.clock()


def _hours(block: Section) -> tuple[time, time]:
    value = block.raw("hours", 'calling hours such as "08:30-20:00"')
    if value is MISSING:
        return OFF.follow_up.hours
    if not isinstance(value, str):
        block.bad("hours", f'{value!r} is not a span of hours (write e.g. "08:30-20:00")')
        return OFF.follow_up.hours
    try:
        return parse_hours(value)
    except ValueError as exc:
        block.bad("hours", str(exc))
        return OFF.follow_up.hours


def _ratings(block: Section) -> frozenset[int]:
    expect = "ratings 1 (very satisfied) to 5 (very dissatisfied); [] for none"
    items = block.items("reopen_ratings", expect)
    if items is None:
        return OFF.follow_up.reopen_ratings
    found: set[int] = set()
    for value, line in items:
        if type(value) is not int or not 1 <= value <= 5:
            block.bad("reopen_ratings", f"{value!r} is not a rating ({expect})", line)
        else:
            block.once("reopen_ratings", value, line, found)
    return frozenset(found)
