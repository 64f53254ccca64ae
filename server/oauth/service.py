"""Partner clients and their access tokens (OAuth 2 client credentials, RFC 6749 section 4.4).

An organization's owner or admin registers a partner (``createOAuthClient``) with the
permissions it may use, on the organization's business data only: never members, settings or
pipelines configuration. The partner exchanges its client id and secret for an access token
at ``POST /oauth/token`` (server/oauth/endpoint.py) and calls the GraphQL API with it. The
token acts as an ``app`` principal of that one organization with exactly those permissions,
on all rows; the audit trail names it ``app oauth:<client id>``.

Client secrets and access tokens are random and high-entropy; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth import principal as principals
from server.auth.principal import Principal
from server.auth.roles import BUSINESS, Role, RowScope
from server.auth.scope import Scope
from server.core.errors import ErrorCode, PublicError, UserInputError
from server.core.text import required_text
from server.i18n import _
from server.oauth.models import (
    OAuthAccessToken,
    OAuthAuthorizationCode,
    OAuthClient,
    OAuthInstallation,
    OAuthRefreshToken,
)

# What a partner may be given: business data, read or write, and the lists it needs to write
# orders and deals correctly; ``pii:read`` shows customers' phones, e-mails and addresses in full
# (without it the partner sees them masked). Deleting and configuration stay with people. A
# ``write`` scope (kept from before create and update were separate permissions) means both.
PARTNER_SCOPES: tuple[str, ...] = (
    *sorted(f"{resource}:{action}" for resource in BUSINESS for action in ("read", "write")),
    "order_statuses:read",
    "pipelines:read",
    "pii:read",
)
# Scopes come in groups a partner can use: an order is not readable without its status (a
# non-null field: without `order_statuses:read` a whole list of orders fails), nor a deal
# usefully without its pipeline and stage. So these scopes bring the lists along, for tokens
# of clients registered before as well; the client's own `scopes` stay as the admin gave them.
IMPLIED_SCOPES: dict[str, tuple[str, ...]] = {
    "orders:read": ("order_statuses:read",),
    "orders:write": ("order_statuses:read",),
    "deals:read": ("pipelines:read",),
    "deals:write": ("pipelines:read",),
}
TOKEN_TTL = timedelta(hours=1)
CLIENT_ID_PREFIX, SECRET_PREFIX, TOKEN_PREFIX = "crm_client_", "crm_secret_", "crm_oat_"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def secret_matches(client: OAuthClient, secret: str) -> bool:
    return hmac.compare_digest(digest(secret or ""), client.secret_hash)


def _clean_scopes(scopes: list[str]) -> list[str]:
    if not scopes:
        raise UserInputError(ErrorCode.REQUIRED, _("Give the partner at least one permission."), "scopes")
    for i, value in enumerate(scopes):
        if value not in PARTNER_SCOPES:
            raise UserInputError(
                ErrorCode.INVALID,
                _(
                    "'%(value)s' is not a permission partners can have; choose from: %(partner_scopes)s.",
                    value=value,
                    partner_scopes=", ".join(PARTNER_SCOPES),
                ),
                f"scopes.{i}",
            )
    return sorted(set(scopes))


def check_within_role(role: Role | None, scopes: list[str], field: str = "scopes") -> None:
    """An app's rights reach every row and field of the organization: nobody gives an app more
    than their own role has (a custom role with settings rights but without, say, ``pii:read``
    could otherwise mint a token with it)."""
    if role is None or role.scope is not RowScope.ALL or role.hidden_fields:
        raise UserInputError(
            ErrorCode.FORBIDDEN, _("Only a role that reads all rows and every field may give an app rights."), field
        )
    beyond = [s for s in scopes if not role.allows(s)]
    if beyond:
        raise UserInputError(
            ErrorCode.FORBIDDEN,
            _("Your role does not have %(scopes)s, so it may not give them to an app.", scopes=", ".join(beyond)),
            field,
        )


async def create_client(
    scope: Scope, name: str, scopes: list[str], installable: bool = False
) -> tuple[OAuthClient, str]:
    """The new client and its secret (shown this once)."""
    scope.require("settings:write")
    name = required_text(name, "name", 200)
    granted = _clean_scopes(scopes)
    check_within_role(scope.principal.role, granted)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        client = await OAuthClient.create(
            organization_id=scope.organization_id,
            name=name,
            client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(16),
            secret_hash=digest(secret),
            scopes=granted,
            created_by_id=scope.user_id,
            installable=installable,
        )
        await audit.record(
            scope,
            "oauth_client.create",
            client,
            {"name": [None, name], "scopes": [None, granted], "installable": [None, installable]},
        )
    return client, secret


async def list_clients(scope: Scope) -> list[OAuthClient]:
    scope.require("settings:write")  # owners and admins only: managers and analysts merely read settings
    return await scope.queryset(OAuthClient).order_by("created_at")


async def revoke_client(scope: Scope, client_pk: UUID) -> OAuthClient:
    """No new tokens, and the ones issued stop working at once."""
    scope.require("settings:write")
    async with in_transaction():
        client = await scope.get(OAuthClient, client_pk, "write", field="id")
        if client.revoked_at is None:
            client.revoked_at = datetime.now(UTC)
            await client.save(update_fields=["revoked_at", "updated_at"])
            await OAuthAccessToken.filter(client_id=client.id).delete()
            await audit.record(
                scope, "oauth_client.revoke", client, {"revoked_at": [None, client.revoked_at.isoformat()]}
            )
    return client


async def active_client(client_id: str) -> OAuthClient | None:
    """For the token endpoint: a client that may still get tokens."""
    if not client_id or not client_id.startswith(CLIENT_ID_PREFIX):
        return None
    return await OAuthClient.get_or_none(client_id=client_id, revoked_at=None)


async def store_token(
    client: OAuthClient, access_token: str, scopes: list[str], expires_in: int, installation=None, family=None
) -> None:
    """``family``: the code an installation's first token came from (a replayed code revokes it)."""
    now = datetime.now(UTC)
    await OAuthAccessToken.create(
        token_hash=digest(access_token),
        client=client,
        scopes=scopes,
        expires_at=now + timedelta(seconds=expires_in),
        installation=installation,
        family=family,
    )
    await OAuthClient.filter(id=client.id).update(last_used_at=now)


