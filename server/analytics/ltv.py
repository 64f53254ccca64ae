"""Customer lifetime value by five formulas, and LTV:CAC per acquisition source.

Inputs, per currency and over the requested period (see metrics.py for the counts):

- ``arpu``: revenue ÷ customers who ordered in the period; ``year = 365 ÷ days in the period``
  turns a period figure into a yearly one;
- ``aov``, ``frequency`` (orders ÷ customers), ``lifespan`` (customer lifespan in days ÷ 365, years);
- ``churn`` and ``retention``: the period's churn and retention rates as fractions (retention at
  most 1: reactivated customers can push the rate above 100 %);
- ``margin`` = gross margin %, ``d`` = yearly discount rate, ``H`` = years; CAC = acquisition cost
  entered for the period's months ÷ new customers.

Formulas (docs/analytics.md has a worked example of each):

1. ``arpu × year × lifetime_years``
2. ``aov × frequency × year × lifespan``
3. ``arpu × margin ÷ churn``
4. ``Σ_{t=1..H} arpu × year × margin × retention^(t-1) ÷ (1 + d)^t − CAC``
5. ``Σ_s revenue_s × retention_s × margin ÷ customers`` over acquisition sources ``s`` (a source
   with no customers at the start uses the overall retention).

All arithmetic is Decimal; results are rounded half-up to cents at the end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from server.analytics.metrics import all_sources, currency_rows, lifecycle_rows, require_metrics
from server.analytics.metrics_models import LTV_FORMULAS, AnalyticsSettings
from server.analytics.metrics_sql import Filter, Period, cents_to_money, fetch
from server.analytics.metrics_types import (
    AnalyticsSettingsType,
    LtvFormula,
    LtvReport,
    LtvValue,
    SourceLtv,
)
from server.auth.scope import Scope
from server.core.money import quantize
from server.graphql.types import money

ONE = Decimal(1)
HUNDRED = Decimal(100)
YEAR_DAYS = Decimal(365)
ZERO_MONEY = Decimal("0.00")


@dataclass
class Inputs:
    """What a formula needs for one currency (and one source, or all)."""

    revenue: Decimal
    orders: int
    customers: int
    period_days: int
    lifespan_days: Decimal | None
    churn_percent: Decimal | None
    retention_percent: Decimal | None
    cac: Decimal
    # formula 5: (revenue, retention %) per acquisition source
    segments: list[tuple[Decimal, Decimal | None]]


def _retention(percent: Decimal | None) -> Decimal | None:
    return None if percent is None else min(percent / HUNDRED, ONE)


def _power(base: Decimal, exponent: int) -> Decimal:
    # Decimal refuses 0 ** 0; a customer is surely there in the first year.
    return ONE if exponent == 0 else base**exponent


def compute(formula: str, x: Inputs, s: AnalyticsSettings) -> Decimal | None:
    if not x.customers:
        return None
    margin = Decimal(s.gross_margin_percent) / HUNDRED
    arpu = x.revenue / x.customers
    year = YEAR_DAYS / x.period_days
    if formula == "arpu_lifetime":
        value = arpu * year * Decimal(s.lifetime_years)
    elif formula == "aov_frequency_lifespan":
        if x.lifespan_days is None:
            return None
        aov = x.revenue / x.orders
        frequency = Decimal(x.orders) / x.customers
        value = aov * frequency * year * (x.lifespan_days / YEAR_DAYS)
    elif formula == "margin_churn":
        if not x.churn_percent:
            return None
        value = arpu * margin / (x.churn_percent / HUNDRED)
    elif formula == "npv":
        retention = _retention(x.retention_percent)
        if retention is None:
            return None
        rate = Decimal(s.discount_rate_percent) / HUNDRED
        yearly = arpu * year * margin
        years = range(1, s.npv_years + 1)
        value = sum((yearly * _power(retention, t - 1) / (ONE + rate) ** t for t in years), Decimal(0))
        value -= x.cac
    else:  # segments
        overall = _retention(x.retention_percent)
        total = Decimal(0)
        for revenue, percent in x.segments:
            retention = _retention(percent) if percent is not None else overall
            if retention is None:
                return None
            total += revenue * retention * margin
        value = total / x.customers
    return quantize(value)


def _sum_by_currency(rows: list[dict]) -> list[dict]:
    totals: dict[str, dict] = {}
    for row in rows:
        empty = {"currency": row["currency"], "orders": 0, "customers": 0, "cents": 0}
        total = totals.setdefault(row["currency"], empty)
        for key in ("orders", "customers", "cents"):
            total[key] += round(float(row[key] or 0))
    return [totals[c] for c in sorted(totals)]


def settings_type(s: AnalyticsSettings) -> AnalyticsSettingsType:
    return AnalyticsSettingsType(
        lost_after_days=s.lost_after_days,
        ltv_formula=LtvFormula(s.ltv_formula),
        gross_margin_percent=Decimal(s.gross_margin_percent),
        lifetime_years=Decimal(s.lifetime_years),
        discount_rate_percent=Decimal(s.discount_rate_percent),
        npv_years=s.npv_years,
    )


async def acquisition_costs(scope: Scope, period: Period) -> dict[tuple[str, str], Decimal]:
    """(source, currency) -> spend entered for the months the period touches."""
    months = [m for m, _s, _e in period.months()]
    rows = await fetch(
        """SELECT source, currency, SUM(ROUND(amount * 100)) AS cents FROM acquisition_cost
           WHERE organization_id = :org AND month >= :first AND month <= :last GROUP BY source, currency""",
        {"org": scope.organization_id, "first": months[0], "last": months[-1]},
    )
    return {(r["source"], r["currency"]): cents_to_money(r["cents"]) for r in rows}


async def ltv_report(scope: Scope, period: Period, flt: Filter, s: AnalyticsSettings) -> LtvReport:
    require_metrics(scope)
    # Per source only: each account has one source, so the overall figures are their sums.
    per_source = await lifecycle_rows(scope, period, flt, s.lost_after_days, by_source=True)
    overall = all_sources(per_source)
    source_currencies = await currency_rows(scope, period, flt, by_source=True)
    currencies = _sum_by_currency(source_currencies)
    costs = await acquisition_costs(scope, period)

    segments: dict[str, list[tuple[Decimal, Decimal | None]]] = defaultdict(list)
    for row in source_currencies:
        segments[row["currency"]].append((cents_to_money(row["cents"]), per_source[row["grp"]]["retention"]))

    def inputs(row: dict, counts: dict, cac: Decimal, segs) -> Inputs:
        return Inputs(
            revenue=cents_to_money(row["cents"]),
            orders=row["orders"],
            customers=row["customers"],
            period_days=period.days,
            lifespan_days=counts["lifespan_days"],
            churn_percent=counts["churn"],
            retention_percent=counts["retention"],
            cac=cac,
            segments=segs,
        )

    by_formula, chosen = [], []
    for row in currencies:
        currency = row["currency"]
        spent = sum((v for (_src, cur), v in costs.items() if cur == currency), ZERO_MONEY)
        new = overall["new_customers"] if overall else 0
        x = inputs(row, overall, spent / new if new else Decimal(0), segments[currency])
        for formula in LTV_FORMULAS:
            value = LtvValue(formula=LtvFormula(formula), currency=currency, amount=compute(formula, x, s))
            by_formula.append(value)
            if formula == s.ltv_formula:
                chosen.append(value)

    by_source = []
    for row in source_currencies:
        source, currency = row["grp"], row["currency"]
        counts = per_source[source]
        spent = costs.get((source, currency), ZERO_MONEY)
        new = counts["new_customers"]
        cac = quantize(spent / new) if new else None
        x = inputs(row, counts, cac or Decimal(0), [(cents_to_money(row["cents"]), counts["retention"])])
        ltv = compute(s.ltv_formula, x, s)
        by_source.append(
            SourceLtv(
                source=source or None,
                currency=currency,
                new_customers=new,
                acquisition_cost=money(spent, currency),
                cac=None if cac is None else money(cac, currency),
                ltv=None if ltv is None else money(ltv, currency),
                ltv_to_cac=quantize(ltv / cac) if ltv is not None and cac else None,
            )
        )
    return LtvReport(settings=settings_type(s), value=chosen, by_formula=by_formula, by_source=by_source)
