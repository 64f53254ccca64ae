"""GraphQL for shipments: waybills of an order (``Order.shipments``), creating and
cancelling them, the city and branch pickers of the order form, and the organization's
carrier-status -> order-status rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.loaders import load_by_id
from server.graphql.types import Money, Node, model_type
from server.orders.models import Order
from server.shipments import cash_on_delivery as cod
from server.shipments import service
from server.shipments.models import Shipment

if TYPE_CHECKING:
    from server.orders.schema import OrderType

LazyOrderType = Annotated["OrderType", strawberry.lazy("server.orders.schema")]


@strawberry.enum(description="Where a parcel is, whatever the carrier calls it.")
class DeliveryStatus(Enum):
    CREATED = "created"
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    REFUSED = "refused"
    RETURNING = "returning"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


@model_type(Shipment, description="A carrier waybill (e.g. a Nova Poshta ТТН) made for an order.")
class ShipmentType(Node):
    carrier: str = strawberry.field(description="The delivery plugin that made it, e.g. `novaposhta`.")
    waybill_number: str = strawberry.field(description="The carrier's waybill number (Nova Poshta: 14 digits).")
    carrier_status: str | None = strawberry.field(
        description="The carrier's own status code as last tracked (Nova Poshta: `7` = at the branch); null before."
    )
    carrier_status_text: str = strawberry.field(description="The carrier's status text, in its language.")
    status_changed_at: datetime | None = strawberry.field(description="When the carrier status last changed.")
    estimated_delivery: date | None = strawberry.field(description="The carrier's estimate when it was created.")
    last_tracked_at: datetime | None = strawberry.field(description="When tracking last asked the carrier.")
    tracking_error: str | None = strawberry.field(description="Why the last tracking attempt failed, if it did.")
    closed: bool = strawberry.field(description="Delivered, refused, returned or cancelled: no longer tracked.")
    registered: bool = strawberry.field(
        description="Made outside the CRM and attached with `registerShipment`: `cancelShipment` only detaches it "
        "(the carrier is not asked to delete it), and its number may then be registered again."
    )
    version: int = strawberry.field(description="Pass it back to cancel (optimistic concurrency).")
    created_at: datetime

    @strawberry.field(description="The carrier status mapped to what the CRM understands.")
    def status(self) -> DeliveryStatus:
        try:
            return DeliveryStatus(self.status)  # type: ignore[attr-defined]
        except ValueError:
            return DeliveryStatus.UNKNOWN

    @strawberry.field(description="What the carrier charges for delivery, as it said when the waybill was made.")
    def cost(self) -> Money | None:
        if self.cost is None:  # type: ignore[attr-defined]
            return None
        return Money(amount=self.cost, currency=self.currency or "UAH")  # type: ignore[attr-defined]

    @strawberry.field(description="The order shipped.")
    async def order(self, info: Info) -> LazyOrderType | None:
        return await load_by_id(info.context, Order, self.order_id, with_deleted=True)  # type: ignore[attr-defined]

    @strawberry.field(
        description="The money the carrier collects from the recipient for the shop (cash on delivery, "
        "in the order's currency); null without."
    )
    async def cash_on_delivery(self, info: Info) -> Money | None:
        if not self.cash_on_delivery:  # type: ignore[attr-defined]
            return None
        order = await load_by_id(info.context, Order, self.order_id, with_deleted=True)  # type: ignore[attr-defined]
        return Money(amount=self.cash_on_delivery, currency=order.currency if order else "UAH")  # type: ignore[attr-defined]

    cash_on_delivery_paid_at: datetime | None = strawberry.field(
        description="When the carrier reported paying the cash on delivery out to the shop (the order then got "
        "its payment); null while it has not."
    )


@strawberry.type(description="A city or settlement of a carrier, for the order form.")
class DeliveryCity:
    ref: str = strawberry.field(description="The carrier's id of the city: pass it as `cityRef`.")
    name: str
    region: str


@strawberry.type(description="A carrier branch, pickup point or parcel locker.")
class DeliveryBranch:
    ref: str = strawberry.field(description="The carrier's id of the branch: pass it as `branchRef`.")
    name: str = strawberry.field(description="As the carrier names it, e.g. `Відділення №1: вул. Хрещатик, 22`.")
    number: str = strawberry.field(description="The branch number, e.g. `1`.")
    address: str
    city_ref: str


@strawberry.type(description="Which order status a carrier status code moves an order to.")
class DeliveryStatusRule:
    carrier_status: str = strawberry.field(description="The carrier's status code, e.g. Nova Poshta `9`.")
    order_status: str | None = strawberry.field(
        description="The order status code it moves the order to; null: the order is left alone."
    )


@strawberry.type(description="A parcel with cash on delivery in the reconciliation report.")
class CashOnDeliveryParcel:
    shipment: ShipmentType = strawberry.field(description="The waybill; its `order` is the order it pays for.")
    amount: Money = strawberry.field(description="The cash on delivery, in the order's currency.")
    since: datetime | None = strawberry.field(
        description="When it was delivered (awaiting payout), refused or sent back (returning), or paid out."
    )
    days_waiting: int | None = strawberry.field(
        description="Whole days since `since`: for a parcel awaiting payout, how long the carrier has held the money."
    )


@strawberry.type(description="One list of the report, with the count and totals of all its parcels.")
class CashOnDeliverySection:
    parcels: list[CashOnDeliveryParcel] = strawberry.field(
        description="The parcels, oldest first, at most `first` of them."
    )
    count: int = strawberry.field(description="How many parcels there are in all (more than listed when cut).")
    totals: list[Money] = strawberry.field(description="Their cash on delivery in all, one per currency.")


@strawberry.type(
    description="Cash-on-delivery reconciliation: money the carriers still owe the shop, parcels coming back, "
    "and payouts since a day (docs/payments.md)."
)
class CashOnDeliveryReport:
    since: datetime = strawberry.field(description="The start of the report's day in the organization's timezone.")
    awaiting_payout: CashOnDeliverySection = strawberry.field(
        description="Delivered parcels whose cash on delivery the carrier has not paid out yet, whenever delivered."
    )
    returning: CashOnDeliverySection = strawberry.field(
        description="Parcels with cash on delivery refused, coming back or returned since the day: no money comes."
    )
    paid_out: CashOnDeliverySection = strawberry.field(
        description="Parcels whose cash on delivery was paid out since the day: each is a payment of its order."
    )


def _section(section: cod.Section, now: datetime) -> CashOnDeliverySection:
    return CashOnDeliverySection(
        parcels=[
            CashOnDeliveryParcel(
                shipment=p.shipment,  # type: ignore[arg-type]
                amount=Money(amount=p.amount, currency=p.currency),
                since=p.since,
                days_waiting=cod.days_between(p.since, now),
            )
            for p in section.parcels
        ],
        count=section.count,
        totals=[Money(amount=amount, currency=currency) for currency, amount in section.totals.items()],
    )


# -- queries ------------------------------------------------------------------------------------


def _installation_pk(gid: strawberry.ID | None):
    return ids.decode_pk(gid, "PluginInstallation", "installationId")


@strawberry.type
class ShipmentQueries:
    @strawberry.field(
        description="Cities matching what the user typed, from the organization's delivery plugin (the only one "
        "when `installationId` is omitted). Needs orders:read."
    )
    async def delivery_cities(
        self,
        info: Info,
        query: Annotated[str, strawberry.argument(description="What the user typed (city name start).")],
        installation_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The delivery installation; omit if only one.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="How many, at most 50.")] = 20,
    ) -> list[DeliveryCity]:
        ctx = info.context
        cities = await service.search_cities(ctx.scope, ctx.settings, _installation_pk(installation_id), query, first)
        return [DeliveryCity(ref=c.ref, name=c.name, region=c.region) for c in cities]

    @strawberry.field(
        description="Branches and lockers of a city (`cityRef` from `deliveryCities`), by number or text."
    )
    async def delivery_branches(
        self,
        info: Info,
        city_ref: Annotated[str, strawberry.argument(description="`DeliveryCity.ref` of the city.")],
        query: Annotated[str, strawberry.argument(description="Branch number or part of its address.")] = "",
        installation_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The delivery installation; omit if only one.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="How many, at most 50.")] = 50,
    ) -> list[DeliveryBranch]:
        ctx = info.context
        branches = await service.search_branches(
            ctx.scope, ctx.settings, _installation_pk(installation_id), city_ref, query, first
        )
        return [
            DeliveryBranch(ref=b.ref, name=b.name, number=b.number, address=b.address, city_ref=b.city_ref)
            for b in branches
        ]

    @strawberry.field(
        description="The organization's overrides of the default carrier-status rules for a carrier "
        "(codes not listed follow the defaults, see docs/delivery.md)."
    )
    async def delivery_status_rules(
        self,
        info: Info,
        carrier: Annotated[str, strawberry.argument(description="The plugin name, e.g. `novaposhta`.")],
    ) -> list[DeliveryStatusRule]:
        rules = await service.status_rules(info.context.scope, carrier)
        return [DeliveryStatusRule(carrier_status=c, order_status=t) for c, t in rules.items()]

    @strawberry.field(
        description="The cash-on-delivery reconciliation report: parcels delivered but not paid out yet, parcels "
        "refused or coming back, and payouts since `day` (the organization's today when omitted)."
    )
    async def cash_on_delivery_report(
        self,
        info: Info,
        day: Annotated[
            date | None, strawberry.argument(description="The first day of the report, in the organization's timezone.")
        ] = None,
        carrier: Annotated[
            str | None, strawberry.argument(description="Only this delivery plugin's parcels, e.g. `novaposhta`.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="At most this many parcels per list (1 to 1000).")] = 200,
    ) -> CashOnDeliveryReport:
        found = await cod.report(info.context.scope, day, carrier=carrier, limit=first)
        now = datetime.now(UTC)
        return CashOnDeliveryReport(
            since=found.since,
            awaiting_payout=_section(found.awaiting_payout, now),
            returning=_section(found.returning, now),
            paid_out=_section(found.paid_out, now),
        )


# -- mutations ------------------------------------------------------------------------------------


@strawberry.input(description="A waybill for an order. Recipient and address default to the order's delivery details.")
class CreateShipmentInput:
    order_id: strawberry.ID
    installation_id: strawberry.ID | None = strawberry.field(
        default=None, description="The delivery plugin installation; omit it when the organization has only one."
    )
    city_ref: str | None = strawberry.field(default=None, description="`DeliveryCity.ref` of the recipient's city.")
    city: str | None = strawberry.field(default=None, description="City name; defaults to the order's.")
    branch_ref: str | None = strawberry.field(default=None, description="`DeliveryBranch.ref` of the branch.")
    branch: str | None = strawberry.field(default=None, description="Branch name or number; defaults to the order's.")
    recipient_name: str | None = strawberry.field(default=None, description="Defaults to the order's recipient.")
    recipient_phone: str | None = strawberry.field(default=None, description="Defaults to the order's recipient phone.")
    weight_kg: Decimal | None = strawberry.field(
        default=None, description="Parcel weight in kg; the plugin's default when omitted."
    )
    seats: int = strawberry.field(default=1, description="Number of parcels (1 to 100).")
    description: str | None = strawberry.field(default=None, description="What is inside, for the label.")
    declared_value: Decimal | None = strawberry.field(
        default=None, description="Declared value for insurance; defaults to the order total."
    )
    cash_on_delivery: Decimal | None = strawberry.field(
        default=None, description="Amount the recipient pays on receipt (cash on delivery), if any."
    )
    payer: str | None = strawberry.field(
        default=None, description="Who pays for delivery: `recipient` or `sender`; the plugin's default when omitted."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first shipment and makes no second waybill."
    )


@strawberry.input(
    description="A waybill or barcode made outside the CRM (the carrier's cabinet or branch), to attach to an order."
)
class RegisterShipmentInput:
    order_id: strawberry.ID = strawberry.field(description="The order the parcel is for.")
    waybill_number: str = strawberry.field(
        description="The carrier's number as printed on the label: a Nova Poshta waybill (11 to 14 digits), an "
        "Ukrposhta barcode (13 digits, or like `RB123456789UA`). Spaces are ignored."
    )
    installation_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The delivery plugin installation of the carrier; omit it when the organization has only one.",
    )
    cash_on_delivery: Decimal | None = strawberry.field(
        default=None,
        description="The amount the recipient pays on receipt, when the parcel was sent cash on delivery: the "
        "carrier's payout then becomes the order's payment, as for a waybill made in the CRM.",
    )


@strawberry.input
class CancelShipmentInput:
    id: strawberry.ID = strawberry.field(description="The shipment.")
    version: int = strawberry.field(description="The shipment's version, as read.")


@strawberry.input(description="One rule: carrier status code -> order status code (null: leave the order alone).")
class DeliveryStatusRuleInput:
    carrier_status: str = strawberry.field(description="The carrier's status code, e.g. `9`.")
    order_status: str | None = strawberry.field(description="An order status code of the organization, or null.")


@strawberry.input
class SetDeliveryStatusRulesInput:
    carrier: str = strawberry.field(description="The plugin name, e.g. `novaposhta`.")
    rules: list[DeliveryStatusRuleInput] = strawberry.field(
        description="Replaces all overrides for this carrier; an empty list restores the defaults."
    )


@strawberry.type
class ShipmentPayload:
    shipment: ShipmentType | None = None
    errors: list[UserError]


@strawberry.type
class DeliveryStatusRulesPayload:
    rules: list[DeliveryStatusRule] | None = None
    errors: list[UserError]


def _data(input: CreateShipmentInput) -> dict:
    return {
        "installation_id": _installation_pk(input.installation_id),
        "city_ref": input.city_ref,
        "city": input.city,
        "branch_ref": input.branch_ref,
        "branch": input.branch,
        "recipient_name": input.recipient_name,
        "recipient_phone": input.recipient_phone,
        "weight_kg": input.weight_kg,
        "seats": input.seats,
        "description": input.description,
        "declared_value": input.declared_value,
        "cash_on_delivery": input.cash_on_delivery,
        "payer": input.payer,
    }


@strawberry.type
class ShipmentMutations:
    @strawberry.mutation(
        description="Create a carrier waybill for an order through its delivery plugin, store it and set the "
        "order's waybill number. Whoever may edit the order's delivery may do it."
    )
    async def create_shipment(self, info: Info, input: CreateShipmentInput) -> ShipmentPayload:
        ctx = info.context

        async def act():
            order_pk = ids.decode(input.order_id, "Order", "orderId")[1]
            shipment = await service.create_shipment(
                ctx.scope, ctx.settings, order_pk, _data(input), input.idempotency_key
            )
            return {"shipment": shipment}

        return await run_mutation(ShipmentPayload, act)

    @strawberry.mutation(
        description="Attach a waybill made outside the CRM to an order: the carrier is asked that the number exists, "
        "then it is stored with the carrier's current status, set as the order's waybill number and tracked like "
        "one made by `createShipment`. A number already registered in the organization is refused. Whoever may "
        "create shipments may do it."
    )
    async def register_shipment(self, info: Info, input: RegisterShipmentInput) -> ShipmentPayload:
        ctx = info.context

        async def act():
            order_pk = ids.decode(input.order_id, "Order", "orderId")[1]
            data = {
                "installation_id": _installation_pk(input.installation_id),
                "waybill_number": input.waybill_number,
                "cash_on_delivery": input.cash_on_delivery,
            }
            return {"shipment": await service.register_shipment(ctx.scope, ctx.settings, order_pk, data)}

        return await run_mutation(ShipmentPayload, act)

    @strawberry.mutation(
        description="Cancel (delete) a waybill at the carrier; only before it is handed over. A registered one "
        "(made outside the CRM) is only detached from its order."
    )
    async def cancel_shipment(self, info: Info, input: CancelShipmentInput) -> ShipmentPayload:
        ctx = info.context

        async def act():
            pk = ids.decode(input.id, "Shipment")[1]
            return {"shipment": await service.cancel_shipment(ctx.scope, ctx.settings, pk, input.version)}

        return await run_mutation(ShipmentPayload, act)

    @strawberry.mutation(description="Admins: override which order status a carrier status code leads to.")
    async def set_delivery_status_rules(
        self, info: Info, input: SetDeliveryStatusRulesInput
    ) -> DeliveryStatusRulesPayload:
        scope = info.context.scope

        async def act():
            rules = await service.set_status_rules(
                scope, input.carrier, {r.carrier_status: r.order_status for r in input.rules}
            )
            return {"rules": [DeliveryStatusRule(carrier_status=c, order_status=t) for c, t in rules.items()]}

        return await run_mutation(DeliveryStatusRulesPayload, act)
