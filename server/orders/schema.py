"""GraphQL for orders, their items, status history and the organization's status list."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from server.accounts.models import Account
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
from server.graphql.aggregates import Amount, GroupBy, aggregate, aggregate_of, global_id, upper
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import (
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
from server.graphql.types import Money, Node, UserType, model_type
from server.orders import service
from server.orders.models import (
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
    OrderStatusTransition,
)
from server.search.query import SEARCH_FILTER_DESCRIPTION, search_lookup

if TYPE_CHECKING:
    from server.accounts.schema import AccountType
    from server.catalog.schema import ProductVariantType
    from server.payments.schema import PaymentType
    from server.shipments.schema import ShipmentType
    from server.surveys.schema import SurveyType

LazyAccountType = Annotated["AccountType", strawberry.lazy("server.accounts.schema")]
LazyPaymentType = Annotated["PaymentType", strawberry.lazy("server.payments.schema")]
LazyProductVariantType = Annotated["ProductVariantType", strawberry.lazy("server.catalog.schema")]
LazyShipmentType = Annotated["ShipmentType", strawberry.lazy("server.shipments.schema")]
LazySurveyType = Annotated["SurveyType", strawberry.lazy("server.surveys.schema")]


@strawberry.enum(description="What a status means, whatever the organization calls it.")
class OrderStatusGroup(Enum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    SHIPPING = "shipping"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@strawberry.enum
class PaymentStatus(Enum):
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    REFUNDED = "refunded"


@model_type(OrderStatus, description="One of the organization's order statuses.")
class OrderStatusType(Node):
    code: str = strawberry.field(description="Stable machine name, e.g. `shipped`.")
    name: str = strawberry.field(description="What people see, e.g. `Відправлено`.")
    position: int
    is_initial: bool = strawberry.field(description="New orders start here.")

    @strawberry.field
    def group(self) -> OrderStatusGroup:
        return OrderStatusGroup(self.group)  # type: ignore[attr-defined]

    @strawberry.field(description="Statuses an order in this status may move to.")
    async def next(self, info: Info) -> list[OrderStatusType]:
        moves = await load_children(info.context, OrderStatusTransition, "from_status_id", self.id)  # type: ignore[attr-defined]
        statuses = [await _status(info, m.to_status_id) for m in moves]
        return sorted((s for s in statuses if s), key=lambda s: s.position)


async def _status(info: Info, status_id) -> OrderStatus:
    return await load_by_id(info.context, OrderStatus, status_id)


@model_type(OrderItem, description="A line of an order. Totals are computed by the server.")
class OrderItemType:
    sku: str
    title: str

    @strawberry.field(description='Units, up to 3 decimals ("2", "0.5").')
    def quantity(self) -> Decimal:
        q = self.quantity  # type: ignore[attr-defined]
        return q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize()

    @strawberry.field
    def unit_price(self) -> Money:
        return Money(amount=self.unit_price, currency=self._currency)  # type: ignore[attr-defined]

    @strawberry.field(description="Discount on the whole line.")
    def discount(self) -> Money:
        return Money(amount=self.discount, currency=self._currency)  # type: ignore[attr-defined]

    @strawberry.field(description="quantity × unitPrice − discount.")
    def total(self) -> Money:
        return Money(amount=self.total, currency=self._currency)  # type: ignore[attr-defined]

    @strawberry.field(
        description="The catalog variant of this line; null for a free-text line (or one you may not see: "
        "it needs `catalog:read`)."
    )
    async def variant(self, info: Info) -> LazyProductVariantType | None:
        if self.variant_id is None or not info.context.scope.can("catalog:read"):  # type: ignore[attr-defined]
            return None
        from server.catalog.models import ProductVariant

        return await load_by_id(info.context, ProductVariant, self.variant_id)  # type: ignore[attr-defined]


@strawberry.type(description="Where and to whom the order goes.")
class Delivery:
    method: str | None
    recipient_name: str | None
    recipient_phone: str | None = strawberry.field(description="E.164.")
    city: str | None
    branch: str | None = strawberry.field(description="Carrier branch (e.g. Nova Poshta warehouse).")
    address: str | None = strawberry.field(description="Street address for courier delivery.")
    waybill_number: str | None


@model_type(OrderStatusChange, description="One step of an order's status history.")
class OrderStatusChangeType:
    reason: str | None
    created_at: datetime

    @strawberry.field(name="from")
    async def from_(self, info: Info) -> OrderStatusType | None:
        return await _status(info, self.from_status_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def to(self, info: Info) -> OrderStatusType:
        return await _status(info, self.to_status_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def actor(self, info: Info) -> UserType | None:
        from server.auth.schema import load_member

        return await load_member(info.context, self.actor_id) if self.actor_id else None  # type: ignore[attr-defined]


@model_type(Order, description="A customer's order.")
class OrderType(Node):
    attachments = attachments_field("Order")
    tags: list[str] = strawberry.field(description=TAGS)

    @strawberry.field(description=CUSTOM_FIELD_VALUES)
    async def custom_field_values(self, info: Info) -> list[CustomFieldValueType]:
        return await custom_field_values(info, "order", self)

    number: int = strawberry.field(description="The organization's human order number: 1, 2, 3...")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = strawberry.field(description=DELETED_AT)
    version: int = strawberry.field(description="Pass it back to update (optimistic concurrency).")
    currency: str
    source: str = strawberry.field(description="Channel: manual, website, phone, or a marketplace (rozetka, prom...).")
    external_id: str | None = strawberry.field(description="The order's id in its source (unique per source).")
    comment: str | None

    @strawberry.field
    async def status(self, info: Info) -> OrderStatusType:
        return await _status(info, self.status_id)  # type: ignore[attr-defined]

    @strawberry.field
    def payment_status(self) -> PaymentStatus:
        return PaymentStatus(self.payment_status)  # type: ignore[attr-defined]

    @strawberry.field
    def subtotal(self) -> Money:
        return Money(amount=self.subtotal, currency=self.currency)

    @strawberry.field
    def discount_total(self) -> Money:
        return Money(amount=self.discount_total, currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field(description="subtotal − discountTotal.")
    def total(self) -> Money:
        return Money(amount=self.total, currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field
    async def account(self, info: Info) -> LazyAccountType | None:
        return await load_by_id(info.context, Account, self.account_id, with_deleted=True)  # type: ignore[attr-defined]

    @strawberry.field
    async def items(self, info: Info) -> list[OrderItemType]:
        rows = await load_children(info.context, OrderItem, "order_id", self.id, ("position", "id"))  # type: ignore[attr-defined]
        for row in rows:
            row._currency = self.currency
        return rows

    @strawberry.field
    def delivery(self) -> Delivery:
        o = self
        return Delivery(
            method=o.delivery_method,
            recipient_name=o.recipient_name,  # type: ignore[attr-defined]
            recipient_phone=o.recipient_phone,
            city=o.delivery_city,  # type: ignore[attr-defined]
            branch=o.delivery_branch,
            address=o.delivery_address,  # type: ignore[attr-defined]
            waybill_number=o.waybill_number,
        )  # type: ignore[attr-defined]

    @strawberry.field(description="The customer's NPS survey of this order, once it is delivered (docs/surveys.md).")
    async def survey(self, info: Info) -> LazySurveyType | None:
        from server.surveys.schema import survey_of

        return await survey_of(info, "order_id", self.id)  # type: ignore[attr-defined]

    @strawberry.field
    async def manager(self, info: Info) -> UserType | None:
        from server.auth.schema import load_member

        return await load_member(info.context, self.manager_id) if self.manager_id else None  # type: ignore[attr-defined]

    @strawberry.field(description="Carrier waybills made for this order (see createShipment), oldest first.")
    async def shipments(self, info: Info) -> list[LazyShipmentType]:
        from server.shipments.models import Shipment

        return await load_children(info.context, Shipment, "order_id", self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="Payment attempts for this order (payment links, invoices), oldest first.")
    async def payments(self, info: Info) -> list[LazyPaymentType]:
        from server.payments.schema import order_payments

        return await order_payments(info, self.id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="What the customer has paid and kept paid: paid payments minus their refunds (docs/payments.md)."
    )
    async def paid_amount(self, info: Info) -> Money:
        from server.payments.schema import order_payments
        from server.payments.service import paid_of

        return Money(amount=paid_of(await order_payments(info, self.id)), currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field(description="What is left to pay: total − paidAmount (negative if overpaid).")
    async def balance(self, info: Info) -> Money:
        from server.payments.schema import order_payments
        from server.payments.service import paid_of

        paid = paid_of(await order_payments(info, self.id))  # type: ignore[attr-defined]
        return Money(amount=self.total - paid, currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field(
        description="What the order earns: Σ (line total − unit cost × quantity) over its catalog lines whose "
        "variant had a cost (in the order's currency) when the line was made; null without such lines. Hidden from "
        "sales, support and logistics (docs/catalog.md)."
    )
    async def margin(self, info: Info) -> Money | None:
        from server.catalog.schema import order_margin

        items = await load_children(info.context, OrderItem, "order_id", self.id, ("position", "id"))  # type: ignore[attr-defined]
        return order_margin(info, self, items)

    @strawberry.field(description="Every status the order went through, oldest first.")
    async def status_history(self, info: Info) -> list[OrderStatusChangeType]:
        return await load_children(info.context, OrderStatusChange, "order_id", self.id)  # type: ignore[attr-defined]


OrderConnection = connection_of(OrderType, "OrderConnection")


# -- lists ---------------------------------------------------------------------


@strawberry.input
class StatusGroupFilter:
    eq: OrderStatusGroup | None = None
    in_: list[OrderStatusGroup] | None = strawberry.field(default=None, name="in")


def _group_q(f: StatusGroupFilter) -> Q:
    groups = [f.eq.value] if f.eq else [g.value for g in f.in_ or []]
    return Q(status__group__in=groups)


@strawberry.input(description="Filters for orders; all given conditions must hold (use OR for any).")
class OrderWhere(ChangedSince):
    and_: list[OrderWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[OrderWhere] | None = strawberry.field(default=None, name="OR")
    number: IntFilter | None = None
    status: StringFilter | None = strawberry.field(default=None, description="By status code.")
    status_group: StatusGroupFilter | None = None
    created_at: DateTimeFilter | None = None
    account: IDFilter | None = None
    manager: IDFilter | None = None
    source: StringFilter | None = None
    external_id: StringFilter | None = None
    payment_status: StringFilter | None = None
    waybill_number: StringFilter | None = None
    total: DecimalFilter | None = None
    search: StringFilter | None = strawberry.field(default=None, description=SEARCH_FILTER_DESCRIPTION)
    tag: StringFilter | None = strawberry.field(default=None, description=TAG_FILTER)
    custom_field: CustomFieldFilter | None = strawberry.field(default=None, description=CUSTOM_FIELD_FILTER)


ORDER_LOOKUPS = {
    "number": Lookup("number"),
    "status": Lookup("status__code"),
    "status_group": Lookup("status__group", build=_group_q),
    "created_at": Lookup("created_at"),
    "account": Lookup("account_id", convert=lambda v: ids.decode(v, "Account")[1]),
    "manager": Lookup("manager_id", convert=lambda v: ids.decode(v, "User")[1]),
    "source": Lookup("source"),
    "external_id": Lookup("external_id"),
    "payment_status": Lookup("payment_status"),
    "waybill_number": Lookup("waybill_number"),
    "total": Lookup("total"),
}


@strawberry.enum
class OrderOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NUMBER = "number"
    TOTAL = "total"


@strawberry.input
class OrderOrder:
    field: OrderOrderField = OrderOrderField.CREATED_AT
    direction: Direction = Direction.DESC
    custom_field: str | None = strawberry.field(default=None, description=CUSTOM_FIELD_SORT)


SORT_KINDS = {"created_at": datetime, "updated_at": datetime, "number": int, "total": Decimal}


def orders_queryset(info: Info, where=None, *, include_deleted=False):
    return scoped_orders(info.context.scope, where, include_deleted=include_deleted)


def scoped_orders(scope, where=None, *, include_deleted=False):
    """What the `orders` list reads (and the fast path plans): the caller's orders (Scope) matching `where`."""
    return scope.queryset(Order, with_deleted=include_deleted).filter(
        build_q(where, {**ORDER_LOOKUPS, "search": search_lookup(scope, "order"), **typed_lookups(scope, "order")})
    )


