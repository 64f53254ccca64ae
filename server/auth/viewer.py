"""``viewer``: who is calling, for every credential.

``me`` describes a signed-in person (its ``user``, ``email`` and ``name`` are non-null and
stay so for existing clients), so it is null for an app. ``viewer`` answers for every kind of
caller: a person's session, a partner's OAuth token (client credentials, or acting for a
person) and an API key, with the organization and what the credential may do.
"""

from __future__ import annotations

import enum
from uuid import UUID

import strawberry
from strawberry.types import Info

from server.graphql.types import OrganizationType, UserType


class CredentialKind(enum.Enum):
    SESSION = "session"
    OAUTH_APP = "oauth_app"
    API_KEY = "api_key"
    APP = "app"


CredentialKindType = strawberry.enum(
    CredentialKind,
    name="CredentialKind",
    description="How the caller signed in: a person's session (SESSION, from login), a partner's OAuth access "
    "token (OAUTH_APP), an API key (API_KEY), or the CRM's own work (APP).",
)


@strawberry.type(
    name="Viewer",
    description="The caller, whatever its credential: the organization it works in, the person (if any), "
    "the app or key, and what it may do. Null when not signed in.",
)
class ViewerType:
    credential: CredentialKindType = strawberry.field(description="The kind of credential the request came with.")
    organization: OrganizationType | None = strawberry.field(
        description="The organization the request works in (for a person without X-Organization and with "
        "several organizations: null)."
    )
    user: UserType | None = strawberry.field(
        description="The person: the one signed in, or the one an OAuth app acts for. Null for an app's own "
        "token (client credentials) and for API keys."
    )
    name: str = strawberry.field(description="The person's, the app's or the key's name.")
    client_id: str | None = strawberry.field(default=None, description="For OAUTH_APP: the app's client id.")
    key_prefix: str | None = strawberry.field(
        default=None, description="For API_KEY: the key's first characters (crm_live_AbCd)."
    )
    role: str | None = strawberry.field(
        default=None,
        description="The role the credential acts with: the person's, or an API key's; for an app's own token "
        "`partner`.",
    )
    scopes: list[str] | None = strawberry.field(
        default=None,
        description="For OAUTH_APP: the scopes the token was given (as granted; see permissions for their effect).",
    )
    permissions: list[str] = strawberry.field(
        description="What the request may do, as resource:action: the role's permissions, for OAuth tokens "
        "the scopes and what they bring along (orders:read reads order statuses), within the person's role "
        "when acting for one."
    )


async def _viewer(info: Info) -> ViewerType | None:
    from server.apikeys.models import ApiKey
    from server.oauth import service as oauth

    ctx = info.context
    principal = ctx.principal
    if not principal.is_authenticated:
        return None
    role = principal.role
    common = {
        "organization": principal.organization,
        "role": role.name if role else None,
        "permissions": role.permissions if role else [],
    }
    found = await oauth.app_behind(ctx.token or "")
    if found is not None:
        client, scopes, user = found
        return ViewerType(
            credential=CredentialKind.OAUTH_APP,
            user=user,
            name=client.name,
            client_id=client.client_id,
            scopes=scopes,
            **common,
        )
    kind, _sep, rest = (principal.id or "").partition(":")
    if principal.kind == "app" and kind == "apikey":
        key = await ApiKey.get_or_none(id=UUID(rest), organization_id=principal.organization.id)
        return ViewerType(
            credential=CredentialKind.API_KEY,
            user=None,
            name=key.name if key else "",
            key_prefix=key.prefix if key else None,
            **common,
        )
    if principal.user is not None:
        return ViewerType(credential=CredentialKind.SESSION, user=principal.user, name=principal.user.name, **common)
    return ViewerType(credential=CredentialKind.APP, user=None, name=principal.id or "", **common)


@strawberry.type
class ViewerQueries:
    @strawberry.field(
        description="Who is calling, for any credential (a person's session, a partner's OAuth token, an API "
        "key): organization, person, app or key, permissions. `me` describes a signed-in person only."
    )
    async def viewer(self, info: Info) -> ViewerType | None:
        return await _viewer(info)
