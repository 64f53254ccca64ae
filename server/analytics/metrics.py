"""Customer metrics of a period: order value, frequency, repeat rate, lifespan, retention, churn.

Definitions (docs/analytics.md says them in plain words):

- an *order* counts when it is not deleted and its status is not in the ``cancelled`` group;
  its moment is ``created_at``; a customer is an account;
- *customer at instant D*: has an order before D, and the last order before D is less than
  ``lost_after_days`` days before D (exactly that many days: lost);
- *new customer*: the first order ever is in the period; *lost customer*: a customer at the
  start who is not one at the end.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from server.analytics.metrics_sql import Filter, Period, cents_to_money, dialect, fetch, order_where, orders_from
from server.analytics.metrics_types import CurrencyFigures, CustomerMetrics, MarginFigures, rate
from server.auth.scope import Scope
from server.core.money import quantize
from server.graphql.types import money

DAY_SECONDS = 86_400


def require_metrics(scope: Scope) -> None:
    scope.require("analytics:read")
    scope.require("orders:read")


SOURCE = "COALESCE(a.source, '')"  # accounts without a source form one group, keyed ''


async def currency_rows(scope: Scope, period: Period, flt: Filter, by_source: bool = False) -> list[dict]:
    """Per currency (and acquisition source): orders, customers and revenue in cents."""
    where = order_where(scope, flt).add(
        "o.created_at >= :start AND o.created_at < :end", start=period.start, end=period.end
    )
    # PostgreSQL refuses a constant in GROUP BY: group by the source only when asked.
    group, group_by = (SOURCE, f"{SOURCE}, ") if by_source else ("''", "")
    return await fetch(
        f"""SELECT {group} AS grp, o.currency AS currency, COUNT(*) AS orders,
                   COUNT(DISTINCT o.account_id) AS customers, SUM(ROUND(o.total * 100)) AS cents
            {orders_from(flt, by_source)} WHERE {where.sql} GROUP BY {group_by}o.currency ORDER BY 1, 2""",
        where.params,
    )


async def margin_figures(scope: Scope, period: Period, flt: Filter) -> list[MarginFigures]:
    """Per currency: the period's orders' catalog lines with a cost, their revenue, cost and
    margin, each line's cost rounded to cents as ``Order.margin`` rounds it."""
    require_metrics(scope)
    where = order_where(scope, flt).add(
        "o.created_at >= :start AND o.created_at < :end", start=period.start, end=period.end
    )
    rows = await fetch(
        f"""SELECT o.currency AS currency, COUNT(DISTINCT o.id) AS orders, SUM(ROUND(i.total * 100)) AS sold,
                   SUM(ROUND(i.unit_cost * i.quantity * 100)) AS cost
            {orders_from(flt)} JOIN order_item i ON i.order_id = o.id
            WHERE {where.sql} AND i.unit_cost IS NOT NULL GROUP BY o.currency ORDER BY 1""",
        where.params,
    )
    figures = []
    for row in rows:
        revenue, cost = cents_to_money(row["sold"]), cents_to_money(row["cost"])
        figures.append(
            MarginFigures(
                currency=row["currency"],
                orders=row["orders"],
                revenue=money(revenue, row["currency"]),
                cost=money(cost, row["currency"]),
                margin=money(revenue - cost, row["currency"]),
                margin_percent=rate(revenue - cost, revenue),
            )
        )
    return figures


def currency_figures(row: dict) -> CurrencyFigures:
    revenue = cents_to_money(row["cents"])
    return CurrencyFigures(
        currency=row["currency"],
        orders=row["orders"],
        customers=row["customers"],
        revenue=money(revenue, row["currency"]),
        average_order_value=money(quantize(revenue / row["orders"]), row["currency"]),
        revenue_per_customer=money(quantize(revenue / row["customers"]), row["currency"]),
    )


