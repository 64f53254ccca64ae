"""GraphQL for fiscal receipts: ``Payment.fiscalReceipts`` and ``issueFiscalReceiptAgain``
(docs/fiscal.md). The receipts follow payments and refunds by themselves; a person only asks
for a failed one again."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from server.fiscal import service
from server.fiscal.models import FiscalReceipt
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
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


@strawberry.input(description="A failed fiscal receipt to issue again.")
class IssueFiscalReceiptAgainInput:
    id: strawberry.ID = strawberry.field(description="The failed receipt (a FiscalReceipt ID).")


@strawberry.type
class FiscalReceiptPayload:
    receipt: FiscalReceiptType | None = strawberry.field(
        default=None, description="The new receipt, PENDING until the cash register answers."
    )
    errors: list[UserError]


@strawberry.type
class FiscalMutations:
    @strawberry.mutation(
        description="Issue a FAILED receipt again, once what made it fail is fixed (the cashier's PIN, tax codes, "
        "a disabled plugin): a new receipt joins the payment's list (the failed one stays there, with its "
        "error). A return receipt needs its sale's receipt DONE first. CONFLICT for a receipt that is not FAILED, "
        "one issued again already, or a payment no longer paid."
    )
    async def issue_fiscal_receipt_again(self, info: Info, input: IssueFiscalReceiptAgainInput) -> FiscalReceiptPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "FiscalReceipt", "id")[1]
            return {"receipt": await service.issue_again(scope, pk)}

        return await run_mutation(FiscalReceiptPayload, act)