def with_implied(scopes) -> list[str]:
    """The scopes and what they bring along (IMPLIED_SCOPES), sorted."""
    return sorted({*scopes, *(implied for scope in scopes for implied in IMPLIED_SCOPES.get(scope, ()))})


def effective_scopes(client: OAuthClient, scopes: list[str]) -> list[str]:
    """What a token may do: its scopes within its client's (a token never outgrows its client), with
    what they bring along."""
    return with_implied([s for s in scopes if s in client.scopes])


def _grants(permissions) -> dict[str, tuple[str, ...]]:
    grants: dict[str, tuple[str, ...]] = {}
    for permission in permissions:
        resource, _sep, action = permission.partition(":")
        grants[resource] = (*grants.get(resource, ()), action)
    return grants


def partner_role(client: OAuthClient, scopes: list[str]) -> Role:
    return Role("partner", f"The partner application '{client.name}'.", _grants(effective_scopes(client, scopes)))


async def principal_for(token: str) -> Principal | None:
    """The partner behind an access token, or None (unknown, expired, revoked)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        await OAuthAccessToken.filter(
            token_hash=digest(token), expires_at__gt=datetime.now(UTC), client__revoked_at=None
        )
        .select_related("client", "client__organization", "user")
        .first()
    )
    if row is None:
        return None
    if row.user_id is not None:
        return await _delegated_principal(row)
    client, organization, scopes = row.client, row.client.organization, row.scopes
    if row.installation_id is not None:  # an installed app, in the organization that installed it
        installation = await OAuthInstallation.get_or_none(id=row.installation_id, revoked_at=None).select_related(
            "organization"
        )
        if installation is None:
            return None
        organization, scopes = installation.organization, [s for s in scopes if s in installation.scopes]
    return Principal(
        kind="app",
        id=f"oauth:{client.client_id}"[:64],
        organization=organization,
        role=partner_role(client, scopes),
    )


# -- the authorization code grant: a person consents, the app acts for that person -----------

CODE_TTL = timedelta(seconds=60)
REFRESH_TTL = timedelta(days=30)
CODE_PREFIX, REFRESH_PREFIX = "crm_oac_", "crm_ort_"
MAX_REDIRECT_URIS = 10


def _clean_redirect_uri(value: str, field: str) -> str:
    parts = urlsplit(value.strip())
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    # https, or http to the app's own machine (a native app, RFC 8252 section 7.3); no fragment (RFC 6749 3.1.2).
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not loopback) or not parts.hostname:
        raise UserInputError(ErrorCode.INVALID, _("A redirect URI must be an https:// address."), field)
    if parts.fragment or "#" in value:
        raise UserInputError(ErrorCode.INVALID, _("A redirect URI cannot have a #fragment."), field)
    return value.strip()


async def set_redirect_uris(scope: Scope, client_pk: UUID, uris: list[str]) -> OAuthClient:
    """Replaces the client's redirect URIs; /oauth/authorize accepts exactly these strings."""
    scope.require("settings:write")
    if len(uris) > MAX_REDIRECT_URIS:
        raise UserInputError(ErrorCode.INVALID, _("At most 10 redirect URIs."), "redirectUris")
    cleaned = [_clean_redirect_uri(uri, f"redirectUris.{i}") for i, uri in enumerate(uris)]
    async with in_transaction():
        client = await scope.get(OAuthClient, client_pk, "write", field="id")
        before = client.redirect_uris
        client.redirect_uris = list(dict.fromkeys(cleaned))
        await client.save(update_fields=["redirect_uris", "updated_at"])
        await audit.record(
            scope, "oauth_client.redirect_uris", client, {"redirect_uris": [before, client.redirect_uris]}
        )
    return client


