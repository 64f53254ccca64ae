"""The one place where reads and writes are scoped to the caller.

Every service reads through ``Scope.queryset``: it checks the role's permission, filters by
the caller's organization and applies the role's row scope. A record of another organization,
or outside the caller's rows, is therefore indistinguishable from a missing one.
"""

from __future__ import annotations

from functools import cached_property
from typing import TypeVar
from uuid import UUID

from tortoise.queryset import QuerySet

from server.auth.principal import Principal, require_organization
from server.auth.roles import RowScope
from server.core.errors import ErrorCode, Forbidden, Unauthenticated, UserInputError, not_found
from server.core.models import TenantModel
from server.core.text import camel_case
from server.i18n import _
from server.organizations.models import Organization

M = TypeVar("M", bound=TenantModel)

# Rows without a ``deleted_at`` of their own that disappear with their soft-deleted parent:
# model name -> the relation to that parent. (A contact of a deleted account is deleted too;
# an order is not: it is history and keeps showing its account.)
DELETED_WITH_PARENT: dict[str, str] = {"Contact": "account"}


def organization_rows(model: type[M], organization_id: UUID, *, with_deleted: bool = False) -> QuerySet[M]:
    """The organization's rows of ``model`` that are not deleted, for no one in particular:
    ``Scope.queryset`` narrows them to a caller, ``Scope.sees_row`` checks one for a caller."""
    qs = model.filter(organization_id=organization_id)
    if not with_deleted:
        if "deleted_at" in model._meta.fields_map:
            qs = qs.filter(deleted_at=None)
        parent = DELETED_WITH_PARENT.get(model.__name__)
        if parent is not None:
            qs = qs.filter(**{f"{parent}__deleted_at": None})
    return qs


class Scope:
    def __init__(self, principal: Principal):
        self.principal = principal

    @classmethod
    def for_app(cls, organization: Organization, app_id: str, role: str) -> Scope:
        """The scope of the CRM's own background work in ``organization`` (a webhook, a sync, a
        tracking run) with one of ``APP_ROLES``; the audit trail names it ``app <app_id>``."""
        from server.auth.roles import APP_ROLES

        return cls(Principal(kind="app", id=app_id[:64], organization=organization, role=APP_ROLES[role]))

    # -- who ---------------------------------------------------------------
    @property
    def user_id(self) -> UUID | None:
        return self.principal.user_id

    @cached_property
    def organization(self) -> Organization:
        if not self.principal.is_authenticated:
            raise Unauthenticated(_("Sign in first: send 'Authorization: Bearer <token>'."))
        return require_organization(self.principal)

    @property
    def organization_id(self) -> UUID:
        return self.organization.id

    @property
    def actor(self) -> tuple[str, str | None]:
        return self.principal.kind, self.principal.id

    # -- what --------------------------------------------------------------
    def can(self, permission: str) -> bool:
        self.organization  # noqa: B018 - raises for anonymous or organization-less callers
        role = self.principal.role
        return role is not None and role.allows(permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(_("Your role does not allow '%(permission)s'.", permission=permission))

    def can_see_field(self, type_name: str, field_name: str) -> bool:
        role = self.principal.role
        return role is None or f"{type_name}.{field_name}" not in role.hidden_fields

    def sees_pii(self, type_name: str, field_name: str) -> bool:
        """Customers' phones, e-mails and addresses in full (``pii:read``, or a field the role needs
        for its work); otherwise they are masked (server/auth/masking.py)."""
        role = self.principal.role
        if role is None:
            return False
        return role.allows("pii:read") or f"{type_name}.{field_name}" in role.unmasked_fields

    def mask(self, type_name: str, field_name: str, value):
        """A PII field's value as this caller may see it: as stored, or masked."""
        if self.sees_pii(type_name, field_name):
            return value
        from server.auth.masking import mask_field

        return mask_field(type_name, field_name, value)

    def check_writable(self, resource: str, fields) -> None:
        """Some roles may change only some fields of a resource (logistics: delivery)."""
        role = self.principal.role
        allowed = role.writable_fields.get(resource) if role else None
        if allowed is not None:
            refused = sorted(camel_case(f) for f in set(fields) - allowed)
            if refused:
                # Named as the API names them (paymentStatus, managerId), like every UserError.field.
                raise UserInputError(
                    ErrorCode.FORBIDDEN,
                    _("Your role may not change: %(fields)s.", fields=", ".join(refused)),
                    refused[0],
                )

    def row_scope(self) -> RowScope:
        role = self.principal.role
        return role.scope if role else RowScope.OWN

    # -- which rows ----------------------------------------------------------
    def queryset(self, model: type[M], action: str = "read", *, with_deleted: bool = False) -> QuerySet[M]:
        self.require(f"{model.resource}:{action}")
        return organization_rows(model, self.organization_id, with_deleted=with_deleted).filter(
            **self._row_filter(model)
        )

    def sees_row(self, model: type[TenantModel], organization_id: UUID, owner_id: UUID | None) -> bool:
        """Whether a row of ``organization_id`` whose ``owner_path`` leads to ``owner_id``, read
        with ``organization_rows`` (one read shared by many callers, e.g. live subscribers), is
        one ``queryset(model)`` would give this caller: their organization, the read permission
        and their row scope."""
        if organization_id != self.organization_id or not self.can(f"{model.resource}:read"):
            return False
        scope = self.row_scope()
        if scope is RowScope.ALL or model.owner_path is None:
            return True
        if scope is RowScope.OWN:
            return owner_id is not None and owner_id == self.user_id
        return owner_id in self.principal.team_member_ids

    def _row_filter(self, model: type[TenantModel]) -> dict:
        scope = self.row_scope()
        if scope is RowScope.ALL or model.owner_path is None:
            return {}
        if scope is RowScope.OWN:
            return {model.owner_path: self.user_id}
        return {f"{model.owner_path}__in": self.principal.team_member_ids}

    async def get(
        self,
        model: type[M],
        id: UUID | None,
        action: str = "read",
        *,
        what: str | None = None,
        field: str | None = None,
        for_update: bool = False,
    ) -> M:
        """The row, or a NOT_FOUND user error (also for rows of other organizations)."""
        qs = self.queryset(model, action)
        if for_update:
            qs = qs.select_for_update()
        obj = await qs.get_or_none(id=id) if id is not None else None
        if obj is None:
            raise not_found(what or model.__name__, field)
        return obj

    def check_owner(self, owner_id: UUID | None, field: str = "ownerId") -> None:
        """A team or own-scoped caller may only give records to themselves or their team."""
        scope = self.row_scope()
        allowed = (
            scope is RowScope.ALL
            or (scope is RowScope.OWN and owner_id == self.user_id)
            or (scope is RowScope.TEAM and owner_id in self.principal.team_member_ids)
        )
        if not allowed:
            raise UserInputError(ErrorCode.FORBIDDEN, _("You may not assign records outside your row scope."), field)
