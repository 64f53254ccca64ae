"""GraphQL for the audit trail: who changed what, when, with the before/after of each field.

Read-only, newest first, for roles with ``audit:read`` (owner, admin, analyst)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info
from tortoise.expressions import Q

from server.audit import actors
from server.audit.actors import ActorKind
from server.audit.models import AuditEntry
from server.graphql import ids
from server.graphql.filters import DateTimeFilter, IDFilter, Lookup, StringFilter, build_q
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import UserType, model_type

AuditActorKind = strawberry.enum(
    ActorKind,
    name="AuditActorKind",
    description="What kind of caller made a change: a member (USER), a partner's OAuth app (OAUTH_APP), "
    "an API key (API_KEY), a plugin (PLUGIN: its webhooks, syncs, tracking) or the CRM itself (SYSTEM).",
)


@strawberry.type(name="AuditActor", description="Who made a change, in words: a member, an app, a key or a plugin.")
class AuditActorType:
    kind: AuditActorKind = strawberry.field(description="What kind of caller it was.")
    id: str = strawberry.field(
        description="Its identifier: the user's UUID, the OAuth client id, the API key's UUID, the plugin's name "
        "or the CRM component (e.g. campaigns)."
    )
    display_name: str = strawberry.field(
        description="For people: 'Olena Petrenko <olena@example.com>', 'Warehouse app (crm_client_...)', "
        "'BI export (crm_live_AbCd)', the plugin's title, or the component."
    )
    user: UserType | None = strawberry.field(default=None, description="The member, for USER; null otherwise.")
    client_id: str | None = strawberry.field(default=None, description="The OAuth client id, for OAUTH_APP.")
    key_prefix: str | None = strawberry.field(
        default=None, description="The API key's first characters (crm_live_AbCd), for API_KEY."
    )
    via: AuditActorType | None = strawberry.field(
        default=None,
        description="For a person acting through a partner's app (a token they gave it on the consent page): "
        "the app. Null when the person acted themselves.",
    )


async def _actor(info: Info, actor_kind: str, actor_id: str | None) -> AuditActorType:
    from server.auth.schema import load_member

    ctx = info.context
    ref = actors.parse(actor_kind, actor_id)
    if ref.kind is ActorKind.USER:
        try:
            user = await load_member(ctx, UUID(ref.key))
        except ValueError:
            user = None
        shown = f"{user.name} <{user.email}>" if user is not None else ref.key
        return AuditActorType(kind=ref.kind, id=ref.key, display_name=shown, user=user)
    if ref.kind is ActorKind.OAUTH_APP:
        app = await ctx.loader("audit_oauth_apps", lambda _ctx: actors.oauth_apps).load(ref.key)
        shown = app.display if app else ref.key
        return AuditActorType(kind=ref.kind, id=ref.key, display_name=shown, client_id=ref.key)
    if ref.kind is ActorKind.API_KEY:
        organization_id = ctx.scope.organization_id
        key = await ctx.loader("audit_api_keys", lambda _ctx: actors.api_keys_of(organization_id)).load(ref.key)
        shown = key.display if key else ref.key
        return AuditActorType(kind=ref.kind, id=ref.key, display_name=shown, key_prefix=key.detail if key else None)
    if ref.kind is ActorKind.PLUGIN:
        return AuditActorType(kind=ref.kind, id=ref.key, display_name=actors.plugin_title(ref.key))
    return AuditActorType(kind=ref.kind, id=ref.key, display_name=ref.key)


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

    @strawberry.field(
        name="actedBy",
        description="Who made the change: a member, a partner's OAuth app, an API key, a plugin or the CRM itself, "
        "named for people (`actor` gives members only).",
    )
    async def acted_by(self, info: Info) -> AuditActorType:
        found = await _actor(info, self.actor_kind, self.actor_id)  # type: ignore[attr-defined]
        if self.actor_via:  # type: ignore[attr-defined]
            found.via = await _actor(info, "app", self.actor_via)  # type: ignore[attr-defined]
        return found

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
    actor_kind: StringFilter | None = strawberry.field(default=None, description="`user`, `app` or `system`.")
    actor_id: StringFilter | None = strawberry.field(
        default=None,
        description="The stored actor: a user's UUID, `oauth:<client id>`, `apikey:<key UUID>`, `plugin:<name>`...",
    )
    actor_via: StringFilter | None = strawberry.field(
        default=None, description="The app a person acted through: `oauth:<client id>`."
    )
    created_at: DateTimeFilter | None = None


AUDIT_LOOKUPS = {
    "entity_id": Lookup("entity_id", build=_entity_q),
    "entity_type": Lookup("entity_type"),
    "action": Lookup("action"),
    "actor": Lookup("actor_id", convert=lambda v: str(ids.decode(v, "User")[1])),
    "actor_kind": Lookup("actor_kind"),
    "actor_id": Lookup("actor_id"),
    "actor_via": Lookup("actor_via"),
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
