"""Reads by a list of keys (``WHERE <key> IN (...)``) as SQL built once, not per request.

The planned path reads related rows with statements of one shape: the caller's
``Scope.queryset(model)`` + ``<key>__in=[...]`` (+ an order), selecting the plan's columns.
Building that through Tortoise and pypika every time cost about a third of a planned request's
CPU. Here it is built once by Tortoise itself, with placeholder keys (server/core/prepared.py),
and kept; a request only puts its keys in their place.

Why the answer cannot change: the cache key holds everything ``Scope.queryset`` builds the SQL
from (model, soft-deleted rows or not, the organization, the role's row scope with the user or
the team's members), so a cached statement is exactly the one Tortoise would build for this
caller; the permission itself (``Scope.require``) is checked on every call. The number of keys
is rounded up to a power of two (the last key repeated: ``IN`` ignores duplicates), so a few
statements per shape cover every page size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cachetools import LRUCache
from tortoise.queryset import ValuesQuery

from server.auth.roles import RowScope
from server.auth.scope import Scope
from server.core.prepared import Prepared, placeholder_uuid, prepare

CACHE_SIZE = 2048  # statements; one per (caller's organization and row scope, shape, size)

_cache: LRUCache = LRUCache(maxsize=CACHE_SIZE)


def _bucket(n: int) -> int:
    size = 1
    while size < n:
        size *= 2
    return size


def scope_key(scope: Scope, model: type) -> tuple:
    """What of the caller ``Scope.queryset`` puts into the SQL (see ``Scope._row_filter``)."""
    row_scope = scope.row_scope()
    if row_scope is RowScope.ALL or model.owner_path is None:
        who: object = None
    elif row_scope is RowScope.OWN:
        who = scope.user_id
    else:
        who = tuple(scope.principal.team_member_ids)
    return scope.organization_id, row_scope, who


def _build(
    scope: Scope, model: type, with_deleted: bool, key: str, size: int, order_by: tuple, columns: tuple
) -> Prepared:
    placeholders = [placeholder_uuid() for _ in range(size)]
    query = scope.queryset(model, with_deleted=with_deleted).filter(**{f"{key}__in": placeholders})
    if order_by:
        query = query.order_by(*order_by)
    return prepare(query.values(*columns), placeholders)


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
    statement = statement_by_keys(scope, model, key, size, columns, with_deleted=with_deleted, order_by=order_by)
    padded = list(keys) + [keys[-1]] * (size - len(keys))
    return await statement.fetch(*padded)


def statement_by_keys(
    scope: Scope,
    model: type,
    key: str,
    size: int,
    columns: Sequence[str],
    *,
    with_deleted: bool = False,
    order_by: tuple[str, ...] = (),
) -> Prepared:
    """The kept statement of ``rows_by_keys`` for ``size`` keys (its placeholders, in order)."""
    dialect = model._meta.db.capabilities.dialect
    cache_key = (dialect, model, with_deleted, key, size, order_by, tuple(columns), scope_key(scope, model))
    statement = _cache.get(cache_key)
    if statement is None:
        statement = _cache[cache_key] = _build(scope, model, with_deleted, key, size, order_by, tuple(columns))
    return statement


def page_key(scope: Scope, query_function, model: type, arguments: dict, sort, first: int, after) -> tuple | None:
    """The key of a list's first page without a filter (``orders(first:, orderBy:)``, the pages a
    frontend opens most): its SQL is then fixed by the list, the sort, ``first``, soft-deleted
    rows or not and the caller, so it is built once. Anything else (``where``, a cursor) is built
    per request as before; None then."""
    if after is not None or arguments.get("where") is not None:
        return None
    if set(arguments) - {"first", "after", "where", "order_by", "include_deleted"}:
        return None
    return (
        "page",
        query_function,
        sort.field,
        sort.direction,
        first,
        bool(arguments.get("include_deleted")),
        scope_key(scope, model),
    )


async def rows_once(key: tuple, model: type, columns: Sequence[str], build: Callable[[], ValuesQuery]) -> list[dict]:
    """The rows of ``build()`` (a ``.values(*columns)`` query of ``model`` without placeholders)
    from a statement built once per ``key`` (which names everything its SQL depends on)."""
    cache_key = (key, model._meta.db.capabilities.dialect, tuple(columns))
    statement = _cache.get(cache_key)
    if statement is None:
        statement = _cache[cache_key] = prepare(build(), [])
    return await statement.fetch()
