"""GraphQL for partner applications (OAuth 2 clients): owners and admins register and revoke them."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.types import Node, OrganizationType, UserType, model_type
from server.oauth import installations, service
from server.oauth.models import OAuthClient, OAuthInstallation


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
    installable: bool = strawberry.field(
        description="Whether other organizations may install it on the consent page (one app for many shops)."
    )
    created_at: datetime


@model_type(
    OAuthInstallation,
    name="OAuthInstallation",
    description="A partner's app installed into this organization by an owner or admin (consent page): it acts "
    "as itself here, with the scopes approved, until uninstalled.",
)
class OAuthInstallationType(Node):
    scopes: list[str] = strawberry.field(description="The permissions approved for this organization.")
    revoked_at: datetime | None = strawberry.field(description="Set once uninstalled: its tokens stopped working.")
    created_at: datetime = strawberry.field(description="When it was first installed.")

    @strawberry.field(description="The app's name.")
    def app_name(self) -> str:
        return self.client.name  # type: ignore[attr-defined]

    @strawberry.field(description="The app's client id (what the audit trail names it by).")
    def client_id(self) -> str:
        return self.client.client_id  # type: ignore[attr-defined]

    @strawberry.field(description="The name of the organization that registered the app (the partner).")
    def developer(self) -> str:
        return self.client.organization.name  # type: ignore[attr-defined]

    @strawberry.field(description="Who installed it (or installed it again last); null for a former member.")
    async def installed_by(self, info: Info) -> UserType | None:
        from server.auth.schema import load_member

        user_id = self.installed_by_id  # type: ignore[attr-defined]
        return await load_member(info.context, user_id) if user_id else None


@strawberry.type(
    name="OAuthGrant",
    description="A person's consent to a partner application (authorization code flow): the app acts for "
    "that person, within both its scopes and the person's role, until revoked.",
)
class OAuthGrantType:
    id: strawberry.ID
    client: OAuthClientType = strawberry.field(description="The application.")
    user: UserType = strawberry.field(description="The person who consented.")
    scopes: list[str] = strawberry.field(description="The permissions granted.")
    granted_at: datetime = strawberry.field(description="When the person consented.")
    last_refreshed_at: datetime = strawberry.field(
        description="When the app last exchanged its refresh token (it does so at least hourly while in use)."
    )

    @staticmethod
    def of(grant: service.Grant) -> OAuthGrantType:
        return OAuthGrantType(
            id=strawberry.ID(ids.encode("OAuthGrant", grant.family)),
            client=grant.client,
            user=grant.user,
            scopes=grant.scopes,
            granted_at=grant.granted_at,
            last_refreshed_at=grant.last_refreshed_at,
        )


@strawberry.type(
    name="OAuthApp",
    description="The partner application behind the caller's OAuth access token.",
)
class OAuthAppType:
    client_id: str
    name: str
    organization: OrganizationType = strawberry.field(description="The one organization the token works in.")
    scopes: list[str] = strawberry.field(
        description="What the token may do; for a token a person gave, also limited by that person's role (see me)."
    )
    acting_for: UserType | None = strawberry.field(
        description="The person who consented (authorization code flow); null for client credentials."
    )


@strawberry.type
class OAuthQueries:
    @strawberry.field(
        description="The partner application calling, for a request with an OAuth access token; null otherwise."
    )
    async def oauth_app(self, info: Info) -> OAuthAppType | None:
        found = await service.app_behind(info.context.token or "")
        if found is None:
            return None
        client, scopes, user = found
        return OAuthAppType(
            client_id=client.client_id,
            name=client.name,
            organization=info.context.principal.organization,  # the installation's, for an installed app
            scopes=scopes,
            acting_for=user,
        )

    @strawberry.field(description="Owners and admins: every consent people gave to partner applications.")
    async def oauth_grants(self, info: Info) -> list[OAuthGrantType]:
        return [OAuthGrantType.of(grant) for grant in await service.list_grants(info.context.scope)]

    @strawberry.field(description="Owners and admins: the partner applications of this organization.")
    async def oauth_clients(self, info: Info) -> list[OAuthClientType]:
        return await service.list_clients(info.context.scope)

    @strawberry.field(
        description="Owners and admins: the partners' apps installed into this organization (consent page)."
    )
    async def oauth_installations(self, info: Info) -> list[OAuthInstallationType]:
        return await installations.list_installations(info.context.scope)

    @strawberry.field(description="The permissions a partner application can be given.")
    def partner_scopes(self) -> list[str]:
        return list(service.PARTNER_SCOPES)


@strawberry.input
class CreateOAuthClientInput:
    name: str = strawberry.field(description="Who the partner is, for people (e.g. 'Warehouse app').")
    scopes: list[str] = strawberry.field(
        description='Permissions from partnerScopes, e.g. ["orders:read", "orders:write"]: business data only.'
    )
    installable: bool = strawberry.field(
        default=False,
        description="Other organizations may install it on the consent page (a partner serving many shops).",
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


@strawberry.input
class UpdateOAuthClientInput:
    id: strawberry.ID
    name: str | None = strawberry.field(default=None, description="A new name; unchanged when null.")
    scopes: list[str] | None = strawberry.field(
        default=None,
        description="The complete new permissions; unchanged when null. Narrowing applies to tokens already issued.",
    )
    installable: bool | None = strawberry.field(
        default=None,
        description="Whether other organizations may install it; unchanged when null. Turning it off stops new "
        "installations; existing ones stay until their organizations uninstall them.",
    )


@strawberry.input
class OAuthClientIdInput:
    id: strawberry.ID


@strawberry.input
class RevokeOAuthGrantInput:
    id: strawberry.ID = strawberry.field(description="An OAuthGrant id.")


@strawberry.input
class UninstallOAuthAppInput:
    id: strawberry.ID = strawberry.field(description="An OAuthInstallation id.")


@strawberry.type
class UninstallOAuthAppPayload:
    installation: OAuthInstallationType | None = strawberry.field(default=None, description="The installation.")
    errors: list[UserError]


@strawberry.type
class RevokeOAuthGrantPayload:
    revoked: bool = strawberry.field(default=False, description="True once the grant's tokens stopped working.")
    errors: list[UserError]


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
            client, secret = await service.create_client(
                info.context.scope, input.name, input.scopes, input.installable
            )
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

    @strawberry.mutation(
        name="updateOAuthClient",
        description="Owners and admins: rename a partner application or change its permissions, keeping its id "
        "and secret.",
    )
    async def update_oauth_client(self, info: Info, input: UpdateOAuthClientInput) -> OAuthClientPayload:
        async def act():
            pk = ids.decode(input.id, "OAuthClient", "id")[1]
            updated = await service.update_client(info.context.scope, pk, input.name, input.scopes, input.installable)
            return {"client": updated}

        return await run_mutation(OAuthClientPayload, act)

    @strawberry.mutation(
        name="rotateOAuthClientSecret",
        description="Owners and admins: a new secret for a partner application, shown once; the old secret stops "
        "working at once, tokens already issued keep working.",
    )
    async def rotate_oauth_client_secret(self, info: Info, input: OAuthClientIdInput) -> CreateOAuthClientPayload:
        async def act():
            pk = ids.decode(input.id, "OAuthClient", "id")[1]
            client, secret = await service.rotate_secret(info.context.scope, pk)
            return {"client": client, "client_secret": secret}

        return await run_mutation(CreateOAuthClientPayload, act)

    @strawberry.mutation(
        name="uninstallOAuthApp",
        description="Owners and admins: uninstall a partner's app from this organization; its tokens here stop "
        "working at once (audited). It can be installed again on the consent page.",
    )
    async def uninstall_oauth_app(self, info: Info, input: UninstallOAuthAppInput) -> UninstallOAuthAppPayload:
        async def act():
            pk = ids.decode(input.id, "OAuthInstallation", "id")[1]
            return {"installation": await installations.uninstall(info.context.scope, pk)}

        return await run_mutation(UninstallOAuthAppPayload, act)

    @strawberry.mutation(
        name="revokeOAuthGrant",
        description="Owners and admins: revoke a person's consent to a partner application; its tokens stop working.",
    )
    async def revoke_oauth_grant(self, info: Info, input: RevokeOAuthGrantInput) -> RevokeOAuthGrantPayload:
        async def act():
            family = ids.decode(input.id, "OAuthGrant", "id")[1]
            await service.revoke_grant(info.context.scope, family)
            return {"revoked": True}

        return await run_mutation(RevokeOAuthGrantPayload, act)
