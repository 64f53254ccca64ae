from __future__ import annotations

from tortoise import fields

from server.auth.roles import Role, RowScope
from server.core.models import TenantModel


class CustomRole(TenantModel):
    """A role an owner or admin made for this organization from the permission catalogue
    (server/roles/catalogue.py). Members and API keys name it in their ``role`` like a built-in one;
    its name therefore never equals a built-in role's."""

    name = fields.CharField(max_length=32)
    description = fields.CharField(max_length=500, default="")
    permissions = fields.JSONField(default=list)  # sorted "resource:action" names
    row_scope = fields.CharField(max_length=8, default="all")
    hidden_fields = fields.JSONField(default=list)  # "Type.field" names this role may not read

    resource = "members"

    class Meta:
        table = "custom_role"
        unique_together = (("organization", "name"),)

    def as_role(self) -> Role:
        grants: dict[str, tuple[str, ...]] = {}
        for permission in self.permissions:
            resource, _, action = permission.partition(":")
            grants[resource] = (*grants.get(resource, ()), action)
        return Role(
            self.name,
            self.description,
            grants,
            scope=RowScope(self.row_scope),
            hidden_fields=frozenset(self.hidden_fields),
        )
