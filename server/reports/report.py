"""The figures of the owner's report: gathered from the analytics, RFM and survey services (the
same ones GraphQL answers from), for a period and the same-length period before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from server.analytics import cohorts as cohort_service
from server.analytics import funnel as funnel_service
from server.analytics import metrics as metrics_service
from server.analytics import metrics_settings as settings_service
from server.analytics import service as rfm_service
from server.analytics.metrics_sql import Filter, Period, make_period
from server.analytics.metrics_types import Cohort, CustomerMetrics, FunnelGroup
from server.auth.scope import Scope
from server.campaigns import results as campaign_results
from server.campaigns.results import CampaignResult
from server.i18n import N_
from server.surveys import service as surveys
from server.surveys.service import Figures

DEFAULT_DAYS = 30
COHORT_MONTHS = 12  # the heatmap looks back a year from the period's end, whatever its length


@dataclass
class KeyFigure:
    name: str  # msgid, translated on the page
    kind: str  # "count" | "money" | "percent" | "score": how it and its change are written
    now: Decimal | float | int | None
    before: Decimal | float | int | None

    @property
    def change(self) -> float | None:
        """Counts and money: percent change; rates and scores: the difference in points."""
        if self.now is None or self.before is None:
            return None
        if self.kind in ("percent", "score"):
            return round(float(self.now) - float(self.before), 1)
        if not self.before:
            return None
        return round((float(self.now) - float(self.before)) * 100 / float(self.before), 1)


@dataclass
class Report:
    period: Period
    previous: Period
    currency: str
    key_figures: list[KeyFigure] = field(default_factory=list)
    cohorts: list[Cohort] = field(default_factory=list)
    rfm_sizes: dict[str, int] = field(default_factory=dict)
    rfm_moves: dict[tuple[str, str], int] = field(default_factory=dict)
    funnel: list[FunnelGroup] = field(default_factory=list)
    trend_unit: str = "week"
    trend: list[Figures] = field(default_factory=list)
    campaigns: list[CampaignResult] = field(default_factory=list)


def periods(first: date | None, last: date | None, today: date, timezone: str) -> tuple[Period, Period]:
    """The period asked for (the last 30 days by default) and the same-length one before it."""
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    period = make_period(first, last, timezone)
    length = (last - first).days + 1
    previous = make_period(first - timedelta(days=length), first - timedelta(days=1), timezone)
    return period, previous


def _in_currency(metrics: CustomerMetrics, currency: str):
    return next((c for c in metrics.by_currency if c.currency == currency), None)


def _survey_total(rows: list[Figures]) -> Figures:
    return rows[0] if rows else Figures()


async def build(scope: Scope, period: Period, previous: Period) -> Report:
    organization = scope.organization
    settings = await settings_service.current(scope)
    flt = Filter()
    now, before = (
        await metrics_service.customer_metrics(scope, period, flt, settings.lost_after_days),
        await metrics_service.customer_metrics(scope, previous, flt, settings.lost_after_days),
    )
    cur, prev = _in_currency(now, organization.currency), _in_currency(before, organization.currency)
    answers_now = _survey_total(await surveys.figures(scope, period.first, period.last, []))
    answers_before = _survey_total(await surveys.figures(scope, previous.first, previous.last, []))

    def money_of(figures, attribute):
        return getattr(figures, attribute).amount if figures else Decimal(0)

    report = Report(period=period, previous=previous, currency=organization.currency)
    report.key_figures = [
        KeyFigure(N_("Revenue"), "money", money_of(cur, "revenue"), money_of(prev, "revenue")),
        KeyFigure(N_("Orders placed"), "count", now.orders, before.orders),
        KeyFigure(N_("Customers who ordered"), "count", now.customers_who_ordered, before.customers_who_ordered),
        KeyFigure(N_("New customers"), "count", now.new_customers, before.new_customers),
        KeyFigure(
            N_("Average order value"),
            "money",
            money_of(cur, "average_order_value"),
            money_of(prev, "average_order_value"),
        ),
        KeyFigure(N_("Repeat purchase rate"), "percent", now.repeat_purchase_rate, before.repeat_purchase_rate),
        KeyFigure(N_("Retention rate"), "percent", now.retention_rate, before.retention_rate),
        KeyFigure(N_("NPS"), "score", answers_now.nps, answers_before.nps),
        KeyFigure(N_("CSAT"), "percent", answers_now.csat, answers_before.csat),
    ]
    year_start = (period.last.replace(day=1) - timedelta(days=31 * (COHORT_MONTHS - 1))).replace(day=1)
    report.cohorts = await cohort_service.cohorts(
        scope, make_period(year_start, period.last, organization.timezone), flt
    )
    report.rfm_sizes = await rfm_service.rfm_group_sizes(scope)
    report.rfm_moves = await rfm_service.rfm_moves(scope, period.start, period.end)
    report.funnel = [g for g in await funnel_service.funnel(scope, period, flt) if g.deals]
    days = (period.last - period.first).days + 1
    report.trend_unit = "week" if days <= 120 else "month"
    report.trend = await surveys.figures(scope, period.first, period.last, [report.trend_unit])
    report.campaigns = await campaign_results.results(scope)
    return report


def today_in(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()