async def orders_connection(
    info: Info, *, first, after, where=None, order_by=None, account_id=None, include_deleted=False
) -> OrderConnection:
    ctx = info.context
    order_by = order_by or OrderOrder()
    qs = orders_queryset(info, where, include_deleted=include_deleted)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    sort = Sort(order_by.field.value, SORT_KINDS[order_by.field.value], order_by.direction)
    if order_by.custom_field:
        qs, sort = await customfields.sort_by(ctx.scope, "order", qs, order_by.custom_field, order_by.direction)
    first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
    return await paginate(OrderConnection, qs, first=first, after=after, sort=sort)


@strawberry.enum(description="What to group orders by.")
class OrderGroupBy(Enum):
    STATUS = "status"
    STATUS_GROUP = "status_group"
    MANAGER = "manager"
    SOURCE = "source"
    PAYMENT_STATUS = "payment_status"


OrderAggregate = aggregate_of(
    "OrderAggregate",
    OrderGroupBy,
    {
        "status": GroupBy("status__code"),
        "status_group": GroupBy("status__group", key=upper),
        "manager": GroupBy("manager_id", key=global_id("User")),
        "source": GroupBy("source"),
        "payment_status": GroupBy("payment_status", key=upper),
    },
    description="Counts and sums of the orders a list would show, e.g. for tabs by status. Keys: STATUS "
    "the status code, STATUS_GROUP and PAYMENT_STATUS the enum value, MANAGER a User ID, SOURCE the channel.",
)


