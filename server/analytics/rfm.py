"""RFM: recency, frequency and monetary scores 1-5 and the eleven groups marketers use.

Who is scored: every account with at least one counted order (server/analytics/figures.py)
in the organization's RFM window (default the last 365 days). Within the window:

- recency   = how recent the last order is,
- frequency = the number of orders,
- monetary  = the revenue in the organization's currency.

Each score is the customer's quintile among the scored customers of the organization, computed
in SQL with a window function: ``score = 1 + (rank - 1) * 5 // n``, where ``n`` is the number
of scored customers and ``rank`` is the customer's position from the lowest value (``RANK()``:
customers with equal values share the position of the first of them, so equal values always
get equal scores, the lower one). With 10 customers of distinct values the two lowest score 1
and the two highest 5; with 5 customers they score 1, 2, 3, 4, 5.

Accounts with orders, but none in the window, score 1-1-1 (group "Lost"); accounts that never
ordered have no scores. The group comes from R and FM = (F + M + 1) // 2 (F and M averaged,
halves rounded up) through ``GRID`` (docs/customer-figures.md shows it as a table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from server.analytics.figures import CANCELLED_GROUP
from server.analytics.metrics_sql import dialect, fetch
from server.i18n import N_

# code -> name (translated with _() where shown), in the order marketers list them.
GROUPS: dict[str, str] = {
    "champions": N_("Champions"),
    "loyal": N_("Loyal"),
    "potential_loyalists": N_("Potential loyalists"),
    "new_customers": N_("New customers"),
    "promising": N_("Promising"),
    "need_attention": N_("Need attention"),
    "about_to_sleep": N_("About to sleep"),
    "at_risk": N_("At risk"),
    "cant_lose_them": N_("Can't lose them"),
    "hibernating": N_("Hibernating"),
    "lost": N_("Lost"),
}

# GRID[recency][fm] for recency 5..1 (rows) and FM 1..5 (columns).
_ROWS = {
    5: ("new_customers", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    4: ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
    1: ("lost", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
}
GRID: dict[tuple[int, int], str] = {(r, fm): row[fm - 1] for r, row in _ROWS.items() for fm in range(1, 6)}


def fm_score(frequency: int, monetary: int) -> int:
    return (frequency + monetary + 1) // 2


def group_of(recency: int, frequency: int, monetary: int) -> str:
    """The group of one of the 125 cells."""
    return GRID[(recency, fm_score(frequency, monetary))]


def _grid_values() -> str:
    """GRID as the rows of a VALUES list: (recency, fm, group code)."""
    return ", ".join(f"({r}, {fm}, '{code}')" for (r, fm), code in sorted(GRID.items()))


# Every account's new scores and group, next to its current ones, in one set of CTEs: the
# window's aggregate per customer, their quintiles (window functions), the Lost default for
# customers whose orders are all older than the window, the group from the grid.
_TARGET_CTES = f"""
base AS (
    SELECT o.account_id AS account_id,
           MAX(o.created_at) AS last_at,
           COUNT(*) AS orders,
           ROUND(SUM(CASE WHEN o.currency = :currency THEN o.total ELSE 0 END), 2) AS revenue
    FROM "order" o
    JOIN order_status s ON s.id = o.status_id
    JOIN account a ON a.id = o.account_id
    WHERE o.organization_id = :org AND o.deleted_at IS NULL AND a.deleted_at IS NULL
      AND s."group" <> :cancelled AND o.created_at >= :since
    GROUP BY o.account_id
),
scored AS (
    SELECT account_id,
           1 + (RANK() OVER (ORDER BY last_at) - 1) * 5 / COUNT(*) OVER () AS recency,
           1 + (RANK() OVER (ORDER BY orders) - 1) * 5 / COUNT(*) OVER () AS frequency,
           1 + (RANK() OVER (ORDER BY revenue) - 1) * 5 / COUNT(*) OVER () AS monetary
    FROM base
),
grid(r, fm, code) AS (VALUES {_grid_values()}),
target AS (
    SELECT cf.id, cf.account_id, cf.rfm_group AS before,
           COALESCE(sc.recency, CASE WHEN cf.order_count > 0 THEN 1 END) AS r,
           COALESCE(sc.frequency, CASE WHEN cf.order_count > 0 THEN 1 END) AS f,
           COALESCE(sc.monetary, CASE WHEN cf.order_count > 0 THEN 1 END) AS m
    FROM customer_figures cf
    JOIN account acc ON acc.id = cf.account_id
    LEFT JOIN scored sc ON sc.account_id = cf.account_id
    -- Deleted (and merged) accounts keep their last scores: no timeline entries for them.
    WHERE cf.organization_id = :org AND acc.deleted_at IS NULL
),
grouped AS (
    SELECT t.id, t.account_id, t.before, t.r, t.f, t.m, g.code AS after
    FROM target t LEFT JOIN grid g ON g.r = t.r AND g.fm = (t.f + t.m + 1) / 2
)"""


def _changed(d, row: str, new: str) -> str:
    """SQL: the stored scores of ``row`` (customer_figures) differ from ``new`` (grouped)."""
    pairs = (("rfm_recency", "r"), ("rfm_frequency", "f"), ("rfm_monetary", "m"), ("rfm_group", "after"))
    op = "IS DISTINCT FROM" if d.postgres else "IS NOT"
    return "(" + " OR ".join(f"{row}.{old} {op} {new}.{col}" for old, col in pairs) + ")"


@dataclass(frozen=True)
class Move:
    account_id: UUID
    before: str
    after: str


async def score_organization(
    organization_id: UUID, currency: str, window_days: int, now: datetime | None = None
) -> tuple[int, list[Move]]:
    """Write every account's scores and group; (accounts scored, moves between groups).

    Two set-based statements, whatever the number of customers: one reads how many were
    scored and who moves between groups, one UPDATE ... FROM writes the rows whose scores
    changed (so a second run on the same data writes nothing). A first group (from none) is
    not a move. Call it inside a transaction."""
    now = now or datetime.now(UTC)
    d = dialect()
    params = {
        "currency": currency,
        "org": organization_id,
        "cancelled": CANCELLED_GROUP,
        "since": now - timedelta(days=window_days),
        "now": now,
    }
    rows = await fetch(
        f"""WITH {_TARGET_CTES}
            SELECT NULL AS account_id, NULL AS before, NULL AS after, COUNT(*) AS scored FROM scored
            UNION ALL
            SELECT g.account_id, g.before, g.after, NULL FROM grouped g
            WHERE g.before IS NOT NULL AND g.after IS NOT NULL AND g.before <> g.after""",
        params,
    )
    scored = next(int(r["scored"]) for r in rows if r["scored"] is not None)
    moves = [Move(UUID(str(r["account_id"])), r["before"], r["after"]) for r in rows if r["scored"] is None]
    await fetch(
        f"""WITH {_TARGET_CTES}
            UPDATE customer_figures
            SET rfm_recency = grouped.r, rfm_frequency = grouped.f, rfm_monetary = grouped.m,
                rfm_group = grouped.after, rfm_computed_at = :now
            FROM grouped WHERE customer_figures.id = grouped.id AND {_changed(d, "customer_figures", "grouped")}""",
        params,
    )
    return scored, moves
