"""GraphQL for the self-service bot's rules: read (``settings:read``) and change (``settings:write``)."""

from __future__ import annotations

import dataclasses

import strawberry
from strawberry.types import Info

from server.graphql.errors import UserError, run_mutation
from server.graphql.types import model_type
from server.selfservice import service
from server.selfservice.models import BotSettings


@model_type(
    BotSettings,
    name="SelfServiceBot",
    description='The organization\'s self-service bot: answers "where is my order?" in Telegram, Viber and the '
    "web chat, hands everything else over to the agents.",
)
class SelfServiceBotType:
    enabled: bool = strawberry.field(description="Whether the bot answers customers at all (off by default).")
    order_phrases: list[str] = strawberry.field(
        description='The organization\'s own phrasings of "where is my order", besides the built-in Ukrainian, '
        "Russian and English ones; each word of a phrase must begin a word of the message."
    )
    handover_phrases: list[str] = strawberry.field(
        description='Phrasings that hand the conversation to an agent, besides the built-in ones ("operator", '
        '"людина", "оператор", cancel, return...).'
    )
    template_uk: str = strawberry.field(
        description="One order's line in Ukrainian (Jinja, variables in docs/conversations.md); empty: the built-in."
    )
    template_en: str = strawberry.field(description="One order's line in English; empty: the built-in.")
    hours_from: str | None = strawberry.field(
        description="The bot answers from this time (HH:MM, the organization's time zone); null: always."
    )
    hours_to: str | None = strawberry.field(
        description="... until this time (may be earlier than `hoursFrom`: 19:00 to 09:00 is the night)."
    )
    max_orders: int = strawberry.field(description="How many of the latest orders an answer lists (1 to 10).")
    version: int = strawberry.field(description="Pass it back to change the settings (optimistic concurrency).")


@strawberry.type
class SelfServiceQueries:
    @strawberry.field(description="The organization's self-service bot.")
    async def self_service_bot(self, info: Info) -> SelfServiceBotType:
        info.context.scope.require("settings:read")
        return await service.settings_of(info.context.scope.organization_id)  # type: ignore[return-value]


@strawberry.input(description="What to change in the self-service bot; what is left out stays.")
class UpdateSelfServiceBotInput:
    enabled: bool | None = None
    order_phrases: list[str] | None = strawberry.field(default=None, description="At most 50, 2 to 100 letters.")
    handover_phrases: list[str] | None = strawberry.field(default=None, description="At most 50, 2 to 100 letters.")
    template_uk: str | None = strawberry.field(default=None, description="Empty: back to the built-in line.")
    template_en: str | None = strawberry.field(default=None, description="Empty: back to the built-in line.")
    hours_from: str | None = strawberry.field(default=None, description="HH:MM; give `hoursTo` too.")
    hours_to: str | None = strawberry.field(default=None, description="HH:MM; give `hoursFrom` too.")
    always: bool | None = strawberry.field(default=None, description="true: answer at any hour (clears the hours).")
    max_orders: int | None = strawberry.field(default=None, description="1 to 10.")
    version: int | None = strawberry.field(default=None, description="The version you read (a stale one conflicts).")


@strawberry.type(description="The self-service bot after the change, or what was wrong.")
class SelfServiceBotPayload:
    bot: SelfServiceBotType | None = None
    errors: list[UserError]


@strawberry.type
class SelfServiceMutations:
    @strawberry.mutation(description="Change the self-service bot's rules (owners and admins); audited.")
    async def update_self_service_bot(self, info: Info, input: UpdateSelfServiceBotInput) -> SelfServiceBotPayload:
        scope = info.context.scope

        async def act():
            data = {f.name: getattr(input, f.name) for f in dataclasses.fields(input)}
            return {"bot": await service.update_settings(scope, data)}

        return await run_mutation(SelfServiceBotPayload, act)
