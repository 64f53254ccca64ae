"""GraphQL for API keys: owners and admins make, list and revoke them (docs/partners.md)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from server.apikeys import service
from server.apikeys.models import ApiKey
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.types import Node, model_type


@model_type(
    ApiKey,
    name="ApiKey",
    description="A key a simple integration sends as 'Authorization: Bearer crm_live_...' (or X-API-Key): "
    "it acts in this organization with one role (built-in or custom). The key itself is shown once, when it is made.",
)
class ApiKeyType(Node):
    name: str = strawberry.field(description="What the key is for, for people (e.g. 'BI export').")
    prefix: str = strawberry.field(
        description="The key's first characters (crm_live_ and four more), to tell keys apart."
    )
    role: str = strawberry.field(
        description="The role the key acts with: a built-in or custom role's name (see roles)."
    )
    expires_at: datetime | None = strawberry.field(description="After this the key stops working; null: never.")
    revoked_at: datetime | None = strawberry.field(description="Set once revoked: the key no longer works.")
    last_used_at: datetime | None = strawberry.field(
        description="When the key last made a request (to the minute: updated at most once a minute)."
    )
    created_at: datetime = strawberry.field(description="When the key was made.")


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(description="Owners and admins: the API keys of this organization, oldest first.")
    async def api_keys(self, info: Info) -> list[ApiKeyType]:
        return await service.list_keys(info.context.scope)


@strawberry.input(description="A new API key.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="What the key is for, for people (e.g. 'BI export').")
    role: str = strawberry.field(
        description="A role that sees all rows: owner (owners only), admin, support, logistics, analyst, or a "
        "custom role with row scope all; never more rights than your own."
    )
    expires_at: datetime | None = strawberry.field(default=None, description="When the key stops working; null: never.")


@strawberry.input(description="The API key to revoke.")
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key's global ID.")


@strawberry.type(description="The result of createApiKey.")
class CreateApiKeyPayload:
    api_key: ApiKeyType | None = strawberry.field(default=None, description="The new key's details.")
    key: str | None = strawberry.field(
        default=None, description="The key itself, shown this once: store it in the integration's secret store."
    )
    errors: list[UserError] = strawberry.field(description="Why the key was not made.")


@strawberry.type(description="The result of revokeApiKey.")
class ApiKeyPayload:
    api_key: ApiKeyType | None = strawberry.field(default=None, description="The revoked key.")
    errors: list[UserError] = strawberry.field(description="Why the key was not revoked.")


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(
        name="createApiKey", description="Owners and admins: make an API key; returns the key once (audited)."
    )
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        async def act():
            row, key = await service.create_key(info.context.scope, input.name, input.role, input.expires_at)
            return {"api_key": row, "key": key}

        return await run_mutation(CreateApiKeyPayload, act)

    @strawberry.mutation(
        name="revokeApiKey", description="Owners and admins: revoke an API key; it stops working at once (audited)."
    )
    async def revoke_api_key(self, info: Info, input: RevokeApiKeyInput) -> ApiKeyPayload:
        async def act():
            pk = ids.decode(input.id, "ApiKey", "id")[1]
            return {"api_key": await service.revoke_key(info.context.scope, pk)}

        return await run_mutation(ApiKeyPayload, act)
