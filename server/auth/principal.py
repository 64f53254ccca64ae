"""Who is calling. Kept generic: a user today, an OAuth app or an API key tomorrow."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from server.auth.models import Membership, User
from server.auth.roles import Role, RowScope
from server.core.errors import Forbidden, OrganizationRequired
from server.core.prepared import once, placeholder_text, placeholder_uuid
from server.i18n import _
from server.organizations.models import Organization


@dataclass
class Principal:
    kind: str  # "user" | "app" | "system"
    id: str | None
    user: User | None = None
    organization: Organization | None = None
    role: Role | None = None
    team_member_ids: list[UUID] = field(default_factory=list)
    # The app a person acts through (a token they gave it on the consent page), e.g.
    # "oauth:crm_client_...": the audit trail names both.
    via: str | None = None

    @property
    def user_id(self) -> UUID | None:
        return self.user.id if self.user else None

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Principal(kind="anonymous", id=None)


def _membership_in_query():
    user_id, slug = placeholder_uuid(), placeholder_text()
    query = Membership.filter(user_id=user_id, is_active=True, organization__slug=slug).select_related("organization")
    return query.limit(1), [user_id, slug]


def _memberships_query():
    user_id = placeholder_uuid()
    return Membership.filter(user_id=user_id, is_active=True).select_related("organization").limit(2), [user_id]


def _team_query():
    team_id = placeholder_uuid()
    return Membership.filter(team_id=team_id, is_active=True).values("user_id"), [team_id]


async def for_user(user: User, organization_hint: str | None) -> Principal:
    """Resolve the organization (``X-Organization``: slug, or the user's only one) and role.
    Read fresh on every request, with statements prepared once (server/core/prepared.py)."""
    if organization_hint:
        found = await once("auth.membership_in", Membership, _membership_in_query).fetch(user.id, organization_hint)
        membership = found[0] if found else None
        if membership is None:
            # Same answer whether the organization exists or not: nothing to learn by probing.
            raise Forbidden(_("You are not a member of organization '%(slug)s'.", slug=organization_hint))
    else:
        found = await once("auth.memberships", Membership, _memberships_query).fetch(user.id)
        membership = found[0] if len(found) == 1 else None
    principal = Principal(kind="user", id=str(user.id), user=user)
    if membership is None:
        return principal
    principal.organization = membership.organization
    principal.role = await role_named(membership.organization_id, membership.role)
    if principal.role is None:  # a role that no longer exists: the member can do nothing
        return principal
    if principal.role.scope is RowScope.TEAM:
        principal.team_member_ids = await _team_member_ids(membership)
    return principal


async def role_named(organization_id: UUID, name: str) -> Role | None:
    from server.roles.lookup import role_named as lookup  # roles build on auth, not the reverse

    return await lookup(organization_id, name)


async def _team_member_ids(membership: Membership) -> list[UUID]:
    if membership.team_id is None:
        return [membership.user_id]
    rows = await once("auth.team", Membership, _team_query).fetch(membership.team_id)
    return list({membership.user_id, *(row["user_id"] for row in rows)})


def require_organization(principal: Principal) -> Organization:
    if principal.organization is None:
        raise OrganizationRequired(_("Choose an organization with the X-Organization header (its slug)."))
    return principal.organization
