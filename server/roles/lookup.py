"""A member's or API key's role by name: a built-in one from the table (no SQL), else the
organization's custom role (one statement). Nothing is cached across requests, so a changed
role applies from the caller's next request."""

from __future__ import annotations

from uuid import UUID

from server.auth.roles import ROLES, Role
from server.roles.models import CustomRole


async def role_named(organization_id: UUID, name: str) -> Role | None:
    builtin = ROLES.get(name)
    if builtin is not None:
        return builtin
    custom = await CustomRole.get_or_none(organization_id=organization_id, name=name)
    return custom.as_role() if custom else None
