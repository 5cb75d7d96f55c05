"""A table's row to and from a feature's frozen dataclass, field by field:
the dataclass's fields are the row's columns, save the few named in
`renames` (a table's `id` is `notice_id` in the dataclass) and those in
`skip` (what lives only while the server runs; a row read back leaves
them at their defaults).

Why not a mapping written out per table: a field added to the dataclass
and its column, but forgotten in one direction of a hand-written mapping,
saves without a word and comes back as its default after a restart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

Row = TypeVar("Row")
Item = TypeVar("Item")


def row_of(
    table: type[Row],
    item: Any,
    renames: Mapping[str, str] | None = None,
    skip: Collection[str] = (),
) -> Row:
    """`item` (a dataclass) as a new row of `table`; `renames`: field → column."""
    renames = renames or {}
    fields = [f for f in dataclasses.fields(item) if f.name not in skip]
    return table(**{renames.get(f.name, f.name): getattr(item, f.name) for f in fields})


def item_of(
    kind: type[Item],
    row: Any,
    renames: Mapping[str, str] | None = None,
    skip: Collection[str] = (),
) -> Item:
    """`row` as the dataclass `kind`; `renames` and `skip` as for `row_of`."""
    renames = renames or {}
    fields = [f for f in dataclasses.fields(kind) if f.name not in skip]  # type: ignore[arg-type]
    return kind(**{f.name: getattr(row, renames.get(f.name, f.name)) for f in fields})
