"""GraphQL for support tickets, their comments and the SLA policies."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from server.attachments.schema import attachments_field
from server.customfields import service as customfields
from server.customfields.schema import (
    CUSTOM_FIELD_FILTER,
    CUSTOM_FIELD_SORT,
    CUSTOM_FIELD_VALUES,
    CUSTOM_FIELD_VALUES_CREATE,
    CUSTOM_FIELD_VALUES_UPDATE,
    TAG_FILTER,
    TAGS,
    TAGS_UPDATE,
    CustomFieldFilter,
    CustomFieldInput,
    CustomFieldValueType,
    custom_field_values,
    typed_lookups,
    with_input_items,
)
from server.graphql import ids
from server.graphql.aggregates import GroupBy, aggregate, aggregate_of, global_id, upper
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import ChangedSince, DateTimeFilter, IDFilter, IntFilter, Lookup, StringFilter, build_q
from server.graphql.inputs import given
from server.graphql.loaders import load_by_id, load_children
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, UserType, model_type
from server.i18n import _
from server.search.query import SEARCH_FILTER_DESCRIPTION, search_lookup
from server.tickets import service
from server.tickets.models import SlaPolicy, Ticket, TicketComment

if TYPE_CHECKING:
    from server.accounts.schema import AccountType, ContactType
    from server.surveys.schema import SurveyType

LazyAccountType = Annotated["AccountType", strawberry.lazy("server.accounts.schema")]
LazyContactType = Annotated["ContactType", strawberry.lazy("server.accounts.schema")]
LazySurveyType = Annotated["SurveyType", strawberry.lazy("server.surveys.schema")]


@strawberry.enum(description="How the customer reached out.")
class TicketChannel(Enum):
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    MESSENGER = "messenger"
    WEB = "web"


@strawberry.enum(description="Decides the SLA targets (see `slaPolicies`).")
class TicketPriority(Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


@strawberry.enum(
    description="NEW → OPEN, PENDING, RESOLVED, CLOSED; OPEN → PENDING, RESOLVED, CLOSED; "
    "PENDING → OPEN, RESOLVED, CLOSED; RESOLVED → OPEN, CLOSED; CLOSED → OPEN (reopen)."
)
class TicketStatus(Enum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


async def _load_user(info: Info, user_id) -> UserType | None:
    from server.auth.schema import load_member

    return await load_member(info.context, user_id) if user_id else None


@model_type(TicketComment, description="A reply to the customer (public) or an internal note on a ticket.")
class TicketCommentType:
    body: str
    is_public: bool = strawberry.field(description="A reply meant for the customer; false: an internal note.")
    created_at: datetime

    @strawberry.field(description="Opaque ID of the comment (not fetchable with `node`).")
    def id(self) -> strawberry.ID:
        return ids.encode("TicketComment", self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="Who wrote it (null for the system or a former member).")
    async def author(self, info: Info) -> UserType | None:
        return await _load_user(info, self.author_id)  # type: ignore[attr-defined]


@model_type(Ticket, description="A support request.")
class TicketType(Node):
    attachments = attachments_field("Ticket")
    tags: list[str] = strawberry.field(description=TAGS)

    @strawberry.field(description=CUSTOM_FIELD_VALUES)
    async def custom_field_values(self, info: Info) -> list[CustomFieldValueType]:
        return await custom_field_values(info, "ticket", self)

    number: int = strawberry.field(description="The organization's human ticket number: 1, 2, 3...")
    subject: str
    description: str
    version: int = strawberry.field(description="Pass it back to update (optimistic concurrency).")
    created_at: datetime
    updated_at: datetime
    first_response_due_at: datetime | None = strawberry.field(description="SLA: the first public reply is due.")
    resolution_due_at: datetime | None = strawberry.field(description="SLA: the resolution is due.")
    first_response_at: datetime | None = strawberry.field(description="When the first public staff reply was made.")
    resolved_at: datetime | None = strawberry.field(
        description="When it was resolved (or closed without resolving); cleared on reopening."
    )

    @strawberry.field
    def channel(self) -> TicketChannel:
        return TicketChannel(self.channel)  # type: ignore[attr-defined]

    @strawberry.field
    def priority(self) -> TicketPriority:
        return TicketPriority(self.priority)  # type: ignore[attr-defined]

    @strawberry.field
    def status(self) -> TicketStatus:
        return TicketStatus(self.status)  # type: ignore[attr-defined]

    @strawberry.field(description="Statuses `changeTicketStatus` may move this ticket to now.")
    def next_statuses(self) -> list[TicketStatus]:
        return [TicketStatus(s) for s in service.TRANSITIONS[self.status]]  # type: ignore[attr-defined]

    @strawberry.field(
        description="A target was missed: the first response or the resolution is overdue now, or came late."
    )
    def sla_breached(self) -> bool:
        return service.sla_breached(self, datetime.now(UTC))  # type: ignore[arg-type]

    @strawberry.field(description="The customer; null if none or you may not see it.")
    async def account(self, info: Info) -> LazyAccountType | None:
        from server.accounts.models import Account

        if self.account_id is None or not info.context.scope.can("accounts:read"):  # type: ignore[attr-defined]
            return None
        return await load_by_id(info.context, Account, self.account_id, with_deleted=True)  # type: ignore[attr-defined]

    @strawberry.field(description="The person at the account who asked; null if none or you may not see it.")
    async def contact(self, info: Info) -> LazyContactType | None:
        from server.accounts.models import Contact

        if self.contact_id is None or not info.context.scope.can("accounts:read"):  # type: ignore[attr-defined]
            return None
        return await load_by_id(info.context, Contact, self.contact_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The member working on it; null while it waits in the queue.")
    async def assignee(self, info: Info) -> UserType | None:
        return await _load_user(info, self.assignee_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The customer's CSAT/CES survey of this ticket, once resolved (docs/surveys.md).")
    async def survey(self, info: Info) -> LazySurveyType | None:
        from server.surveys.schema import survey_of

        return await survey_of(info, "ticket_id", self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="Replies and internal notes, oldest first.")
    async def comments(self, info: Info) -> list[TicketCommentType]:
        return await load_children(info.context, TicketComment, "ticket_id", self.id)  # type: ignore[attr-defined]


TicketConnection = connection_of(TicketType, "TicketConnection")


@model_type(SlaPolicy, description="The SLA targets of one priority, in minutes after the ticket was created.")
class SlaPolicyType:
    first_response_minutes: int
    resolution_minutes: int

    @strawberry.field
    def priority(self) -> TicketPriority:
        return TicketPriority(self.priority)  # type: ignore[attr-defined]


# -- lists ---------------------------------------------------------------------


@strawberry.input(description="A status equal to, or one of.")
class TicketStatusFilter:
    eq: TicketStatus | None = None
    in_: list[TicketStatus] | None = strawberry.field(default=None, name="in")


@strawberry.input(description="A priority equal to, or one of.")
class TicketPriorityFilter:
    eq: TicketPriority | None = None
    in_: list[TicketPriority] | None = strawberry.field(default=None, name="in")


@strawberry.input(description="A channel equal to, or one of.")
class TicketChannelFilter:
    eq: TicketChannel | None = None
    in_: list[TicketChannel] | None = strawberry.field(default=None, name="in")


def _unassigned_q(value: bool) -> Q:
    return Q(assignee_id__isnull=value)


def _overdue_q(value: bool) -> Q:
    now = datetime.now(UTC)
    if value:
        late = Q(
            Q(first_response_at__isnull=True, first_response_due_at__lt=now),
            Q(resolution_due_at__lt=now),
            join_type="OR",
        )
        return Q(Q(resolved_at__isnull=True), late)
    response_ok = Q(
        Q(first_response_at__isnull=False),
        Q(first_response_due_at__isnull=True),
        Q(first_response_due_at__gte=now),
        join_type="OR",
    )
    resolution_ok = Q(Q(resolution_due_at__isnull=True), Q(resolution_due_at__gte=now), join_type="OR")
    return Q(Q(resolved_at__isnull=False), Q(response_ok, resolution_ok), join_type="OR")


@strawberry.input(description="Filters for tickets; all given conditions must hold (use OR for any).")
class TicketWhere(ChangedSince):
    and_: list[TicketWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[TicketWhere] | None = strawberry.field(default=None, name="OR")
    number: IntFilter | None = None
    status: TicketStatusFilter | None = None
    priority: TicketPriorityFilter | None = None
    channel: TicketChannelFilter | None = None
    assignee: IDFilter | None = strawberry.field(default=None, description="User IDs.")
    account: IDFilter | None = None
    subject: StringFilter | None = None
    created_at: DateTimeFilter | None = None
    unassigned: bool | None = strawberry.field(default=None, description="true: nobody's yet; false: assigned.")
    overdue: bool | None = strawberry.field(
        default=None, description="true: not resolved and a due date has passed without the target met."
    )
    search: StringFilter | None = strawberry.field(default=None, description=SEARCH_FILTER_DESCRIPTION)
    tag: StringFilter | None = strawberry.field(default=None, description=TAG_FILTER)
    custom_field: CustomFieldFilter | None = strawberry.field(default=None, description=CUSTOM_FIELD_FILTER)


TICKET_LOOKUPS = {
    "number": Lookup("number"),
    "status": Lookup("status", convert=lambda v: v.value),
    "priority": Lookup("priority", convert=lambda v: v.value),
    "channel": Lookup("channel", convert=lambda v: v.value),
    "assignee": Lookup("assignee_id", convert=lambda v: ids.decode(v, "User", "where.assignee")[1]),
    "account": Lookup("account_id", convert=lambda v: ids.decode(v, "Account", "where.account")[1]),
    "subject": Lookup("subject"),
    "created_at": Lookup("created_at"),
    "unassigned": Lookup("assignee_id", build=_unassigned_q),
    "overdue": Lookup("resolved_at", build=_overdue_q),
}


@strawberry.enum
class TicketOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NUMBER = "number"


@strawberry.input
class TicketOrder:
    field: TicketOrderField = TicketOrderField.CREATED_AT
    direction: Direction = Direction.DESC
    custom_field: str | None = strawberry.field(default=None, description=CUSTOM_FIELD_SORT)


SORT_KINDS = {"created_at": datetime, "updated_at": datetime, "number": int}


def tickets_queryset(info: Info, where=None):
    return scoped_tickets(info.context.scope, where)


def scoped_tickets(scope, where=None):
    """What the `tickets` list (and its export) reads: the caller's tickets (Scope) matching `where`."""
    lookups = {**TICKET_LOOKUPS, "search": search_lookup(scope, "ticket"), **typed_lookups(scope, "ticket")}
    return scope.queryset(Ticket).filter(build_q(where, lookups))


