"""GraphQL for e-mail deliverability: whether each of a customer's addresses can be e-mailed
(hard bounces, the customer's unsubscribe), and clearing a bounce once the mailbox works again."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from server.email import inbound, service
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


@strawberry.input(description="Which e-mail plugin installation gets a (new) inbound address.")
class IssueInboundEmailAddressInput:
    installation_id: strawberry.ID = strawberry.field(description="An installation of the `email` plugin.")


@strawberry.type(description="The inbound address just issued: shown this once (only its hash is kept).")
class InboundEmailAddressPayload:
    address: str | None = strawberry.field(
        default=None,
        description="`in+<token>@<domain>`: set the shop's support mailbox to forward (redirect) its mail here.",
    )
    issued_at: datetime | None = strawberry.field(default=None, description="When it was issued.")
    errors: list[UserError] = strawberry.field(description="What was wrong with the input.")


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

    @strawberry.mutation(
        description="Issue the CRM's inbound e-mail address of an e-mail plugin installation: mail forwarded to it "
        "becomes conversations in the inbox. A new address retires the previous one. Shown once."
    )
    async def issue_inbound_email_address(
        self, info: Info, input: IssueInboundEmailAddressInput
    ) -> InboundEmailAddressPayload:
        scope = info.context.scope

        async def act():
            installation_id = ids.decode(input.installation_id, "PluginInstallation")[1]
            mailbox, address = await inbound.issue_address(scope, info.context.settings, installation_id)
            return {"address": address, "issued_at": mailbox.issued_at}

        return await run_mutation(InboundEmailAddressPayload, act)
