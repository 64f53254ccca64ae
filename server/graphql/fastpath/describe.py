"""Where each field of the planned types comes from: one description per GraphQL type.

The planner (plan.py) reads these together with the GraphQL schema (for types, nullability,
enums and scalars); a field that is not described here is not planned, and a query that asks
for it is answered by strawberry as before. Permissions are not described here: every read
goes through ``Scope.queryset`` and hidden fields through ``Scope.can_see_field``; customers'
phones, e-mails and addresses are masked by their (type, field) in ``server.auth.masking.PII_FIELDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from server.accounts.models import Account, Contact
from server.graphql import ids
from server.graphql.fastpath import sqlvalues
from server.orders.models import Order, OrderItem, OrderStatus


@dataclass(frozen=True)
class Column:
    """A scalar (or enum, or list of scalars) read from one column of the row."""

    column: str
    hidden_as: tuple[str, str] | None = None  # (type, field) for Role.hidden_fields


@dataclass(frozen=True)
class Computed:
    """A value computed from columns of the row, as the stock resolver returns it (serialized
    like a column of the field's GraphQL type)."""

    columns: tuple[str, ...]
    make: Callable[[dict], object]
    # The same value's JSON text in SQL, from a function giving each column's SQL reference
    # (sqljson.py); None: plans with this field are written by Python only.
    sql: Callable[[Callable[[str], str]], str] | None = None


@dataclass(frozen=True)
class Embedded:
    """A nested object built from the same row (Money, Delivery): its field -> our column."""

    columns: dict[str, str]


@dataclass(frozen=True)
class One:
    """A related row by foreign key, read as ``load_by_id`` reads it (nullable when not visible)."""

    model: type
    fk: str
    with_deleted: bool = False


@dataclass(frozen=True)
class Many:
    """Child rows by their foreign key to this row, as ``load_children`` reads them."""

    model: type
    fk: str
    order_by: tuple[str, ...]
    carry: dict[str, str] = field(default_factory=dict)  # child key -> our column (e.g. currency)


@dataclass(frozen=True)
class Nested:
    """A connection under an object (an account's orders): ``query(scope, settings, row, **arguments)``
    gives (queryset, Sort, first, after), or None when the field is null for this caller."""

    query: Callable
    model: type  # the listed rows' table


@dataclass(frozen=True)
class TypeSpec:
    model: type | None  # None: an embedded type (no table of its own)
    fields: dict[str, Column | Computed | Embedded | One | Many | Nested]


def _global_id(type_name: str) -> Computed:
    return Computed(("id",), lambda row: ids.encode(type_name, row["id"]), sqlvalues.global_id(type_name))


def _money(amount: str, currency: str = "currency") -> Embedded:
    return Embedded({"amount": amount, "currency": currency})


TYPES: dict[str, TypeSpec] = {
    "Money": TypeSpec(None, {"amount": Column("amount"), "currency": Column("currency")}),
    "Delivery": TypeSpec(
        None,
        {
            name: Column(name)
            for name in ("method", "recipientName", "recipientPhone", "city", "branch", "address", "waybillNumber")
        },
    ),
    "OrderStatus": TypeSpec(
        OrderStatus,
        {
            "id": _global_id("OrderStatus"),
            "code": Column("code"),
            "name": Column("name"),
            "position": Column("position"),
            "isInitial": Column("is_initial"),
            "group": Column("group"),
        },
    ),
    "OrderItem": TypeSpec(
        OrderItem,
        {
            "sku": Column("sku"),
            "title": Column("title"),
            "quantity": Computed(("quantity",), lambda row: _quantity(row["quantity"]), sqlvalues.quantity("quantity")),
            "unitPrice": _money("unit_price", "_currency"),
            "discount": _money("discount", "_currency"),
            "total": _money("total", "_currency"),
        },
    ),
    "Order": TypeSpec(
        Order,
        {
            "id": _global_id("Order"),
            "number": Column("number"),
            "createdAt": Column("created_at"),
            "updatedAt": Column("updated_at"),
            "version": Column("version"),
            "currency": Column("currency"),
            "source": Column("source"),
            "externalId": Column("external_id"),
            "comment": Column("comment"),
            "paymentStatus": Column("payment_status"),
            "tags": Column("tags"),
            "subtotal": _money("subtotal"),
            "discountTotal": _money("discount_total"),
            "total": _money("total"),
            "delivery": Embedded(
                {
                    "method": "delivery_method",
                    "recipientName": "recipient_name",
                    "recipientPhone": "recipient_phone",
                    "city": "delivery_city",
                    "branch": "delivery_branch",
                    "address": "delivery_address",
                    "waybillNumber": "waybill_number",
                }
            ),
            "status": One(OrderStatus, "status_id"),
            "account": One(Account, "account_id", with_deleted=True),
            "items": Many(OrderItem, "order_id", ("position", "id"), carry={"_currency": "currency"}),
        },
    ),
    "Contact": TypeSpec(
        Contact,
        {
            "id": _global_id("Contact"),
            "name": Column("name"),
            "position": Column("position"),
            "phones": Column("phones"),
            "emails": Column("emails"),
            "version": Column("version"),
            "createdAt": Column("created_at"),
            "updatedAt": Column("updated_at"),
            "account": One(Account, "account_id"),
        },
    ),
    "Account": TypeSpec(
        Account,
        {
            "id": _global_id("Account"),
            "name": Column("name"),
            "version": Column("version"),
            "createdAt": Column("created_at"),
            "updatedAt": Column("updated_at"),
            "addresses": Column("addresses"),
            "kind": Column("kind"),
            "phone": Computed(
                ("phones",), lambda row: row["phones"][0] if row["phones"] else None, sqlvalues.first_string("phones")
            ),
            "phones": Column("phones"),
            "emails": Column("emails", hidden_as=("Account", "emails")),
            "tags": Column("tags", hidden_as=("Account", "tags")),
            "source": Column("source", hidden_as=("Account", "source")),
            "contacts": Many(Contact, "account_id", ("name", "id")),
            "orders": Nested(lambda scope, settings, row, **args: _account_orders(scope, settings, row, **args), Order),
            "mergedIntoId": Computed(
                ("merged_into_id",),
                lambda row: ids.encode("Account", row["merged_into_id"]) if row["merged_into_id"] else None,
                sqlvalues.global_id("Account", "merged_into_id"),
            ),
        },
    ),
}


def _quantity(q):
    # As OrderItemType.quantity: whole numbers without decimals, others without trailing zeros.
    from decimal import Decimal

    return q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize()


# -- root fields -----------------------------------------------------------------------


@dataclass(frozen=True)
class RootById:
    """``x(id:)``: ``load_by_id`` of the decoded global ID; null if not found or not visible."""

    model: type
    type_name: str


@dataclass(frozen=True)
class RootConnection:
    """A list field: ``query(scope, settings, **arguments)`` gives (queryset, Sort, first, after)."""

    query: Callable
    model: type


def _orders_query(scope, settings, *, first=None, after=None, where=None, order_by=None, include_deleted=False):
    # The same steps as server.orders.schema.orders_connection (its `where`, sorts and page size),
    # up to paginate; the differential test (tests/test_fastpath_differential.py) keeps them in step.
    from server.graphql.pagination import Sort, check_first
    from server.orders.schema import SORT_KINDS, OrderOrder, scoped_orders

    order_by = order_by or OrderOrder()
    if order_by.custom_field:
        from server.graphql.fastpath.plan import Fallback

        raise Fallback("a custom-field sort (its definition is read first)")
    qs = scoped_orders(scope, where, include_deleted=include_deleted)
    sort = Sort(order_by.field.value, SORT_KINDS[order_by.field.value], order_by.direction)
    first = check_first(first, settings.default_page_size, settings.max_page_size)
    return qs, sort, first, after


def _account_orders(scope, settings, row, *, first=None, after=None):
    # As AccountType.orders: null for roles without orders, else the orders list of this account.
    if not scope.can("orders:read"):
        return None
    qs, sort, first, after = _orders_query(scope, settings, first=first, after=after)
    return qs.filter(account_id=row["id"]), sort, first, after


ROOTS: dict[str, RootById | RootConnection] = {
    "orders": RootConnection(_orders_query, Order),
    "order": RootById(Order, "Order"),
    "account": RootById(Account, "Account"),
}
