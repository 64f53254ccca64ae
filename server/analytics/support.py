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


def _tickets(scope: Scope, period: Period, now: datetime) -> tuple[str, dict]:
    d = dialect()
    where = Where().add("t.organization_id = :org", org=scope.organization_id)
    where.add("t.created_at >= :start AND t.created_at < :end", start=period.start, end=period.end)
    owner_filter(scope, "t.assignee_id", where)
    first_stop = "COALESCE(t.first_response_at, t.resolved_at)"

    def seconds(start: str, end: str) -> str:
        # Whole seconds as an integer, not PostgreSQL's numeric: narrower rows to sort for medians.
        return f"CAST({d.seconds(start, end)} AS BIGINT)"

    select = f"""t.priority AS priority, COALESCE(CAST(t.assignee_id AS TEXT), '') AS agent,
        CASE WHEN t.first_response_at IS NOT NULL THEN {seconds("t.created_at", "t.first_response_at")} END AS fr,
        CASE WHEN t.resolved_at IS NOT NULL THEN {seconds("t.created_at", "t.resolved_at")} END AS rs,
        CASE WHEN t.first_response_due_at IS NULL THEN NULL
             WHEN {first_stop} IS NOT NULL AND {first_stop} <= t.first_response_due_at THEN 1
             WHEN {first_stop} IS NOT NULL OR t.first_response_due_at < :now THEN 0 END AS fr_met,
        CASE WHEN t.resolution_due_at IS NULL THEN NULL
             WHEN t.resolved_at IS NOT NULL AND t.resolved_at <= t.resolution_due_at THEN 1
             WHEN t.resolved_at IS NOT NULL OR t.resolution_due_at < :now THEN 0 END AS rs_met"""
    # Each ticket once (``base``), then once per breakdown: overall, by priority, by agent.
    columns = "fr, rs, fr_met, rs_met"
    cte = f"""base AS (SELECT {select} FROM ticket t WHERE {where.sql}),
        tk AS (SELECT 'all' AS dim, '' AS grp, {columns} FROM base
               UNION ALL SELECT 'priority', priority, {columns} FROM base
               UNION ALL SELECT 'agent', agent, {columns} FROM base)"""
    return cte, {**where.params, "now": now}


def _rank(column: str) -> str:
    """Window columns for a median of ``column``: its position among the group's non-empty values
    (empty ones sorted after them, whichever way the engine sorts NULLs) and their number."""
    return f"""ROW_NUMBER() OVER (PARTITION BY dim, grp ORDER BY CASE WHEN {column} IS NULL THEN 1 ELSE 0 END,
                                      {column}) AS {column}_rn,
               COUNT({column}) OVER (PARTITION BY dim, grp) AS {column}_n"""


def _middle(column: str) -> str:
    """SQL: this row holds one of the (one or two) middle values of ``column`` in its group."""
    return f"({column} IS NOT NULL AND ({column}_rn = ({column}_n + 1) / 2 OR {column}_rn = ({column}_n + 2) / 2))"


def _minutes(seconds, count) -> Decimal | None:
    return quantize(Decimal(round(float(seconds or 0))) / MINUTE / count) if count else None


async def support_metrics(scope: Scope, period: Period, now: datetime | None = None) -> SupportMetrics:
    """Needs ``tickets:read`` only: support agents see these and no other metric. Open tickets
    are judged against their due dates at ``now`` (default: now)."""
    scope.require("tickets:read")
    cte, params = _tickets(scope, period, now or datetime.now(UTC))
    # One statement: the counts, sums and both medians (the mean of the middle one or two
    # values) of every group.
    main = await fetch(
        f"""WITH {cte},
            ranked AS (SELECT dim, grp, {", ".join(("fr", "rs", "fr_met", "rs_met"))}, {_rank("fr")}, {_rank("rs")}
                       FROM tk)
            SELECT dim, grp, COUNT(*) AS tickets,
                   COUNT(fr) AS fr_n, SUM(fr) AS fr_sum, COUNT(rs) AS rs_n, SUM(rs) AS rs_sum,
                   SUM(CASE WHEN fr_met = 1 THEN 1 ELSE 0 END) AS fr_met, COUNT(fr_met) AS fr_judged,
                   SUM(CASE WHEN rs_met = 1 THEN 1 ELSE 0 END) AS rs_met, COUNT(rs_met) AS rs_judged,
                   SUM(CASE WHEN {_middle("fr")} THEN fr ELSE 0 END) AS fr_mid,
                   SUM(CASE WHEN {_middle("fr")} THEN 1 ELSE 0 END) AS fr_picked,
                   SUM(CASE WHEN {_middle("rs")} THEN rs ELSE 0 END) AS rs_mid,
                   SUM(CASE WHEN {_middle("rs")} THEN 1 ELSE 0 END) AS rs_picked
            FROM ranked GROUP BY dim, grp ORDER BY dim, grp""",
        params,
    )

    def figures(row: dict) -> SupportFigures:
        dim, grp = row["dim"], row["grp"]
        return SupportFigures(
            priority=grp if dim == "priority" else None,
            agent_id=ids.encode("User", grp) if dim == "agent" and grp else None,
            tickets=int(row["tickets"]),
            first_response_mean_minutes=_minutes(row["fr_sum"], int(row["fr_n"])),
            first_response_median_minutes=_minutes(row["fr_mid"], int(row["fr_picked"])),
            resolution_mean_minutes=_minutes(row["rs_sum"], int(row["rs_n"])),
            resolution_median_minutes=_minutes(row["rs_mid"], int(row["rs_picked"])),
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
