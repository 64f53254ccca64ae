"""Monthly cohorts: customers grouped by the calendar month (organization's time zone) of their
first order ever, and what share of each ordered, and how much it spent, in each later month.

The months are every calendar month the period touches; a cohort is followed up to the last of
them. Month boundaries are computed in Python (time zones, daylight saving) and compared in a
CASE expression (``month_index``), so SQLite and PostgreSQL bucket orders identically.

One statement: the orders are summed per customer, month and currency in one pass (``per``);
a customer's cohort is the first of their months (month -1: the first order was before the
period, so the customer is in no cohort); the cells are sums over ``per``. On the bench's
100,000 orders this is one scan of the orders and two hash aggregates (bench/README.md).
"""

from __future__ import annotations

from collections import defaultdict

from server.analytics.metrics import require_metrics
from server.analytics.metrics_sql import (
    Filter,
    Period,
    cents_to_money,
    fetch,
    month_index,
    order_where,
    orders_from,
)
from server.analytics.metrics_types import Cohort, CohortMonth, rate
from server.auth.scope import Scope
from server.graphql.types import money


async def cohorts(scope: Scope, period: Period, flt: Filter) -> list[Cohort]:
    require_metrics(scope)
    months = period.months()
    where = order_where(scope, flt).add("o.created_at < :end", end=months[-1][2])
    params = dict(where.params)
    idx = month_index("o.created_at", period, params)
    rows = await fetch(
        f"""WITH per AS (SELECT o.account_id, {idx} AS idx, o.currency, SUM(ROUND(o.total * 100)) AS cents
                         {orders_from(flt)} WHERE {where.sql} GROUP BY o.account_id, idx, o.currency),
              cohort AS (SELECT account_id, MIN(idx) AS cohort_idx FROM per GROUP BY account_id
                         HAVING MIN(idx) >= 0),
              cells AS (SELECT c.cohort_idx, p.idx - c.cohort_idx AS k, p.account_id, p.currency, p.cents
                        FROM per p JOIN cohort c ON c.account_id = p.account_id)
            SELECT cohort_idx, k, currency, SUM(cents) AS cents, NULL AS customers
            FROM cells GROUP BY cohort_idx, k, currency
            UNION ALL
            SELECT cohort_idx, k, NULL, NULL, COUNT(DISTINCT account_id) FROM cells GROUP BY cohort_idx, k
            ORDER BY 3""",
        params,
    )
    active = [r for r in rows if r["currency"] is None]
    revenue = [r for r in rows if r["currency"] is not None]
    active_of = {(int(r["cohort_idx"]), int(r["k"])): int(r["customers"]) for r in active}
    # Every member's first order is in the cohort's month: its size is its month-0 count.
    size_of = {idx: n for (idx, k), n in active_of.items() if k == 0}
    revenue_of = defaultdict(list)
    for r in revenue:
        revenue_of[(int(r["cohort_idx"]), int(r["k"]))].append(money(cents_to_money(r["cents"]), r["currency"]))
    out = []
    for idx, (first_day, _start, _end) in enumerate(months):
        size = size_of.get(idx, 0)
        if not size:
            continue
        cells = []
        for k in range(len(months) - idx):
            customers = active_of.get((idx, k), 0)
            cells.append(
                CohortMonth(
                    offset=k,
                    month=months[idx + k][0],
                    customers=customers,
                    share=rate(customers, size),
                    revenue=revenue_of.get((idx, k), []),
                )
            )
        out.append(Cohort(month=first_day, customers=size, months=cells))
    return out
