"""`where` inputs: per-field operators combined with AND/OR, turned into one Tortoise Q.

A domain declares its ``where`` input type and a map from input field to ORM lookup
(and an optional value converter, e.g. global ID -> uuid); ``build_q`` does the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import strawberry
from tortoise.expressions import Q

from server.core.errors import BadRequest, UserInputError
from server.i18n import _


@strawberry.input(description="Text: equal to, one of, or containing (case-insensitive).")
class StringFilter:
    eq: str | None = None
    in_: list[str] | None = strawberry.field(default=None, name="in")
    contains: str | None = None


@strawberry.input(description="An ID equal to, or one of.")
class IDFilter:
    eq: strawberry.ID | None = None
    in_: list[strawberry.ID] | None = strawberry.field(default=None, name="in")


@strawberry.input(description="A time range; bounds are inclusive (gte/lte) or exclusive (gt/lt).")
class DateTimeFilter:
    gte: datetime | None = None
    gt: datetime | None = None
    lte: datetime | None = None
    lt: datetime | None = None


@strawberry.input(description="A number: equal to, one of, or in a range.")
class IntFilter:
    eq: int | None = None
    in_: list[int] | None = strawberry.field(default=None, name="in")
    gte: int | None = None
    lte: int | None = None


@strawberry.input(description="A decimal amount: equal to or in a range.")
class DecimalFilter:
    eq: Decimal | None = None
    gte: Decimal | None = None
    lte: Decimal | None = None


@strawberry.input(description="What every list can filter on, for caches and sync.")
class ChangedSince:
    """Base of every list's `where`: inherit it and ``build_q`` applies it, so a list gets
    "changed since" without a line of its own."""

    updated_at: DateTimeFilter | None = strawberry.field(
        default=None,
        description="Last changed in this range (created, edited, moved, status changed or soft-deleted): "
        "`{gt: <the updatedAt you saw last>}` fetches what changed since. Sort by UPDATED_AT ASC to page through.",
    )


MAX_IN_VALUES = 500
MAX_NESTING = 5


@dataclass(frozen=True)
class Lookup:
    path: str  # ORM lookup path, e.g. "status__group"
    convert: Callable | None = None  # applied to each value (e.g. decode a global ID)
    contains_path: str | None = None  # where `contains` searches, if not `path`
    build: Callable | None = None  # custom: operator filter -> Q (e.g. a subquery)


# The ORM side of ChangedSince: every TenantModel has updated_at (auto_now; conditional updates set it).
CHANGED_SINCE_LOOKUPS = {"updated_at": Lookup("updated_at")}


def _operator_q(lookup: Lookup, op_filter, field: str) -> Q:
    parts: list[Q] = []
    conv = lookup.convert or (lambda v: v)
    for op in ("eq", "in_", "contains", "gte", "gt", "lte", "lt"):
        value = getattr(op_filter, op, None)
        if value is None:
            continue
        if op == "eq":
            parts.append(Q(**{lookup.path: conv(value)}))
        elif op == "in_":
            if len(value) > MAX_IN_VALUES:
                raise BadRequest(_("`%(field)s.in` takes at most %(n)s values.", field=field, n=MAX_IN_VALUES))
            parts.append(Q(**{f"{lookup.path}__in": [conv(v) for v in value]}))
        elif op == "contains":
            parts.append(Q(**{f"{lookup.contains_path or lookup.path}__icontains": value}))
        else:
            parts.append(Q(**{f"{lookup.path}__{op}": value}))
    return Q(*parts) if parts else Q()


def build_q(where, lookups: dict[str, Lookup], depth: int = 0) -> Q:
    if where is None:
        return Q()
    if depth > MAX_NESTING:
        raise BadRequest(_("`where` may nest AND/OR at most %(n)s levels.", n=MAX_NESTING))
    parts: list[Q] = []
    if isinstance(where, ChangedSince):
        lookups = {**CHANGED_SINCE_LOOKUPS, **lookups}
    for name, lookup in lookups.items():
        op_filter = getattr(where, name, None)
        if op_filter is not None:
            try:
                parts.append(lookup.build(op_filter) if lookup.build else _operator_q(lookup, op_filter, name))
            except UserInputError as exc:
                raise BadRequest(_("where.%(name)s: %(message)s", name=name, message=exc.message)) from exc
    for sub in getattr(where, "and_", None) or []:
        parts.append(build_q(sub, lookups, depth + 1))
    ors = getattr(where, "or_", None)
    if ors:
        parts.append(Q(*[build_q(sub, lookups, depth + 1) for sub in ors], join_type="OR"))
    return Q(*parts) if parts else Q()