@strawberry.type
class OrderQueries:
    @strawberry.field(description="Orders the caller may see, filtered and sorted (newest first by default).")
    async def orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: OrderWhere | None = None,
        order_by: OrderOrder | None = None,
        include_deleted: Annotated[bool, strawberry.argument(description=INCLUDE_DELETED)] = False,
    ) -> OrderConnection:
        return await orders_connection(
            info, first=first, after=after, where=where, order_by=order_by, include_deleted=include_deleted
        )

    @strawberry.field(description="Counts and sums (by currency) of the orders matching `where`, optionally grouped.")
    async def orders_aggregate(self, info: Info, where: OrderWhere | None = None) -> OrderAggregate:
        return aggregate(OrderAggregate, orders_queryset(info, where), info.context.scope, Amount("total", "currency"))

    @strawberry.field(description="One order, or null if not found.")
    async def order(self, info: Info, id: strawberry.ID) -> OrderType | None:
        return await load_by_id(info.context, Order, ids.decode(id, "Order")[1])

    @strawberry.field(description="The organization's order statuses in display order.")
    async def order_statuses(self, info: Info) -> list[OrderStatusType]:
        return await info.context.scope.queryset(OrderStatus).order_by("position", "code")


# -- mutations -----------------------------------------------------------------


@strawberry.input(
    description="An order line: from the catalog (`variantId`: SKU, title and price come from the variant unless "
    "given) or free text (`sku`, `title` and `unitPrice` required)."
)
class OrderItemInput:
    quantity: Decimal = strawberry.field(description="Units, more than 0, up to 3 decimals.")
    sku: str | None = strawberry.field(default=None, description="Required without `variantId`.")
    title: str | None = strawberry.field(default=None, description="Required without `variantId`.")
    unit_price: Decimal | None = strawberry.field(
        default=None, description="Price of one unit, a decimal string; required without `variantId`."
    )
    discount: Decimal | None = strawberry.field(default=None, description="Discount on the whole line.")
    variant_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A catalog variant (needs `catalog:read`); its stock is reserved when the order is confirmed.",
    )


