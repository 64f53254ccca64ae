"""GraphQL for payments: ``Order.payments``/``paidAmount``/``balance``, payment links, refunds,
a status check, and the organization's paid-order rule (docs/payments.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from server.fiscal.schema import FiscalReceiptType, payment_receipts
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.loaders import load_by_id, load_children
from server.graphql.types import Money, Node, model_type
from server.orders.models import Order
from server.payments import service
from server.payments.models import Payment, PaymentRefund, PaymentSettings

if TYPE_CHECKING:
    from server.orders.schema import OrderType

LazyOrderType = Annotated["OrderType", strawberry.lazy("server.orders.schema")]


@strawberry.enum(description="Where one payment attempt stands.")
class PaymentState(Enum):
    CREATED = "created"
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


@strawberry.enum(description="Where a refund stands at the provider.")
class RefundState(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@model_type(PaymentRefund, description="Money given back from a payment: all of it or a part.")
class PaymentRefundType(Node):
    created_at: datetime
    provider_refund_id: str = strawberry.field(description="The provider's id of the refund, if it gave one.")
    error: str = strawberry.field(description="Why the provider refused it, if it did.")

    @strawberry.field(description="How much is given back, in the payment's currency.")
    def amount(self) -> Money:
        return Money(amount=self.amount, currency=self._currency)  # type: ignore[attr-defined]

    @strawberry.field(description="Pending until the provider confirms it; failed refunds give nothing back.")
    def status(self) -> RefundState:
        return RefundState(self.status)  # type: ignore[attr-defined]


@model_type(Payment, description="One attempt to take money for an order through a payment plugin.")
class PaymentType(Node):
    provider: str = strawberry.field(description="The payment plugin, e.g. `liqpay` or `monobank`.")
    provider_payment_id: str | None = strawberry.field(description="The provider's id (monobank invoiceId...).")
    provider_status: str = strawberry.field(description="The provider's own last status word, e.g. `success`.")
    checkout_url: str | None = strawberry.field(description="The link the customer pays by.")
    error: str = strawberry.field(description="Why it failed, as the provider said.")
    paid_at: datetime | None = strawberry.field(description="When the provider reported the money taken.")
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(description="Changes with every update of the payment.")

    @strawberry.field(description="Where the payment stands.")
    def status(self) -> PaymentState:
        return PaymentState(self.status)  # type: ignore[attr-defined]

    @strawberry.field(description="What the customer is asked to pay (or, once paid, what the provider took).")
    def amount(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field(description="The provider's commission, when it reports one.")
    def fee(self) -> Money | None:
        return None if self.fee is None else Money(amount=self.fee, currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field(description="Given back so far (refunds pending or done).")
    def refunded_amount(self) -> Money:
        return Money(amount=self.refunded_amount, currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field(description="Refunds of this payment, oldest first.")
    async def refunds(self, info: Info) -> list[PaymentRefundType]:
        rows = await load_children(info.context, PaymentRefund, "payment_id", self.id)  # type: ignore[attr-defined]
        for row in rows:
            row._currency = self.currency  # type: ignore[attr-defined]
        return rows

    @strawberry.field(
        description="Fiscal receipts of this payment, oldest first: its sale receipt, then a return receipt per "
        "succeeded refund (with a fiscal plugin installed, docs/fiscal.md)."
    )
    async def fiscal_receipts(self, info: Info) -> list[FiscalReceiptType]:
        return await payment_receipts(info, self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="The order paid for.")
    async def order(self, info: Info) -> LazyOrderType | None:
        return await load_by_id(info.context, Order, self.order_id, with_deleted=True)  # type: ignore[attr-defined]


async def order_payments(info: Info, order_id) -> list[Payment]:
    return await load_children(info.context, Payment, "order_id", order_id)


@strawberry.type(description="The organization's payment rules.")
class PaymentSettingsType:
    paid_order_status: str | None = strawberry.field(
        description="The order status code a fully paid order moves to (if its status may move there); null: it stays."
    )


@strawberry.input
class CreatePaymentLinkInput:
    order_id: strawberry.ID = strawberry.field(description="The order to pay for.")
    amount: Decimal | None = strawberry.field(
        default=None, description="How much to ask for (at most the order's balance); defaults to the whole balance."
    )
    installation_id: strawberry.ID | None = strawberry.field(
        default=None, description="The payment plugin installation; needed only when several are installed."
    )


@strawberry.input
class RefundPaymentInput:
    payment_id: strawberry.ID = strawberry.field(description="A paid payment.")
    amount: Decimal = strawberry.field(description="How much to give back: all or part of what is left.")


@strawberry.input
class CheckPaymentStatusInput:
    payment_id: strawberry.ID = strawberry.field(description="The payment to ask the provider about.")


@strawberry.input
class SetPaymentSettingsInput:
    paid_order_status: str | None = strawberry.field(
        default=None, description="An order status code, or null to leave paid orders where they are."
    )


@strawberry.type
class PaymentPayload:
    payment: PaymentType | None = None
    errors: list[UserError]


@strawberry.type
class RefundPayload:
    refund: PaymentRefundType | None = None
    payment: PaymentType | None = None
    errors: list[UserError]


@strawberry.type
class PaymentSettingsPayload:
    settings: PaymentSettingsType | None = None
    errors: list[UserError]


def _settings(row: PaymentSettings) -> PaymentSettingsType:
    return PaymentSettingsType(paid_order_status=row.paid_order_status)


@strawberry.type
class PaymentQueries:
    @strawberry.field(description="The organization's payment rules (what a fully paid order does next).")
    async def payment_settings(self, info: Info) -> PaymentSettingsType:
        return _settings(await service.get_settings(info.context.scope))


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(
        description="Make a payment link for an order through a payment plugin (LiqPay, monobank) and record the "
        "payment. Sends nothing: give the link to the customer yourself."
    )
    async def create_payment_link(self, info: Info, input: CreatePaymentLinkInput) -> PaymentPayload:
        ctx = info.context

        async def act():
            order_pk = ids.decode(input.order_id, "Order", "orderId")[1]
            installation_pk = ids.decode_pk(input.installation_id, "PluginInstallation", "installationId")
            payment = await service.create_payment_link(
                ctx.scope, ctx.settings, order_pk, input.amount, installation_pk
            )
            return {"payment": payment}

        return await run_mutation(PaymentPayload, act)

    @strawberry.mutation(description="Give back all or part of a paid payment through its provider.")
    async def refund_payment(self, info: Info, input: RefundPaymentInput) -> RefundPayload:
        ctx = info.context

        async def act():
            pk = ids.decode(input.payment_id, "Payment", "paymentId")[1]
            refund = await service.refund_payment(ctx.scope, ctx.settings, pk, input.amount)
            refund._currency = (await Payment.get(id=pk)).currency
            return {"refund": refund, "payment": await Payment.get(id=pk)}

        return await run_mutation(RefundPayload, act)

    @strawberry.mutation(description="Ask the provider where a payment stands and apply its answer.")
    async def check_payment_status(self, info: Info, input: CheckPaymentStatusInput) -> PaymentPayload:
        ctx = info.context

        async def act():
            pk = ids.decode(input.payment_id, "Payment", "paymentId")[1]
            return {"payment": await service.check_status(ctx.scope, ctx.settings, pk)}

        return await run_mutation(PaymentPayload, act)

    @strawberry.mutation(description="Admins: the order status a fully paid order moves to.")
    async def set_payment_settings(self, info: Info, input: SetPaymentSettingsInput) -> PaymentSettingsPayload:
        scope = info.context.scope

        async def act():
            return {"settings": _settings(await service.set_settings(scope, input.paid_order_status))}

        return await run_mutation(PaymentSettingsPayload, act)