async def store_code(
    client: OAuthClient, user, code: str, scopes: list[str], redirect_uri: str, challenge: str, install_into=None
) -> None:
    await OAuthAuthorizationCode.create(
        code_hash=digest(code),
        client=client,
        user=user,
        scopes=scopes,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        family=uuid4(),
        expires_at=datetime.now(UTC) + CODE_TTL,
        install_into=install_into,
    )


async def find_code(code: str) -> OAuthAuthorizationCode | None:
    if not code or not code.startswith(CODE_PREFIX):
        return None
    return await OAuthAuthorizationCode.filter(code_hash=digest(code)).select_related("user", "install_into").first()


async def claim(model, row) -> bool:
    """Marks a code or refresh token used, once: of two requests racing, one wins."""
    return await model.filter(id=row.id, used_at=None).update(used_at=datetime.now(UTC)) == 1


async def find_refresh_token(token: str) -> OAuthRefreshToken | None:
    if not token or not token.startswith(REFRESH_PREFIX):
        return None
    return await OAuthRefreshToken.filter(token_hash=digest(token)).select_related("user").first()


async def revoke_family(family: UUID, audit_as: Scope | None = None, reason: str = "revoked") -> None:
    """Every token from one consent stops working: revoked, or a code or refresh token was used twice.
    Audited (before/after) when the grant was still live, as ``audit_as`` or the app itself."""
    async with in_transaction():
        await OAuthAccessToken.filter(family=family).delete()
        head = (
            await OAuthRefreshToken.filter(family=family, revoked_at=None, used_at=None)
            .select_related("client__organization", "user")
            .first()
        )
        await OAuthRefreshToken.filter(family=family, revoked_at=None).update(revoked_at=datetime.now(UTC))
        if head is not None:
            await audit.record(
                audit_as or app_scope(head.client),
                "oauth_grant.revoke",
                head.client,
                {"grant": [f"{head.user.email} {family}", None], "reason": [None, reason]},
            )


def app_scope(client: OAuthClient, user=None) -> Scope:
    """For the audit trail: the app itself acting (revoking), or a person through it (consenting)."""
    app_id = f"oauth:{client.client_id}"[:64]
    if user is None:
        return Scope(Principal(kind="app", id=app_id, organization=client.organization))
    return Scope(Principal(kind="user", id=str(user.id), user=user, organization=client.organization, via=app_id))


async def _granted_at(previous: OAuthRefreshToken) -> datetime:
    if previous.granted_at is not None:
        return previous.granted_at
    # A row from before granted_at was kept: the family's oldest row says it.
    created = await OAuthRefreshToken.filter(family=previous.family).values_list("created_at", flat=True)
    return min(created, default=previous.created_at)