async def lifecycle_rows(
    scope: Scope, period: Period, flt: Filter, lost_after_days: int, by_source: bool = False
) -> dict[str, dict]:
    """Per acquisition source (or '' for all): the customer counts the definitions need."""
    d = dialect()
    where = order_where(scope, flt).add("o.created_at < :end", end=period.end)
    lost_after = timedelta(days=lost_after_days)
    params = {
        **where.params,
        "start": period.start,
        "start_lost": period.start - lost_after,
        "end_lost": period.end - lost_after,
    }
    group, group_by = (SOURCE, f", {SOURCE}") if by_source else ("''", "")
    # One row per customer with the moments the definitions need, then one pass over them.
    rows = await fetch(
        f"""WITH per_account AS (
              SELECT o.account_id, {group} AS grp,
                     MIN(o.created_at) AS first_at,
                     MAX(CASE WHEN o.created_at < :start THEN o.created_at END) AS last_before_start,
                     MAX(o.created_at) AS last_at,
                     SUM(CASE WHEN o.created_at >= :start THEN 1 ELSE 0 END) AS in_period
              {orders_from(flt, by_source)} WHERE {where.sql} GROUP BY o.account_id{group_by})
            SELECT grp,
              SUM(in_period) AS orders,
              SUM(CASE WHEN in_period > 0 THEN 1 ELSE 0 END) AS ordered,
              SUM(CASE WHEN in_period > 1 THEN 1 ELSE 0 END) AS repeaters,
              SUM(CASE WHEN in_period > 0 THEN {d.seconds("first_at", "last_at")} ELSE 0 END) AS lifespan_seconds,
              SUM(CASE WHEN last_before_start > :start_lost THEN 1 ELSE 0 END) AS at_start,
              SUM(CASE WHEN last_at > :end_lost THEN 1 ELSE 0 END) AS at_end,
              SUM(CASE WHEN first_at >= :start THEN 1 ELSE 0 END) AS new_customers,
              SUM(CASE WHEN last_before_start > :start_lost AND last_at <= :end_lost THEN 1 ELSE 0 END) AS lost
            FROM per_account GROUP BY grp""",
        params,
    )
    return {row["grp"]: with_rates({k: round(float(v or 0)) for k, v in row.items() if k != "grp"}) for row in rows}


def with_rates(counts: dict) -> dict:
    """Adds lifespan (days), retention and churn (percent) to a group's counts."""
    ordered = counts["ordered"]
    counts["lifespan_days"] = Decimal(counts["lifespan_seconds"]) / DAY_SECONDS / ordered if ordered else None
    counts["retention"] = rate(counts["at_end"] - counts["new_customers"], counts["at_start"])
    counts["churn"] = rate(counts["lost"], counts["at_start"])
    return counts


COUNTS = ("orders", "ordered", "repeaters", "lifespan_seconds", "at_start", "at_end", "new_customers", "lost")


def all_sources(per_source: dict[str, dict]) -> dict | None:
    """The counts of every source together: each account has one source, so they add up."""
    if not per_source:
        return None
    return with_rates({k: sum(group[k] for group in per_source.values()) for k in COUNTS})


EMPTY = dict.fromkeys(("orders", "ordered", "repeaters", "at_start", "at_end", "new_customers", "lost"), 0)


async def customer_metrics(scope: Scope, period: Period, flt: Filter, lost_after_days: int) -> CustomerMetrics:
    require_metrics(scope)
    row = (await lifecycle_rows(scope, period, flt, lost_after_days)).get("") or {
        **EMPTY,
        "lifespan_days": None,
        "retention": None,
        "churn": None,
    }
    ordered = row["ordered"]
    lifespan = row["lifespan_days"]
    return CustomerMetrics(
        orders=row["orders"],
        customers_who_ordered=ordered,
        by_currency=[currency_figures(r) for r in await currency_rows(scope, period, flt)],
        purchase_frequency=rate(row["orders"], ordered, 1),
        repeat_purchase_rate=rate(row["repeaters"], ordered),
        customer_lifespan_days=None if lifespan is None else quantize(lifespan),
        lost_after_days=lost_after_days,
        customers_at_start=row["at_start"],
        customers_at_end=row["at_end"],
        new_customers=row["new_customers"],
        lost_customers=row["lost"],
        retention_rate=row["retention"],
        churn_rate=row["churn"],
    )
