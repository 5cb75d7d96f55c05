"""One batch of domain events → one round of bulk reads and bulk upserts.

Runs inside the caller's transaction. Reads every row the batch can touch,
replays the events on them in memory (telephony.storage.apply), then writes the changed
rows back with one executemany upsert per table. A handful of statements per
batch, whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ARRAY, Column, String, Table, any_, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from telephony.core.events import DomainEvent
from telephony.storage.apply import Batch, CallRow, LegRow, MembershipRow, apply_all, needs
from telephony.storage.tables import BridgeMembership, Call, Leg

_CALLS = cast(Table, Call.__table__)
_LEGS = cast(Table, Leg.__table__)
_STAYS = cast(Table, BridgeMembership.__table__)
_STAY_COLUMNS = [_STAYS.c.bridge_id, _STAYS.c.uniqueid, _STAYS.c.joined_at, _STAYS.c.left_at]

# SQLite allows 32,766 bound variables per statement; stay far below it.
_SQLITE_IN_CHUNK = 900


@dataclass(frozen=True, slots=True)
class BatchResult:
    applied: int
    skipped: tuple[DomainEvent, ...]


async def write_batch(session: AsyncSession, events: Sequence[DomainEvent]) -> BatchResult:
    """Apply `events` in order within the session's current transaction."""
    connection = await session.connection()
    need = needs(events)
    calls = await _load(connection, _CALLS.c.id, need.call_ids)
    calls += await _load(connection, _CALLS.c.merged_into, need.merged_call_ids)
    legs = await _load(connection, _LEGS.c.uniqueid, need.leg_ids)
    legs += await _load(connection, _LEGS.c.call_id, need.merged_call_ids)
    stays = await _load(connection, _STAYS.c.uniqueid, need.membership_leg_ids, _STAY_COLUMNS)

    batch = Batch(
        calls=cast(list[CallRow], calls),
        legs=cast(list[LegRow], legs),
        memberships=cast(list[MembershipRow], stays),
    )
    skipped = apply_all(batch, events)

    # Parents before children, so every foreign key finds its row.
    await _upsert(connection, _CALLS, ["id"], batch.changed_calls())
    await _upsert(connection, _LEGS, ["uniqueid"], batch.changed_legs())
    await _upsert(
        connection, _STAYS, ["bridge_id", "uniqueid", "joined_at"], batch.changed_memberships()
    )
    return BatchResult(applied=len(events) - len(skipped), skipped=tuple(skipped))


async def _load(
    connection: AsyncConnection,
    column: Column[str],
    values: Iterable[str],
    columns: Sequence[Column[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Rows whose `column` is one of `values` (all columns unless `columns`)."""
    wanted = sorted(values)
    if not wanted:
        return []
    query = select(*(columns if columns is not None else column.table.c))
    rows: list[dict[str, Any]] = []
    if connection.dialect.name == "postgresql":
        # One array parameter: one statement text whatever the count, so
        # asyncpg's prepared statement cache keeps hitting.
        result = await connection.execute(
            query.where(column == any_(literal(wanted, ARRAY(String))))
        )
        rows.extend(dict(row._mapping) for row in result)
        return rows
    for start in range(0, len(wanted), _SQLITE_IN_CHUNK):
        chunk = wanted[start : start + _SQLITE_IN_CHUNK]
        result = await connection.execute(query.where(column.in_(chunk)))
        rows.extend(dict(row._mapping) for row in result)
    return rows


async def _upsert(
    connection: AsyncConnection,
    table: Table,
    conflict_columns: list[str],
    rows: Sequence[CallRow] | Sequence[LegRow] | Sequence[MembershipRow],
) -> None:
    if not rows:
        return
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    # Rows hold the complete new state (computed from what was read), so a
    # conflict simply takes every column of the new row.
    update = {name: statement.excluded[name] for name in rows[0] if name not in conflict_columns}
    await connection.execute(
        statement.on_conflict_do_update(index_elements=conflict_columns, set_=update),
        [dict(row) for row in rows],
    )
