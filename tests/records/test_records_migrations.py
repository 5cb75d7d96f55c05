"""The Alembic revisions build exactly the schema the models describe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Enum, Table, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateTable

from common.vocabulary import Role
from county.case_rules import load_rules
from database.engine import create_engine, session_factory
from database.migrate import alembic_config, downgrade, upgrade
from records.core.case_file import Actor
from records.service.cases import CaseService
from startup.schema import metadata
from startup.settings import DEFAULT_CASE_CONFIG


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def _unchecked(connection: Connection) -> list[str]:
    """What autogenerate does not compare: CHECK constraints and partial indexes."""
    problems: list[str] = []
    inspector = inspect(connection)
    for table in metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=connection.dialect))
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        if set(checks) != set(re.findall(r"CONSTRAINT (\w+) CHECK", ddl)):
            problems.append(f"{table.name}: CHECK constraints {sorted(checks)}")
        problems += _enum_values_missing(table, checks)
        reflected = {ix["name"]: ix for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            where = index.dialect_options[connection.dialect.name].get("where")
            has_where = (
                f"{connection.dialect.name}_where" in reflected[index.name]["dialect_options"]
            )
            if (where is not None) != has_where:
                problems.append(f"{index.name}: partial index predicate differs")
    return problems


def _enum_values_missing(table: Table, checks: dict[str, str]) -> list[str]:
    # A value added to LegRole/Trunk/... without a migration would make the
    # database refuse every batch containing it.
    problems = []
    for column in table.columns:
        if isinstance(column.type, Enum):
            # The enum's own CHECK (ck_<table>_<enum name>), not another one
            # naming the column (users.role is also in unit_for_unit_role).
            own = checks.get(f"ck_{table.name}_{column.type.name}")
            check = own or next((sql for sql in checks.values() if column.name in sql), "")
            missing = [v for v in column.type.enums if f"'{v}'" not in check]
            if missing:
                problems.append(f"{table.name}.{column.name}: values {missing} not allowed")
    return problems


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
        assert await connection.run_sync(_unchecked) == []


async def test_downgrade_to_base_and_back(db_url: str, engine: AsyncEngine) -> None:
    await upgrade(db_url)  # already at head: nothing to do, no error
    await downgrade(db_url, "base")
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await upgrade(db_url)
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
        version = (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert version == head


async def test_a_database_with_cases_goes_down_and_up_across_the_follow_ups(
    tmp_path: Path,
) -> None:
    """A county's database is not empty: 0013 adds a column to `cases`, which
    the case events point at (a batch copy of the table failed there)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'county.db'}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        cases = CaseService(session_factory(engine), load_rules(DEFAULT_CASE_CONFIG))
        view = await cases.open_case(
            Actor("12345 话务员", Role.OPERATOR_12345),
            {"description": "咨询", "no_follow_up": True},
        )
        await downgrade(url, "0012")
        await upgrade(url)
        kept = await cases.view(view.record.number)
    finally:
        await engine.dispose()
    assert [e.seq for e in kept.events] == [0]
    assert kept.record.no_follow_up is False  # the column came back with its default
