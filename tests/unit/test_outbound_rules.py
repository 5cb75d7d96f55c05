"""The county's rules for the calls the server makes itself (outbound.yaml):
the shipped file, every mistake on its line, and a folder without the file."""

from __future__ import annotations

import re
import shutil
from datetime import time, timedelta
from pathlib import Path

import pytest

from county.case_rules import CaseRules, load_rules
from county.case_words import Urgency
from county.config_file import ConfigFileError
from county.outbound import (
    OFF,
    Contact,
    LadderStep,
    Limits,
    load_outbound,
    parse_hours,
)
from startup.settings import DEFAULT_CASE_CONFIG

SHIPPED = DEFAULT_CASE_CONFIG / "outbound.yaml"
CATEGORIES = ("water-supply", "gas-supply", "power-supply")

GOOD = """\
notices:
  enabled: true
  urgencies: [urgent]
  categories: [gas-supply]
  ladder:
    - {contact: staff, tries: 1}
    - {contact: leader, tries: 2}
  ring_s: 20
  retry_gap_s: 5
  repeat: 2
  via: line
  trunk: trunk-12345
follow_up:
  enabled: true
  after: 30m
  hours: "09:00-18:00"
  working_days_only: true
  tries: 3
  retry_gap_s: 600
  ring_s: 25
  trunk: trunk-out
  reopen_ratings: [5]
  comment_s: 0
limits:
  max_calls: 4
  max_calls_per_trunk: 2
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "outbound.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigFileError) as caught:
        load_outbound(write(tmp_path, text), categories=CATEGORIES)
    return [(p.line, p.message) for p in caught.value.problems]


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_shipped_file_loads_with_the_testbeds_values() -> None:
    rules = load_rules(DEFAULT_CASE_CONFIG).outbound
    notices, follow_up = rules.notices, rules.follow_up
    assert notices.enabled and notices.urgencies == {Urgency.URGENT}
    assert notices.categories == {"gas-supply"}
    assert notices.ladder == (
        LadderStep(Contact.STAFF, 1),
        LadderStep(Contact.OFFICE, 1),
        LadderStep(Contact.LEADER, 1),
    )
    assert (notices.ring_s, notices.retry_gap_s, notices.repeat) == (20, 5, 2)
    assert (notices.via, notices.trunk) == ("line", "trunk-12345")
    assert follow_up.enabled and follow_up.after == timedelta(hours=2)
    assert follow_up.hours == (time(8, 30), time(20, 0))
    assert not follow_up.working_days_only
    assert (follow_up.tries, follow_up.retry_gap_s, follow_up.ring_s) == (2, 1800, 30)
    assert follow_up.trunk == "trunk-12345"
    assert follow_up.reopen_ratings == {4, 5} and follow_up.comment_s == 20
    assert rules.limits == Limits(max_calls=3, max_calls_per_trunk=3)
    assert load_outbound(SHIPPED) == rules  # without the catalogue too


def test_who_is_called_and_what_reopens() -> None:
    notices = load_rules(DEFAULT_CASE_CONFIG).outbound.notices
    assert notices.applies(Urgency.URGENT, "water-supply")
    assert notices.applies("normal", "gas-supply")  # a gas matter always calls
    assert not notices.applies(Urgency.NORMAL, "water-supply")
    assert not notices.applies(Urgency.NORMAL, None)
    assert not OFF.notices.applies(Urgency.URGENT, "gas-supply")
    assert OFF.follow_up.reopens(5) and not OFF.follow_up.reopens(3)


def test_a_good_file(tmp_path: Path) -> None:
    rules = load_outbound(write(tmp_path, GOOD), categories=CATEGORIES)
    assert rules.notices.ladder == (LadderStep(Contact.STAFF, 1), LadderStep(Contact.LEADER, 2))
    assert rules.follow_up.after == timedelta(minutes=30)
    assert rules.follow_up.hours == (time(9), time(18))
    assert rules.follow_up.working_days_only and rules.follow_up.trunk == "trunk-out"
    assert rules.follow_up.reopen_ratings == {5} and rules.follow_up.comment_s == 0
    assert rules.limits == Limits(4, 2)


def test_a_county_folder_without_the_file_makes_no_calls(tmp_path: Path) -> None:
    folder = tmp_path / "case-config"
    shutil.copytree(DEFAULT_CASE_CONFIG, folder)
    (folder / "outbound.yaml").unlink()
    rules = load_rules(folder)
    assert rules.outbound is OFF
    assert not rules.outbound.notices.enabled and not rules.outbound.follow_up.enabled


def test_rules_built_without_outbound_are_off() -> None:
    shipped = load_rules(DEFAULT_CASE_CONFIG)
    built = CaseRules(shipped.routing, shipped.roster, shipped.time_limits, shipped.calendar)
    assert built.outbound is OFF


def test_a_bad_file_in_the_folder_stops_the_rules(tmp_path: Path) -> None:
    folder = tmp_path / "case-config"
    shutil.copytree(DEFAULT_CASE_CONFIG, folder)
    text = SHIPPED.read_text(encoding="utf-8").replace("[gas-supply]", "[gas]")
    (folder / "outbound.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_rules(folder)
    assert caught.value.path.endswith("outbound.yaml")
    message = "notices.categories: unknown category 'gas' (not a category code in routing.yaml"
    assert [p.message.startswith(message) for p in caught.value.problems] == [True]


def test_many_problems_each_on_its_line(tmp_path: Path) -> None:
    text = """\
