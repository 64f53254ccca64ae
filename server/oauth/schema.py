"""GraphQL for partner applications (OAuth 2 clients): owners and admins register and revoke them."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.types import Node, model_type
from server.oauth import service
from server.oauth.models import OAuthClient


@model_type(
    OAuthClient,
    name="OAuthClient",
    description="A partner application that calls this organization's API with its own credentials "
    "(OAuth 2 client credentials at POST /oauth/token; docs/partners.md). The secret is never shown again.",
)
class OAuthClientType(Node):
    name: str
    client_id: str = strawberry.field(description="Sent with the secret to POST /oauth/token.")
    scopes: list[str] = strawberry.field(description="The permissions its tokens may carry, e.g. orders:read.")
    redirect_uris: list[str] = strawberry.field(
        description="Where /oauth/authorize may send a person back with a code (authorization code grant); "
        "a request's redirect_uri must equal one of these exactly."
    )
    revoked_at: datetime | None = strawberry.field(description="Set once revoked: no tokens, old ones stop working.")
    last_used_at: datetime | None = strawberry.field(description="When it last got an access token.")
    created_at: datetime


@strawberry.type
class OAuthQueries:
    @strawberry.field(description="Owners and admins: the partner applications of this organization.")
    async def oauth_clients(self, info: Info) -> list[OAuthClientType]:
        return await service.list_clients(info.context.scope)

    @strawberry.field(description="The permissions a partner application can be given.")
    def partner_scopes(self) -> list[str]:
        return list(service.PARTNER_SCOPES)


@strawberry.input
class CreateOAuthClientInput:
    name: str = strawberry.field(description="Who the partner is, for people (e.g. 'Warehouse app').")
    scopes: list[str] = strawberry.field(
        description='Permissions from partnerScopes, e.g. ["orders:read", "orders:write"]: business data only.'
    )


@strawberry.input
class RevokeOAuthClientInput:
    id: strawberry.ID


@strawberry.input
class SetOAuthClientRedirectUrisInput:
    id: strawberry.ID
    redirect_uris: list[str] = strawberry.field(
        description="The complete new list (replaces the old one): https:// addresses, or http:// to "
        "127.0.0.1/localhost for apps on the person's own computer; no #fragment; at most 10."
    )


@strawberry.type
class CreateOAuthClientPayload:
    client: OAuthClientType | None = None
    client_secret: str | None = strawberry.field(
        default=None, description="Shown this once: give it to the partner over a safe channel."
    )
    errors: list[UserError]


@strawberry.type
class OAuthClientPayload:
    client: OAuthClientType | None = None
    errors: list[UserError]


@strawberry.type
class OAuthMutations:
    @strawberry.mutation(
        name="createOAuthClient",
        description="Owners and admins: register a partner application; returns its secret once.",
    )
    async def create_oauth_client(self, info: Info, input: CreateOAuthClientInput) -> CreateOAuthClientPayload:
        async def act():
            client, secret = await service.create_client(info.context.scope, input.name, input.scopes)
            return {"client": client, "client_secret": secret}

        return await run_mutation(CreateOAuthClientPayload, act)

    @strawberry.mutation(
        name="revokeOAuthClient",
        description="Owners and admins: revoke a partner application and every token it holds.",
    )
    async def revoke_oauth_client(self, info: Info, input: RevokeOAuthClientInput) -> OAuthClientPayload:
        async def act():
            pk = ids.decode(input.id, "OAuthClient", "id")[1]
            return {"client": await service.revoke_client(info.context.scope, pk)}

        return await run_mutation(OAuthClientPayload, act)

    @strawberry.mutation(
        name="setOAuthClientRedirectUris",
        description="Owners and admins: the redirect URIs a partner application may use in the "
        "authorization code flow (docs/partners.md).",
    )
    async def set_oauth_client_redirect_uris(
        self, info: Info, input: SetOAuthClientRedirectUrisInput
    ) -> OAuthClientPayload:
        async def act():
            pk = ids.decode(input.id, "OAuthClient", "id")[1]
            return {"client": await service.set_redirect_uris(info.context.scope, pk, input.redirect_uris)}

        return await run_mutation(OAuthClientPayload, act)
