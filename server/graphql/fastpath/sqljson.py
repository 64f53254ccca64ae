# ruff: noqa: S608 - SQL from Tortoise-built statements, our aliases, model columns and literal(); values are parameters
"""On PostgreSQL, a plan's answer written by the database: one statement per root field that
returns the field's JSON text, byte for byte what Python's writer (run.py) would write.

Why: on a page of 50 orders with their statuses, accounts and items, most of a planned
request's CPU was Python formatting values (IDs, cursors, decimals, dates) and awaiting four
statements. Here a plan is compiled into one statement (JSON built by concatenation: compact,
keys in the plan's order), run in one round trip, and its text handed to orjson as a
``Fragment``.

Where rows come from does not change: every table is read by the statement Tortoise builds from
``Scope.queryset`` (organization, soft-deleted rows, the role's row scope), inlined as a
subquery with the parent's column in place of its key placeholder (prepared.py). A composed
statement is kept per plan and per everything ``Scope.queryset`` puts into its SQL.
Permissions, hidden fields and masking are decided per request before anything runs
(``ready``): a caller who would meet a forbidden table, a hidden field or a masked value is
answered by Python's writer, which handles those as before.

Values the writer refuses (a null in a non-null field, an enum value the schema does not know,
a list that is not a list of strings) are written as ``sqlvalues.MARK``; an answer holding it
falls back exactly as the writer's ``Fallback`` does.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import orjson
from cachetools import LRUCache
from graphql import GraphQLEnumType
from tortoise import fields as tf
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.fields.data import CharEnumFieldInstance

from server.auth.scope import Scope
from server.core.prepared import Prepared, placeholder_uuid, prepare
from server.graphql.fastpath.plan import ConnectionPlan, Fallback, ObjectPlan, Unsupported
from server.graphql.fastpath.prepared import scope_key, statement_by_keys
from server.graphql.fastpath.sqlvalues import (
    MARK,
    MARK_SQL,
    base64url,
    iso_datetime,
    json_string_literal,
    literal,
    quoted,
)
from server.graphql.pagination import page_queryset

_PARAM = re.compile(r"\$(\d+)")
_LIMIT = re.compile(r"\bLIMIT \$(\d+)\b")

CACHE_SIZE = 1024  # composed statements: one per (plan, caller's scope, page)
_cache: LRUCache = LRUCache(maxsize=CACHE_SIZE)


# -- scalars ---------------------------------------------------------------------------


def _field(model, column: str):
    field = model._meta.fields_map.get(column)
    if field is None:
        raise Unsupported(f"{model.__name__}.{column} is not a column")
    return field


def _text_field(field) -> bool:
    return isinstance(field, tf.CharField | tf.TextField) and not isinstance(field, CharEnumFieldInstance)


def scalar_json(named, is_list: bool, ref: str, field) -> str:
    """The JSON text of a column as plan._scalar_converter writes it (NULL for null)."""
    if is_list:
        if not isinstance(field, tf.JSONField) or named.name not in ("String", "ID"):
            raise Unsupported("a list that is not a JSON list of strings")
        value = f"({ref})::jsonb"
        elements = (
            f"(SELECT '[' || coalesce(string_agg(CASE WHEN jsonb_typeof(e.v) = 'string' "
            f"THEN to_json(e.v #>> '{{}}')::text ELSE {MARK_SQL} END, ',' ORDER BY e.n), '') || ']' "
            f"FROM jsonb_array_elements({value}) WITH ORDINALITY AS e(v, n))"
        )
        return (
            f"CASE WHEN {ref} IS NULL OR jsonb_typeof({value}) = 'null' THEN NULL "
            f"WHEN jsonb_typeof({value}) <> 'array' THEN {MARK_SQL} ELSE {elements} END"
        )
    if isinstance(named, GraphQLEnumType):
        if not _text_field(field):
            raise Unsupported("an enum not stored as text")
        cases = []
        for name, value in named.values.items():
            stored = value.value.value if isinstance(value.value, Enum) else value.value
            if not isinstance(stored, str):
                raise Unsupported("an enum value that is not text")
            cases.append(f"WHEN {literal(stored)} THEN {json_string_literal(name)}")
        return f"CASE WHEN {ref} IS NULL THEN NULL ELSE CASE {ref} {' '.join(cases)} ELSE {MARK_SQL} END END"
    kind = named.name
    if kind in ("String", "ID") and _text_field(field):
        return f"to_json({ref})::text"
    if kind == "Int" and type(field) in (tf.IntField, tf.SmallIntField):
        return f"({ref})::text"
    if kind == "Boolean" and isinstance(field, tf.BooleanField):
        return f"CASE WHEN {ref} IS NULL THEN NULL WHEN {ref} THEN 'true' ELSE 'false' END"
    if kind == "Decimal" and isinstance(field, tf.DecimalField):
        # Tortoise quantizes to the column's scale, the scale numeric prints: str(Decimal).
        return f"CASE WHEN {ref} IS NULL THEN NULL ELSE {quoted(ref)} END"
    if kind == "DateTime" and isinstance(field, tf.DatetimeField):
        return f"CASE WHEN {ref} IS NULL THEN NULL ELSE {quoted(iso_datetime(ref))} END"
    raise Unsupported(f"{kind} from {type(field).__name__}")


# -- composing one statement -----------------------------------------------------------------


@dataclass(frozen=True)
class Carried:
    """A column an object takes from its parent row (an item's currency): its SQL reference and field."""

    ref: str
    field: object


class Builder:
    """One statement in the making: Tortoise-built subqueries inlined, parameters renumbered."""

    def __init__(self, scope: Scope, settings, arguments):
        self.scope = scope
        self.settings = settings
        self.arguments = arguments  # (field_def, node) -> a nested field's arguments
        self.params: list = []
        self._aliases = itertools.count()

    def alias(self) -> str:
        return f'"fp{next(self._aliases)}"'

    def param(self, value) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def inline(self, statement: Prepared, refs: Iterable[str]) -> str:
        """``statement``'s SQL with its placeholders replaced by ``refs`` and its other
        parameters appended to this statement's."""
        by_slot = dict(zip(statement.slots, refs, strict=True))
        if {int(n) for n in _PARAM.findall(statement.sql)} != set(range(1, len(statement.params) + 1)):
            # A "$<digits>" that is not one of its parameters (a value written into the SQL).
            raise Unsupported("a statement whose parameters cannot be told apart")
        limits = {int(n) for n in _LIMIT.findall(statement.sql)}
        replace: dict[int, str] = {}
        for position, value in enumerate(statement.params):
            if position in by_slot:
                replace[position + 1] = by_slot[position]
            elif position + 1 in limits and type(value) is int:
                # A page size, written into the SQL: with LIMIT a parameter, PostgreSQL's generic
                # plan of the OrdersPage sorts the organization's every order (25 ms), so it
                # re-planned the statement on every request (0.5-0.8 ms of its 2.3). The page
                # size is part of every kept statement's key (prepared.page_key, nested arguments).
                replace[position + 1] = str(value)
            else:
                replace[position + 1] = self.param(value)
        return _PARAM.sub(lambda m: replace[int(m.group(1))], statement.sql)

    def by_key(self, model, key: str, ref: str, columns, *, with_deleted=False, order_by=()) -> str:
        """The caller's rows of ``model`` whose ``key`` is ``ref``, as rows_by_keys reads them."""
        statement = statement_by_keys(
            self.scope, model, key, 1, columns, with_deleted=with_deleted, order_by=tuple(order_by)
        )
        return self.inline(statement, [ref])


def _columns(plan: ObjectPlan, *extra: str) -> list[str]:
    return sorted({c for c in plan.columns if not c.startswith("_")} | {"id", *extra})


def _pair(key: str, value: str) -> str:
    return f"{literal(chr(34) + key + chr(34) + ':')} || {value}"


def _object(pairs: list[str]) -> str:
    return "'{' || " + " || ',' || ".join(pairs) + " || '}'" if pairs else "'{}'"


def object_json(b: Builder, plan: ObjectPlan, model, alias: str, carried: dict[str, Carried] | None = None) -> str:
    """The JSON text of one object written from the row ``alias`` of ``model``."""
    carried = carried or {}

    def col(column: str) -> str:
        return carried[column].ref if column in carried else f'{alias}."{column}"'

    pairs = []
    for key, w in plan.writers:
        kind, nonnull = w[0], False
        if kind == "typename":
            value = json_string_literal(w[1])
        elif kind == "scalar":
            field = carried[w[1]].field if w[1] in carried else _field(model, w[1])
            value, nonnull = scalar_json(*w[5], col(w[1]), field), w[3]
        elif kind == "computed":
            if w[5] is None:
                raise Unsupported("a computed field without SQL")
            value, nonnull = w[5](col), w[3]
        elif kind == "object":
            value, nonnull = object_json(b, w[1], model, alias, carried), w[2]
        elif kind == "one":
            rel = next(r for r in plan.relations if r.slot == w[1])
            child = b.alias()
            rows = b.by_key(
                rel.spec.model, "id", col(rel.spec.fk), _columns(rel.child), with_deleted=rel.spec.with_deleted
            )
            value = f"(SELECT {object_json(b, rel.child, rel.spec.model, child)} FROM ({rows}) {child})"
            nonnull = w[3]
        elif kind == "many":
            rel = next(r for r in plan.relations if r.slot == w[1])
            spec = rel.spec
            child = b.alias()
            # Ordered once, by the aggregate (the rows' own ORDER BY would be a second sort).
            rows = b.by_key(spec.model, spec.fk, col("id"), _columns(rel.child, *spec.order_by))
            passed = {k: Carried(col(c), _field(model, c)) for k, c in spec.carry.items()}
            inner = object_json(b, rel.child, spec.model, child, passed)
            order = ", ".join(f'{child}."{c}"' for c in spec.order_by)
            value = (
                f"(SELECT '[' || coalesce(string_agg({inner}, ',' ORDER BY {order}), '') || ']' FROM ({rows}) {child})"
            )
        else:  # nested: a connection under this (root) row
            nested = next(n for n in plan.nested if n.slot == w[1])
            value, nonnull = _nested_json(b, nested, col("id")), w[2]
        pairs.append(_pair(key, f"coalesce({value}, {MARK_SQL if nonnull else repr('null')})"))
    return _object(pairs)


def _nested_json(b: Builder, nested, parent_id: str) -> str:
    arguments = b.arguments(nested.field_def, nested.node)
    placeholder = placeholder_uuid()
    page = nested.spec.query(b.scope, b.settings, {"id": placeholder}, **arguments)
    if page is None:
        raise Unsupported("a nested list this caller may not read")  # ready() keeps such callers out
    qs, sort, first, after = page
    return connection_json(b, nested.child, qs, sort, first, after, correlate=(placeholder, parent_id))


def _cursor(sort, alias: str, model) -> str:
    """pagination.cursor_of of the row ``alias`` (its sort value and id), as SQL text."""
    field = _field(model, sort.field)
    ref = f'{alias}."{sort.field}"'
    if isinstance(field, tf.DatetimeField):
        value = f"'\"' || {iso_datetime(ref)} || '\"'"
    elif type(field) in (tf.IntField, tf.SmallIntField):
        value = f"{ref}::text"
    elif isinstance(field, tf.DecimalField):
        value = f"'\"' || {ref}::text || '\"'"
    else:
        raise Unsupported(f"a cursor on {type(field).__name__}")
    return base64url(f"'[' || {value} || ',\"' || {alias}.\"id\"::text || '\"]'")


def connection_json(b: Builder, plan: ConnectionPlan, qs, sort, first: int, after, correlate=None) -> str:
    """The JSON text of a connection, as run_connection writes it: the page of ``page_queryset``
    (``first`` + 1 rows), numbered in its order; ``correlate``: (placeholder, SQL reference) of
    a nested list's parent key."""
    if plan.needs_count:
        raise Unsupported("totalCount")
    model = qs.model
    columns = sorted({c for c in plan.node.columns if not c.startswith("_")} | {"id", sort.field})
    query = page_queryset(qs, first=first, after=after, sort=sort).values(*columns)
    page = b.inline(prepare(query, [correlate[0]] if correlate else []), [correlate[1]] if correlate else [])
    rows, row, edge = b.alias(), b.alias(), b.alias()
    limit = int(first)
    node = object_json(b, plan.node, model, row)
    cursor = _cursor(sort, row, model)
    within = f"FILTER (WHERE {edge}.n <= {limit})"

    def end(direction: str) -> str:
        return f"coalesce('\"' || (array_agg({edge}.c ORDER BY {edge}.n {direction}) {within})[1] || '\"', 'null')"

    pairs = []
    for key, w in plan.writers:
        if w[0] == "typename":
            pairs.append(_pair(key, json_string_literal(w[1])))
        elif w[0] == "pageInfo":
            info = []
            for pkey, pw in w[1]:
                what = pw[0]
                if what == "typename":
                    info.append(_pair(pkey, json_string_literal(pw[1])))
                elif what == "hasNextPage":
                    info.append(_pair(pkey, f"CASE WHEN count({edge}.n) > {limit} THEN 'true' ELSE 'false' END"))
                elif what == "hasPreviousPage":
                    info.append(_pair(pkey, "'true'" if after is not None else "'false'"))
                else:
                    info.append(_pair(pkey, end("ASC" if what == "startCursor" else "DESC")))
            pairs.append(_pair(key, _object(info)))
        else:  # edges
            fields = []
            for ekey, ew in w[1]:
                if ew[0] == "typename":
                    fields.append(_pair(ekey, json_string_literal(ew[1])))
                elif ew[0] == "cursor":
                    fields.append(_pair(ekey, f"'\"' || {edge}.c || '\"'"))
                else:
                    fields.append(_pair(ekey, f"{edge}.j"))
            edges = f"string_agg({_object(fields)}, ',' ORDER BY {edge}.n) {within}"
            pairs.append(_pair(key, f"'[' || coalesce({edges}, '') || ']'"))
    direction = "DESC" if sort.direction.value.upper() == "DESC" else "ASC"
    order = f'{rows}."{sort.field}" {direction}, {rows}."id" {direction}'
    numbered = f"SELECT {rows}.*, row_number() OVER (ORDER BY {order}) AS n FROM ({page}) {rows}"
    written = (
        f"SELECT {row}.n, {cursor} AS c, CASE WHEN {row}.n <= {limit} THEN {node} END AS j FROM ({numbered}) {row}"
    )
    # HAVING makes it one aggregate row even when nothing but literals is selected (only
    # __typename or hasPreviousPage) and the page is empty or has many rows.
    return f"(SELECT {_object(pairs)} FROM ({written}) {edge} HAVING true)"


# -- what a plan needs of its caller -------------------------------------------------------------


@dataclass(frozen=True)
class Needs:
    models: tuple  # tables read, in a fixed order (by name): caller_key reads them per request
    hidden: frozenset  # (type, field) a role may hide
    pii: frozenset  # (type, field) a role may see masked


def _collect(plan: ObjectPlan, model, out: dict) -> None:
    if model is not None:
        out["models"].add(model)
    out["hidden"] |= plan.hidden_checks
    for _key, w in plan.writers:
        if w[0] in ("scalar", "computed") and w[4] is not None:
            out["pii"].add(w[4])
        elif w[0] == "object":
            _collect(w[1], None, out)
    for rel in plan.relations:
        _collect(rel.child, rel.spec.model, out)
    for nested in plan.nested:
        _collect(nested.child.node, nested.spec.model, out)


def needs(plan: ObjectPlan | ConnectionPlan, model) -> Needs | None:
    """What the caller must see for PostgreSQL to write ``plan``; None when it never can
    (``totalCount``, a computed field without SQL): Python's writer answers."""
    if not _writable(plan):
        return None
    out: dict = {"models": set(), "hidden": set(), "pii": set()}
    _collect(plan.node if isinstance(plan, ConnectionPlan) else plan, model, out)
    models = tuple(sorted(out["models"], key=lambda m: m.__name__))
    return Needs(models, frozenset(out["hidden"]), frozenset(out["pii"]))


def _writable(plan: ObjectPlan | ConnectionPlan) -> bool:
    if isinstance(plan, ConnectionPlan):
        return not plan.needs_count and _writable(plan.node)
    for _key, w in plan.writers:
        if (w[0] == "computed" and w[5] is None) or (w[0] == "object" and not _writable(w[1])):
            return False
    return all(_writable(rel.child) for rel in plan.relations) and all(_writable(n.child) for n in plan.nested)


def ready(scope: Scope, what: Needs) -> bool:
    """Whether this caller sees all the plan writes as stored: every table readable, nothing
    hidden, nothing masked (a nested list's rows included: an account's orders are null for a
    role without ``orders:read``). Otherwise Python's writer answers, as before."""
    return (
        all(scope.can(f"{m.resource}:read") for m in what.models)
        and all(scope.can_see_field(t, f) for t, f in what.hidden)
        and all(scope.sees_pii(t, f) for t, f in what.pii)
    )


def caller_key(scope: Scope, what: Needs) -> tuple:
    """What of the caller the composed statement's SQL and parameters depend on."""
    return tuple(scope_key(scope, m) for m in what.models)


# -- running ---------------------------------------------------------------------------------


def compose_by_id(b: Builder, plan: ObjectPlan, model) -> tuple[str, list, int]:
    """(SQL, parameters, index of the id among them) of ``x(id:)``: the object or NULL."""
    alias = b.alias()
    pk = b.param(None)
    rows = b.by_key(model, "id", pk, _columns(plan))
    sql = f"SELECT (SELECT {object_json(b, plan, model, alias)} FROM ({rows}) {alias}) AS j"
    return sql, b.params, int(pk[1:]) - 1


def compose_connection(b: Builder, plan: ConnectionPlan, qs, sort, first: int, after) -> tuple[str, list]:
    return f"SELECT {connection_json(b, plan, qs, sort, first, after)} AS j", b.params


def kept(key: tuple, make):
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = make()
    return found


async def fetch(model, sql: str, params: list, guard=None):
    """The JSON text as an orjson ``Fragment`` (None for NULL); ``Fallback`` when it holds a
    value the writer would refuse. With the lean lane's ``guard`` still to check, the statement
    checks it too (``StaleCaller`` when it does not hold)."""
    if guard is not None and guard.pending:
        sql, params = guard.wrap(sql, params)
        row = await fetch_row(model._meta.db, sql, params)
        guard.accept(row["ok"])
    else:
        row = await fetch_row(model._meta.db, sql, params)
    text = row["j"] if row is not None else None
    if text is None:
        return None
    if MARK in text:
        raise Fallback("a value the writer refuses")
    return orjson.Fragment(text)


# Tortoise's own statement log: statement counters (tests) and a DEBUG log see these too.
_statements = logging.getLogger("tortoise.db_client")


async def fetch_row(db, sql: str, params: list):
    """The statement's first row (or None), straight from the asyncpg pool under Tortoise's
    client, without its wrappers (exception translation, connection wrapper, logging): a few
    per cent of a small read's CPU. Inside a transaction, or before the pool exists, Tortoise
    runs it."""
    pool = None if isinstance(db, TransactionalDBClient) else getattr(db, "_pool", None)
    if pool is None:
        rows = await db.execute_query_dict(sql, params)
        return rows[0] if rows else None
    if _statements.isEnabledFor(logging.DEBUG):
        _statements.debug("%s: %s", sql, params)
    return await pool.fetchrow(sql, *params)
