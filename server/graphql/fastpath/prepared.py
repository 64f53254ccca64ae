"""Reads by a list of keys (``WHERE <key> IN (...)``) as SQL built once, not per request.

The planned path reads related rows with statements of one shape: the caller's
``Scope.queryset(model)`` + ``<key>__in=[...]`` (+ an order), selecting the plan's columns.
Building that through Tortoise and pypika every time cost about a third of a planned request's
CPU. Here it is built once by Tortoise itself, with placeholder keys, and kept: the SQL text,
its parameters and Tortoise's value converters. A request then only substitutes its keys for the
placeholders and sends the statement through Tortoise's connection (so transactions, logging and
the statement counter of the tests see it as before), and converts the values as ``.values()``
does.

Why the answer cannot change: the cache key holds everything ``Scope.queryset`` builds the SQL
from (model, soft-deleted rows or not, the organization, the role's row scope with the user or
the team's members), so a cached statement is exactly the one Tortoise would build for this
caller; the permission itself (``Scope.require``) is checked on every call. The number of keys
is rounded up to a power of two (the last key repeated: ``IN`` ignores duplicates), so a few
statements per shape cover every page size.
"""

from __future__ import annotations

import types
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from tortoise.router import router

from server.auth.roles import RowScope
from server.auth.scope import Scope

CACHE_SIZE = 2048  # statements; one per (caller's organization and row scope, shape, size)


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple  # Tortoise's parameters, the placeholders at ``slots``
    slots: tuple[int, ...]
    as_text: tuple[bool, ...]  # per slot: Tortoise sent that key as text (SQLite's UUIDs)
    converters: tuple[tuple[str, Callable], ...]  # column -> to Python, as ValuesQuery does


_cache: LRUCache = LRUCache(maxsize=CACHE_SIZE)


def _bucket(n: int) -> int:
    size = 1
    while size < n:
        size *= 2
    return size


def _scope_key(scope: Scope, model: type) -> tuple:
    """What of the caller ``Scope.queryset`` puts into the SQL (see ``Scope._row_filter``)."""
    row_scope = scope.row_scope()
    if row_scope is RowScope.ALL or model.owner_path is None:
        who: Any = None
    elif row_scope is RowScope.OWN:
        who = scope.user_id
    else:
        who = tuple(scope.principal.team_member_ids)
    return scope.organization_id, row_scope, who


def _build(
    scope: Scope, model: type, with_deleted: bool, key: str, size: int, order_by: tuple, columns: tuple
) -> Statement:
    placeholders = [uuid.uuid4() for _ in range(size)]
    query = scope.queryset(model, with_deleted=with_deleted).filter(**{f"{key}__in": placeholders})
    if order_by:
        query = query.order_by(*order_by)
    values = query.values(*columns)
    values._choose_db_if_not_chosen()
    values._make_query()
    sql, params = values.query.get_parameterized_sql()
    wanted = {str(p): i for i, p in enumerate(placeholders)}
    slots, as_text = [0] * size, [False] * size
    for position, param in enumerate(params):
        found = wanted.get(str(param))
        if found is not None:
            slots[found], as_text[found] = position, isinstance(param, str)
    if sorted(slots) != sorted({*slots}) or len({str(params[s]) for s in slots}) != size:
        raise RuntimeError(f"placeholder keys not found in the SQL of {model.__name__}")
    converters = tuple(
        (alias, func)
        for alias, func in (
            (alias, values.resolve_to_python_value(model, field)) for alias, field in values._fields_for_select.items()
        )
        if not isinstance(func, types.LambdaType)
    )
    return Statement(sql, tuple(params), tuple(slots), tuple(as_text), converters)


async def rows_by_keys(
    scope: Scope,
    model: type,
    key: str,
    keys: Sequence,
    columns: Sequence[str],
    *,
    with_deleted: bool = False,
    order_by: tuple[str, ...] = (),
) -> list[dict]:
    """``await scope.queryset(model, with_deleted=...).filter(<key>__in=keys).order_by(...).values(*columns)``,
    from a statement built once per shape."""
    scope.require(f"{model.resource}:read")
    size = _bucket(len(keys))
    cache_key = (model, with_deleted, key, size, order_by, tuple(columns), _scope_key(scope, model))
    statement = _cache.get(cache_key)
    if statement is None:
        statement = _cache[cache_key] = _build(scope, model, with_deleted, key, size, order_by, tuple(columns))
    params = list(statement.params)
    padded = list(keys) + [keys[-1]] * (size - len(keys))
    for slot, text, value in zip(statement.slots, statement.as_text, padded, strict=True):
        params[slot] = str(value) if text else value
    db = router.db_for_read(model) or model._meta.db
    rows = await db.execute_query_dict(statement.sql, params)
    if statement.converters:
        for row in rows:
            for column, convert in statement.converters:
                row[column] = convert(row[column])
    return rows
