"""The desks' queue rules file: what a county writes, and every mistake on its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from county.config_file import ConfigFileError
from ivr_flows.core.desk_rules import COUNTY_TARGETS, Targets, load_desk_rules
from startup.settings import DEFAULT_IVR_DIR

GOOD = """\
desks:
  "110":
    phones: [op110-1, op110-2]
    wrap_up_s: 0
    overflow: {after_s: 30, to: PJSIP/backup-110}
  "12345":
    phones: [op12345-1]
    wrap_up_s: 10
    callback: {after_s: 60, attempts: 3, retry_gap_s: 120, ring_s: 30, trunk: trunk-12345}
pause_reasons:
  1: 小休
  2: 培训
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "desks.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_rules_load() -> None:
    rules = load_desk_rules(DEFAULT_IVR_DIR / "desks.yaml")
    assert set(rules.desks) == {"110", "12345"}
    assert rules.desk_of("op110-1") == "110" and rules.desk_of("unit-01") is None
    assert "话后整理" in rules.pause_reasons.values()
    assert rules.targets == Targets(answer_within_s=15, connection_rate=0.95, service_level=0.95)


def test_a_good_file(tmp_path: Path) -> None:
    rules = load_desk_rules(write(tmp_path, GOOD))
    assert rules.desks["110"].overflow is not None
    assert rules.desks["110"].overflow.to == "PJSIP/backup-110"
    assert rules.desks["12345"].overflow is None and rules.desks["12345"].wrap_up_s == 10
    callback = rules.desks["12345"].callback
    assert callback is not None and (callback.after_s, callback.attempts) == (60, 3)
    assert callback.trunk == "trunk-12345" and rules.desks["110"].callback is None
    assert rules.pause_reasons == {"1": "小休", "2": "培训"}
    assert rules.targets == COUNTY_TARGETS  # none written: the county's 15 s, 95 %


def test_the_targets_a_county_sets(tmp_path: Path) -> None:
    text = GOOD + "targets:\n  answer_within_s: 20\n  service_level: 80\n"
    rules = load_desk_rules(write(tmp_path, text))
    assert rules.targets == Targets(answer_within_s=20, connection_rate=0.95, service_level=0.8)


@pytest.mark.parametrize(
    ("targets", "words"),
    [
        ("  answer_within_s: 0", "targets.answer_within_s: 1 to 600"),
        ("  connection_rate: 0.95", "targets.connection_rate: a percentage 1 to 100"),
        ("  service_level: 120", "targets.service_level: a percentage"),
        ("  service_level: yes", "targets.service_level: a percentage"),
        ("  servicelevel: 95", "unknown key 'servicelevel'"),
    ],
)
def test_each_target_mistake_is_named_on_its_line(tmp_path: Path, targets: str, words: str) -> None:
    path = write(tmp_path, GOOD + "targets:\n" + targets + "\n")
    with pytest.raises(ConfigFileError) as caught:
        load_desk_rules(path)
    line = len(GOOD.splitlines()) + 2  # the line after "targets:"
    assert f"desks.yaml:{line}: {words}" in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ('  "12345":', '  "119":', 6, "unknown desk '119'"),
        ("    wrap_up_s: 10", "    wrap_up_s: -1", 8, "wrap_up_s: 0 to 600"),
        ("    wrap_up_s: 10", "    wrapup_s: 10", 8, "unknown key 'wrapup_s'"),
        ("[op12345-1]", "[op110-2]", 7, "already a phone of desk 110"),
        ("after_s: 30", "after_s: 1", 5, "overflow.after_s"),
        ("to: PJSIP/backup-110", "to: backup", 5, "overflow.to"),
        ("  2: 培训", "  0: 培训", 12, "one digit 1-9"),
        ("  2: 培训", "  2: 培训,小休", 12, "without , ; |"),
        ("after_s: 60", "after_s: 5", 9, "callback.after_s: 10 to 3600"),
        ("attempts: 3", "attempts: 9", 9, "callback.attempts: 1 to 5"),
        ("trunk: trunk-12345", "trunk: PJSIP/x y", 9, "callback.trunk"),
        ("ring_s: 30", "ring: 30", 9, "unknown key 'ring'"),
    ],
)
def test_each_mistake_is_named_on_its_line(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in GOOD
    with pytest.raises(ConfigFileError) as caught:
        load_desk_rules(write(tmp_path, GOOD.replace(old, new)))
    assert f"desks.yaml:{line}: " in str(caught.value) and words in str(caught.value)


def test_a_desk_without_rules_is_refused(tmp_path: Path) -> None:
    text = GOOD[: GOOD.index('  "12345":')] + GOOD[GOOD.index("pause_reasons:") :]
    with pytest.raises(ConfigFileError, match="desk 12345 has no rules"):
        load_desk_rules(write(tmp_path, text))


def test_asterisk_config_agrees_with_the_shipped_rules() -> None:
    """What the dialplan and queues.conf hold of the rules is what desks.yaml says."""
    rules = load_desk_rules(DEFAULT_IVR_DIR / "desks.yaml")
    config = DEFAULT_IVR_DIR.parent / "asterisk-config"
    globals_ = dict(
        line.split(" = ", 1)
        for line in (config / "extensions.conf").read_text().splitlines()
        if line.startswith("DESK_") and " = " in line
    )
    reasons = {k[len("DESK_PAUSE_REASON_") :]: v for k, v in globals_.items() if "PAUSE" in k}
    assert reasons == rules.pause_reasons
    queues = (config / "queues.conf").read_text()
    # app_queue's own service level (its QueueSummary figures) counts the same seconds.
    assert f"servicelevel = {rules.targets.answer_within_s}\n" in queues
    for desk, rule in rules.desks.items():
        assert f"[desk-{desk}](desk)" in queues
        if rule.overflow is None:
            assert f"DESK_{desk}_OVERFLOW_TO" not in globals_
        else:
            assert globals_[f"DESK_{desk}_OVERFLOW_TO"] == rule.overflow.to
            assert int(globals_[f"DESK_{desk}_OVERFLOW_S"]) == rule.overflow.after_s
        # The dialplan offers the callback after the time the server expects.
        offer = globals_.get(f"DESK_{desk}_CALLBACK_AFTER_S")
        assert offer == (None if rule.callback is None else str(rule.callback.after_s))
