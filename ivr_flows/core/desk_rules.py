"""The desks' queue rules (`ivr_flows/desks.yaml`): each desk's phones,
wrap-up time and overflow, the reasons an operator pauses for, and the
county's service targets the supervision figures are held to. A bad file is
refused whole with every problem's line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from common.vocabulary import Desk
from county.config_file import LineDict, LineList, Problems, check_keys, read_yaml

_PHONE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MAX_WRAP_UP_S = 600


@dataclass(frozen=True)
class Overflow:
    after_s: int
    to: str  # an Asterisk dial string


@dataclass(frozen=True)
class Callback:
    """A caller who has waited `after_s` may hang up and be called back: an
    operator is connected first, then the caller's number is dialled through
    `trunk` for `ring_s`, up to `attempts` times `retry_gap_s` apart."""

    after_s: int
    attempts: int
    retry_gap_s: int
    ring_s: int
    trunk: str  # the PJSIP endpoint the citizen is dialled through


@dataclass(frozen=True)
class DeskRule:
    desk: str
    phones: tuple[str, ...]
    wrap_up_s: int
    overflow: Overflow | None
    callback: Callback | None = None


@dataclass(frozen=True)
class Targets:
    """The county's targets for its desks: a caller is answered "in time"
    within `answer_within_s` seconds; of the callers offered to a desk,
    `connection_rate` are to be answered at all and `service_level` in time
    (both 0…1)."""

    answer_within_s: int = 15
    connection_rate: float = 0.95
    service_level: float = 0.95


# The county's targets (15 s, ≥ 95 %) when desks.yaml names none.
COUNTY_TARGETS = Targets()
_TARGET_KEYS = ("answer_within_s", "connection_rate", "service_level")


@dataclass(frozen=True)
class DeskRules:
    desks: dict[str, DeskRule]
    pause_reasons: dict[str, str]  # the key after *73 → the reason
    targets: Targets = COUNTY_TARGETS

    def desk_of(self, phone: str) -> str | None:
        for rule in self.desks.values():
            if phone in rule.phones:
                return rule.desk
        return None


def load_desk_rules(path: Path | str) -> DeskRules:
    problems = Problems(path)
    data = read_yaml(path)
    if not isinstance(data, LineDict):
        problems.add(None, "expected a mapping with `desks` and `pause_reasons`")
        problems.raise_if_any()
    check_keys(data, ("desks", "pause_reasons", "targets"), problems)
    desks = _desks(data.get("desks"), data.line_of("desks"), problems)
    reasons = _reasons(data.get("pause_reasons"), data.line_of("pause_reasons"), problems)
    targets = _targets(data.get("targets"), data.line_of("targets"), problems)
    problems.raise_if_any()
    return DeskRules(desks, reasons, targets)


def _desks(raw: object, line: int, problems: Problems) -> dict[str, DeskRule]:
    if not isinstance(raw, LineDict):
        problems.add(line, "`desks` must map each desk (110, 12345) to its rules")
        return {}
    known = {d.value for d in Desk}
    seen_phones: dict[str, str] = {}
    out: dict[str, DeskRule] = {}
    for desk, rule in raw.items():
        at = raw.line_of(desk)
        if desk not in known:
            problems.add(at, f"unknown desk {desk!r} (expected {', '.join(sorted(known))})")
            continue
        if not isinstance(rule, LineDict):
            problems.add(at, f"desk {desk}: expected its rules (phones, wrap_up_s, …)")
            continue
        check_keys(rule, ("phones", "wrap_up_s", "overflow", "callback"), problems)
        phones = _phones(rule, desk, seen_phones, problems)
        wrap = rule.get("wrap_up_s", 0)
        if type(wrap) is not int or not 0 <= wrap <= MAX_WRAP_UP_S:
            problems.add(rule.line_of("wrap_up_s"), f"wrap_up_s: 0 to {MAX_WRAP_UP_S} seconds")
            wrap = 0
        out[desk] = DeskRule(
            desk, phones, wrap, _overflow(rule, problems), _callback(rule, problems)
        )
    for desk in sorted(known - set(out)):
        problems.add(line, f"desk {desk} has no rules")
    return out


def _phones(rule: LineDict, desk: str, seen: dict[str, str], problems: Problems) -> tuple[str, ...]:
    phones = rule.get("phones")
    if not isinstance(phones, LineList) or not phones:
        problems.add(rule.line_of("phones"), f"desk {desk}: `phones` lists its operators' phones")
        return ()
    out: list[str] = []
    for i, phone in enumerate(phones):
        at = phones.line_of(i)
        if not isinstance(phone, str) or not _PHONE.match(phone):
            problems.add(at, f"not a phone (PJSIP endpoint) name: {phone!r}")
        elif phone in seen:
            problems.add(at, f"phone {phone} is already a phone of desk {seen[phone]}")
        else:
            seen[phone] = desk
            out.append(phone)
    return tuple(out)


def _overflow(rule: LineDict, problems: Problems) -> Overflow | None:
    raw = rule.get("overflow")
    if raw is None:
        return None
    if not isinstance(raw, LineDict):
        problems.add(rule.line_of("overflow"), "overflow: expected `after_s` and `to`")
        return None
    check_keys(raw, ("after_s", "to"), problems)
    after, to = raw.get("after_s"), raw.get("to")
    if type(after) is not int or not 5 <= after <= 600:
        problems.add(raw.line_of("after_s"), "overflow.after_s: 5 to 600 seconds")
        after = None
    if not isinstance(to, str) or "/" not in to or any(c in to for c in ",;()&"):
        problems.add(raw.line_of("to"), "overflow.to: a dial string such as PJSIP/backup-110")
        to = None
    return Overflow(after, to) if after is not None and to is not None else None


# Each callback setting: (lowest, highest) allowed.
_CALLBACK_RANGES = {
    "after_s": (10, 3600),
    "attempts": (1, 5),
    "retry_gap_s": (10, 3600),
    "ring_s": (10, 120),
}


def _callback(rule: LineDict, problems: Problems) -> Callback | None:
    raw = rule.get("callback")
    if raw is None:
        return None
    if not isinstance(raw, LineDict):
        problems.add(rule.line_of("callback"), f"callback: expected {', '.join(_CALLBACK_RANGES)}")
        return None
    check_keys(raw, (*_CALLBACK_RANGES, "trunk"), problems)
    values: dict[str, int] = {}
    for name, (low, high) in _CALLBACK_RANGES.items():
        value = raw.get(name)
        if type(value) is not int or not low <= value <= high:
            problems.add(raw.line_of(name), f"callback.{name}: {low} to {high}")
        else:
            values[name] = value
    trunk = raw.get("trunk")
    if not isinstance(trunk, str) or not _PHONE.match(trunk):
        problems.add(raw.line_of("trunk"), "callback.trunk: a PJSIP endpoint name")
        return None
    if len(values) != len(_CALLBACK_RANGES):
        return None
    return Callback(trunk=trunk, **values)


def _reasons(raw: object, line: int, problems: Problems) -> dict[str, str]:
    if not isinstance(raw, LineDict) or not raw:
        problems.add(line, "`pause_reasons` maps a key 1-9 to a reason")
        return {}
    out: dict[str, str] = {}
    for key, reason in raw.items():
        at = raw.line_of(key)
        if key not in tuple("123456789"):
            problems.add(at, f"pause reason key {key!r}: one digit 1-9")
        elif not isinstance(reason, str) or not reason.strip() or any(c in reason for c in ",;|"):
            problems.add(at, f"pause reason {key}: a short text without , ; |")
        else:
            out[key] = reason.strip()
    return out


def _targets(raw: object, line: int, problems: Problems) -> Targets:
    if raw is None:
        return COUNTY_TARGETS
    if not isinstance(raw, LineDict):
        problems.add(line, f"targets: expected {', '.join(_TARGET_KEYS)}")
        return COUNTY_TARGETS
    check_keys(raw, _TARGET_KEYS, problems)
    within = raw.get("answer_within_s", COUNTY_TARGETS.answer_within_s)
    if type(within) is not int or not 1 <= within <= 600:
        problems.add(raw.line_of("answer_within_s"), "targets.answer_within_s: 1 to 600 seconds")
        within = COUNTY_TARGETS.answer_within_s
    rates = {}
    for key in ("connection_rate", "service_level"):
        value = raw.get(key, getattr(COUNTY_TARGETS, key) * 100)
        # 0.95 is refused, not read as 0.95 %: a county writing a fraction meant 95.
        if type(value) not in (int, float) or not 1 <= value <= 100:
            problems.add(raw.line_of(key), f"targets.{key}: a percentage 1 to 100 (95 for 95 %)")
            value = getattr(COUNTY_TARGETS, key) * 100
        rates[key] = round(value / 100, 4)
    return Targets(within, rates["connection_rate"], rates["service_level"])
