"""The lists an export can take, each read through the list's own queryset code (the caller's
Scope: tenancy, row scope, field checks of `where`) and paged with the list's own keyset sort,
with the columns a spreadsheet user expects. A page is one SQL statement whatever its size:
related names come in through joins (``.values("account__name")``), never per row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tortoise.queryset import QuerySet

from server.auth.scope import Scope
from server.core.text import spreadsheet_safe
from server.graphql import ids
from server.graphql.pagination import Sort
from server.i18n import N_, gettext


@dataclass(frozen=True)
class Column:
    header: str  # msgid, translated in the requester's language
    key: str  # key of the row read with .values()
    hidden_as: tuple[str, str] | None = None  # (type, field) a role may be denied (Role.hidden_fields)
    pii: tuple[str, str] | None = None  # (type, field) of server/auth/masking.PII_FIELDS
    cents: bool = False  # an integer of cents shown as an amount
    phone: bool = False  # E.164 (or masked E.164): digits after a "+", never a formula, left as is


@dataclass(frozen=True)
class ListSpec:
    name: str
    type_name: str  # the global ID type of its rows
    where_type: type
    order_type: type
    queryset: Callable[[Scope, Any], QuerySet]
    sort_kinds: dict[str, type]
    columns: tuple[Column, ...]
    values: dict[str, str] = field(default_factory=dict)  # alias -> ORM path, for joined names
    sort_columns: dict[str, str] = field(default_factory=dict)  # orderBy value -> column it sorts on

    def sort(self, order_by) -> Sort:
        order_by = order_by or self.order_type()
        column = self.sort_columns.get(order_by.field.value, order_by.field.value)
        return Sort(column, self.sort_kinds[column], order_by.direction)

    def visible_columns(self, scope: Scope) -> list[Column]:
        return [c for c in self.columns if c.hidden_as is None or scope.can_see_field(*c.hidden_as)]

    def headers(self, columns: list[Column]) -> list[str]:
        return [gettext(c.header) for c in columns]

    def read_fields(self, columns: list[Column], sort: Sort) -> tuple[list[str], dict[str, str]]:
        """What ``.values()`` reads: the id, the sort column and the shown columns."""
        plain = {"id", sort.field, *(c.key for c in columns if c.key not in self.values)}
        joined = {c.key: self.values[c.key] for c in columns if c.key in self.values}
        return sorted(plain), joined

    def render(self, scope: Scope, columns: list[Column], row: dict) -> list:
        return [_cell(scope, self.type_name, column, row) for column in columns]


def _cell(scope: Scope, type_name: str, column: Column, row: dict):
    value = row.get(column.key)
    if column.key == "id":
        return ids.encode(type_name, value)
    if value is None:
        return ""
    if column.cents:
        return (Decimal(value) / 100).quantize(Decimal("0.01"))
    if isinstance(value, list):
        values = [str(v) for v in value]
        if column.pii is not None:
            values = [scope.mask(*column.pii, v) for v in values]
        joined = ", ".join(values)
        return joined if column.phone else spreadsheet_safe(joined)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | bool | int):  # numbers a spreadsheet can sum (CSV writes them as text)
        return value
    text = str(value)
    if column.pii is not None:
        text = scope.mask(*column.pii, text)
    return text if column.phone else spreadsheet_safe(text)


def _orders(scope: Scope, where) -> QuerySet:
    from server.orders.schema import scoped_orders

    return scoped_orders(scope, where)


def _accounts(scope: Scope, where) -> QuerySet:
    from server.accounts.models import Account
    from server.accounts.schema import scoped_accounts
    from server.analytics.schema import with_figures

    return scoped_accounts(scope, where, base=with_figures(scope.queryset(Account)))


def _contacts(scope: Scope, where) -> QuerySet:
    from server.accounts.schema import scoped_contacts

    return scoped_contacts(scope, where)


def _deals(scope: Scope, where) -> QuerySet:
    from server.deals.schema import scoped_deals

    return scoped_deals(scope, where)


def _tickets(scope: Scope, where) -> QuerySet:
    from server.tickets.schema import scoped_tickets

    return scoped_tickets(scope, where)


# The XLSX sheet's name.
SHEET_TITLES = {
    "orders": N_("Orders"),
    "accounts": N_("Accounts"),
    "contacts": N_("Contacts"),
    "deals": N_("Deals"),
    "tickets": N_("Tickets"),
}
ID = Column(N_("ID"), "id")
CREATED = Column(N_("Created"), "created_at")


def specs() -> dict[str, ListSpec]:
    """Built on first use: the domains' schema modules import much of the app."""
    from server.accounts import schema as accounts
    from server.deals import schema as deals
    from server.orders import schema as orders
    from server.tickets import schema as tickets

    return {
        "orders": ListSpec(
            "orders",
            "Order",
            orders.OrderWhere,
            orders.OrderOrder,
            _orders,
            orders.SORT_KINDS,
            (
                ID,
                Column(N_("Number"), "number"),
                CREATED,
                Column(N_("Status"), "status_name"),
                Column(N_("Customer"), "account_name"),
                Column(N_("Total"), "total"),
                Column(N_("Currency"), "currency"),
                Column(N_("Payment status"), "payment_status"),
                Column(N_("Source"), "source"),
                Column(N_("Manager"), "manager_name"),
                Column(N_("Delivery method"), "delivery_method"),
                Column(N_("Recipient"), "recipient_name"),
                Column(N_("Recipient phone"), "recipient_phone", pii=("Delivery", "recipientPhone"), phone=True),
                Column(N_("City"), "delivery_city"),
                Column(N_("Branch"), "delivery_branch"),
                Column(N_("Address"), "delivery_address", pii=("Delivery", "address")),
                Column(N_("Waybill"), "waybill_number"),
                Column(N_("Comment"), "comment"),
                Column(N_("Tags"), "tags"),
            ),
            values={"status_name": "status__name", "account_name": "account__name", "manager_name": "manager__name"},
        ),
        "accounts": ListSpec(
            "accounts",
            "Account",
            accounts.AccountWhere,
            accounts.AccountOrder,
            _accounts,
            accounts.SORT_KINDS,
            (
                ID,
                Column(N_("Name"), "name"),
                Column(N_("Kind"), "kind"),
                Column(N_("Phones"), "phones", pii=("Account", "phones"), phone=True),
                Column(N_("E-mails"), "emails", hidden_as=("Account", "emails"), pii=("Account", "emails")),
                Column(N_("Addresses"), "addresses", pii=("Account", "addresses")),
                Column(N_("Tags"), "tags", hidden_as=("Account", "tags")),
                Column(N_("Source"), "source", hidden_as=("Account", "source")),
                Column(N_("Owner"), "owner_name"),
                CREATED,
                Column(N_("Orders"), "figures_order_count"),
                Column(N_("Revenue"), "figures_revenue_cents", cents=True),
            ),
            values={"owner_name": "owner__name"},
            sort_columns=accounts.SORT_COLUMNS,
        ),
        "contacts": ListSpec(
            "contacts",
            "Contact",
            accounts.ContactWhere,
            accounts.ContactOrder,
            _contacts,
            accounts.SORT_KINDS,
            (
                ID,
                Column(N_("Name"), "name"),
                Column(N_("Position"), "position"),
                Column(N_("Customer"), "account_name"),
                Column(N_("Phones"), "phones", pii=("Contact", "phones"), phone=True),
                Column(N_("E-mails"), "emails", pii=("Contact", "emails")),
            ),
            values={"account_name": "account__name"},
        ),
        "deals": ListSpec(
            "deals",
            "Deal",
            deals.DealWhere,
            deals.DealOrder,
            _deals,
            deals.SORT_KINDS,
            (
                ID,
                Column(N_("Title"), "title"),
                Column(N_("Customer"), "account_name"),
                Column(N_("Pipeline"), "pipeline_name"),
                Column(N_("Stage"), "stage_name"),
                Column(N_("Amount"), "amount"),
                Column(N_("Currency"), "currency"),
                Column(N_("Expected close date"), "expected_close_date"),
                Column(N_("Owner"), "owner_name"),
                Column(N_("Source"), "source"),
                Column(N_("Tags"), "tags"),
                CREATED,
                Column(N_("Closed"), "closed_at"),
            ),
            values={
                "account_name": "account__name",
                "pipeline_name": "pipeline__name",
                "stage_name": "stage__name",
                "owner_name": "owner__name",
            },
        ),
        "tickets": ListSpec(
            "tickets",
            "Ticket",
            tickets.TicketWhere,
            tickets.TicketOrder,
            _tickets,
            tickets.SORT_KINDS,
            (
                ID,
                Column(N_("Number"), "number"),
                Column(N_("Subject"), "subject", pii=("Ticket", "subject")),
                Column(N_("Status"), "status"),
                Column(N_("Priority"), "priority"),
                Column(N_("Channel"), "channel"),
                Column(N_("Customer"), "account_name"),
                Column(N_("Assignee"), "assignee_name"),
                Column(N_("Tags"), "tags"),
                CREATED,
                Column(N_("Resolved"), "resolved_at"),
            ),
            values={"account_name": "account__name", "assignee_name": "assignee__name"},
        ),
    }
