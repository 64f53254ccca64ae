"""GraphQL for accounts and contacts, including the account's 360° view."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info
from tortoise.expressions import Q, Subquery

from server.accounts import service
from server.accounts.models import Account, AccountIdentifier, Contact
from server.attachments.schema import attachments_field
from server.auth.models import User
from server.core.errors import BadRequest, Forbidden
from server.core.phones import try_e164
from server.customfields import service as customfields
from server.customfields.schema import (
    CUSTOM_FIELD_SORT,
    CUSTOM_FIELD_VALUES,
    CustomFieldFilter,
    CustomFieldInput,
    CustomFieldValueType,
    custom_field_values,
    input_items,
)
from server.graphql import ids
from server.graphql.aggregates import GroupBy, aggregate, aggregate_of, global_id, upper
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import (
    MAX_IN_VALUES,
    MAX_NESTING,
    ChangedSince,
    DateTimeFilter,
    DecimalFilter,
    IDFilter,
    IntFilter,
    Lookup,
    StringFilter,
    build_q,
)
from server.graphql.inputs import given
from server.graphql.loaders import load_by_id, load_children
from server.graphql.pagination import DELETED_AT, INCLUDE_DELETED, Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, UserType, model_type
from server.i18n import _
from server.search.query import SEARCH_FILTER_DESCRIPTION, search_lookup

if TYPE_CHECKING:
    from server.activities.schema import ActivityConnection
    from server.analytics.schema import CustomerFiguresType, RfmGroupFilter
    from server.deals.schema import DealConnection
    from server.orders.schema import OrderConnection
    from server.tickets.schema import TicketConnection

LazyOrderConnection = Annotated["OrderConnection", strawberry.lazy("server.orders.schema")]
LazyDealConnection = Annotated["DealConnection", strawberry.lazy("server.deals.schema")]
LazyTicketConnection = Annotated["TicketConnection", strawberry.lazy("server.tickets.schema")]
LazyActivityConnection = Annotated["ActivityConnection", strawberry.lazy("server.activities.schema")]
LazyCustomerFigures = Annotated["CustomerFiguresType", strawberry.lazy("server.analytics.schema")]
LazyRfmGroupFilter = Annotated["RfmGroupFilter", strawberry.lazy("server.analytics.schema")]


@strawberry.enum(description="A company or a private person.")
class AccountKind(Enum):
    PERSON = "person"
    COMPANY = "company"


def _require_visible(info: Info, field_name: str) -> None:
    """Marketing fields some roles may not see (``Role.hidden_fields``): a FORBIDDEN error on the field."""
    if not info.context.scope.can_see_field("Account", field_name):
        raise Forbidden(_("Your role may not see Account.%(field_name)s.", field_name=field_name))


@model_type(Contact, description="A person at a company account.")
class ContactType(Node):
    name: str
    position: str | None
    phones: list[str] = strawberry.field(description="E.164 phone numbers.")
    emails: list[str]
    version: int = strawberry.field(description="Pass it back to update or delete (optimistic concurrency).")
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    async def account(self, info: Info) -> AccountType | None:
        return await load_by_id(info.context, Account, self.account_id)  # type: ignore[attr-defined]

    @strawberry.field(description=CUSTOM_FIELD_VALUES)
    async def custom_field_values(self, info: Info) -> list[CustomFieldValueType]:
        return await custom_field_values(info, "contact", self)


@model_type(Account, description="A customer: a company or a person. `account(id:)` is its 360° view.")
class AccountType(Node):
    attachments = attachments_field("Account")
    name: str
    version: int = strawberry.field(description="Pass it back to update or delete (optimistic concurrency).")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = strawberry.field(description=DELETED_AT)
    addresses: list[str]

    @strawberry.field
    def kind(self) -> AccountKind:
        return AccountKind(self.kind)  # type: ignore[attr-defined]

    @strawberry.field(description="The primary phone, E.164 (e.g. +380671234567).")
    def phone(self) -> str | None:
        return self.primary_phone  # type: ignore[attr-defined]

    @strawberry.field(description="All phones, E.164, the primary first.")
    def phones(self) -> list[str]:
        return self.phones  # type: ignore[attr-defined]

    @strawberry.field(description="E-mail addresses, lower case.")
    def emails(self, info: Info) -> list[str] | None:
        _require_visible(info, "emails")
        return self.emails  # type: ignore[attr-defined]

    @strawberry.field(description="Tags, lower case.")
    def tags(self, info: Info) -> list[str] | None:
        _require_visible(info, "tags")
        return self.tags  # type: ignore[attr-defined]

    @strawberry.field(description="Where the customer came from (website, instagram, rozetka...).")
    def source(self, info: Info) -> str | None:
        _require_visible(info, "source")
        return self.source  # type: ignore[attr-defined]

    @strawberry.field(
        description="Free-form JSON kept for older clients; use `customFieldValues`.",
        deprecation_reason="Use customFieldValues: typed values of the fields in customFieldDefinitions.",
    )
    def custom_fields(self, info: Info) -> JSON | None:
        _require_visible(info, "customFields")
        return self.custom_fields  # type: ignore[attr-defined]

    @strawberry.field(description=CUSTOM_FIELD_VALUES)
    async def custom_field_values(self, info: Info) -> list[CustomFieldValueType]:
        return await custom_field_values(info, "account", self)

    @strawberry.field(description="The user responsible for this account.")
    async def owner(self, info: Info) -> UserType | None:
        return await _load_user(info, self.owner_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Set when this account was merged into another (and deleted).")
    def merged_into_id(self) -> strawberry.ID | None:
        pk = self.merged_into_id  # type: ignore[attr-defined]
        return ids.encode("Account", pk) if pk else None

    @strawberry.field(
        description="What this customer's orders add up to: order count, first and last order, revenue, "
        "average order value and lifetime value per currency, RFM scores and group. "
        "Whoever may see the account may see these."
    )
    async def figures(self, info: Info) -> LazyCustomerFigures:
        from server.analytics.schema import load_figures

        return await load_figures(info, self)

    @strawberry.field(description="People at this account.")
    async def contacts(self, info: Info) -> list[ContactType]:
        return await load_children(info.context, Contact, "account_id", self.id, ("name", "id"))  # type: ignore[attr-defined]

    @strawberry.field(description="This account's deals, newest first; null for roles without access to deals.")
    async def deals(self, info: Info, first: int | None = None, after: str | None = None) -> LazyDealConnection | None:
        if not info.context.scope.can("deals:read"):
            return None  # the role does not work with deals: nothing to show, not an error
        from server.deals.schema import deals_connection

        return await deals_connection(info, first=first, after=after, account_id=self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="This account's orders, newest first.")
    async def orders(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> LazyOrderConnection | None:
        if not info.context.scope.can("orders:read"):
            return None  # the role does not work with orders: nothing to show, not an error
        from server.orders.schema import orders_connection

        return await orders_connection(info, first=first, after=after, account_id=self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="This account's tickets, newest first; null for roles without access to tickets.")
    async def tickets(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> LazyTicketConnection | None:
        if not info.context.scope.can("tickets:read"):
            return None  # the role does not work with tickets: nothing to show, not an error
        from server.tickets.schema import tickets_connection

        return await tickets_connection(info, first=first, after=after, account_id=self.id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="Every touchpoint, newest first: notes, calls, messages, tasks, "
        "order and deal status changes, new orders, deals and tickets."
    )
    async def timeline(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> LazyActivityConnection | None:
        if not info.context.scope.can("activities:read"):
            return None  # the role does not work with activities: nothing to show, not an error
        from server.activities.schema import timeline_connection

        return await timeline_connection(info, first=first, after=after, account_id=self.id)  # type: ignore[attr-defined]


AccountConnection = connection_of(AccountType, "AccountConnection")
ContactConnection = connection_of(ContactType, "ContactConnection")


async def _load_user(info: Info, user_id) -> User | None:
    if user_id is None:
        return None
    from server.auth.schema import load_member

    return await load_member(info.context, user_id)


# -- lists ---------------------------------------------------------------------


def _identifier_q(organization_id, kind: str, normalize):
    def build(f: StringFilter) -> Q:
        values = [f.eq] if f.eq is not None else list(f.in_ or [])
        if len(values) > MAX_IN_VALUES:
            raise BadRequest(
                _("`%(kind)s.in` takes at most %(max_in_values)s values.", kind=kind, max_in_values=MAX_IN_VALUES)
            )
        normalized = [v for v in (normalize(x) for x in values) if v]
        sub = AccountIdentifier.filter(organization_id=organization_id, kind=kind, value__in=normalized)
        return Q(id__in=Subquery(sub.values("account_id")))

    return build


@strawberry.input(description="Filters for accounts; all given conditions must hold (use OR for any).")
class AccountWhere(ChangedSince):
    and_: list[AccountWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[AccountWhere] | None = strawberry.field(default=None, name="OR")
    name: StringFilter | None = None
    phone: StringFilter | None = strawberry.field(
        default=None, description="Any phone equal to (eq/in); any format, normalized to E.164."
    )
    email: StringFilter | None = strawberry.field(default=None, description="Any e-mail equal to (eq/in).")
    tag: StringFilter | None = strawberry.field(default=None, description="Has the tag (eq) or one of the tags (in).")
    search: StringFilter | None = strawberry.field(default=None, description=SEARCH_FILTER_DESCRIPTION)
    kind: StringFilter | None = None
    source: StringFilter | None = None
    owner: IDFilter | None = None
    created_at: DateTimeFilter | None = None
    order_count: IntFilter | None = strawberry.field(
        default=None, description="Number of counted orders (`figures.orderCount`); no orders is 0."
    )
    last_order_at: DateTimeFilter | None = strawberry.field(
        default=None, description="When the last counted order was placed; accounts without orders never match."
    )
    days_since_last_order: IntFilter | None = strawberry.field(
        default=None, description="Whole days since the last order (eq, gte, lte); accounts without orders never match."
    )
    revenue: DecimalFilter | None = strawberry.field(
        default=None, description="Revenue in the organization's currency (`figures.revenue`); no orders is 0."
    )
    rfm_group: LazyRfmGroupFilter | None = strawberry.field(default=None, description="The customer's RFM group.")
    custom_field: CustomFieldFilter | None = strawberry.field(default=None, description="By a custom field's value.")


# Filters on fields a role may not see would reveal them (which accounts are "vip"?).
GUARDED_FILTERS = {"email": "emails", "tag": "tags", "source": "source"}


def _account_lookups(scope) -> dict[str, Lookup]:
    org = scope.organization_id
    return {
        "name": Lookup("name"),
        "phone": Lookup("id", build=_identifier_q(org, "phone", try_e164)),
        "email": Lookup("id", build=_identifier_q(org, "email", lambda v: v.strip().lower())),
        "tag": Lookup("id", build=_identifier_q(org, "tag", lambda v: v.strip().lower())),
        "search": search_lookup(scope, "account"),
        "kind": Lookup("kind"),
        "source": Lookup("source"),
        "owner": Lookup("owner_id", convert=lambda v: ids.decode(v, "User")[1]),
        "created_at": Lookup("created_at"),
        "custom_field": Lookup("id", build=customfields.custom_field_q(scope, "account")),
        **figures_lookups(),
    }


def scoped_contacts(scope, where=None):
    """What the `contacts` list (and its export) reads: the caller's contacts (Scope) matching `where`."""
    lookups = {
        **CONTACT_LOOKUPS,
        "search": search_lookup(scope, "contact"),
        "custom_field": Lookup("id", build=customfields.custom_field_q(scope, "contact")),
    }
    return scope.queryset(Contact).filter(build_q(where, lookups))


