"""Multi-row INSERTs for the hot path: one statement for many rows, ids returned.

`Model.create` costs a round trip to the database per row, and on SQLite each round trip
is a hand-over to aiosqlite's thread and back through the event loop; a batch of ingests
(`core/group_commit.py`) would pay that for every lead, touch and event. `bulk_create`
is one statement but does not return the new ids, which leads and events need. These
helpers build one `INSERT ... VALUES (...), (...) [RETURNING id]` from the model's own
field definitions (columns, defaults, conversions), on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import Field
from tortoise.models import Model

# SQLite allows 32766 bound values per statement (3.32+), PostgreSQL 32767.
MAX_VALUES = 30_000


def _columns(model: type[Model]) -> list[tuple[str, str, Field[Any]]]:
    """(field name, column, field) for every column an INSERT must name."""
    # `Model._meta` is Tortoise's model metadata (its own query builder reads it); no other
    # API hands out the `Field` objects whose conversions the INSERT must apply.
    meta = model._meta
    return [
        (name, column, meta.fields_map[name])
        for name, column in meta.fields_db_projection.items()
        if name not in meta.generated_db_fields
    ]


def _value(field: Field[Any], row: Mapping[str, Any], name: str, model: type[Model]) -> Any:
    if name in row:
        value = row[name]
    else:  # what Model.create would have put there
        value = field.default() if callable(field.default) else field.default
    return field.to_db_value(value, model)


def _sql(
    connection: BaseDBAsyncClient,
    model: type[Model],
    columns: list[str],
    rows: int,
    returning: bool,
    ignore_conflicts: bool = False,
) -> str:
    width = len(columns)
    if connection.capabilities.dialect == "postgres":
        groups = (
            "(" + ",".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows)
        )
    else:
        one = "(" + ",".join("?" * width) + ")"
        groups = (one for _ in range(rows))
    names = ",".join(f'"{c}"' for c in columns)
    # Only names from the model's own metadata and placeholders: values are always bound.
    sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES {",".join(groups)}'  # noqa: S608
    if ignore_conflicts:  # a row whose unique key exists is skipped (SQLite and PostgreSQL)
        sql += " ON CONFLICT DO NOTHING"
    return sql + f' RETURNING "{model._meta.db_pk_column}"' if returning else sql


async def insert_rows(
    connection: BaseDBAsyncClient,
    model: type[Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    returning_ids: bool = True,
    ignore_conflicts: bool = False,
) -> list[int]:
    """Insert `rows` (field name → value) of `model`; return the new ids in row order.
    With `ignore_conflicts`, a row whose unique key is taken is skipped (no ids then).

    Missing fields take the model's defaults. Ids come back sorted: both SQLite (rowid
    is the table's highest plus one) and PostgreSQL (one sequence, read row by row)
    number the rows of one INSERT in ascending order as they are written, which is the
    order of the VALUES list, even though RETURNING itself promises no order.
    """
    if ignore_conflicts and returning_ids:
        raise ValueError("skipped rows have no ids: ignore_conflicts needs returning_ids=False")
    cols = _columns(model)
    step = max(1, MAX_VALUES // len(cols))
    ids: list[int] = []
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        values = [_value(f, row, name, model) for row in chunk for name, _, f in cols]
        columns = [c for _, c, _ in cols]
        sql = _sql(connection, model, columns, len(chunk), returning_ids, ignore_conflicts)
        if returning_ids:
            result = await connection.execute_query_dict(sql, values)
            ids += sorted(int(next(iter(r.values()))) for r in result)
        else:
            await connection.execute_query(sql, values)
    return ids