@strawberry.enum(description="What to group tickets by.")
class TicketGroupBy(Enum):
    STATUS = "status"
    PRIORITY = "priority"
    ASSIGNEE = "assignee"
    CHANNEL = "channel"


TicketAggregate = aggregate_of(
    "TicketAggregate",
    TicketGroupBy,
    {
        "status": GroupBy("status", key=upper),
        "priority": GroupBy("priority", key=upper),
        "assignee": GroupBy("assignee_id", key=global_id("User")),
        "channel": GroupBy("channel", key=upper),
    },
    description="Counts of the tickets a list would show, e.g. for a support board. Keys: STATUS, PRIORITY and "
    "CHANNEL the enum value, ASSIGNEE a User ID (null: unassigned). `total` is always empty.",
)


async def tickets_connection(
    info: Info, *, first, after, account_id=None, where=None, order_by=None
) -> TicketConnection:
    ctx = info.context
    order_by = order_by or TicketOrder()
    qs = tickets_queryset(info, where)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    sort = Sort(order_by.field.value, SORT_KINDS[order_by.field.value], order_by.direction)
    if order_by.custom_field:
        qs, sort = await customfields.sort_by(ctx.scope, "ticket", qs, order_by.custom_field, order_by.direction)
    first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
    return await paginate(TicketConnection, qs, first=first, after=after, sort=sort)