def figures_lookups() -> dict[str, Lookup]:
    from server.analytics import schema as figures

    return {
        "order_count": Lookup("id", build=figures.order_count_q),
        "last_order_at": Lookup("id", build=figures.last_order_q),
        "days_since_last_order": Lookup("id", build=figures.days_since_last_order_q),
        "revenue": Lookup("id", build=figures.revenue_q),
        "rfm_group": Lookup("id", build=figures.rfm_group_q),
    }


def _check_filters(scope, where, depth: int = 0) -> None:
    if where is None or depth > MAX_NESTING:
        return  # build_q reports too deep nesting
    for name, field_name in GUARDED_FILTERS.items():
        if getattr(where, name, None) is not None and not scope.can_see_field("Account", field_name):
            raise Forbidden(
                _(
                    "Your role may not see Account.%(field_name)s, so it may not filter by it either.",
                    field_name=field_name,
                )
            )
    for sub in [*(where.and_ or []), *(where.or_ or [])]:
        _check_filters(scope, sub, depth + 1)


@strawberry.enum
class AccountOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"
    ORDER_COUNT = strawberry.enum_value("figures_order_count", description="Number of counted orders.")
    LAST_ORDER_AT = strawberry.enum_value(
        "figures_last_order_at", description="Last order date; accounts without orders sort as the oldest."
    )
    REVENUE = strawberry.enum_value("figures_revenue", description="Revenue in the organization's currency.")


