"""Whom a linkage notice calls, in order: the county's ladder (outbound.yaml,
e.g. the staff contact, then the office, then the leader in charge), each
step tried `tries` times, cycling through that contact's phones.

Where the call goes: `via: line` calls a unit that has a phone line on the
PBX (units.csv `line`) on that line for every rung — the person named is the
one the rung asks for; other units, and `via: trunk`, have the roster's
numbers dialled through the county's outbound trunk. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from county.outbound import Contact, NoticeRules
from county.roster import Unit

LINE_TRUNK = "line"  # the "trunk" a unit's own PBX line counts under, for the limits
_NOT_DIALLED = re.compile(r"[^0-9+]")  # the dashes of 0375-00000102


@dataclass(frozen=True)
class Rung:
    contact: Contact
    name: str  # the person (or office) the roster names
    phone: str  # as the roster writes it, or unit-NN for the PBX line
    dial: str  # what Asterisk dials
    trunk: str  # the line it takes: the trunk's endpoint, or LINE_TRUNK


def _people(unit: Unit, contact: Contact) -> tuple[str, tuple[str, ...]]:
    if contact is Contact.STAFF:
        return unit.staff, unit.staff_phone
    if contact is Contact.OFFICE:
        return unit.office, unit.office_phone
    if contact is Contact.LEADER:
        return unit.leader, unit.leader_phone
    return f"{unit.name}值班室", unit.duty_phone


def plan(unit: Unit, rules: NoticeRules) -> list[Rung]:
    """Every try of a notice to `unit`, in order (empty if the unit has no
    phone at all for the ladder's contacts)."""
    rungs: list[Rung] = []
    for step in rules.ladder:
        name, phones = _people(unit, step.contact)
        if rules.via == "line" and unit.line:
            line = f"unit-{unit.line}"
            rungs += [Rung(step.contact, name, line, f"PJSIP/{line}", LINE_TRUNK)] * step.tries
            continue
        for n in range(step.tries if phones else 0):
            phone = phones[n % len(phones)]
            number = _NOT_DIALLED.sub("", phone)
            rungs.append(
                Rung(step.contact, name, phone, f"PJSIP/{number}@{rules.trunk}", rules.trunk)
            )
    return rungs