@strawberry.type
class TicketQueries:
    @strawberry.field(description="Counts of the tickets matching `where`, optionally grouped.")
    async def tickets_aggregate(self, info: Info, where: TicketWhere | None = None) -> TicketAggregate:
        return aggregate(TicketAggregate, tickets_queryset(info, where), info.context.scope)

    @strawberry.field(description="Tickets the caller may see, filtered and sorted (newest first by default).")
    async def tickets(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: TicketWhere | None = None,
        order_by: TicketOrder | None = None,
    ) -> TicketConnection:
        return await tickets_connection(info, first=first, after=after, where=where, order_by=order_by)

    @strawberry.field(description="One ticket, or null if not found.")
    async def ticket(self, info: Info, id: strawberry.ID) -> TicketType | None:
        return await load_by_id(info.context, Ticket, ids.decode(id, "Ticket")[1])

    @strawberry.field(description="SLA targets per priority, urgent first. Readable by everyone who works tickets.")
    async def sla_policies(self, info: Info) -> list[SlaPolicyType]:
        return await service.list_sla_policies(info.context.scope)


# -- mutations -----------------------------------------------------------------


@strawberry.input
class CreateTicketInput:
    subject: str
    description: str = ""
    channel: TicketChannel = TicketChannel.WEB
    priority: TicketPriority = TicketPriority.NORMAL
    account_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Optional; taken from the contact when only `contactId` is given."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A person at the account."
    )
    assignee_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Defaults to nobody (the queue); for managers, to themselves.",
    )
    tags: list[str] = strawberry.field(default_factory=list, description=TAGS)
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=None, description=CUSTOM_FIELD_VALUES_CREATE
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first result."
    )


