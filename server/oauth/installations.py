"""One registered app, installed by many organizations.

A partner registers its app once, in its own organization, and marks it ``installable``. An
owner or admin of any other organization installs it on the consent page (``/oauth/authorize``,
choosing the organization); exchanging the code gives the app an access token for that
installation, and from then on the app gets tokens with its client credentials and
``organization=<slug>``. Each installation has the scopes its organization approved (within the
app's own); the organization uninstalls it whenever it likes. The app's organization sees no
other organization's data: only the tokens of an installation work there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth import principal as principals
from server.auth.models import Membership
from server.auth.principal import Principal
from server.auth.scope import Scope
from server.core.errors import ErrorCode, PublicError, UserInputError
from server.i18n import _
from server.oauth.models import OAuthAccessToken, OAuthClient, OAuthInstallation
from server.organizations.models import Organization

INSTALL_PERMISSION = "settings:write"  # who may install: those who manage the organization's apps


async def organization_to_install_into(user, slug: str) -> Organization:
    """The organization a person installs an app into: the one named, or the only one they
    manage. Refused (UserInputError, shown on the consent page) unless they may manage its apps."""
    slug = (slug or "").strip()
    if slug:
        try:
            principal = await principals.for_user(user, slug)
        except PublicError:
            principal = None
        if principal is None or principal.role is None or not principal.role.allows(INSTALL_PERMISSION):
            raise UserInputError(
                ErrorCode.FORBIDDEN,
                _("Only an owner or admin of %(organization)s can install an app there.", organization=slug),
                "organization",
            )
        return principal.organization
    managed = []
    memberships = await Membership.filter(user=user, is_active=True).select_related("organization")
    for membership in memberships:
        principal = await principals.for_user(user, membership.organization.slug)
        if principal.role is not None and principal.role.allows(INSTALL_PERMISSION):
            managed.append(membership.organization)
    if len(managed) == 1:
        return managed[0]
    if not managed:
        raise UserInputError(
            ErrorCode.FORBIDDEN, _("Only an owner or admin of an organization can install an app."), "organization"
        )
    raise UserInputError(
        ErrorCode.REQUIRED,
        _(
            "You manage several organizations: type the one to install into (%(slugs)s).",
            slugs=", ".join(sorted(o.slug for o in managed)),
        ),
        "organization",
    )


async def install(client: OAuthClient, organization: Organization, user, scopes: list[str]) -> OAuthInstallation:
    """Installs (or installs again, with the newly approved scopes) and audits it in the
    installing organization, as the person who approved."""
    scope = Scope(Principal(kind="user", id=str(user.id), user=user, organization=organization))
    installer = await principals.for_user(user, organization.slug)
    from server.oauth.service import check_within_role  # the service builds on installations

    check_within_role(installer.role, scopes, "scope")  # nobody installs an app with more than they have
    async with in_transaction():
        row = await OAuthInstallation.get_or_none(client=client, organization=organization)
        before = None if row is None or row.revoked_at is not None else row.scopes
        if row is None:
            row = await OAuthInstallation.create(
                client=client, organization=organization, scopes=scopes, installed_by=user
            )
        else:
            row.scopes, row.revoked_at, row.installed_by = scopes, None, user
            await row.save(update_fields=["scopes", "revoked_at", "installed_by_id", "updated_at"])
            # Narrower scopes apply to tokens issued before (server/oauth/service.principal_for).
        await audit.record(
            scope,
            "oauth_installation.install",
            row,
            {"app": [None, f"{client.name} ({client.client_id})"], "scopes": [before, scopes]},
        )
    return row


async def installation_for(client: OAuthClient, slug: str) -> OAuthInstallation | None:
    """The client's live installation in the organization with this slug."""
    return (
        await OAuthInstallation.filter(client=client, organization__slug=slug, revoked_at=None)
        .select_related("organization")
        .first()
    )


async def list_installations(scope: Scope) -> list[OAuthInstallation]:
    scope.require(INSTALL_PERMISSION)
    return (
        await scope.queryset(OAuthInstallation).select_related("client", "client__organization").order_by("created_at")
    )


async def uninstall(scope: Scope, pk: UUID) -> OAuthInstallation:
    """The app's tokens for this organization stop working at once; it can be installed again."""
    scope.require(INSTALL_PERMISSION)
    async with in_transaction():
        row = await scope.get(OAuthInstallation, pk, "write", field="id")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            await row.save(update_fields=["revoked_at", "updated_at"])
            await OAuthAccessToken.filter(installation_id=row.id).delete()
            await audit.record(scope, "oauth_installation.uninstall", row, {"scopes": [row.scopes, None]})
    return row
