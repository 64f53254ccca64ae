"""Support figures of the tickets created in a period: first response and resolution times
(mean and median) and SLA compliance, overall, by priority and by agent (assignee).

- First response time: ``created_at`` → ``first_response_at`` (the first public staff reply),
  over tickets that got one. Resolution time: ``created_at`` → ``resolved_at``.
- SLA compliance follows the tickets service's clock (``sla_breached``): the first-response
  clock stops at the first reply, or at resolution without one; a target is met when the clock
  stopped by its due time, missed when it stopped later or is still running past it; tickets
  still within their time are not counted yet. Rate = met ÷ (met + missed) × 100.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from server.analytics.metrics_sql import Period, Where, dialect, fetch, owner_filter
from server.analytics.metrics_types import SupportFigures, SupportMetrics, rate
from server.auth.scope import Scope
from server.core.money import quantize
from server.graphql import ids

MINUTE = Decimal(60)


def _tickets(scope: Scope, period: Period) -> tuple[str, dict]:
    d = dialect()
    where = Where().add("t.organization_id = :org", org=scope.organization_id)
    where.add("t.created_at >= :start AND t.created_at < :end", start=period.start, end=period.end)
    owner_filter(scope, "t.assignee_id", where)
    first_stop = "COALESCE(t.first_response_at, t.resolved_at)"
    select = f"""t.id,
        CASE WHEN t.first_response_at IS NOT NULL THEN {d.seconds("t.created_at", "t.first_response_at")} END AS fr,
        CASE WHEN t.resolved_at IS NOT NULL THEN {d.seconds("t.created_at", "t.resolved_at")} END AS rs,
        CASE WHEN t.first_response_due_at IS NULL THEN NULL
             WHEN {first_stop} IS NOT NULL AND {first_stop} <= t.first_response_due_at THEN 1
             WHEN {first_stop} IS NOT NULL OR t.first_response_due_at < :now THEN 0 END AS fr_met,
        CASE WHEN t.resolution_due_at IS NULL THEN NULL
             WHEN t.resolved_at IS NOT NULL AND t.resolved_at <= t.resolution_due_at THEN 1
             WHEN t.resolved_at IS NOT NULL OR t.resolution_due_at < :now THEN 0 END AS rs_met"""
    groups = {
        "all": "''",
        "priority": "t.priority",
        "agent": "COALESCE(CAST(t.assignee_id AS TEXT), '')",
    }
    parts = [
        f"SELECT '{dim}' AS dim, {key} AS grp, {select} FROM ticket t WHERE {where.sql}" for dim, key in groups.items()
    ]
    cte = f"tk AS ({' UNION ALL '.join(parts)})"
    return cte, {**where.params, "now": datetime.now(UTC)}


def _median_sql(cte: str, column: str) -> str:
    return f"""WITH {cte},
        ranked AS (SELECT dim, grp, {column} AS x,
                          ROW_NUMBER() OVER (PARTITION BY dim, grp ORDER BY {column}) AS rn,
                          COUNT(*) OVER (PARTITION BY dim, grp) AS n
                   FROM tk WHERE {column} IS NOT NULL)
        SELECT dim, grp, SUM(x) AS total, COUNT(*) AS picked FROM ranked
        WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2 GROUP BY dim, grp"""


def _minutes(seconds, count) -> Decimal | None:
    return quantize(Decimal(round(float(seconds or 0))) / MINUTE / count) if count else None


async def support_metrics(scope: Scope, period: Period) -> SupportMetrics:
    """Needs ``tickets:read`` only: support agents see these and no other metric."""
    scope.require("tickets:read")
    cte, params = _tickets(scope, period)
    main = await fetch(
        f"""WITH {cte}
            SELECT dim, grp, COUNT(*) AS tickets,
                   COUNT(fr) AS fr_n, SUM(fr) AS fr_sum, COUNT(rs) AS rs_n, SUM(rs) AS rs_sum,
                   SUM(CASE WHEN fr_met = 1 THEN 1 ELSE 0 END) AS fr_met, COUNT(fr_met) AS fr_judged,
                   SUM(CASE WHEN rs_met = 1 THEN 1 ELSE 0 END) AS rs_met, COUNT(rs_met) AS rs_judged
            FROM tk GROUP BY dim, grp ORDER BY dim, grp""",
        params,
    )
    medians = {}
    for column in ("fr", "rs"):
        for row in await fetch(_median_sql(cte, column), params):
            medians[(column, row["dim"], row["grp"])] = _minutes(row["total"], int(row["picked"]))

    def figures(row: dict) -> SupportFigures:
        dim, grp = row["dim"], row["grp"]
        return SupportFigures(
            priority=grp if dim == "priority" else None,
            agent_id=ids.encode("User", grp) if dim == "agent" and grp else None,
            tickets=int(row["tickets"]),
            first_response_mean_minutes=_minutes(row["fr_sum"], int(row["fr_n"])),
            first_response_median_minutes=medians.get(("fr", dim, grp)),
            resolution_mean_minutes=_minutes(row["rs_sum"], int(row["rs_n"])),
            resolution_median_minutes=medians.get(("rs", dim, grp)),
            first_response_sla_rate=rate(int(row["fr_met"] or 0), int(row["fr_judged"])),
            resolution_sla_rate=rate(int(row["rs_met"] or 0), int(row["rs_judged"])),
        )

    rows = [figures(r) for r in main]
    by_dim = {
        dim: [f for f, r in zip(rows, main, strict=True) if r["dim"] == dim] for dim in ("all", "priority", "agent")
    }
    overall = (
        by_dim["all"][0]
        if by_dim["all"]
        else SupportFigures(
            priority=None,
            agent_id=None,
            tickets=0,
            first_response_mean_minutes=None,
            first_response_median_minutes=None,
            resolution_mean_minutes=None,
            resolution_median_minutes=None,
            first_response_sla_rate=None,
            resolution_sla_rate=None,
        )
    )
    return SupportMetrics(overall=overall, by_priority=by_dim["priority"], by_agent=by_dim["agent"])
