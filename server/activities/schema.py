"""GraphQL for the timeline: activities, tasks, and the system entries other domains write."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info
from tortoise.expressions import Q

from server.activities import service
from server.activities.models import MANUAL_KINDS, Activity
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import ChangedSince, DateTimeFilter, IDFilter, Lookup, build_q
from server.graphql.inputs import given
from server.graphql.loaders import load_by_id
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, UserType, model_type

if TYPE_CHECKING:
    from server.accounts.schema import AccountType
    from server.deals.schema import DealType
    from server.orders.schema import OrderType
    from server.tickets.schema import TicketType

LazyAccountType = Annotated["AccountType", strawberry.lazy("server.accounts.schema")]
LazyDealType = Annotated["DealType", strawberry.lazy("server.deals.schema")]
LazyOrderType = Annotated["OrderType", strawberry.lazy("server.orders.schema")]
LazyTicketType = Annotated["TicketType", strawberry.lazy("server.tickets.schema")]


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
    SURVEY = "survey"
    RFM_GROUP = strawberry.enum_value("rfm_group", description="The customer moved to another RFM group.")


async def _linked(info: Info, model, pk):
    """A linked record, or null when it is gone or the caller's role may not see its kind."""
    if pk is None or not info.context.scope.can(f"{model.resource}:read"):
        return None
    return await load_by_id(info.context, model, pk)


def _is_overdue(activity: Activity, now: datetime) -> bool:
    return (
        activity.kind == "task" and activity.done_at is None and activity.due_at is not None and activity.due_at < now
    )


