"""Who is calling. Kept generic: a user today, an OAuth app or an API key tomorrow."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from server.auth.models import Membership, User
from server.auth.roles import Role, RowScope
from server.core.errors import Forbidden, OrganizationRequired
from server.organizations.models import Organization


@dataclass
class Principal:
    kind: str  # "user" | "app" | "system"
    id: str | None
    user: User | None = None
    organization: Organization | None = None
    role: Role | None = None
    team_member_ids: list[UUID] = field(default_factory=list)

    @property
    def user_id(self) -> UUID | None:
        return self.user.id if self.user else None

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Principal(kind="anonymous", id=None)


async def for_user(user: User, organization_hint: str | None) -> Principal:
    """Resolve the organization (``X-Organization``: slug, or the user's only one) and role."""
    memberships = Membership.filter(user=user, is_active=True).select_related("organization")
    if organization_hint:
        membership = await memberships.filter(organization__slug=organization_hint).first()
        if membership is None:
            # Same answer whether the organization exists or not: nothing to learn by probing.
            raise Forbidden(f"You are not a member of organization '{organization_hint}'.")
    else:
        found = await memberships.limit(2)
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
    ids = await Membership.filter(team_id=membership.team_id, is_active=True).values_list("user_id", flat=True)
    return list({membership.user_id, *ids})


def require_organization(principal: Principal) -> Organization:
    if principal.organization is None:
        raise OrganizationRequired("Choose an organization with the X-Organization header (its slug).")
    return principal.organization