@strawberry.input
class AccountOrder:
    field: AccountOrderField = AccountOrderField.CREATED_AT
    direction: Direction = Direction.DESC
    custom_field: str | None = strawberry.field(default=None, description=CUSTOM_FIELD_SORT)


SORT_KINDS = {
    "created_at": datetime,
    "updated_at": datetime,
    "name": str,
    "number": int,
    "total": Decimal,
    "figures_order_count": int,
    "figures_last_order_at": datetime,
    "figures_revenue_cents": int,
}
# Sort fields that are columns of the customer figures joined to the account.
SORT_COLUMNS = {"figures_revenue": "figures_revenue_cents"}


def accounts_queryset(info: Info, where=None, *, include_deleted=False, base=None):
    return scoped_accounts(info.context.scope, where, include_deleted=include_deleted, base=base)


def scoped_accounts(scope, where=None, *, include_deleted=False, base=None):
    """What the `accounts` list (and its export) reads: the caller's accounts (Scope) matching
    `where` (field rules checked); ``base``: the accounts to start from instead (a segment's members)."""
    qs = base if base is not None else scope.queryset(Account, with_deleted=include_deleted)
    _check_filters(scope, where)
    return qs.filter(build_q(where, _account_lookups(scope)))


@strawberry.enum(description="What to group accounts by.")
class AccountGroupBy(Enum):
    SOURCE = "source"
    OWNER = "owner"
    KIND = "kind"


