"""GraphQL for fiscal receipts: ``Payment.fiscalReceipts`` (docs/fiscal.md). Read only: the
receipts follow payments and refunds by themselves."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from server.fiscal.models import FiscalReceipt
from server.graphql.loaders import load_children
from server.graphql.types import Money, Node, model_type


@strawberry.enum(description="A sale receipt (the customer paid) or a return receipt (a refund).")
class FiscalReceiptKind(Enum):
    SELL = "sell"
    RETURN = "return"


@strawberry.enum(description="Where a fiscal receipt stands.")
class FiscalReceiptState(Enum):
    PENDING = strawberry.enum_value("pending", description="Not issued yet, or the tax service has not answered.")
    DONE = strawberry.enum_value("done", description="Registered: it has its fiscal code.")
    FAILED = strawberry.enum_value("failed", description="Refused or given up; `error` says why.")


@model_type(
    FiscalReceipt,
    description="A fiscal receipt issued through the organization's software cash register (Checkbox) for a "
    "payment or a refund.",
)
class FiscalReceiptType(Node):
    provider: str = strawberry.field(description="The fiscal plugin, e.g. `checkbox`.")
    payment_type: str = strawberry.field(description="`CASHLESS` (a card) or `CASH` (cash on delivery).")
    provider_receipt_id: str = strawberry.field(description="The cash register's id of the receipt.")
    fiscal_code: str = strawberry.field(description="The tax service's fiscal number of the receipt, once done.")
    fiscal_date: datetime | None = strawberry.field(description="When the tax service registered it.")
    url: str = strawberry.field(description="The receipt's page for the customer, once done.")
    error: str = strawberry.field(description="Why it failed, when it did.")
    created_at: datetime = strawberry.field(description="When the CRM decided to issue it.")

    @strawberry.field(description="A sale or a return.")
    def kind(self) -> FiscalReceiptKind:
        return FiscalReceiptKind(self.kind)  # type: ignore[attr-defined]

    @strawberry.field(description="Where the receipt stands.")
    def status(self) -> FiscalReceiptState:
        return FiscalReceiptState(self.status)  # type: ignore[attr-defined]

    @strawberry.field(description="The amount on the receipt.")
    def amount(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)  # type: ignore[attr-defined]


async def payment_receipts(info: Info, payment_id) -> list[FiscalReceipt]:
    return await load_children(info.context, FiscalReceipt, "payment_id", payment_id)
