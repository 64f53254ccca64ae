"""GraphQL for pipelines, stages and deals."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from server.deals.models import Deal
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Money, Node, model_type

if TYPE_CHECKING:
    from server.accounts.schema import AccountType

LazyAccountType = Annotated["AccountType", strawberry.lazy("server.accounts.schema")]


@model_type(Deal, description="A sales opportunity on a pipeline.")
class DealType(Node):
    title: str
    expected_close_date: date | None
    version: int
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    def amount(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)  # type: ignore[attr-defined]


DealConnection = connection_of(DealType, "DealConnection")


async def deals_connection(info: Info, *, first, after, account_id=None) -> DealConnection:
    ctx = info.context
    qs = ctx.scope.queryset(Deal)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
    return await paginate(
        DealConnection, qs, first=first, after=after, sort=Sort("created_at", datetime, Direction.DESC)
    )


@strawberry.type
class DealQueries:
    @strawberry.field(description="Deals the caller may see, newest first.")
    async def deals(self, info: Info, first: int | None = None, after: str | None = None) -> DealConnection:
        return await deals_connection(info, first=first, after=after)


@strawberry.type
class DealMutations:
    pass