@strawberry.input
class DeliveryInput:
    method: str | None = strawberry.UNSET
    recipient_name: str | None = strawberry.UNSET
    recipient_phone: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    branch: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    waybill_number: str | None = strawberry.UNSET


DELIVERY_MAP = {
    "method": "delivery_method",
    "city": "delivery_city",
    "branch": "delivery_branch",
    "address": "delivery_address",
}


@strawberry.input
class CreateOrderInput:
    account_id: strawberry.ID
    items: list[OrderItemInput]
    currency: str | None = strawberry.field(default=None, description="ISO 4217; defaults to the organization's.")
    delivery: DeliveryInput | None = None
    payment_status: PaymentStatus = PaymentStatus.UNPAID
    source: str = strawberry.field(default="manual", description="manual, website, phone, or a marketplace name.")
    external_id: str | None = None
    manager_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Defaults to the caller.")
    comment: str | None = None
    tags: list[str] = strawberry.field(default_factory=list, description=TAGS)
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=None, description=CUSTOM_FIELD_VALUES_CREATE
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first result."
    )


@strawberry.input
class UpdateOrderInput:
    id: strawberry.ID
    version: int
    items: list[OrderItemInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces all items; totals are recomputed."
    )
    currency: str | None = strawberry.UNSET
    delivery: DeliveryInput | None = strawberry.UNSET
    payment_status: PaymentStatus | None = strawberry.UNSET
    manager_id: strawberry.ID | None = strawberry.UNSET
    comment: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS_UPDATE)
    custom_field_values: list[CustomFieldInput] | None = strawberry.field(
        default=strawberry.UNSET, description=CUSTOM_FIELD_VALUES_UPDATE
    )


