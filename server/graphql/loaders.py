"""Generic DataLoader factories. Every batch reads through ``Scope.queryset``, so a relation
the caller may not see resolves to null exactly as a missing record would."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from server.graphql.context import Context


def by_id(model, *, with_deleted: bool = False):
    def factory(ctx: Context):
        async def load(ids: list[UUID]):
            rows = await ctx.scope.queryset(model, with_deleted=with_deleted).filter(id__in=list(set(ids)))
            found = {row.id: row for row in rows}
            return [found.get(i) for i in ids]

        return load

    return factory


def children(model, fk: str, order_by: tuple[str, ...] = ("created_at", "id")):
    """Rows whose ``fk`` is one of the keys, grouped per key, in ``order_by`` order."""

    def factory(ctx: Context):
        async def load(keys: list[UUID]):
            rows = await ctx.scope.queryset(model).filter(**{f"{fk}__in": list(set(keys))}).order_by(*order_by)
            grouped: dict[UUID, list] = defaultdict(list)
            for row in rows:
                grouped[getattr(row, fk)].append(row)
            return [grouped.get(k, []) for k in keys]

        return load

    return factory


async def load_by_id(ctx: Context, model, pk: UUID | None, *, with_deleted: bool = False):
    if pk is None:
        return None
    return await ctx.loader(("by_id", model, with_deleted), by_id(model, with_deleted=with_deleted)).load(pk)


async def load_children(ctx: Context, model, fk: str, key: UUID, order_by: tuple[str, ...] = ("created_at", "id")):
    return await ctx.loader(("children", model, fk, order_by), children(model, fk, order_by)).load(key)