AccountAggregate = aggregate_of(
    "AccountAggregate",
    AccountGroupBy,
    {
        "source": GroupBy("source", guard=("Account", "source")),
        "owner": GroupBy("owner_id", key=global_id("User")),
        "kind": GroupBy("kind", key=upper),
    },
    description="Counts of the accounts a list would show. Keys: SOURCE as stored (roles that may not see "
    "Account.source may not group by it), OWNER a User ID, KIND the enum value. `total` is always empty.",
)


async def accounts_connection(
    info: Info, *, first, after, where=None, order_by=None, include_deleted=False, base=None
) -> AccountConnection:
    """A page of accounts; ``base``: a queryset of them with figures joined (a segment's members)."""
    from server.analytics.schema import with_figures

    ctx = info.context
    order_by = order_by or AccountOrder()
    base = base if base is not None else with_figures(ctx.scope.queryset(Account, with_deleted=include_deleted))
    qs = accounts_queryset(info, where, base=base)
    column = SORT_COLUMNS.get(order_by.field.value, order_by.field.value)
    sort = Sort(column, SORT_KINDS[column], order_by.direction)
    if order_by.custom_field:
        qs, sort = await customfields.sort_by(ctx.scope, "account", qs, order_by.custom_field, order_by.direction)
    first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
    return await paginate(AccountConnection, qs, first=first, after=after, sort=sort)


@strawberry.type
class AccountQueries:
    @strawberry.field(description="Accounts the caller may see, filtered and sorted.")
    async def accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: AccountWhere | None = None,
        order_by: AccountOrder | None = None,
        include_deleted: Annotated[bool, strawberry.argument(description=INCLUDE_DELETED)] = False,
    ) -> AccountConnection:
        return await accounts_connection(
            info, first=first, after=after, where=where, order_by=order_by, include_deleted=include_deleted
        )

    @strawberry.field(description="Counts of the accounts matching `where`, optionally grouped.")
    async def accounts_aggregate(self, info: Info, where: AccountWhere | None = None) -> AccountAggregate:
        return aggregate(AccountAggregate, accounts_queryset(info, where), info.context.scope)

    @strawberry.field(description="One account with everything about it, or null if not found.")
    async def account(self, info: Info, id: strawberry.ID) -> AccountType | None:
        return await load_by_id(info.context, Account, ids.decode(id, "Account")[1])

    @strawberry.field(description="Contacts the caller may see, by name.")
    async def contacts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: ContactWhere | None = None,
        order_by: ContactOrder | None = None,
    ) -> ContactConnection:
        ctx = info.context
        order_by = order_by or ContactOrder()
        qs = scoped_contacts(ctx.scope, where)
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        sort = Sort(order_by.field.value, SORT_KINDS[order_by.field.value], order_by.direction)
        if order_by.custom_field:
            qs, sort = await customfields.sort_by(ctx.scope, "contact", qs, order_by.custom_field, order_by.direction)
        return await paginate(ContactConnection, qs, first=first, after=after, sort=sort)


@strawberry.enum
class ContactOrderField(Enum):
    NAME = "name"
    UPDATED_AT = "updated_at"