notices:
  enabled: true
  urgencies: [urgent, critical]
  categories: [gas-suply]
  ladder:
    - {contact: staff, tries: 1}
    - {contact: staff, tries: 6}
  ring_s: 5
  retry_gap_s: 5
  repeat: 2
  via: phone
  trunk: trunk-12345
  colour: red
follow_up:
  enabled: true
  after: 2wd
  hours: "20:00-08:30"
  working_days_only: false
  tries: 2
  retry_gap_s: 1800
  ring_s: 30
  trunk: trunk-12345
  reopen_ratings: [4, 6]
  comment_s: 20
limits:
  max_calls: 3
  max_calls_per_trunk: 3
"""
    found = problems(tmp_path, text)
    expected = [
        ("critical", "notices.urgencies: unknown urgency 'critical' (expected normal, urgent)"),
        (
            "gas-suply",
            "notices.categories: unknown category 'gas-suply' "
            "(not a category code in routing.yaml; did you mean gas-supply?)",
        ),
        (
            "tries: 6",
            "notices.ladder: staff is on the ladder twice (once each; give it more tries instead)",
        ),
        ("tries: 6", "notices.ladder: tries 6: a whole number 1 to 5"),
        ("ring_s: 5", "notices.ring_s: a whole number 10 to 120 seconds, not 5"),
        ("via: phone", "notices.via: line (a unit's PBX line where it has one) or trunk, not"),
        ("colour", "unknown key 'colour'"),
        ("after: 2wd", "follow_up.after: 2wd is in working days; write minutes (30m) or hours"),
        ("hours:", "follow_up.hours: '20:00-08:30': the calling hours start after they end"),
        ("reopen_ratings", "follow_up.reopen_ratings: 6 is not a rating (ratings 1 (very"),
    ]
    assert len(found) == len(expected), found
    for (line, message), (fragment, words) in zip(found, expected, strict=True):
        assert message.startswith(words), (message, words)
        assert line == line_of(text, fragment), message


@pytest.mark.parametrize(
    ("old", "new", "words", "on_line_with"),
    [
        (
            "  ladder:\n    - {contact: staff, tries: 1}\n    - {contact: leader, tries: 2}\n",
            "  ladder: []\n",
            "notices.ladder: at least one step",
            "ladder",
        ),
        (
            "{contact: leader, tries: 2}",
            "{contact: boss, tries: 2}",
            "notices.ladder: 'boss' is not a contact (expected staff (工作人员), office",
            "boss",
        ),
        (
            "{contact: leader, tries: 2}",
            "{contact: leader}",
            "notices.ladder: tries missing: a whole number 1 to 5",
            "leader}",
        ),
        (
            "{contact: leader, tries: 2}",
            "{contact: duty, tries: 0}",
            "notices.ladder: tries 0: a whole number 1 to 5",
            "duty",
        ),
        ("  ring_s: 25", "  ring_s: 121", "follow_up.ring_s: a whole number 10 to 120", "121"),
        (
            "  retry_gap_s: 600",
            "  retry_gap_s: 30",
            "follow_up.retry_gap_s: a whole number 60 to 86400 seconds, not 30",
            "gap_s: 30",
        ),
        (
            "  tries: 3",
            "  tries: 6",
            "follow_up.tries: a whole number 1 to 5 tries, not 6",
            "  tries: 6",
        ),
        (
            "  repeat: 2",
            "  repeat: two",
            "notices.repeat: a whole number 0 to 5 times, not 'two'",
            "two",
        ),
        (
            "  comment_s: 0",
            "  comment_s: 121",
            "follow_up.comment_s: a whole number 0 to 120",
            "121",
        ),
        (
            "  urgencies: [urgent]",
            "  urgencies: [[urgent]]",
            "notices.urgencies: unknown urgency ['urgent'] (expected normal, urgent)",
            "[[urgent]]",
        ),
        (
            "{contact: leader, tries: 2}",
            "{contact: [leader], tries: 2}",
            "notices.ladder: ['leader'] is not a contact",
            "[leader]",
        ),
        (
            "  after: 30m",
            "  after: soon",
            "follow_up.after: 'soon' is not a duration (write minutes such as 30m or hours",
            "soon",
        ),
        (
            '  hours: "09:00-18:00"',
            "  hours: 9-18",
            "follow_up.hours: '9-18' is not a span",
            "9-18",
        ),
        (
            "  trunk: trunk-out",
            "  trunk: line",
            "follow_up.trunk: 'line' stands for the units' PBX lines",
            "trunk: line",
        ),
        (
            "  trunk: trunk-12345",
            "  trunk: PJSIP/trunk",
            "notices.trunk: the PJSIP endpoint",
            "PJSIP",
        ),
        (
            "  enabled: true\n  after",
            "  enabled: yes please\n  after",
            "follow_up.enabled: true or false",
            "please",
        ),
        (
            "  working_days_only: true",
            "  working_days_only: 1",
            "follow_up.working_days_only: true or false",
            "only: 1",
        ),
        (
            "  reopen_ratings: [5]",
            "  reopen_ratings: [5, 5]",
            "follow_up.reopen_ratings: 5 is listed twice",
            "[5, 5]",
        ),
        (
            "  reopen_ratings: [5]",
            "  reopen_ratings: 5",
            "follow_up.reopen_ratings: a list",
            "ratings: 5",
        ),
        (
            "  max_calls: 4",
            "  max_calls: 0",
            "limits.max_calls: a whole number 1 to 50 calls, not 0",
            "max_calls: 0",
        ),
        (
            "  max_calls_per_trunk: 2",
            "  max_calls_per_trunk: 51",
            "limits.max_calls_per_trunk: a whole number 1 to 50",
            "51",
        ),
        (
            "  ring_s: 20\n",
            "",
            "notices.ring_s: missing (a whole number 10 to 120 seconds)",
            "notices:",
        ),
        (
            "limits:",
            "extras: 1\nlimits:",
            "unknown key 'extras' (expected notices, follow_up, limits)",
            "extras",
        ),
        (
            "  urgencies: [urgent]\n  categories: [gas-supply]\n",
            "  urgencies: []\n  categories: []\n",
            "notices: enabled, but no urgency and no category is listed, so no dispatch would call",
            "notices:",
        ),
    ],
)
def test_each_problem_is_named_on_its_line(
    tmp_path: Path, old: str, new: str, words: str, on_line_with: str
) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    line, message = found[0]
    assert message.startswith(words), message
    assert line == line_of(text, on_line_with)


def test_a_section_switched_off_needs_nothing_else(tmp_path: Path) -> None:
    rules = load_outbound(
        write(tmp_path, "notices: {enabled: false}\nfollow_up: {enabled: false}\n")
    )
    assert rules == OFF
    text = "notices:\n  enabled: false\n  ring_s: 30\nfollow_up: {enabled: false}\n"
    assert load_outbound(write(tmp_path, text)).notices.ring_s == 30  # what is written counts
    found = problems(tmp_path, "notices:\n  enabled: false\n  ring_s: 300\n")
    assert found == [
        (1, "follow_up: missing (write `follow_up: {enabled: false}` for none)"),
        (3, "notices.ring_s: a whole number 10 to 120 seconds, not 300"),  # checked while off
    ]


def test_sections_and_switches_that_are_missing(tmp_path: Path) -> None:
    found = problems(tmp_path, "notices:\n  urgencies: [urgent]\nfollow_up: {enabled: true}\n")
    messages = [message for _, message in found]
    assert "notices.enabled: missing (true or false)" in messages
    assert "follow_up.after: missing (minutes such as 30m or hours such as 2h)" in messages
    assert "limits: missing (max_calls, max_calls_per_trunk)" in messages  # something calls
    assert problems(tmp_path, "- notices\n") == [
        (1, "expected a mapping: notices, follow_up, limits (see case-config/outbound.yaml)")
    ]


def test_without_a_catalogue_any_code_shaped_category_is_taken(tmp_path: Path) -> None:
    text = GOOD.replace("[gas-supply]", "[boiler-room]")
    assert load_outbound(write(tmp_path, text)).notices.categories == {"boiler-room"}


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("08:30-20:00", (time(8, 30), time(20, 0))),
        ("8:30-20:00", (time(8, 30), time(20, 0))),
        (" 09:00 ~ 17:30 ", (time(9), time(17, 30))),
        ("08：30—20：00", (time(8, 30), time(20, 0))),  # typed with a Chinese input method
        ("08:00至12:00", (time(8), time(12))),
        ("00:00-23:59", (time(0), time(23, 59))),
    ],
)
def test_parse_hours(text: str, hours: tuple[time, time]) -> None:
    assert parse_hours(text) == hours


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("20:00-08:30", "the calling hours start after they end"),
        ("08:30-08:30", "the calling hours start after they end"),
        ("08:30", "is not a span of hours (write e.g. 08:30-20:00)"),
        ("08:30-24:00", "is not a span of hours"),
        ("8.30-20.00", "is not a span of hours"),
        ("", "is not a span of hours"),
    ],
)
def test_parse_hours_refuses(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        parse_hours(text)


def test_a_follow_up_may_go_out_at_once(tmp_path: Path) -> None:
    shipped = (DEFAULT_CASE_CONFIG / "outbound.yaml").read_text(encoding="utf-8")
    path = tmp_path / "outbound.yaml"
    path.write_text(shipped.replace("after: 2h", "after: 0m"), encoding="utf-8")
    assert load_outbound(path).follow_up.after == timedelta(0)
