"""Counts and sums for tabs and boards, grouped in the database.

One generic shape serves every list: ``aggregate_of`` makes a domain's ``<Type>Aggregate``
(``count``, ``total`` and ``groups(by: ...)``) from the queryset the list itself would read
(``Scope.queryset`` plus the same ``where``), so tenancy, row scope and filters are the list's.
Each field is one ``GROUP BY`` statement, whatever the number of rows."""

# No `from __future__ import annotations`: ``aggregate_of`` builds types whose argument
# annotation is a value (the domain's enum) that strawberry must see as an object.

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

import strawberry
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet

from server.core.errors import Forbidden
from server.graphql import ids
from server.graphql.types import Money
from server.i18n import _

CENTS = Decimal("0.01")


@strawberry.type(description="The records that share one value of the grouping field.")
class AggregateGroup:
    key: str | None = strawberry.field(
        description="The shared value: a code (status, priority, source...) as the list shows it, or the global ID "
        "of a stage, pipeline or user. Null for records without one (say, orders with no manager)."
    )
    count: int = strawberry.field(description="How many records.")
    total: list[Money] = strawberry.field(
        description="Sum of their amounts, one entry per currency (orders: total, deals: amount); "
        "empty for records without amounts (tickets, accounts)."
    )


@dataclass(frozen=True)
class GroupBy:
    """How one `by:` value groups: the ORM path, and how a stored value becomes a key."""

    path: str
    key: Callable[[object], str] | None = None
    # (type, field) a role must be allowed to see to group by it (grouping would reveal it).
    guard: tuple[str, str] | None = None


def global_id(type_name: str) -> Callable[[object], str]:
    return lambda value: ids.encode(type_name, value)


def upper(value: object) -> str:
    """A stored code as the GraphQL enum spells it (in_progress -> IN_PROGRESS)."""
    return str(value).upper()


@dataclass(frozen=True)
class Amount:
    field: str
    currency: str


def _totals(rows: list[dict]) -> list[Money]:
    sums: dict[str, Decimal] = {}
    for row in rows:
        if row["agg_sum"] is not None:
            # SQLite answers SUM of a decimal column as a float: round back to cents.
            value = Decimal(str(row["agg_sum"])).quantize(CENTS)
            sums[row["agg_currency"]] = sums.get(row["agg_currency"], Decimal(0)) + value
    return [Money(amount=amount, currency=currency) for currency, amount in sorted(sums.items())]


@strawberry.type
class Aggregate:
    _qs: strawberry.Private[QuerySet]
    _amount: strawberry.Private[Amount | None]
    _scope: strawberry.Private[object]
    _overall: strawberry.Private[asyncio.Future | None] = None

    async def _rows(self, path: str | None) -> list[dict]:
        annotations = {"agg_count": Count("id")}
        group = [path] if path else []
        if self._amount is not None:
            annotations["agg_sum"] = Sum(self._amount.field)
            group.append(self._amount.currency)
        qs = self._qs.annotate(**annotations)
        if group:
            qs = qs.group_by(*group)
        rows = await qs.values(*group, *annotations)
        if self._amount is not None:
            for row in rows:
                row["agg_currency"] = row.pop(self._amount.currency)
        return rows

    def _overall_rows(self) -> asyncio.Future:
        # `count` and `total` come from one statement, however many of them are selected.
        if self._overall is None:
            self._overall = asyncio.ensure_future(self._rows(None))
        return self._overall

    @strawberry.field(description="How many records match.")
    async def count(self) -> int:
        return sum(row["agg_count"] for row in await self._overall_rows())

    @strawberry.field(description="Sum of the amounts, one entry per currency; empty for records without amounts.")
    async def total(self) -> list[Money]:
        return _totals(await self._overall_rows()) if self._amount is not None else []

    async def _groups(self, group: GroupBy) -> list[AggregateGroup]:
        if group.guard is not None and not self._scope.can_see_field(*group.guard):
            type_name, field_name = group.guard
            raise Forbidden(
                _(
                    "Your role may not see %(field)s, so it may not group by it either.",
                    field=f"{type_name}.{field_name}",
                )
            )
        by_key: dict[object, list[dict]] = {}
        for row in await self._rows(group.path):
            by_key.setdefault(row.pop(group.path), []).append(row)
        result = [
            AggregateGroup(
                key=None if value is None else (group.key or str)(value),
                count=sum(r["agg_count"] for r in rows),
                total=_totals(rows) if self._amount is not None else [],
            )
            for value, rows in by_key.items()
        ]
        # Biggest first; ties (and the null group) in a stable order.
        return sorted(result, key=lambda g: (-g.count, g.key is None, g.key or ""))


def aggregate_of(name: str, by: type[Enum], groups: dict[str, GroupBy], description: str) -> type[Aggregate]:
    """A named aggregate type whose `groups(by:)` takes the domain's enum ``by``."""
    missing = {member.value for member in by} - set(groups)
    assert not missing, f"{name}: no GroupBy for {missing}"

    async def resolve_groups(self, by: by) -> list[AggregateGroup]:  # type: ignore[valid-type]
        return await self._groups(groups[by.value])

    namespace = {
        "groups": strawberry.field(
            resolve_groups, description="The same records split by one field, biggest group first."
        )
    }
    cls = type(name, (Aggregate,), namespace)
    return strawberry.type(cls, name=name, description=description)


def aggregate(cls: type[Aggregate], qs: QuerySet, scope, amount: Amount | None = None) -> Aggregate:
    return cls(_qs=qs, _amount=amount, _scope=scope)