async def store_user_tokens(client: OAuthClient, user, issued: dict, family: UUID, previous=None) -> None:
    """``previous``: the refresh token being rotated; without one (a code was exchanged) this is a
    new grant, audited."""
    now = datetime.now(UTC)
    first = previous is None
    granted_at = now if first else await _granted_at(previous)
    scopes = issued.get("scope", "").split()
    if first:
        await client.fetch_related("organization")
    async with in_transaction():
        if first:
            await audit.record(
                app_scope(client, user),
                "oauth_grant.create",
                client,
                {"grant": [None, f"{user.email} {family}"], "scopes": [None, scopes]},
            )
        await OAuthAccessToken.create(
            token_hash=digest(issued["access_token"]),
            client=client,
            user=user,
            family=family,
            scopes=scopes,
            expires_at=now + timedelta(seconds=issued["expires_in"]),
        )
        if issued.get("refresh_token"):
            await OAuthRefreshToken.create(
                token_hash=digest(issued["refresh_token"]),
                client=client,
                user=user,
                scopes=scopes,
                family=family,
                expires_at=now + REFRESH_TTL,
                granted_at=granted_at,
            )
        await OAuthClient.filter(id=client.id).update(last_used_at=now)


def delegated_role(role: Role, scopes: list[str], client: OAuthClient) -> Role:
    """What a person's consent gives an app: the scopes it was granted, within the person's role.
    Without the ``pii:read`` scope the app sees every customer phone, e-mail and address masked,
    even the ones the person's role shows in full for their work (logistics: the recipient)."""
    allowed = [p for p in effective_scopes(client, scopes) if role.allows(p)]
    pii_consented = "pii:read" in scopes and "pii:read" in client.scopes
    unmasked = role.unmasked_fields if pii_consented else frozenset()
    return replace(role, name=f"{role.name} via {client.name}", grants=_grants(allowed), unmasked_fields=unmasked)


async def _delegated_principal(row: OAuthAccessToken) -> Principal | None:
    client = row.client
    try:
        principal = await principals.for_user(row.user, client.organization.slug)
    except PublicError:  # no longer a member: the consent is void
        return None
    if principal.role is None or not row.user.is_active:
        return None
    principal.role = delegated_role(principal.role, row.scopes, client)
    principal.via = f"oauth:{client.client_id}"[:64]
    return principal


# -- revocation (RFC 7009) and introspection (RFC 7662): only of a client's own tokens --------


async def revoked_client(client_id: str, secret: str) -> bool:
    """True for a revoked client presented with its right secret (to say why it was refused)."""
    if not client_id.startswith(CLIENT_ID_PREFIX):
        return False
    client = await OAuthClient.get_or_none(client_id=client_id, revoked_at__not_isnull=True)
    return client is not None and secret_matches(client, secret)


async def authenticated_client(client_id: str, secret: str) -> OAuthClient | None:
    client = await active_client(client_id)
    return client if client is not None and secret_matches(client, secret) else None


async def revoke_token(client: OAuthClient, token: str) -> None:
    """Revokes an access or refresh token of this client; with a delegated one, everything from
    the same consent goes (RFC 7009 2.1). Unknown tokens are no error: nothing to revoke."""
    hashed = digest(token or "")
    access = await OAuthAccessToken.get_or_none(token_hash=hashed, client_id=client.id)
    refresh = await OAuthRefreshToken.get_or_none(token_hash=hashed, client_id=client.id)
    family = (refresh.family if refresh else None) or (access.family if access else None)
    if family is not None:
        await client.fetch_related("organization")
        await revoke_family(family, audit_as=app_scope(client), reason="revoked by the app")
    elif access is not None:
        await access.delete()


async def introspect(client: OAuthClient, token: str) -> dict:
    """RFC 7662 2.2. Another client's token, like an unknown one, is just inactive."""
    hashed, now = digest(token or ""), datetime.now(UTC)
    access = (
        await OAuthAccessToken.filter(token_hash=hashed, client_id=client.id, expires_at__gt=now)
        .select_related("user")
        .first()
    )
    if access is not None:
        row, is_refresh = access, False
    else:
        row = (
            await OAuthRefreshToken.filter(
                token_hash=hashed, client_id=client.id, expires_at__gt=now, used_at=None, revoked_at=None
            )
            .select_related("user")
            .first()
        )
        is_refresh = True
    if row is None or client.revoked_at is not None:
        return {"active": False}
    await client.fetch_related("organization")
    organization = client.organization
    if not is_refresh and row.installation_id is not None:
        installation = await OAuthInstallation.get_or_none(id=row.installation_id, revoked_at=None).select_related(
            "organization"
        )
        if installation is None:
            return {"active": False}
        organization = installation.organization
    answer = {
        "active": True,
        "scope": " ".join(row.scopes),
        "client_id": client.client_id,
        "token_type": "refresh_token" if is_refresh else "Bearer",
        "exp": int(row.expires_at.timestamp()),
        "iat": int(row.created_at.timestamp()),
        "organization": organization.slug,
    }
    if row.user_id is not None:
        answer |= {"sub": str(row.user_id), "username": row.user.email}
    return answer


