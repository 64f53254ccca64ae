"""GraphQL for the audit trail: who changed what, when, with the before/after of each field.

Read-only, newest first, for roles with ``audit:read`` (owner, admin, analyst)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info
from tortoise.expressions import Q

from server.audit.models import AuditEntry
from server.graphql import ids
from server.graphql.filters import DateTimeFilter, IDFilter, Lookup, StringFilter, build_q
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import UserType, model_type


@model_type(AuditEntry, description="One recorded change. Entries cannot be changed or deleted.")
class AuditEntryType:
    action: str = strawberry.field(description="What happened, e.g. `account.update`, `order.status`.")
    entity_type: str = strawberry.field(description="The changed object's type, e.g. `Account`.")
    actor_kind: str = strawberry.field(description="user, app or system.")
    created_at: datetime

    @strawberry.field(description="Opaque ID of the entry (not fetchable with `node`).")
    def id(self) -> strawberry.ID:
        return ids.encode("AuditEntry", self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="Global ID of the changed object; pass it to `node(id:)` to load it.")
    def entity_id(self) -> strawberry.ID:
        return ids.encode(self.entity_type, self.entity_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The member who made the change (null for apps, the system, former members).")
    async def actor(self, info: Info) -> UserType | None:
        from server.auth.schema import load_member

        if self.actor_kind != "user" or not self.actor_id:  # type: ignore[attr-defined]
            return None
        try:
            user_id = UUID(self.actor_id)  # type: ignore[attr-defined]
        except ValueError:
            return None
        return await load_member(info.context, user_id)

    @strawberry.field(description="{field: [before, after]} of every changed field (null before = created).")
    def changes(self) -> JSON:
        return self.changes  # type: ignore[attr-defined]


AuditEntryConnection = connection_of(AuditEntryType, "AuditEntryConnection")


def _entity_q(f: IDFilter) -> Q:
    values = [f.eq] if f.eq is not None else list(f.in_ or [])
    if f.eq is None and f.in_ is None:
        return Q()
    parts = []
    for value in values:
        type_name, pk = ids.decode(value, field="where.entityId")
        parts.append(Q(entity_type=type_name, entity_id=pk))
    # An empty `in` matches nothing, like every other `in` filter.
    return Q(*parts, join_type="OR") if parts else Q(id__in=[])


@strawberry.input(description="Filters for audit entries; all given conditions must hold (use OR for any).")
class AuditEntryWhere:
    and_: list[AuditEntryWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[AuditEntryWhere] | None = strawberry.field(default=None, name="OR")
    entity_id: IDFilter | None = strawberry.field(default=None, description="Global ID of any object (Account...).")
    entity_type: StringFilter | None = strawberry.field(default=None, description="E.g. `Order`.")
    action: StringFilter | None = strawberry.field(default=None, description="E.g. `order.status`.")
    actor: IDFilter | None = strawberry.field(default=None, description="User IDs.")
    created_at: DateTimeFilter | None = None


AUDIT_LOOKUPS = {
    "entity_id": Lookup("entity_id", build=_entity_q),
    "entity_type": Lookup("entity_type"),
    "action": Lookup("action"),
    "actor": Lookup("actor_id", convert=lambda v: str(ids.decode(v, "User")[1])),
    "created_at": Lookup("created_at"),
}


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The organization's audit trail, newest first. Needs `audit:read` (owner, admin, analyst)."
    )
    async def audit_entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: AuditEntryWhere | None = None,
    ) -> AuditEntryConnection:
        ctx = info.context
        qs = ctx.scope.queryset(AuditEntry).filter(build_q(where, AUDIT_LOOKUPS))
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        return await paginate(
            AuditEntryConnection, qs, first=first, after=after, sort=Sort("created_at", datetime, Direction.DESC)
        )