@strawberry.input
class ChangeOrderStatusInput:
    id: strawberry.ID
    version: int
    status: str = strawberry.field(description="Code of the target status; must be an allowed transition.")
    reason: str | None = strawberry.field(default=None, description="Shown in the history, e.g. why it was cancelled.")


@strawberry.input
class DeleteOrderInput:
    id: strawberry.ID
    version: int


@strawberry.type
class OrderPayload:
    order: OrderType | None = None
    errors: list[UserError]


def _order_data(input_obj) -> dict:
    data = given(
        input_obj,
        exclude=("id", "version", "idempotency_key", "delivery", "items"),
        id_fields={"manager_id": "User", "account_id": "Account"},
    )
    with_input_items(data)
    if isinstance(data.get("payment_status"), PaymentStatus):
        data["payment_status"] = data["payment_status"].value
    items = getattr(input_obj, "items", strawberry.UNSET)
    if items is not strawberry.UNSET and items is not None:
        data["items"] = [
            {
                "sku": i.sku,
                "title": i.title,
                "quantity": i.quantity,
                "unit_price": i.unit_price,
                "discount": i.discount,
                "variant_id": ids.decode_pk(i.variant_id, "ProductVariant", f"items.{n}.variantId"),
            }
            for n, i in enumerate(items)
        ]
    delivery = getattr(input_obj, "delivery", strawberry.UNSET)
    if delivery not in (strawberry.UNSET, None):
        for name, value in given(delivery, exclude=()).items():
            data[DELIVERY_MAP.get(name, name)] = value
    return data


@strawberry.input
class CreateOrderStatusInput:
    code: str
    name: str
    group: OrderStatusGroup
    position: int = 0
    is_initial: bool = False