@strawberry.input
class UpdateTicketInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you read; a CONFLICT error if it changed since.")
    subject: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    priority: TicketPriority | None = strawberry.field(
        default=strawberry.UNSET, description="Recomputes the due dates from the ticket's creation time."
    )
    channel: TicketChannel | None = strawberry.UNSET
    account_id: strawberry.ID | None = strawberry.UNSET
    contact_id: strawberry.ID | None = strawberry.UNSET
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS_UPDATE)
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=strawberry.UNSET, description=CUSTOM_FIELD_VALUES_UPDATE
    )


@strawberry.input
class ChangeTicketStatusInput:
    id: strawberry.ID
    version: int
    status: TicketStatus = strawberry.field(description="Must be one of the ticket's `nextStatuses`.")


@strawberry.input
class AssignTicketInput:
    id: strawberry.ID
    version: int
    assignee_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A member's user ID, or null to put the ticket back in the queue."
    )


@strawberry.input
class CommentOnTicketInput:
    ticket_id: strawberry.ID
    body: str
    is_public: bool = strawberry.field(
        default=False, description="true: a reply to the customer (the first one is the first response)."
    )


@strawberry.input
class DeleteTicketInput:
    id: strawberry.ID
    version: int


@strawberry.input
class UpdateSlaPolicyInput:
    priority: TicketPriority
    first_response_minutes: int
    resolution_minutes: int


@strawberry.type
class TicketPayload:
    ticket: TicketType | None = None
    errors: list[UserError]


@strawberry.type
class TicketCommentPayload:
    comment: TicketCommentType | None = None
    ticket: TicketType | None = None
    errors: list[UserError]


@strawberry.type
class DeleteTicketPayload:
    deleted_ticket_id: strawberry.ID | None = None
    errors: list[UserError]


@strawberry.type
class SlaPolicyPayload:
    sla_policy: SlaPolicyType | None = None
    errors: list[UserError]


