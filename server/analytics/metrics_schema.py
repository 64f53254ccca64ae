"""GraphQL: `analytics(period:, filter:)` with the metrics as lazily computed fields, the
analytics settings, and the mutations that change them and enter acquisition costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from server.analytics import cohorts as cohort_service
from server.analytics import engagement as engagement_service
from server.analytics import funnel as funnel_service
from server.analytics import ltv as ltv_service
from server.analytics import metrics as metrics_service
from server.analytics import metrics_settings as settings_service
from server.analytics import support as support_service
from server.analytics.metrics_models import AcquisitionCost, AnalyticsSettings
from server.analytics.metrics_sql import Filter, Period, make_period
from server.analytics.metrics_types import (
    AnalyticsPeriod,
    AnalyticsSettingsType,
    Cohort,
    CustomerMetrics,
    FunnelBreakdown,
    FunnelGroup,
    LtvFormula,
    LtvReport,
    MarginFigures,
    MessageEngagement,
    SupportMetrics,
)
from server.auth.scope import Scope
from server.catalog.schema import require_visible
from server.core.errors import UserInputError
from server.graphql import ids
from server.graphql.errors import UserError, user_error
from server.graphql.types import Money, money
from server.segments import service as segments


@strawberry.input(description="A period of whole days in the organization's time zone.")
class PeriodInput:
    first_day: date = strawberry.field(name="from", description="First day (included).")
    last_day: date = strawberry.field(name="to", description="Last day (included); at most about 3 years after `from`.")


@strawberry.input(description="Narrow the figures; every field is optional and they combine with AND.")
class AnalyticsFilter:
    source: str | None = strawberry.field(
        default=None, description="Acquisition source: the account's `source` (for the funnel: the deal's `source`)."
    )
    channel: str | None = strawberry.field(
        default=None, description="Sales channel: the order's `source` (manual, rozetka, …). Orders only."
    )
    manager_id: strawberry.ID | None = strawberry.field(
        default=None, description="The order's manager / the deal's owner (a User ID)."
    )
    pipeline_id: strawberry.ID | None = strawberry.field(
        default=None, description="Deals of this pipeline only (funnel)."
    )
    segment_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only the accounts of this saved segment (their orders, deals and messages), as the segment "
        "shows them to you; needs `accounts:read`. Not for `support`.",
    )


async def make_filter(scope: Scope, flt: AnalyticsFilter | None) -> Filter:
    if flt is None:
        return Filter()
    segment_pk = ids.decode_pk(flt.segment_id, "Segment", "filter.segmentId")
    return Filter(
        source=flt.source,
        channel=flt.channel,
        manager_id=ids.decode_pk(flt.manager_id, "User", "filter.managerId"),
        pipeline_id=ids.decode_pk(flt.pipeline_id, "Pipeline", "filter.pipelineId"),
        segment_ids=await segments.member_ids(scope, segment_pk) if segment_pk is not None else None,
    )


@strawberry.type(
    description="Figures over one period. Each field is computed only when asked for and needs its own "
    "permission: `analytics:read` (owners, admins, managers over their team's rows, analysts) for all but "
    "`support`, which needs only `tickets:read` (support agents too). Definitions: docs/analytics.md."
)
class Analytics:
    _scope: strawberry.Private[Scope]
    _period: strawberry.Private[Period]
    _filter: strawberry.Private[Filter]
    _settings: strawberry.Private[AnalyticsSettings]

    @strawberry.field(description="The period, with the UTC instants it was turned into.")
    def period(self) -> AnalyticsPeriod:
        p = self._period
        return AnalyticsPeriod(first_day=p.first, last_day=p.last, timezone=p.tz.key, starts_at=p.start, ends_at=p.end)

    @strawberry.field(
        description="Average order value, purchase frequency, repeat purchase rate, lifespan, retention and churn."
    )
    async def customers(self) -> CustomerMetrics:
        return await metrics_service.customer_metrics(
            self._scope, self._period, self._filter, self._settings.lost_after_days
        )

    @strawberry.field(
        description="What the period's orders earned on catalog lines with a cost, per currency (revenue, cost, "
        "margin, margin %). FORBIDDEN to roles that may not see `Order.margin`."
    )
    async def margin(self, info: Info) -> list[MarginFigures]:
        require_visible(info, "Order", "margin")
        return await metrics_service.margin_figures(self._scope, self._period, self._filter)

    @strawberry.field(
        description="Monthly cohorts by the month of the first order, over the months the period touches."
    )
    async def cohorts(self) -> list[Cohort]:
        return await cohort_service.cohorts(self._scope, self._period, self._filter)

    @strawberry.field(description="Customer lifetime value by each formula, and LTV:CAC per acquisition source.")
    async def ltv(self) -> LtvReport:
        return await ltv_service.ltv_report(self._scope, self._period, self._filter, self._settings)

    @strawberry.field(description="The deal funnel of deals created in the period, per pipeline.")
    async def funnel(
        self,
        breakdown: Annotated[
            FunnelBreakdown, strawberry.argument(description="Split each pipeline further by deal source or manager.")
        ] = FunnelBreakdown.NONE,
    ) -> list[FunnelGroup]:
        return await funnel_service.funnel(self._scope, self._period, self._filter, breakdown.value)

    @strawberry.field(
        description="Customer messages sent in the period: delivered and delivered rate, clicked (links opened) "
        "and click rate, in total and per channel. Filters: source and manager (docs/analytics.md)."
    )
    async def messages(self) -> MessageEngagement:
        return await engagement_service.message_engagement(self._scope, self._period, self._filter)

    @strawberry.field(description="Response and resolution times and SLA compliance of tickets created in the period.")
    async def support(self) -> SupportMetrics:
        return await support_service.support_metrics(self._scope, self._period)


@strawberry.type(description="Money spent to acquire customers from one source in one month.")
class AcquisitionCostType:
    source: str = strawberry.field(description="The acquisition source, as in Account.source.")
    month: str = strawberry.field(description="The month, YYYY-MM.")
    amount: Money = strawberry.field(description="What was spent.")


def cost_type(row: AcquisitionCost) -> AcquisitionCostType:
    return AcquisitionCostType(
        source=row.source, month=row.month.strftime("%Y-%m"), amount=money(Decimal(row.amount), row.currency)
    )


async def open_analytics(scope: Scope, period: PeriodInput, flt: AnalyticsFilter | None) -> Analytics:
    organization = scope.organization  # unauthenticated callers stop here
    return Analytics(
        _scope=scope,
        _period=make_period(period.first_day, period.last_day, organization.timezone),
        _filter=await make_filter(scope, flt),
        _settings=await settings_service.current(scope),
    )


@strawberry.type
class AnalyticsQueries:
    @strawberry.field(
        description="Business figures over a period of days in the organization's time zone, optionally filtered."
    )
    async def analytics(self, info: Info, period: PeriodInput, filter: AnalyticsFilter | None = None) -> Analytics:
        return await open_analytics(info.context.scope, period, filter)

    @strawberry.field(description="The organization's LTV formula and parameters (needs `analytics:read`).")
    async def analytics_settings(self, info: Info) -> AnalyticsSettingsType:
        scope = info.context.scope
        scope.require("analytics:read")
        return ltv_service.settings_type(await settings_service.current(scope))

    @strawberry.field(description="Acquisition costs entered, newest month first (needs `analytics:read`).")
    async def acquisition_costs(self, info: Info) -> list[AcquisitionCostType]:
        scope = info.context.scope
        scope.require("analytics:read")
        rows = await AcquisitionCost.filter(organization_id=scope.organization_id).order_by(
            "-month", "source", "currency"
        )
        return [cost_type(r) for r in rows]


@strawberry.input(description="An amount of money; the currency defaults to the organization's.")
class MoneyAmountInput:
    amount: Decimal = strawberry.field(description="Decimal amount, at most 2 decimal places.")
    currency: str | None = strawberry.field(default=None, description="ISO 4217 code.")


@strawberry.input(description="What was spent to acquire customers from a source in a month.")
class SetAcquisitionCostInput:
    source: str = strawberry.field(description="The acquisition source, as in Account.source.")
    month: str = strawberry.field(description="The month, YYYY-MM.")
    amount: MoneyAmountInput = strawberry.field(description="The spend; replaces an earlier entry of that month.")


@strawberry.input(description="Analytics settings to change; fields left out keep their value.")
class UpdateAnalyticsSettingsInput:
    lost_after_days: int | None = strawberry.field(default=None, description="Days without an order: lost (1–3650).")
    ltv_formula: LtvFormula | None = strawberry.field(default=None, description="The LTV formula to report.")
    gross_margin_percent: Decimal | None = strawberry.field(default=None, description="0–100.")
    lifetime_years: Decimal | None = strawberry.field(default=None, description="More than 0, at most 100.")
    discount_rate_percent: Decimal | None = strawberry.field(default=None, description="0–100, yearly.")
    npv_years: int | None = strawberry.field(default=None, description="1–50.")


@strawberry.type(description="The result of setAcquisitionCost.")
class AcquisitionCostPayload:
    acquisition_cost: AcquisitionCostType | None = strawberry.field(default=None, description="The entry as stored.")
    errors: list[UserError] = strawberry.field(description="What was wrong with the input (nothing was saved).")


@strawberry.type(description="The result of updateAnalyticsSettings.")
class AnalyticsSettingsPayload:
    settings: AnalyticsSettingsType | None = strawberry.field(default=None, description="The settings as stored.")
    errors: list[UserError] = strawberry.field(description="What was wrong with the input (nothing was saved).")


def _errors(exc: Exception) -> list[UserError]:
    if isinstance(exc, settings_service.ProblemList):
        return [user_error(p) for p in exc.problems]
    assert isinstance(exc, UserInputError)
    return [user_error(exc)]


@strawberry.type
class AnalyticsMutations:
    @strawberry.mutation(description="Owners and admins: enter what a source cost in a month, for CAC and LTV:CAC.")
    async def set_acquisition_cost(self, info: Info, input: SetAcquisitionCostInput) -> AcquisitionCostPayload:
        try:
            row = await settings_service.set_acquisition_cost(
                info.context.scope, input.source, input.month, input.amount.amount, input.amount.currency
            )
        except (UserInputError, settings_service.ProblemList) as exc:
            return AcquisitionCostPayload(errors=_errors(exc))
        return AcquisitionCostPayload(acquisition_cost=cost_type(row), errors=[])

    @strawberry.mutation(
        description="Owners and admins: choose the LTV formula and its parameters, and when a customer is lost."
    )
    async def update_analytics_settings(
        self, info: Info, input: UpdateAnalyticsSettingsInput
    ) -> AnalyticsSettingsPayload:
        values = {
            name: getattr(input, name) for name in settings_service.SETTING_FIELDS if getattr(input, name) is not None
        }
        if "ltv_formula" in values:
            values["ltv_formula"] = values["ltv_formula"].value
        try:
            row = await settings_service.update_settings(info.context.scope, values)
        except (UserInputError, settings_service.ProblemList) as exc:
            return AnalyticsSettingsPayload(errors=_errors(exc))
        return AnalyticsSettingsPayload(settings=ltv_service.settings_type(row), errors=[])
