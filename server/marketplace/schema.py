"""GraphQL for marketplace sync: the pushes of order statuses to marketplaces (with refusals)
and the ``syncMarketplace`` mutation."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import DateTimeFilter, IDFilter, Lookup, build_q
from server.graphql.loaders import load_by_id
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.graphql.types import Node, model_type
from server.marketplace import service
from server.marketplace.models import MarketplacePush
from server.orders.models import Order

if TYPE_CHECKING:
    from server.orders.schema import OrderType

LazyOrderType = Annotated["OrderType", strawberry.lazy("server.orders.schema")]


@strawberry.enum(description="What became of a status push to a marketplace.")
class MarketplacePushOutcome(Enum):
    PENDING = "pending"
    OK = "ok"
    REFUSED = "refused"
    FAILED = "failed"
    SKIPPED = "skipped"


@model_type(
    MarketplacePush,
    description="One order status change told to the order's marketplace (e.g. Rozetka), with its outcome.",
)
class MarketplacePushType(Node):
    plugin: str = strawberry.field(description="The marketplace plugin, e.g. `rozetka`.")
    crm_status: str = strawberry.field(description="Our status code the order moved to.")
    marketplace_status: str | None = strawberry.field(
        description="The marketplace's status it was mapped to (the marketplace's own id)."
    )
    error: str | None = strawberry.field(description="Why the marketplace refused or the push failed.")
    error_code: str | None = strawberry.field(description="The plugin's or marketplace's error code, if any.")
    attempts: int = strawberry.field(description="Calls made to the marketplace for this push.")
    last_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @strawberry.field(
        description="ok: accepted; refused: the marketplace (or its rules) said no, not retried; "
        "failed: it could not be reached, retried later; skipped: the change came from the marketplace."
    )
    def outcome(self) -> MarketplacePushOutcome:
        return MarketplacePushOutcome(self.outcome)  # type: ignore[attr-defined]

    @strawberry.field(description="The order, or null if you may not see it.")
    async def order(self, info: Info) -> LazyOrderType | None:
        return await load_by_id(info.context, Order, self.order_id)  # type: ignore[attr-defined]


MarketplacePushConnection = connection_of(MarketplacePushType, "MarketplacePushConnection")


@strawberry.input(description="An outcome equal to, or one of.")
class MarketplacePushOutcomeFilter:
    eq: MarketplacePushOutcome | None = None
    in_: list[MarketplacePushOutcome] | None = strawberry.field(default=None, name="in")


@strawberry.input(description="Filters for marketplace pushes; all given conditions must hold.")
class MarketplacePushWhere:
    and_: list[MarketplacePushWhere] | None = strawberry.field(default=None, name="AND")
    or_: list[MarketplacePushWhere] | None = strawberry.field(default=None, name="OR")
    order: IDFilter | None = strawberry.field(default=None, description="Pushes of these orders.")
    outcome: MarketplacePushOutcomeFilter | None = strawberry.field(default=None, description="By outcome.")
    created_at: DateTimeFilter | None = strawberry.field(default=None, description="When the push was recorded.")


def _outcome_q(f: MarketplacePushOutcomeFilter):
    from tortoise.expressions import Q

    values = [f.eq.value] if f.eq else [o.value for o in f.in_ or []]
    return Q(outcome__in=values)


PUSH_LOOKUPS = {
    "order": Lookup("order_id", convert=lambda v: ids.decode(v, "Order")[1]),
    "outcome": Lookup("outcome", build=_outcome_q),
    "created_at": Lookup("created_at"),
}


@strawberry.type(description="An order the sync could not import or update, and why.")
class MarketplaceSyncProblem:
    external_id: str | None = strawberry.field(description="The marketplace's order id (null: the whole sync).")
    message: str = strawberry.field(description="What went wrong, for the admin.")


@strawberry.type(description="Where the order sync of a marketplace installation stands: its last run.")
class MarketplaceSyncStatus:
    running: bool = strawberry.field(description="A sync of this installation is running now.")
    last_started_at: datetime | None = strawberry.field(description="When the last sync started.")
    last_finished_at: datetime | None = strawberry.field(description="When the last sync finished.")
    imported: int = strawberry.field(description="New orders the last sync created.")
    updated: int = strawberry.field(description="Known orders the last sync changed.")
    unchanged: int = strawberry.field(description="Orders the last sync fetched again with nothing new.")
    problems: list[MarketplaceSyncProblem] = strawberry.field(
        description="Orders the last sync could not apply, with the reason (and whole-sync failures)."
    )


def _sync_status(state) -> MarketplaceSyncStatus:
    from datetime import UTC

    result = state.last_result or {}
    return MarketplaceSyncStatus(
        running=bool(state.locked_until and state.locked_until > datetime.now(UTC)),
        last_started_at=state.last_started_at,
        last_finished_at=state.last_finished_at,
        imported=int(result.get("imported") or 0),
        updated=int(result.get("updated") or 0),
        unchanged=int(result.get("unchanged") or 0),
        problems=[
            MarketplaceSyncProblem(external_id=p.get("external_id"), message=str(p.get("message") or ""))
            for p in result.get("problems") or []
        ],
    )


@strawberry.type
class MarketplaceQueries:
    @strawberry.field(
        description="The last order sync of a marketplace installation (needs settings:read); null before the first."
    )
    async def marketplace_sync_status(self, info: Info, installation_id: strawberry.ID) -> MarketplaceSyncStatus | None:
        pk = ids.decode(installation_id, "PluginInstallation", "installationId")[1]
        state = await service.sync_status(info.context.scope, pk)
        return _sync_status(state) if state else None

    @strawberry.field(
        description="Order status pushes to marketplaces (newest first), including refusals; "
        "only for orders you may see."
    )
    async def marketplace_pushes(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        where: MarketplacePushWhere | None = None,
    ) -> MarketplacePushConnection:  # type: ignore[valid-type]
        ctx = info.context
        qs = ctx.scope.queryset(MarketplacePush).filter(build_q(where, PUSH_LOOKUPS))
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        return await paginate(
            MarketplacePushConnection, qs, first=first, after=after, sort=Sort("created_at", datetime, Direction.DESC)
        )


@strawberry.input
class SyncMarketplaceInput:
    installation_id: strawberry.ID = strawberry.field(description="A marketplace plugin installation (e.g. Rozetka).")


@strawberry.type
class SyncMarketplacePayload:
    imported: int = strawberry.field(default=0, description="New orders created.")
    updated: int = strawberry.field(default=0, description="Known orders whose marketplace status or waybill changed.")
    unchanged: int = strawberry.field(default=0, description="Orders fetched again with nothing new.")
    problems: list[MarketplaceSyncProblem] = strawberry.field(
        default_factory=list, description="Orders that were not applied, with the reason."
    )
    skipped: str | None = strawberry.field(default=None, description="Why nothing ran (another sync is running).")
    errors: list[UserError]


@strawberry.type
class MarketplaceMutations:
    @strawberry.mutation(description="Fetch new and changed orders from a marketplace installation now (owner, admin).")
    async def sync_marketplace(self, info: Info, input: SyncMarketplaceInput) -> SyncMarketplacePayload:
        ctx = info.context

        async def act():
            pk = ids.decode(input.installation_id, "PluginInstallation", "installationId")[1]
            result = await service.sync_now(ctx.scope, ctx.settings, pk)
            return {
                "imported": result.imported,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "problems": [MarketplaceSyncProblem(**p) for p in result.problems],
                "skipped": result.skipped,
            }

        return await run_mutation(SyncMarketplacePayload, act)
