"""One UPDATE of many rows, each with its own values, whose cost in Python does not grow with
the row count: on PostgreSQL the values travel as one array per column and the statement joins
them back into rows (``unnest``); elsewhere (SQLite) it is Tortoise's ``bulk_update``.

Why not ``bulk_update`` everywhere: it builds a ``CASE id WHEN ... THEN ...`` per column and
row with pypika, which cost 0.2-0.3 ms of a worker's CPU per notification sent, more than the
statement itself (bench/README.md)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model


def _column(model: type[Model], name: str) -> tuple[str, str]:
    """(column, PostgreSQL type) of ``name``, a field or a foreign key's ``<name>_id``."""
    meta = model._meta
    field = meta.fields_map[name]
    # Without its length: an explicit cast to varchar(n) cuts a longer value silently, while
    # the assignment to the column refuses it, as the row-by-row update did.
    return meta.fields_db_projection[name], re.sub(r"\(.*\)", "", field.get_for_dialect("postgres", "SQL_TYPE"))


async def update_rows(objects: Sequence[Model], fields: Sequence[str], connection: BaseDBAsyncClient) -> None:
    """Write ``fields`` of each of ``objects`` (one model) to its row, matched by primary key."""
    if not objects:
        return
    model = type(objects[0])
    if connection.capabilities.dialect != "postgres":
        await model.bulk_update(list(objects), fields=list(fields), using_db=connection)
        return
    meta = model._meta
    key = meta.pk_attr
    names = [key, *fields]
    columns = [_column(model, name) for name in names]
    arrays = [[meta.fields_map[name].to_db_value(getattr(o, name), o) for o in objects] for name in names]
    sources = ", ".join(f"${i}::{sql_type}[]" for i, (_, sql_type) in enumerate(columns, start=1))
    aliases = ", ".join(f'"{column}"' for column, _ in columns)
    assignments = ", ".join(f'"{column}" = v."{column}"' for column, _ in columns[1:])
    table, pk = meta.db_table, columns[0][0]
    await connection.execute_query(
        f'UPDATE "{table}" AS t SET {assignments} FROM unnest({sources}) AS v({aliases}) '  # noqa: S608 - names from the model
        f'WHERE t."{pk}" = v."{pk}"',
        arrays,
    )
