"""GraphQL for bulk actions: `bulkAction` starts one, `bulkJob`/`bulkJobs` follow its progress."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info
from tortoise.exceptions import ValidationError

from server.bulk import service
from server.bulk.models import BulkJob, BulkJobItem
from server.core.errors import ErrorCode, Problems, UserInputError
from server.core.text import camel_case
from server.graphql import ids
from server.graphql.errors import UserError, UserErrorCode, run_mutation
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, UserType, model_type
from server.i18n import _

if TYPE_CHECKING:
    from server.accounts.schema import AccountWhere
    from server.deals.schema import DealWhere
    from server.orders.schema import OrderWhere
    from server.tickets.schema import TicketWhere

LazyAccountWhere = Annotated["AccountWhere", strawberry.lazy("server.accounts.schema")]
LazyDealWhere = Annotated["DealWhere", strawberry.lazy("server.deals.schema")]
LazyOrderWhere = Annotated["OrderWhere", strawberry.lazy("server.orders.schema")]
LazyTicketWhere = Annotated["TicketWhere", strawberry.lazy("server.tickets.schema")]

TYPE_NAMES = {"orders": "Order", "deals": "Deal", "tickets": "Ticket", "accounts": "Account"}


@strawberry.enum(description="What a bulk action changes.")
class BulkObjectType(Enum):
    ORDERS = "orders"
    DEALS = "deals"
    TICKETS = "tickets"
    ACCOUNTS = "accounts"


@strawberry.enum(description="The change a bulk action makes to each record.")
class BulkActionKind(Enum):
    CHANGE_STATUS = strawberry.enum_value(
        "status", description="Orders and tickets: `status` (a status code); deals: `stageId` (lost needs `reason`)."
    )
    ASSIGN = strawberry.enum_value(
        "assign",
        description="Order manager, deal or account owner, ticket assignee: `userId` (tickets: null unassigns).",
    )
    ADD_TAGS = strawberry.enum_value("add_tags", description="Accounts, orders, deals, tickets: add `tags`.")
    REMOVE_TAGS = strawberry.enum_value("remove_tags", description="Accounts, orders, deals, tickets: remove `tags`.")
    DELETE = strawberry.enum_value(
        "delete", description="Delete (orders, deals and accounts are soft-deleted; tickets for good)."
    )


@strawberry.enum(description="Where a bulk job stands.")
class BulkJobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


@strawberry.enum(description="What happened to one record of a bulk job.")
class BulkItemState(Enum):
    PENDING = strawberry.enum_value("pending", description="Not processed yet.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="Changed.")
    REFUSED = strawberry.enum_value("refused", description="Not changed; `error` says why.")


@model_type(BulkJobItem, description="One record of a bulk job and its result.")
class BulkJobItemType:
    position: int = strawberry.field(description="Its place in the selection, from 0.")

    @strawberry.field(description="The record's global ID (an Order, Deal, Ticket or Account).")
    def target_id(self, info: Info) -> strawberry.ID:
        return ids.encode(self._type_name, self.target_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Pending, succeeded or refused.")
    def state(self) -> BulkItemState:
        return BulkItemState(self.state)  # type: ignore[attr-defined]

    @strawberry.field(
        description="Why it was refused, in the error shape of the single change (e.g. NOT_FOUND outside your "
        "rows, CONFLICT for a stale version, FORBIDDEN_TRANSITION, FORBIDDEN); null otherwise."
    )
    def error(self) -> UserError | None:
        if self.state != "refused":  # type: ignore[attr-defined]
            return None
        code = self.code  # type: ignore[attr-defined]
        known = code in ErrorCode.__members__
        return UserError(
            field=self.field,  # type: ignore[attr-defined]
            code=UserErrorCode(code) if known else UserErrorCode.FORBIDDEN,
            message=self.message,  # type: ignore[attr-defined]
        )


BulkJobItemConnection = connection_of(BulkJobItemType, "BulkJobItemConnection")


@model_type(BulkJob, description="A bulk action running in the background, with its progress and per-record results.")
class BulkJobType(Node):
    total: int = strawberry.field(description="How many records it covers.")
    succeeded: int = strawberry.field(description="How many were changed so far.")
    refused: int = strawberry.field(description="How many were refused so far (see `items(state: REFUSED)`).")
    created_at: datetime
    finished_at: datetime | None = strawberry.field(description="When the last record was processed.")

    @strawberry.field(description="What it changes.")
    def object_type(self) -> BulkObjectType:
        return BulkObjectType(self.object_type)  # type: ignore[attr-defined]

    @strawberry.field(description="The change.")
    def action(self) -> BulkActionKind:
        return BulkActionKind(self.action)  # type: ignore[attr-defined]

    @strawberry.field(description="Queued, running or done.")
    def state(self) -> BulkJobState:
        return BulkJobState(self.state)  # type: ignore[attr-defined]

    @strawberry.field(description="Records processed so far (succeeded + refused).")
    def processed(self) -> int:
        return self.succeeded + self.refused  # type: ignore[attr-defined]

    @strawberry.field(description="Who started it.")
    async def requested_by(self, info: Info) -> UserType | None:
        from server.auth.schema import load_member

        pk = self.requested_by_id  # type: ignore[attr-defined]
        return await load_member(info.context, pk) if pk else None

    @strawberry.field(description="The records and their results, in selection order; filter by state.")
    async def items(
        self, info: Info, first: int | None = None, after: str | None = None, state: BulkItemState | None = None
    ) -> BulkJobItemConnection:
        ctx = info.context
        qs = BulkJobItem.filter(job_id=self.id)  # type: ignore[attr-defined]
        if state is not None:
            qs = qs.filter(state=state.value)
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        page = await paginate(
            BulkJobItemConnection, qs, first=first, after=after, sort=Sort("position", int, Direction.ASC)
        )
        for edge in page.edges:
            edge.node._type_name = TYPE_NAMES[self.object_type]  # type: ignore[attr-defined]
        return page


BulkJobConnection = connection_of(BulkJobType, "BulkJobConnection")


@strawberry.input(description="One record of a selection; `version` (optional) makes a stale one a CONFLICT.")
class BulkTarget:
    id: strawberry.ID
    version: int | None = None


@strawberry.input(
    description=f"A bulk action over a selection (`ids`) or a filter (the list's `where`), at most "
    f"{service.MAX_ITEMS} records. Each record goes through the same checks as its single change."
)
class BulkActionInput:
    object_type: BulkObjectType
    action: BulkActionKind
    ids: list[BulkTarget] | None = strawberry.field(default=None, description="The selection.")
    order_where: LazyOrderWhere | None = strawberry.field(default=None, description="Orders matching this filter.")
    deal_where: LazyDealWhere | None = strawberry.field(default=None, description="Deals matching this filter.")
    ticket_where: LazyTicketWhere | None = strawberry.field(default=None, description="Tickets matching this filter.")
    account_where: LazyAccountWhere | None = strawberry.field(
        default=None, description="Accounts matching this filter."
    )
    status: str | None = strawberry.field(default=None, description="CHANGE_STATUS of orders and tickets: the code.")
    stage_id: strawberry.ID | None = strawberry.field(default=None, description="CHANGE_STATUS of deals: the stage.")
    reason: str | None = strawberry.field(default=None, description="Why (an order's status, a lost deal).")
    user_id: strawberry.ID | None = strawberry.field(default=None, description="ASSIGN: the member.")
    tags: list[str] | None = strawberry.field(default=None, description="ADD_TAGS / REMOVE_TAGS.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first job instead of starting another."
    )


@strawberry.type
class BulkJobPayload:
    job: BulkJobType | None = None
    errors: list[UserError]


WHERE_FIELDS = {"orders": "order_where", "deals": "deal_where", "tickets": "ticket_where", "accounts": "account_where"}


def _filtered(info: Info, object_type: str, where):
    if object_type == "orders":
        from server.orders.schema import orders_queryset

        return orders_queryset(info, where)
    if object_type == "deals":
        from server.deals.schema import deals_queryset

        return deals_queryset(info, where)
    if object_type == "tickets":
        from server.tickets.schema import tickets_queryset

        return tickets_queryset(info, where)
    from server.accounts.schema import accounts_queryset

    return accounts_queryset(info, where)


async def _targets(info: Info, input: BulkActionInput) -> list[service.Target]:
    object_type = input.object_type.value
    problems = Problems()
    wheres = {t: getattr(input, f) for t, f in WHERE_FIELDS.items() if getattr(input, f) is not None}
    if input.ids is not None and wheres:
        problems.add(ErrorCode.INVALID, _("Give either ids or a filter, not both."), "ids")
    if set(wheres) - {object_type}:
        field = WHERE_FIELDS[next(iter(set(wheres) - {object_type}))]
        problems.add(ErrorCode.INVALID, _("The filter is not of the object type."), camel_case(field))
    if input.ids is None and not wheres:
        problems.add(ErrorCode.REQUIRED, _("Give ids or a filter."), "ids")
    problems.raise_if_any()
    if input.ids is not None:
        targets = []
        for i, t in enumerate(input.ids):
            with problems:
                pk = ids.decode(t.id, TYPE_NAMES[object_type], f"ids.{i}.id")[1]
                targets.append(service.Target(pk, t.version))
        problems.raise_if_any()
        return targets
    qs = _filtered(info, object_type, wheres[object_type])
    # One more than the cap: the service then refuses the whole request as too large.
    try:
        found = await qs.order_by("created_at", "id").limit(service.MAX_ITEMS + 1).values_list("id", "version")
    except ValidationError:  # a filter value no column could hold (longer than the field): matches nothing
        field = camel_case(WHERE_FIELDS[object_type])
        raise UserInputError(ErrorCode.INVALID, _("A filter value is longer than the field allows."), field) from None
    return [service.Target(pk, version) for pk, version in found]


def _params(input: BulkActionInput) -> dict:
    params: dict = {"status": input.status, "reason": input.reason, "tags": input.tags}
    params["stage_id"] = ids.decode_pk(input.stage_id, "Stage", "stageId")
    params["user_id"] = ids.decode_pk(input.user_id, "User", "userId")
    return params


@strawberry.type
class BulkMutations:
    @strawberry.mutation(
        description="Change status, assign, tag or delete many records in the background. Returns the job at once; "
        "follow it with `bulkJob(id:)`. Each record is checked like its single change, and refused ones are listed "
        "with the reason while the others are changed."
    )
    async def bulk_action(self, info: Info, input: BulkActionInput) -> BulkJobPayload:
        scope = info.context.scope

        async def act():
            params = _params(input)
            targets = await _targets(info, input)
            job = await service.start(
                scope, input.object_type.value, input.action.value, params, targets, input.idempotency_key
            )
            return {"job": job}

        return await run_mutation(BulkJobPayload, act)


@strawberry.type
class BulkQueries:
    @strawberry.field(description="A bulk job with its progress and results, or null if not found.")
    async def bulk_job(self, info: Info, id: strawberry.ID) -> BulkJobType | None:
        pk = ids.decode(id, "BulkJob")[1]
        return await service.visible_jobs(info.context.scope).get_or_none(id=pk)

    @strawberry.field(description="Bulk jobs the caller may see, newest first.")
    async def bulk_jobs(self, info: Info, first: int | None = None, after: str | None = None) -> BulkJobConnection:
        ctx = info.context
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        qs = service.visible_jobs(ctx.scope)
        return await paginate(
            BulkJobConnection, qs, first=first, after=after, sort=Sort("created_at", datetime, Direction.DESC)
        )