def _ticket_data(input_obj) -> dict:
    data = given(
        input_obj,
        id_fields={"account_id": "Account", "contact_id": "Contact", "assignee_id": "User"},
    )
    with_input_items(data)
    for name in ("channel", "priority"):
        if isinstance(data.get(name), Enum):
            data[name] = data[name].value
    return data


def _pk(gid: str, field: str = "id"):
    return ids.decode(gid, "Ticket", field)[1]


@strawberry.type
class TicketMutations:
    @strawberry.mutation(description="Open a NEW ticket with the next number; due dates come from its priority's SLA.")
    async def create_ticket(self, info: Info, input: CreateTicketInput) -> TicketPayload:
        scope = info.context.scope

        async def act():
            return {"ticket": await service.create_ticket(scope, _ticket_data(input), input.idempotency_key)}

        return await run_mutation(TicketPayload, act)

    @strawberry.mutation(description="Change subject, description, priority, channel, account or contact.")
    async def update_ticket(self, info: Info, input: UpdateTicketInput) -> TicketPayload:
        scope = info.context.scope

        async def act():
            return {"ticket": await service.update_ticket(scope, _pk(input.id), input.version, _ticket_data(input))}

        return await run_mutation(TicketPayload, act)

    @strawberry.mutation(description="Move a ticket along the status machine (see `TicketStatus`).")
    async def change_ticket_status(self, info: Info, input: ChangeTicketStatusInput) -> TicketPayload:
        scope = info.context.scope

        async def act():
            pk = _pk(input.id)
            return {"ticket": await service.change_status(scope, pk, input.version, input.status.value)}

        return await run_mutation(TicketPayload, act)

    @strawberry.mutation(description="Give a ticket to a member, or back to the queue with `assigneeId: null`.")
    async def assign_ticket(self, info: Info, input: AssignTicketInput) -> TicketPayload:
        scope = info.context.scope

        async def act():
            if input.assignee_id is strawberry.UNSET:
                from server.core.errors import ErrorCode, UserInputError

                raise UserInputError(ErrorCode.REQUIRED, _("Give assigneeId (null to unassign)."), "assigneeId")
            assignee = ids.decode_pk(input.assignee_id, "User", "assigneeId")
            return {"ticket": await service.assign_ticket(scope, _pk(input.id), input.version, assignee)}

        return await run_mutation(TicketPayload, act)

    @strawberry.mutation(
        description="Reply to the customer (`isPublic: true`) or add an internal note. "
        "The first public reply sets `firstResponseAt` and opens a NEW ticket."
    )
    async def comment_on_ticket(self, info: Info, input: CommentOnTicketInput) -> TicketCommentPayload:
        scope = info.context.scope

        async def act():
            pk = _pk(input.ticket_id, "ticketId")
            comment, ticket = await service.comment_on_ticket(scope, pk, input.body, input.is_public)
            return {"comment": comment, "ticket": ticket}

        return await run_mutation(TicketCommentPayload, act)

    @strawberry.mutation(description="Delete a ticket and its comments for good (the audit trail keeps it).")
    async def delete_ticket(self, info: Info, input: DeleteTicketInput) -> DeleteTicketPayload:
        scope = info.context.scope

        async def act():
            deleted = await service.delete_ticket(scope, _pk(input.id), input.version)
            return {"deleted_ticket_id": ids.encode("Ticket", deleted)}

        return await run_mutation(DeleteTicketPayload, act)

    @strawberry.mutation(description="Owners and admins: set the SLA targets of a priority (for new tickets).")
    async def update_sla_policy(self, info: Info, input: UpdateSlaPolicyInput) -> SlaPolicyPayload:
        scope = info.context.scope

        async def act():
            policy = await service.update_sla_policy(
                scope, input.priority.value, input.first_response_minutes, input.resolution_minutes
            )
            return {"sla_policy": policy}

        return await run_mutation(SlaPolicyPayload, act)
