"""The declarative base every feature's tables share: one MetaData with
deterministic constraint names, the one way an enum is stored, and the id type.

The schema is created and changed only by the Alembic revisions in
`database/migrations/`; a test checks that they match the tables.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Enum, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so migrations can address them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def str_enum(enum: type[StrEnum], name: str, length: int = 16) -> Enum:
    # VARCHAR + CHECK rather than a native PostgreSQL ENUM: adding a value later
    # is then the same small migration on both databases. Values, not member
    # names, are stored ("110", not "T110").
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# Autoincrement needs INTEGER PRIMARY KEY on SQLite; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