@strawberry.input
class ContactOrder:
    field: ContactOrderField = ContactOrderField.NAME
    direction: Direction = Direction.ASC
    custom_field: str | None = strawberry.field(default=None, description=CUSTOM_FIELD_SORT)


@strawberry.input
class ContactWhere(ChangedSince):
    and_: list[ContactWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[ContactWhere] | None = strawberry.field(default=None, name="OR")
    name: StringFilter | None = None
    account: IDFilter | None = None
    search: StringFilter | None = strawberry.field(default=None, description=SEARCH_FILTER_DESCRIPTION)
    custom_field: CustomFieldFilter | None = strawberry.field(default=None, description="By a custom field's value.")


CONTACT_LOOKUPS = {
    "name": Lookup("name"),
    "account": Lookup("account_id", convert=lambda v: ids.decode(v, "Account")[1]),
}


# -- mutations -----------------------------------------------------------------


@strawberry.input
class CreateAccountInput:
    name: str
    kind: AccountKind = AccountKind.PERSON
    phones: list[str] = strawberry.field(
        default_factory=list,
        description="Any format; stored as E.164 (region UA by default). The first is the primary.",
    )
    emails: list[str] = strawberry.field(default_factory=list)
    addresses: list[str] = strawberry.field(default_factory=list)
    tags: list[str] = strawberry.field(default_factory=list)
    source: str | None = None
    owner_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Defaults to the caller.")
    custom_fields: JSON | None = strawberry.field(
        default=None, description="Deprecated free-form JSON kept for older clients; use `customFieldValues`."
    )
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=None, description="Values of the organization's custom fields (required ones must be given)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first result instead of creating again."
    )


@strawberry.input
class UpdateAccountInput:
    id: strawberry.ID
    version: int = strawberry.field(description="The version you read; a CONFLICT error if it changed since.")
    name: str | None = strawberry.UNSET
    kind: AccountKind | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    addresses: list[str] | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    source: str | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    custom_fields: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="Deprecated free-form JSON kept for older clients; use `customFieldValues`.",
    )
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Custom fields to set; those not given stay as they are."
    )


@strawberry.input
class DeleteInput:
    id: strawberry.ID
    version: int


@strawberry.input(
    description="Merge `mergeId` into `id`: its contacts, deals, orders, tickets and timeline move over, "
    "phones, e-mails and tags are combined, and the duplicate is deleted."
)
class MergeAccountsInput:
    id: strawberry.ID
    version: int
    merge_id: strawberry.ID


@strawberry.enum(description="Which identifier two customers share.")
class DuplicateKind(Enum):
    PHONE = "phone"
    EMAIL = "email"


def shown_value(scope, kind: str, value: str) -> str:
    """A phone or e-mail as the caller may see it (masked without pii:read)."""
    return scope.mask("Account", "phones" if kind == "phone" else "emails", value)


@strawberry.type(
    description="An existing account or contact the caller may see that already has one of the phones or "
    "e-mails just saved (the organization's duplicate policy is WARN, or the change came from an import)."
)
class DuplicateMatch:
    field: str = strawberry.field(description="The input field holding the shared value, e.g. `phones.0`.")
    kind: DuplicateKind = strawberry.field(description="Phone or e-mail.")
    value: str = strawberry.field(
        description="The shared value, normalized (E.164, lower case); masked for callers without `pii:read`."
    )
    account: AccountType | None = strawberry.field(description="The existing account, if the match is an account.")
    contact: ContactType | None = strawberry.field(description="The existing contact, if the match is a contact.")


def duplicate_matches(info: Info, obj) -> list[DuplicateMatch]:
    scope = info.context.scope
    return [
        DuplicateMatch(
            field=m.field,
            kind=DuplicateKind(m.kind),
            value=shown_value(scope, m.kind, m.value),
            account=m.account,
            contact=m.contact,
        )
        for m in getattr(obj, "duplicate_matches", None) or []  # set by the service on create/update
    ]


DUPLICATES = (
    "Existing records (that you may see) sharing a phone or e-mail given in this change: a warning, "
    "the change was saved. Empty when there are none or nothing was changed."
)


@strawberry.type
class AccountPayload:
    account: AccountType | None = None
    errors: list[UserError]
    duplicates: list[DuplicateMatch] = strawberry.field(default_factory=list, description=DUPLICATES)