# -- what owners see and change: grants people gave, and the apps themselves ------------------


@dataclass
class Grant:
    """One person's consent to one app: the current refresh token of a family."""

    family: UUID
    client: OAuthClient
    user: object
    scopes: list[str]
    granted_at: datetime
    last_refreshed_at: datetime


async def list_grants(scope: Scope) -> list[Grant]:
    scope.require("settings:write")  # owners and admins, like the apps themselves
    now = datetime.now(UTC)
    heads = await OAuthRefreshToken.filter(
        client__organization_id=scope.organization_id, used_at=None, revoked_at=None, expires_at__gt=now
    ).select_related("client", "user")
    if not heads:
        return []
    first = {}
    legacy = [row.family for row in heads if row.granted_at is None]  # rows from before granted_at
    if legacy:
        for family, created in await OAuthRefreshToken.filter(family__in=legacy).values_list("family", "created_at"):
            first[family] = min(created, first.get(family, created))
    return sorted(
        (
            Grant(row.family, row.client, row.user, row.scopes, row.granted_at or first[row.family], row.created_at)
            for row in heads
        ),
        key=lambda grant: grant.granted_at,
    )


async def revoke_grant(scope: Scope, family: UUID) -> None:
    scope.require("settings:write")
    row = (
        await OAuthRefreshToken.filter(family=family, client__organization_id=scope.organization_id)
        .select_related("client", "user")
        .first()
    )
    if row is None:  # another organization's grant looks the same as none
        raise UserInputError(ErrorCode.NOT_FOUND, _("No such grant."), "id")
    await revoke_family(family, audit_as=scope, reason="revoked by an admin")


async def update_client(
    scope: Scope, client_pk: UUID, name: str | None, scopes: list[str] | None, installable: bool | None = None
) -> OAuthClient:
    """Narrowing takes effect at once: a token's rights are always within its client's scopes."""
    scope.require("settings:write")
    new_name = required_text(name, "name", 200) if name is not None else None
    new_scopes = _clean_scopes(scopes) if scopes is not None else None
    if new_scopes is not None:
        check_within_role(scope.principal.role, new_scopes)
    async with in_transaction():
        client = await scope.get(OAuthClient, client_pk, "write", field="id")
        changes = {}
        if new_name is not None and new_name != client.name:
            changes["name"] = [client.name, new_name]
            client.name = new_name
        if new_scopes is not None and new_scopes != client.scopes:
            changes["scopes"] = [client.scopes, new_scopes]
            client.scopes = new_scopes
        if installable is not None and installable != client.installable:
            # Turning it off keeps existing installations: each organization uninstalls its own.
            changes["installable"] = [client.installable, installable]
            client.installable = installable
        if changes:
            await client.save(update_fields=["name", "scopes", "installable", "updated_at"])
            await audit.record(scope, "oauth_client.update", client, changes)
    return client


async def rotate_secret(scope: Scope, client_pk: UUID) -> tuple[OAuthClient, str]:
    """A new secret at once; the old one stops working. Tokens already issued keep working."""
    scope.require("settings:write")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        client = await scope.get(OAuthClient, client_pk, "write", field="id")
        client.secret_hash = digest(secret)
        await client.save(update_fields=["secret_hash", "updated_at"])
        await audit.record(scope, "oauth_client.rotate_secret", client, {"secret": ["***", "***"]})
    return client, secret


async def app_behind(token: str):
    """(client, scopes, user or None) for an OAuth access token that works now, else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        await OAuthAccessToken.filter(
            token_hash=digest(token), expires_at__gt=datetime.now(UTC), client__revoked_at=None
        )
        .select_related("client", "user")
        .first()
    )
    if row is None:
        return None
    scopes = [s for s in row.scopes if s in row.client.scopes]
    if row.installation_id is not None:  # within what the installing organization approved
        installation = await OAuthInstallation.get_or_none(id=row.installation_id, revoked_at=None)
        if installation is None:
            return None
        scopes = [s for s in scopes if s in installation.scopes]
    return row.client, scopes, row.user
