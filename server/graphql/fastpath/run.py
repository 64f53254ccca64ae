"""Running a plan: a fixed number of set-based reads through ``Scope.queryset`` (rows as plain
dicts, no model objects; reads by keys from statements built once, prepared.py), then the
response written straight from the rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from server.auth.scope import Scope
from server.config import Settings
from server.graphql.fastpath.describe import Many, One
from server.graphql.fastpath.plan import ConnectionPlan, Fallback, ObjectPlan
from server.graphql.fastpath.prepared import rows_by_keys, rows_once
from server.graphql.pagination import cursor_of, page_queryset


@dataclass(frozen=True)
class Call:
    """One request: the caller's Scope, the settings, and how to read a field's arguments."""

    scope: Scope
    settings: Settings
    arguments: Callable  # (field_def, field node) -> the resolver's keyword arguments


def _select(columns: set[str]) -> list[str]:
    # Columns starting with "_" are carried from the parent row (e.g. an item's currency), not read.
    return sorted(c for c in columns if not c.startswith("_"))


async def fetch_relations(call: Call, plan: ObjectPlan, rows: list[dict]) -> None:
    """Attach every relation the plan selects to ``rows``: one statement per relation, whatever
    the number of rows, read exactly as ``load_by_id``/``load_children`` read them."""
    scope = call.scope
    for type_name, field_name in plan.hidden_checks:
        if rows and not scope.can_see_field(type_name, field_name):
            raise Fallback(f"{type_name}.{field_name} is hidden: the stock path reports it")
    for rel in plan.relations:
        spec = rel.spec
        columns = _select(rel.child.columns | {"id"})
        children: list[dict] = []
        if isinstance(spec, One):
            keys = {row[spec.fk] for row in rows if row[spec.fk] is not None}
            found: dict = {}
            if keys:
                found = {
                    child["id"]: child
                    for child in await rows_by_keys(
                        scope, spec.model, "id", list(keys), columns, with_deleted=spec.with_deleted
                    )
                }
            for row in rows:
                row[rel.slot] = found.get(row[spec.fk])
            children = list(found.values())
        elif isinstance(spec, Many):
            groups: dict = defaultdict(list)
            keys = {row["id"] for row in rows}
            if keys:
                found = await rows_by_keys(scope, spec.model, spec.fk, list(keys), columns, order_by=spec.order_by)
                for child in found:
                    groups[child[spec.fk]].append(child)
            for row in rows:
                kids = groups.get(row["id"], [])
                for child_key, column in spec.carry.items():
                    for kid in kids:
                        kid[child_key] = row[column]
                row[rel.slot] = kids
                children.extend(kids)
        await fetch_relations(call, rel.child, children)
    for nested in plan.nested:  # only on a root object: one row
        arguments = call.arguments(nested.field_def, nested.node)
        for row in rows:
            page = nested.spec.query(scope, call.settings, row, **arguments)
            row[nested.slot] = None if page is None else await run_connection(call, nested.child, *page)


def write(plan: ObjectPlan, row: dict, scope: Scope) -> dict:
    """One object from its row; PII fields through ``Scope.mask``, as the stock path's MaskPii."""
    out = {}
    for key, w in plan.writers:
        kind = w[0]
        if kind == "scalar":
            value = row[w[1]]
            if value is None:
                if w[3]:
                    raise Fallback(f"null in non-null {plan.type_name}.{key}")
                out[key] = None
            else:
                out[key] = w[2](value) if w[4] is None else scope.mask(*w[4], w[2](value))
        elif kind == "computed":
            value = w[1](row)
            if value is None:
                if w[3]:
                    raise Fallback(f"null in non-null {plan.type_name}.{key}")
                out[key] = None
            else:
                out[key] = w[2](value) if w[4] is None else scope.mask(*w[4], w[2](value))
        elif kind == "typename":
            out[key] = w[1]
        elif kind == "object":
            out[key] = write(w[1], row, scope)
        elif kind == "one":
            child = row[w[1]]
            if child is None:
                if w[3]:
                    raise Fallback(f"null in non-null {plan.type_name}.{key}")
                out[key] = None
            else:
                out[key] = write(w[2], child, scope)
        elif kind == "many":
            out[key] = [write(w[2], child, scope) for child in row[w[1]]]
        else:  # nested: the connection, already written
            if row[w[1]] is None and w[2]:
                raise Fallback(f"null in non-null {plan.type_name}.{key}")
            out[key] = row[w[1]]
    return out


async def run_by_id(call: Call, model, plan: ObjectPlan, pk) -> dict | None:
    """As ``load_by_id``: the row if the caller may see it, else null."""
    rows = await rows_by_keys(call.scope, model, "id", [pk], _select(plan.columns))
    if not rows:
        return None
    await fetch_relations(call, plan, rows)
    return write(plan, rows[0], call.scope)


async def run_connection(
    call: Call, plan: ConnectionPlan, qs, sort, first: int, after: str | None, page_key: tuple | None = None
) -> dict:
    """As ``paginate``: the same keyset page and cursors, from plain rows. With ``page_key``
    (prepared.page_key), the page's statement is built once for that key."""
    columns = _select(plan.node.columns | {"id", sort.field})
    if page_key is None:
        rows = await page_queryset(qs, first=first, after=after, sort=sort).values(*columns)
    else:
        rows = await rows_once(
            page_key, qs.model, columns, lambda: page_queryset(qs, first=first, after=after, sort=sort).values(*columns)
        )
    has_next = len(rows) > first
    rows = rows[:first]
    await fetch_relations(call, plan.node, rows)
    cursors = [cursor_of(row[sort.field], row["id"]) for row in rows]
    out: dict = {}
    for key, w in plan.writers:
        kind = w[0]
        if kind == "typename":
            out[key] = w[1]
        elif kind == "count":
            out[key] = await qs.count()
        elif kind == "pageInfo":
            info = {}
            for pkey, pw in w[1]:
                what = pw[0]
                if what == "typename":
                    info[pkey] = pw[1]
                elif what == "hasNextPage":
                    info[pkey] = has_next
                elif what == "hasPreviousPage":
                    info[pkey] = after is not None
                elif what == "startCursor":
                    info[pkey] = cursors[0] if cursors else None
                else:
                    info[pkey] = cursors[-1] if cursors else None
            out[key] = info
        else:  # edges
            edges = []
            for row, cursor in zip(rows, cursors, strict=True):
                edge = {}
                for ekey, ew in w[1]:
                    if ew[0] == "typename":
                        edge[ekey] = ew[1]
                    elif ew[0] == "cursor":
                        edge[ekey] = cursor
                    else:
                        edge[ekey] = write(plan.node, row, call.scope)
                edges.append(edge)
            out[key] = edges
    return out
