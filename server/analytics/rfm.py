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

from tortoise import connections

from server.analytics.figures import CANCELLED_GROUP
from server.analytics.models import CustomerFigures
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


@dataclass(frozen=True)
class Scores:
    recency: int
    frequency: int
    monetary: int

    @property
    def group(self) -> str:
        return group_of(self.recency, self.frequency, self.monetary)


LOST = Scores(1, 1, 1)

_SCORES_SQL = """
WITH base AS (
    SELECT o.account_id AS account_id,
           MAX(o.created_at) AS last_at,
           COUNT(*) AS orders,
           ROUND(SUM(CASE WHEN o.currency = {currency} THEN o.total ELSE 0 END), 2) AS revenue
    FROM "order" o
    JOIN order_status s ON s.id = o.status_id
    JOIN account a ON a.id = o.account_id
    WHERE o.organization_id = {org} AND o.deleted_at IS NULL AND a.deleted_at IS NULL
      AND s."group" <> {cancelled} AND o.created_at >= {since}
    GROUP BY o.account_id
)
SELECT account_id,
       1 + (RANK() OVER (ORDER BY last_at) - 1) * 5 / COUNT(*) OVER () AS recency,
       1 + (RANK() OVER (ORDER BY orders) - 1) * 5 / COUNT(*) OVER () AS frequency,
       1 + (RANK() OVER (ORDER BY revenue) - 1) * 5 / COUNT(*) OVER () AS monetary
FROM base
"""


async def window_scores(organization_id: UUID, currency: str, window_days: int, now: datetime) -> dict[UUID, Scores]:
    """The scores of the customers who ordered in the window, from one SQL statement."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    names = ("currency", "org", "cancelled", "since")
    marks = {n: (f"${i}" if postgres else "?") for i, n in enumerate(names, start=1)}
    params = [currency, organization_id if postgres else str(organization_id), CANCELLED_GROUP]
    params.append(now - timedelta(days=window_days))
    rows = await conn.execute_query_dict(_SCORES_SQL.format(**marks), params)
    return {
        UUID(str(row["account_id"])): Scores(int(row["recency"]), int(row["frequency"]), int(row["monetary"]))
        for row in rows
    }


@dataclass(frozen=True)
class Move:
    account_id: UUID
    before: str
    after: str


async def score_organization(
    organization_id: UUID, currency: str, window_days: int, now: datetime | None = None
) -> tuple[int, list[Move]]:
    """Write every account's scores and group; (accounts scored, moves between groups).

    Only rows whose scores changed are written, so a second run on the same data writes nothing.
    A first group (from none) is not a move."""
    now = now or datetime.now(UTC)
    scored = await window_scores(organization_id, currency, window_days, now)
    # Deleted (and merged) accounts keep their last scores: no timeline entries for them.
    current = await CustomerFigures.filter(organization_id=organization_id, account__deleted_at=None).values(
        "id", "account_id", "order_count", "rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_group"
    )
    changed: list[CustomerFigures] = []
    moves: list[Move] = []
    for row in current:
        new = scored.get(row["account_id"]) or (LOST if row["order_count"] else None)
        old = (row["rfm_recency"], row["rfm_frequency"], row["rfm_monetary"], row["rfm_group"])
        values = (new.recency, new.frequency, new.monetary, new.group) if new else (None, None, None, None)
        if old == values:
            continue
        figures = CustomerFigures(id=row["id"], organization_id=organization_id, account_id=row["account_id"])
        figures.rfm_recency, figures.rfm_frequency, figures.rfm_monetary, figures.rfm_group = values
        figures.rfm_computed_at = now
        changed.append(figures)
        if row["rfm_group"] and values[3] and row["rfm_group"] != values[3]:
            moves.append(Move(row["account_id"], row["rfm_group"], values[3]))
    if changed:
        fields = ["rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_group", "rfm_computed_at"]
        await CustomerFigures.bulk_update(changed, fields, batch_size=500)
    return len(scored), moves
