"""GraphQL for e-mail deliverability: whether each of a customer's addresses can be e-mailed
(hard bounces, the customer's unsubscribe), and clearing a bounce once the mailbox works again."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from server.email import service
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation


@strawberry.type(description="One e-mail address of a customer and whether notifications can reach it.")
class EmailDeliverability:
    address: str = strawberry.field(description="The address (masked without `pii:read`).")
    undeliverable: bool = strawberry.field(
        description="A mail server refused it permanently (a hard bounce): notifications skip e-mail to it."
    )
    bounce_status: str | None = strawberry.field(
        description="What the mail server said: the SMTP code (`550`) or the DSN status (`5.1.1`)."
    )
    bounced_at: datetime | None = strawberry.field(description="When it was marked undeliverable.")
    unsubscribed: bool = strawberry.field(
        description="The customer unsubscribed from e-mail (the link in an e-mail, or `setChannelConsent`)."
    )


@strawberry.type(description="The account's addresses after the change.")
class EmailDeliverabilityPayload:
    addresses: list[EmailDeliverability] | None = None
    errors: list[UserError]


@strawberry.input(description="Which address of which account may be e-mailed again.")
class ClearUndeliverableEmailInput:
    account_id: strawberry.ID
    address: str


def _rows(values: list[dict]) -> list[EmailDeliverability]:
    return [EmailDeliverability(**v) for v in values]


@strawberry.type
class EmailQueries:
    @strawberry.field(
        description="The account's e-mail addresses and whether e-mail reaches them (bounces, unsubscribe)."
    )
    async def email_deliverability(self, info: Info, account_id: strawberry.ID) -> list[EmailDeliverability]:
        scope = info.context.scope
        return _rows(await service.deliverability(scope, ids.decode(account_id, "Account")[1]))


@strawberry.type
class EmailMutations:
    @strawberry.mutation(
        description="The customer fixed their mailbox: clear the address's undeliverable mark so e-mail goes again."
    )
    async def clear_undeliverable_email(
        self, info: Info, input: ClearUndeliverableEmailInput
    ) -> EmailDeliverabilityPayload:
        scope = info.context.scope

        async def act():
            account_id = ids.decode(input.account_id, "Account")[1]
            return {"addresses": _rows(await service.clear_undeliverable(scope, account_id, input.address))}

        return await run_mutation(EmailDeliverabilityPayload, act)