@model_type(
    Activity, description="A timeline item of an account: a note, call, message, task, or an order/deal/ticket event."
)
class ActivityType(Node):
    subject: str
    body: str
    occurred_at: datetime = strawberry.field(description="When it happened; the timeline's order.")
    due_at: datetime | None = strawberry.field(description="Tasks: when it is due.")
    done_at: datetime | None = strawberry.field(description="Tasks: when it was completed.")
    version: int = strawberry.field(description="Pass it back to update, complete or delete (optimistic concurrency).")
    created_at: datetime
    updated_at: datetime = strawberry.field(description="Last edited or completed (see `where: {updatedAt: ...}`).")

    @strawberry.field
    def kind(self) -> ActivityKind:
        return ActivityKind(self.kind)  # type: ignore[attr-defined]

    @strawberry.field(description="Details by kind (call duration, status codes, totals...).")
    def data(self) -> JSON:
        return self.data  # type: ignore[attr-defined]

    @strawberry.field(description="True for tasks (kind TASK).")
    def is_task(self) -> bool:
        return self.kind == "task"  # type: ignore[attr-defined]

    @strawberry.field(description="A task that is not done and whose due time has passed.")
    def is_overdue(self) -> bool:
        return _is_overdue(self, datetime.now(UTC))  # type: ignore[arg-type]

    @strawberry.field(description="Written by the system (order, deal, ticket events): cannot be edited or deleted.")
    def is_system(self) -> bool:
        return self.kind not in MANUAL_KINDS  # type: ignore[attr-defined]

    @strawberry.field
    async def account(self, info: Info) -> LazyAccountType | None:
        from server.accounts.models import Account

        if self.account_id is None or not info.context.scope.can("accounts:read"):  # type: ignore[attr-defined]
            return None
        return await load_by_id(info.context, Account, self.account_id, with_deleted=True)  # type: ignore[attr-defined]

    @strawberry.field(description="The deal it is about; null if none or you may not see it.")
    async def deal(self, info: Info) -> LazyDealType | None:
        from server.deals.models import Deal

        return await _linked(info, Deal, self.deal_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The order it is about; null if none or you may not see it.")
    async def order(self, info: Info) -> LazyOrderType | None:
        from server.orders.models import Order

        return await _linked(info, Order, self.order_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The ticket it is about; null if none or you may not see it.")
    async def ticket(self, info: Info) -> LazyTicketType | None:
        from server.tickets.models import Ticket

        return await _linked(info, Ticket, self.ticket_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Who did it or wrote it (null for the system or a former member).")
    async def actor(self, info: Info) -> UserType | None:
        from server.auth.schema import load_member

        return await load_member(info.context, self.actor_id) if self.actor_id else None  # type: ignore[attr-defined]


ActivityConnection = connection_of(ActivityType, "ActivityConnection")


async def timeline_connection(info: Info, *, first, after, account_id) -> ActivityConnection:
    return await activities_connection(info, first=first, after=after, account_id=account_id)


# -- lists ---------------------------------------------------------------------


@strawberry.input(description="A kind equal to, or one of.")
class ActivityKindFilter:
    eq: ActivityKind | None = None
    in_: list[ActivityKind] | None = strawberry.field(default=None, name="in")


def _kind_q(f: ActivityKindFilter) -> Q:
    parts = []
    if f.eq is not None:
        parts.append(Q(kind=f.eq.value))
    if f.in_ is not None:
        parts.append(Q(kind__in=[k.value for k in f.in_]))
    return Q(*parts) if parts else Q()


def _done_q(done: bool) -> Q:
    return Q(kind="task", done_at__not_isnull=True) if done else Q(kind="task", done_at__isnull=True)


def _overdue_q(overdue: bool) -> Q:
    now = datetime.now(UTC)
    if overdue:
        return Q(kind="task", done_at__isnull=True, due_at__lt=now)
    # Spelled out instead of NOT(...): a NULL due_at must count as "not overdue".
    return Q(
        Q(kind__not="task"), Q(done_at__not_isnull=True), Q(due_at__isnull=True), Q(due_at__gte=now), join_type="OR"
    )


def _global(type_name: str):
    return lambda v: ids.decode(v, type_name)[1]


@strawberry.input(description="Filters for timeline items; all given conditions must hold (use OR for any).")
class ActivityWhere(ChangedSince):
    and_: list[ActivityWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[ActivityWhere] | None = strawberry.field(default=None, name="OR")
    kind: ActivityKindFilter | None = None
    account: IDFilter | None = None
    deal: IDFilter | None = None
    order: IDFilter | None = None
    ticket: IDFilter | None = None
    actor: IDFilter | None = strawberry.field(default=None, description="Who wrote it (User IDs).")
    occurred_at: DateTimeFilter | None = None
    due_at: DateTimeFilter | None = None
    done: bool | None = strawberry.field(
        default=None, description="true: completed tasks, false: open tasks (other kinds never match)."
    )
    overdue: bool | None = strawberry.field(
        default=None, description="true: open tasks past their due time, false: everything else."
    )


ACTIVITY_LOOKUPS = {
    "kind": Lookup("kind", build=_kind_q),
    "account": Lookup("account_id", convert=_global("Account")),
    "deal": Lookup("deal_id", convert=_global("Deal")),
    "order": Lookup("order_id", convert=_global("Order")),
    "ticket": Lookup("ticket_id", convert=_global("Ticket")),
    "actor": Lookup("actor_id", convert=_global("User")),
    "occurred_at": Lookup("occurred_at"),
    "due_at": Lookup("due_at"),
    "done": Lookup("done_at", build=_done_q),
    "overdue": Lookup("due_at", build=_overdue_q),
}


@strawberry.enum
class ActivityOrderField(Enum):
    OCCURRED_AT = "occurred_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class ActivityOrder:
    field: ActivityOrderField = ActivityOrderField.OCCURRED_AT
    direction: Direction = Direction.DESC


async def activities_connection(
    info: Info, *, first, after, where=None, order_by=None, account_id=None
) -> ActivityConnection:
    ctx = info.context
    order_by = order_by or ActivityOrder()
    qs = ctx.scope.queryset(Activity).filter(build_q(where, ACTIVITY_LOOKUPS))
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    sort = Sort(order_by.field.value, datetime, order_by.direction)
    first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
    return await paginate(ActivityConnection, qs, first=first, after=after, sort=sort)


@strawberry.type
class ActivityQueries:
    @strawberry.field(
        description="Timeline items the caller may see, across accounts, filtered and sorted "
        "(most recent `occurredAt` first by default). E.g. my open tasks: "
        "`where: {actor: {eq: <me>}, done: false}`."
    )
    async def activities(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: ActivityWhere | None = None,
        order_by: ActivityOrder | None = None,
    ) -> ActivityConnection:
        return await activities_connection(info, first=first, after=after, where=where, order_by=order_by)

    @strawberry.field(description="One timeline item, or null if not found.")
    async def activity(self, info: Info, id: strawberry.ID) -> ActivityType | None:
        return await load_by_id(info.context, Activity, ids.decode(id, "Activity")[1])


# -- mutations -----------------------------------------------------------------


@strawberry.input(description="A note, call, SMS, e-mail, message or task on an account's timeline.")
class CreateActivityInput:
    kind: ActivityKind = strawberry.field(description="A manual kind; system kinds (ORDER...) are refused.")
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required unless a linked deal, order or ticket gives the account."
    )
    deal_id: strawberry.ID | None = None
    order_id: strawberry.ID | None = None
    ticket_id: strawberry.ID | None = None
    subject: str | None = strawberry.field(default=None, description="Up to 300 characters; required for tasks.")
    body: str | None = None
    occurred_at: datetime | None = strawberry.field(default=None, description="Defaults to now.")
    due_at: datetime | None = strawberry.field(default=None, description="Tasks only; optional.")
    data: JSON | None = strawberry.field(default=None, description="Details as a JSON object (e.g. call duration).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first result instead of creating again."
    )


@strawberry.input(description="Change a manual timeline item; omitted fields stay as they are.")
class UpdateActivityInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you read; a CONFLICT error if it changed since.")
    subject: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    occurred_at: datetime | None = strawberry.UNSET
    due_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="Tasks only; null clears it.")
    data: JSON | None = strawberry.field(default=strawberry.UNSET, description="Replaces the whole object.")


@strawberry.input
class ActivityVersionInput:
    id: strawberry.ID
    version: int


@strawberry.type
class ActivityPayload:
    activity: ActivityType | None = None
    errors: list[UserError]


def _pk(gid: str) -> object:
    return ids.decode(gid, "Activity")[1]


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(description="Add a note, call, SMS, e-mail, message or task to an account's timeline.")
    async def create_activity(self, info: Info, input: CreateActivityInput) -> ActivityPayload:
        scope = info.context.scope

        async def act():
            data = given(
                input,
                exclude=("idempotency_key",),
                id_fields={"account_id": "Account", "deal_id": "Deal", "order_id": "Order", "ticket_id": "Ticket"},
            )
            data["kind"] = input.kind.value
            return {"activity": await service.create_activity(scope, data, input.idempotency_key)}

        return await run_mutation(ActivityPayload, act)

    @strawberry.mutation(description="Edit a manual timeline item. System entries are history: FORBIDDEN.")
    async def update_activity(self, info: Info, input: UpdateActivityInput) -> ActivityPayload:
        scope = info.context.scope

        async def act():
            return {"activity": await service.update_activity(scope, _pk(input.id), input.version, given(input))}

        return await run_mutation(ActivityPayload, act)

    @strawberry.mutation(description="Mark a task done (sets doneAt).")
    async def complete_task(self, info: Info, input: ActivityVersionInput) -> ActivityPayload:
        scope = info.context.scope

        async def act():
            return {"activity": await service.complete_task(scope, _pk(input.id), input.version)}

        return await run_mutation(ActivityPayload, act)

    @strawberry.mutation(description="Mark a completed task as not done (clears doneAt).")
    async def reopen_task(self, info: Info, input: ActivityVersionInput) -> ActivityPayload:
        scope = info.context.scope

        async def act():
            return {"activity": await service.reopen_task(scope, _pk(input.id), input.version)}

        return await run_mutation(ActivityPayload, act)

    @strawberry.mutation(
        description="Delete a manual timeline item for good (the audit trail keeps it). "
        "System entries are history: FORBIDDEN."
    )
    async def delete_activity(self, info: Info, input: ActivityVersionInput) -> ActivityPayload:
        scope = info.context.scope

        async def act():
            return {"activity": await service.delete_activity(scope, _pk(input.id), input.version)}

        return await run_mutation(ActivityPayload, act)