@strawberry.input
class CreateContactInput:
    account_id: strawberry.ID
    name: str
    position: str | None = None
    phones: list[str] = strawberry.field(default_factory=list)
    emails: list[str] = strawberry.field(default_factory=list)
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=None, description="Values of the organization's custom fields (required ones must be given)."
    )
    idempotency_key: str | None = None


@strawberry.input
class UpdateContactInput:
    id: strawberry.ID
    version: int
    name: str | None = strawberry.UNSET
    position: str | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Custom fields to set; those not given stay as they are."
    )


@strawberry.input(
    description="Merge contact `mergeId` into contact `id` (both of one account): its deals and tickets move "
    "over, phones and e-mails are combined, and the duplicate is deleted."
)
class MergeContactsInput:
    id: strawberry.ID
    version: int
    merge_id: strawberry.ID


@strawberry.type
class ContactPayload:
    contact: ContactType | None = None
    errors: list[UserError]
    duplicates: list[DuplicateMatch] = strawberry.field(default_factory=list, description=DUPLICATES)


def _account_data(input_obj) -> dict:
    data = given(input_obj, id_fields={"owner_id": "User"})
    if "custom_field_values" in data:
        data["custom_field_values"] = input_items(data["custom_field_values"])
    if "kind" in data and data["kind"] is not None:
        data["kind"] = data["kind"].value
    return data


@strawberry.type
class AccountMutations:
    @strawberry.mutation
    async def create_account(self, info: Info, input: CreateAccountInput) -> AccountPayload:
        scope = info.context.scope

        async def act():
            account = await service.create_account(scope, _account_data(input), input.idempotency_key)
            return {"account": account, "duplicates": duplicate_matches(info, account)}

        return await run_mutation(AccountPayload, act)

    @strawberry.mutation
    async def update_account(self, info: Info, input: UpdateAccountInput) -> AccountPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Account")[1]
            account = await service.update_account(scope, pk, input.version, _account_data(input))
            return {"account": account, "duplicates": duplicate_matches(info, account)}

        return await run_mutation(AccountPayload, act)

    @strawberry.mutation(description="Soft delete: gone from lists, history kept.")
    async def delete_account(self, info: Info, input: DeleteInput) -> AccountPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Account")[1]
            return {"account": await service.delete_account(scope, pk, input.version)}

        return await run_mutation(AccountPayload, act)

    @strawberry.mutation
    async def merge_accounts(self, info: Info, input: MergeAccountsInput) -> AccountPayload:
        scope = info.context.scope

        async def act():
            keep = ids.decode(input.id, "Account")[1]
            dup = ids.decode(input.merge_id, "Account", "mergeId")[1]
            return {"account": await service.merge_accounts(scope, keep, input.version, dup)}

        return await run_mutation(AccountPayload, act)

    @strawberry.mutation
    async def create_contact(self, info: Info, input: CreateContactInput) -> ContactPayload:
        scope = info.context.scope

        async def act():
            account_id = ids.decode(input.account_id, "Account", "accountId")[1]
            data = given(input, exclude=("account_id", "idempotency_key"))
            data["custom_field_values"] = input_items(data.get("custom_field_values"))
            contact = await service.create_contact(scope, account_id, data, input.idempotency_key)
            return {"contact": contact, "duplicates": duplicate_matches(info, contact)}

        return await run_mutation(ContactPayload, act)

    @strawberry.mutation
    async def update_contact(self, info: Info, input: UpdateContactInput) -> ContactPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Contact")[1]
            data = given(input)
            if "custom_field_values" in data:
                data["custom_field_values"] = input_items(data["custom_field_values"])
            contact = await service.update_contact(scope, pk, input.version, data)
            return {"contact": contact, "duplicates": duplicate_matches(info, contact)}

        return await run_mutation(ContactPayload, act)

    @strawberry.mutation(description="Merge two contacts of one account; audited on both.")
    async def merge_contacts(self, info: Info, input: MergeContactsInput) -> ContactPayload:
        scope = info.context.scope

        async def act():
            keep = ids.decode(input.id, "Contact")[1]
            dup = ids.decode(input.merge_id, "Contact", "mergeId")[1]
            return {"contact": await service.merge_contacts(scope, keep, input.version, dup)}

        return await run_mutation(ContactPayload, act)

    @strawberry.mutation
    async def delete_contact(self, info: Info, input: DeleteInput) -> ContactPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Contact")[1]
            return {"contact": await service.delete_contact(scope, pk, input.version)}

        return await run_mutation(ContactPayload, act)
