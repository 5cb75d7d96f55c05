"""The roster's history in the records: each start (or reload) of the server
writes what changed since the roster it last saw, so "who was the unit's
leader in charge, office and contact on 3 March" stays answerable after the
file has moved on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from county.case_words import UnitType
from county.roster import Roster, Unit
from records.storage.tables import UnitRecord

_PHONES = ("leader_phone", "office_phone", "staff_phone", "duty_phone")
_TEXT = ("name", "township", "leader", "office", "staff", "line")


def _row_values(unit: Unit) -> dict[str, object]:
    values: dict[str, object] = {name: getattr(unit, name) for name in _TEXT}
    values |= {name: "、".join(getattr(unit, name)) or None for name in _PHONES}
    values["type"] = UnitType(unit.type)
    return values


def _same(row: UnitRecord, values: dict[str, object]) -> bool:
    return all(getattr(row, name) == value for name, value in values.items())


async def record_roster(session: AsyncSession, roster: Roster, at: datetime) -> int:
    """Close the rows of units that changed or left, open rows for new and
    changed ones; the number of units whose record changed."""
    current = {
        row.code: row
        for row in (
            await session.scalars(select(UnitRecord).where(UnitRecord.valid_to.is_(None)))
        ).all()
    }
    changed = 0
    for code, row in current.items():
        unit = roster.get(code)
        if unit is None or not _same(row, _row_values(unit)):
            row.valid_to = at
            changed += unit is None
    for code, unit in roster.units.items():
        existing = current.get(code)
        if existing is None or existing.valid_to is not None:  # new, or closed just above
            session.add(UnitRecord(code=code, valid_from=at, **_row_values(unit)))
            changed += 1
    return changed


async def roster_at(session: AsyncSession, at: datetime) -> list[UnitRecord]:
    """The units as the roster described them at `at`."""
    query = (
        select(UnitRecord)
        .where(
            UnitRecord.valid_from <= at,
            or_(UnitRecord.valid_to.is_(None), UnitRecord.valid_to > at),
        )
        .order_by(UnitRecord.code)
    )
    return list((await session.scalars(query)).all())
