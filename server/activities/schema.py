"""GraphQL for the timeline: activities, tasks, and the system entries other domains write."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from server.activities.models import Activity
from server.graphql.loaders import load_by_id
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, UserType, model_type

if TYPE_CHECKING:
    from server.accounts.schema import AccountType
    from server.orders.schema import OrderType

LazyAccountType = Annotated["AccountType", strawberry.lazy("server.accounts.schema")]
LazyOrderType = Annotated["OrderType", strawberry.lazy("server.orders.schema")]


@strawberry.enum(description="What kind of touchpoint a timeline item is.")
class ActivityKind(Enum):
    NOTE = "note"
    CALL = "call"
    SMS = "sms"
    EMAIL = "email"
    MESSAGE = "message"
    TASK = "task"
    STATUS_CHANGE = "status_change"
    ORDER = "order"
    DEAL = "deal"
    TICKET = "ticket"


@model_type(
    Activity, description="A timeline item of an account: a note, call, message, task, or an order/deal/ticket event."
)
class ActivityType(Node):
    subject: str
    body: str
    occurred_at: datetime = strawberry.field(description="When it happened; the timeline's order.")
    due_at: datetime | None = strawberry.field(description="Tasks: when it is due.")
    done_at: datetime | None = strawberry.field(description="Tasks: when it was completed.")
    version: int
    created_at: datetime

    @strawberry.field
    def kind(self) -> ActivityKind:
        return ActivityKind(self.kind)  # type: ignore[attr-defined]

    @strawberry.field(description="Details by kind (call duration, status codes, totals...).")
    def data(self) -> JSON:
        return self.data  # type: ignore[attr-defined]

    @strawberry.field
    async def account(self, info: Info) -> LazyAccountType | None:
        from server.accounts.models import Account

        return await load_by_id(info.context, Account, self.account_id, with_deleted=True)  # type: ignore[attr-defined]

    @strawberry.field
    async def order(self, info: Info) -> LazyOrderType | None:
        from server.orders.models import Order

        return await load_by_id(info.context, Order, self.order_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def actor(self, info: Info) -> UserType | None:
        from server.auth.schema import load_member

        return await load_member(info.context, self.actor_id) if self.actor_id else None  # type: ignore[attr-defined]


ActivityConnection = connection_of(ActivityType, "ActivityConnection")


async def timeline_connection(info: Info, *, first, after, account_id) -> ActivityConnection:
    ctx = info.context
    qs = ctx.scope.queryset(Activity).filter(account_id=account_id)
    first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
    return await paginate(
        ActivityConnection, qs, first=first, after=after, sort=Sort("occurred_at", datetime, Direction.DESC)
    )


@strawberry.type
class ActivityQueries:
    pass


@strawberry.type
class ActivityMutations:
    pass
