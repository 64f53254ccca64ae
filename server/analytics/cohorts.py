"""Monthly cohorts: customers grouped by the calendar month (organization's time zone) of their
first order ever, and what share of each ordered, and how much it spent, in each later month.

The months are every calendar month the period touches; a cohort is followed up to the last of
them. Month boundaries are computed in Python (time zones, daylight saving) and joined as a
VALUES list, so SQLite and PostgreSQL bucket orders identically.
"""

from __future__ import annotations

from collections import defaultdict

from server.analytics.metrics import require_metrics
from server.analytics.metrics_sql import (
    ORDERS_FROM,
    Filter,
    Period,
    cents_to_money,
    dialect,
    fetch,
    month_values,
    order_where,
)
from server.analytics.metrics_types import Cohort, CohortMonth, rate
from server.auth.scope import Scope
from server.graphql.types import money


async def cohorts(scope: Scope, period: Period, flt: Filter) -> list[Cohort]:
    require_metrics(scope)
    months = period.months()
    end = months[-1][2]
    where = order_where(scope, flt).add("o.created_at < :end", end=end)
    params = dict(where.params)
    values = month_values(period, params, dialect())
    common = f"""WITH months(idx, starts, ends) AS (VALUES {values}),
      live AS (SELECT o.account_id, o.created_at, o.currency, o.total {ORDERS_FROM} WHERE {where.sql}),
      firsts AS (SELECT account_id, MIN(created_at) AS first_at FROM live GROUP BY account_id),
      cohort AS (SELECT f.account_id, m.idx AS cohort_idx
                 FROM firsts f JOIN months m ON f.first_at >= m.starts AND f.first_at < m.ends),
      activity AS (SELECT c.cohort_idx, m.idx - c.cohort_idx AS k, l.account_id, l.currency, l.total
                   FROM live l JOIN cohort c ON c.account_id = l.account_id
                   JOIN months m ON l.created_at >= m.starts AND l.created_at < m.ends)"""
    active = await fetch(
        f"""{common} SELECT cohort_idx, k, COUNT(DISTINCT account_id) AS customers
            FROM activity GROUP BY cohort_idx, k""",
        params,
    )
    revenue = await fetch(
        f"""{common} SELECT cohort_idx, k, currency, SUM(ROUND(total * 100)) AS cents
            FROM activity GROUP BY cohort_idx, k, currency ORDER BY currency""",
        params,
    )
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
