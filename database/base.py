"""The declarative base every feature's tables share: one MetaData with
deterministic constraint names, the one way an enum is stored, and the id type.

The schema is created and changed only by the Alembic revisions in
`database/migrations/`; a test checks that they match the tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import cast

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


def str_enum(
    enum: type[StrEnum], name: str, length: int = 16, *, only: Sequence[StrEnum] | None = None
) -> Enum:
    """A column holding `enum`'s values; `only`: the members it accepts, in
    that order (default: all of them). The CHECK constraint lists the same."""
    # VARCHAR + CHECK rather than a native PostgreSQL ENUM: adding a value later
    # is then the same small migration on both databases. Values, not member
    # names, are stored ("110", not "D110").
    if only is not None:
        enum = cast("type[StrEnum]", _Members(enum, only))
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class _Members:
    """What SQLAlchemy's Enum reads of an enum class (`__name__`, `__members__`),
    narrowed to some of its members. The column still reads and writes the
    enum's own members, and refuses the others as it refuses unknown values.
    SQLAlchemy keeps this object as the type's enum class, so every copy of the
    type (one per database dialect) is narrowed the same way."""

    def __init__(self, enum: type[StrEnum], only: Sequence[StrEnum]) -> None:
        strangers = [m for m in only if not isinstance(m, enum)]
        if strangers or not only:
            raise ValueError(f"not members of {enum.__name__}: {strangers or 'none given'}")
        self.__name__ = enum.__name__
        self.__members__ = {m.name: m for m in only}

    def __iter__(self) -> Iterator[StrEnum]:
        return iter(self.__members__.values())


# Autoincrement needs INTEGER PRIMARY KEY on SQLite; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