@strawberry.input
class UpdateOrderStatusInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    group: OrderStatusGroup | None = strawberry.UNSET
    position: int | None = strawberry.UNSET
    is_initial: bool | None = strawberry.UNSET


@strawberry.input(description="Replace where orders in `fromId` may go next.")
class SetOrderStatusTransitionsInput:
    from_id: strawberry.ID
    to_ids: list[strawberry.ID]


@strawberry.input
class DeleteOrderStatusInput:
    id: strawberry.ID


@strawberry.type
class OrderStatusPayload:
    status: OrderStatusType | None = None
    errors: list[UserError]


def _status_pk(gid: str, field: str = "id"):
    return ids.decode(gid, "OrderStatus", field)[1]


@strawberry.type
class OrderMutations:
    @strawberry.mutation(description="Create an order in the initial status; totals are computed from the items.")
    async def create_order(self, info: Info, input: CreateOrderInput) -> OrderPayload:
        scope = info.context.scope

        async def act():
            return {"order": await service.create_order(scope, _order_data(input), input.idempotency_key)}

        return await run_mutation(OrderPayload, act)

    @strawberry.mutation
    async def update_order(self, info: Info, input: UpdateOrderInput) -> OrderPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Order")[1]
            return {"order": await service.update_order(scope, pk, input.version, _order_data(input))}

        return await run_mutation(OrderPayload, act)

    @strawberry.mutation(description="Move an order to another status along an allowed transition.")
    async def change_order_status(self, info: Info, input: ChangeOrderStatusInput) -> OrderPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Order")[1]
            return {"order": await service.change_status(scope, pk, input.version, input.status, input.reason)}

        return await run_mutation(OrderPayload, act)

    @strawberry.mutation(
        description="Soft delete: gone from lists, history kept. Refused (FORBIDDEN_TRANSITION) while the customer "
        "has money on the order: refund it first."
    )
    async def delete_order(self, info: Info, input: DeleteOrderInput) -> OrderPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Order")[1]
            return {"order": await service.delete_order(scope, pk, input.version)}

        return await run_mutation(OrderPayload, act)

    @strawberry.mutation(description="Admins: add an order status.")
    async def create_order_status(self, info: Info, input: CreateOrderStatusInput) -> OrderStatusPayload:
        scope = info.context.scope

        async def act():
            return {
                "status": await service.create_status(
                    scope, input.code, input.name, input.group.value, input.position, input.is_initial
                )
            }

        return await run_mutation(OrderStatusPayload, act)

    @strawberry.mutation(description="Admins: rename, regroup or reorder a status.")
    async def update_order_status(self, info: Info, input: UpdateOrderStatusInput) -> OrderStatusPayload:
        scope = info.context.scope

        async def act():
            data = given(input, exclude=("id",))
            if isinstance(data.get("group"), OrderStatusGroup):
                data["group"] = data["group"].value
            return {"status": await service.update_status(scope, _status_pk(input.id), data)}

        return await run_mutation(OrderStatusPayload, act)

    @strawberry.mutation(description="Admins: delete a status no order has ever used.")
    async def delete_order_status(self, info: Info, input: DeleteOrderStatusInput) -> OrderStatusPayload:
        scope = info.context.scope

        async def act():
            return {"status": await service.delete_status(scope, _status_pk(input.id))}

        return await run_mutation(OrderStatusPayload, act)

    @strawberry.mutation(description="Admins: set which statuses an order may move to from a status.")
    async def set_order_status_transitions(
        self, info: Info, input: SetOrderStatusTransitionsInput
    ) -> OrderStatusPayload:
        scope = info.context.scope

        async def act():
            to_ids = [_status_pk(t, "toIds") for t in input.to_ids]
            return {"status": await service.set_transitions(scope, _status_pk(input.from_id, "fromId"), to_ids)}

        return await run_mutation(OrderStatusPayload, act)
