"""GraphQL for the per-customer figures (``Account.figures``), RFM groups and settings, and
the ``accounts(where:, orderBy:)`` conditions on figures (used by accounts and segments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q
from tortoise.functions import Coalesce

from server.analytics import service
from server.analytics.models import DEFAULT_RFM_WINDOW_DAYS, CustomerFigures
from server.analytics.rfm import GROUPS
from server.catalog.schema import require_visible
from server.core.errors import BadRequest
from server.core.money import quantize
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import MAX_IN_VALUES, DateTimeFilter, DecimalFilter, IntFilter
from server.graphql.types import Money, money
from server.i18n import _

RfmGroup = strawberry.enum(
    Enum("RfmGroup", {code.upper(): code for code in GROUPS}),
    name="RfmGroup",
    description="The eleven RFM groups; docs/customer-figures.md shows which scores fall in which group.",
)


@strawberry.type(description="A customer's RFM scores (1 = lowest fifth of the organization's customers, 5 = top).")
class RfmScores:
    recency: int = strawberry.field(description="How recently they ordered, 1-5 (5: the most recent fifth).")
    frequency: int = strawberry.field(description="How many orders in the RFM window, 1-5.")
    monetary: int = strawberry.field(description="How much they spent in the window (organization's currency), 1-5.")
    group: RfmGroup = strawberry.field(description="The group their scores fall in.")
    computed_at: datetime | None = strawberry.field(
        description="When these scores were last set; they stay while a recompute finds them unchanged "
        "(`rfmSettings.computedAt` is the last recompute)."
    )

    @strawberry.field(description='The three scores as one cell, e.g. "545" (recency, frequency, monetary).')
    def cell(self) -> str:
        return f"{self.recency}{self.frequency}{self.monetary}"

    @strawberry.field(description="The group's name in the request's language.")
    def group_name(self) -> str:
        return _(GROUPS[self.group.value])


def _money_list(rows: list[dict], key) -> list[Money]:
    return [money(key(row), row["currency"]) for row in rows if int(row["orders"])]


@strawberry.type(
    name="CustomerFigures",
    description="What a customer's orders add up to. Counts non-cancelled, non-deleted orders; kept current "
    "with every order change (RFM scores: nightly and on demand, see `rfmSettings.computedAt`).",
)
class CustomerFiguresType:
    _row: strawberry.Private[CustomerFigures]

    @strawberry.field(description="When their first counted order was placed; null before the first order.")
    def first_order_at(self) -> datetime | None:
        return self._row.first_order_at

    @strawberry.field(description="When their last counted order was placed; null before the first order.")
    def last_order_at(self) -> datetime | None:
        return self._row.last_order_at

    @strawberry.field(description="How many orders they placed (cancelled and deleted orders do not count).")
    def order_count(self) -> int:
        return self._row.order_count

    @strawberry.field(description="Whole days since their last order, as of now; null before the first order.")
    def days_since_last_order(self) -> int | None:
        last = self._row.last_order_at
        return None if last is None else max(0, (datetime.now(UTC) - last).days)

    @strawberry.field(description="What they spent, one amount per currency they paid in.")
    def revenue(self) -> list[Money]:
        return _money_list(self._row.by_currency, lambda row: Decimal(row["revenue"]))

    @strawberry.field(
        description="What their orders earned: Σ (line total − unit cost × quantity) over catalog lines whose "
        "variant had a cost, per currency (the sum of their orders' `margin`); no entry for a currency without "
        "such lines. FORBIDDEN to roles that may not see `Order.margin`."
    )
    def margin(self, info: Info) -> list[Money]:
        require_visible(info, "Order", "margin")
        return [
            money(Decimal(row["margin"]), row["currency"])
            for row in self._row.by_currency
            if int(row["orders"]) and row.get("margin") is not None
        ]

    @strawberry.field(description="Revenue ÷ number of orders, per currency.")
    def average_order_value(self) -> list[Money]:
        return _money_list(self._row.by_currency, lambda row: quantize(Decimal(row["revenue"]) / int(row["orders"])))

    @strawberry.field(
        description="Lifetime value so far: the historical revenue (equal to `revenue`), per currency. "
        "Forecasting formulas are in the analytics metrics."
    )
    def lifetime_value(self) -> list[Money]:
        return self.revenue()

    @strawberry.field(description="RFM scores and group; null until they have ordered and RFM was computed.")
    def rfm(self) -> RfmScores | None:
        row = self._row
        if row.rfm_group is None:
            return None
        return RfmScores(
            recency=row.rfm_recency,
            frequency=row.rfm_frequency,
            monetary=row.rfm_monetary,
            group=RfmGroup(row.rfm_group),
            computed_at=row.rfm_computed_at,
        )


def figures_loader(ctx):
    async def load(account_ids):
        found = await service.figures_for(ctx.scope, list(set(account_ids)))
        # An account with no row yet (loaded in bulk before `crm analytics rebuild`): no orders counted.
        return [found.get(pk) or CustomerFigures(account_id=pk) for pk in account_ids]

    return load


async def load_figures(info: Info, account) -> CustomerFiguresType:
    row = await info.context.loader(("customer_figures",), figures_loader).load(account.id)
    return CustomerFiguresType(_row=row)


# -- accounts(where:, orderBy:) on figures ---------------------------------------------------


@strawberry.input(description="An RFM group equal to, or one of.")
class RfmGroupFilter:
    eq: RfmGroup | None = None
    in_: list[RfmGroup] | None = strawberry.field(default=None, name="in")


def rfm_group_q(f: RfmGroupFilter) -> Q:
    values = [f.eq] if f.eq is not None else list(f.in_ or [])
    if len(values) > MAX_IN_VALUES:
        raise BadRequest(_("`rfmGroup.in` takes at most %(max_in_values)s values.", max_in_values=MAX_IN_VALUES))
    return Q(figures__rfm_group__in=[v.value for v in values]) if values else Q()


def _range_q(path: str, f, convert=lambda v: v) -> Q:
    """eq/in/gte/gt/lte/lt of a filter on a figures column; a missing row counts as 0 orders."""
    parts = []
    for op in ("eq", "in_", "gte", "gt", "lte", "lt"):
        value = getattr(f, op, None)
        if value is None:
            continue
        if op == "eq":
            parts.append(Q(**{path: convert(value)}))
        elif op == "in_":
            parts.append(Q(**{f"{path}__in": [convert(v) for v in value]}))
        else:
            parts.append(Q(**{f"{path}__{op}": convert(value)}))
    return Q(*parts) if parts else Q()


def order_count_q(f: IntFilter) -> Q:
    return _range_q("figures_order_count", f)


def revenue_q(f: DecimalFilter) -> Q:
    return _range_q("figures_revenue_cents", f, lambda v: int(quantize(Decimal(v)) * 100))


def last_order_q(f: DateTimeFilter) -> Q:
    return _range_q("figures__last_order_at", f)


MAX_DAYS = 36_500  # a hundred years: further back than any order


def days_since_last_order_q(f: IntFilter) -> Q:
    """More days since the last order = an earlier last order; never ordered: not matched."""
    now = datetime.now(UTC)

    def ago(days: int) -> datetime:
        if not 0 <= days <= MAX_DAYS:
            raise BadRequest(_("`daysSinceLastOrder` takes 0 to %(most)s days.", most=MAX_DAYS))
        return now - timedelta(days=days)

    parts = []
    if f.eq is not None:
        parts.append(Q(figures__last_order_at__lte=ago(f.eq)))
        parts.append(Q(figures__last_order_at__gt=ago(f.eq) - timedelta(days=1)))
    if f.gte is not None:
        parts.append(Q(figures__last_order_at__lte=ago(f.gte)))
    if f.lte is not None:
        parts.append(Q(figures__last_order_at__gt=ago(f.lte) - timedelta(days=1)))
    if f.in_:
        raise BadRequest(_("`daysSinceLastOrder` takes eq, gte and lte."))
    return Q(*parts) if parts else Q()


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def with_figures(qs):
    """Accounts with their figures joined as sortable columns (no row: 0 orders, no revenue)."""
    return qs.annotate(
        figures_order_count=Coalesce("figures__order_count", 0),
        figures_revenue_cents=Coalesce("figures__revenue_cents", 0),
        figures_last_order_at=Coalesce("figures__last_order_at", EPOCH),
    )


# -- RFM groups, settings, recompute ----------------------------------------------------------


@strawberry.type(description="One RFM group and how many of your customers are in it.")
class RfmGroupSize:
    group: RfmGroup
    name: str = strawberry.field(description="The group's name in the request's language.")
    accounts: int = strawberry.field(description="Customers in the group that you may see.")


@strawberry.type(description="How RFM is computed in this organization.")
class RfmSettingsType:
    window_days: int = strawberry.field(description="Orders of the last this many days are scored (default 365).")
    computed_at: datetime | None = strawberry.field(description="The last recompute, nightly or on demand.")


@strawberry.type
class AnalyticsFiguresQueries:
    @strawberry.field(description="The RFM groups with their sizes, in the order marketers list them.")
    async def rfm_groups(self, info: Info) -> list[RfmGroupSize]:
        sizes = await service.rfm_group_sizes(info.context.scope)
        return [RfmGroupSize(group=RfmGroup(code), name=_(name), accounts=sizes[code]) for code, name in GROUPS.items()]

    @strawberry.field(description="The organization's RFM settings.")
    async def rfm_settings(self, info: Info) -> RfmSettingsType:
        scope = info.context.scope
        scope.require("settings:read")
        stored = await service.settings_of(scope.organization_id)
        return RfmSettingsType(window_days=stored.rfm_window_days, computed_at=stored.rfm_computed_at)


@strawberry.input(description="Change the RFM window (owners and admins).")
class UpdateRfmSettingsInput:
    window_days: int | None = strawberry.field(
        default=None, description=f"7 to 3650 days; default {DEFAULT_RFM_WINDOW_DAYS}."
    )


@strawberry.type
class RfmSettingsPayload:
    settings: RfmSettingsType | None = None
    errors: list[UserError]


@strawberry.type
class RecomputeRfmPayload:
    scored: int | None = strawberry.field(default=None, description="How many customers got scores.")
    errors: list[UserError]


@strawberry.type
class AnalyticsFiguresMutations:
    @strawberry.mutation(description="Owners and admins: change how RFM is computed (applies from the next recompute).")
    async def update_rfm_settings(self, info: Info, input: UpdateRfmSettingsInput) -> RfmSettingsPayload:
        scope = info.context.scope

        async def act():
            stored = await service.update_settings(scope, input.window_days)
            return {"settings": RfmSettingsType(window_days=stored.rfm_window_days, computed_at=stored.rfm_computed_at)}

        return await run_mutation(RfmSettingsPayload, act)

    @strawberry.mutation(
        description="Owners and admins: recompute every customer's RFM scores and group now "
        "(it also runs nightly). Group moves appear on the accounts' timelines."
    )
    async def recompute_rfm(self, info: Info) -> RecomputeRfmPayload:
        scope = info.context.scope

        async def act():
            return {"scored": await service.recompute_rfm(scope)}

        return await run_mutation(RecomputeRfmPayload, act)
