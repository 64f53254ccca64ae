"""The deal funnel of the deals created in a period, from the deals' stage history
(``DealStageChange``, written by the deals service in the same transaction as every move).

- A deal *reached* a stage when it entered that stage or a later one (higher position) of its
  pipeline; skipping a stage still counts as passing it; lost stages are not steps.
- Conversion to the next stage = reached(next) ÷ reached(this) × 100.
- Win rate = won ÷ (won + lost) over the period's deals that are closed now.
- Sales cycle = days from creating a deal to its ``closed_at``, averaged over the won ones.
- Time in stage = from entering a stage to the next move, averaged over stays that ended.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from server.analytics.metrics_sql import Filter, Period, Where, dialect, fetch, owner_filter
from server.analytics.metrics_types import FunnelGroup, FunnelStage, rate
from server.auth.scope import Scope
from server.core.money import quantize
from server.deals.models import Pipeline, Stage
from server.graphql import ids

DAY = Decimal(86_400)
GROUPS = {"none": "''", "source": "COALESCE(d.source, '')", "manager": "COALESCE(CAST(d.owner_id AS TEXT), '')"}


def _deals(scope: Scope, period: Period, flt: Filter, breakdown: str) -> tuple[str, dict]:
    where = Where().add("d.organization_id = :org", org=scope.organization_id).add("d.deleted_at IS NULL")
    where.add("d.created_at >= :start AND d.created_at < :end", start=period.start, end=period.end)
    owner_filter(scope, "d.owner_id", where)
    if flt.source is not None:
        where.add("d.source = :f_source", f_source=flt.source)
    if flt.manager_id is not None:
        where.add("d.owner_id = :f_manager", f_manager=flt.manager_id)
    if flt.pipeline_id is not None:
        where.add("d.pipeline_id = :f_pipeline", f_pipeline=flt.pipeline_id)
    flt.accounts("d.account_id", where)
    cte = f"""dd AS (SELECT d.id, d.pipeline_id, d.stage_id, d.created_at, d.closed_at, {GROUPS[breakdown]} AS grp
                     FROM deal d WHERE {where.sql})"""
    return cte, where.params


def _days(seconds, count) -> Decimal | None:
    return quantize(Decimal(round(float(seconds))) / DAY / count) if count else None


async def funnel(scope: Scope, period: Period, flt: Filter, breakdown: str = "none") -> list[FunnelGroup]:
    scope.require("analytics:read")
    scope.require("deals:read")
    d = dialect()
    cte, params = _deals(scope, period, flt, breakdown)
    totals = await fetch(
        f"""WITH {cte}
            SELECT dd.pipeline_id, dd.grp, COUNT(*) AS deals,
                   SUM(CASE WHEN s.kind = 'won' THEN 1 ELSE 0 END) AS won,
                   SUM(CASE WHEN s.kind = 'lost' THEN 1 ELSE 0 END) AS lost,
                   SUM(CASE WHEN s.kind = 'won' THEN {d.seconds("dd.created_at", "dd.closed_at")} ELSE 0 END)
                     AS won_seconds
            FROM dd JOIN stage s ON s.id = dd.stage_id GROUP BY dd.pipeline_id, dd.grp""",
        params,
    )
    reached = await fetch(
        f"""WITH {cte},
            reach AS (SELECT dd.id, dd.pipeline_id, dd.grp, MAX(s.position) AS furthest
                      FROM dd JOIN deal_stage_change c ON c.deal_id = dd.id
                      JOIN stage s ON s.id = c.to_stage_id AND s.pipeline_id = dd.pipeline_id AND s.kind <> 'lost'
                      GROUP BY dd.id, dd.pipeline_id, dd.grp)
            SELECT st.id AS stage_id, r.grp, COUNT(*) AS reached
            FROM stage st JOIN reach r ON r.pipeline_id = st.pipeline_id AND r.furthest >= st.position
            WHERE st.kind <> 'lost' GROUP BY st.id, r.grp""",
        params,
    )
    # The deal's group travels with its moves: joining the two CTEs again instead left SQLite
    # a nested loop over moves × deals (20,000 deals: minutes).
    stays = await fetch(
        f"""WITH {cte},
            moves AS (SELECT c.deal_id, dd.grp, c.to_stage_id, c.created_at,
                             LEAD(c.created_at) OVER (PARTITION BY c.deal_id ORDER BY c.created_at, c.id) AS left_at
                      FROM deal_stage_change c JOIN dd ON dd.id = c.deal_id)
            SELECT m.to_stage_id AS stage_id, m.grp, COUNT(*) AS stays,
                   SUM({d.seconds("m.created_at", "m.left_at")}) AS seconds
            FROM moves m WHERE m.left_at IS NOT NULL
            GROUP BY m.to_stage_id, m.grp""",
        params,
    )
    reached_of = {(str(r["stage_id"]), r["grp"]): int(r["reached"]) for r in reached}
    stay_of = {(str(r["stage_id"]), r["grp"]): (r["seconds"], int(r["stays"])) for r in stays}
    pipeline_ids = {str(r["pipeline_id"]) for r in totals}
    pipelines = {
        str(p.id): p for p in await Pipeline.filter(organization_id=scope.organization_id, id__in=pipeline_ids)
    }
    stages = defaultdict(list)
    for st in await Stage.filter(pipeline_id__in=pipeline_ids, kind__in=("open", "won")).order_by("position", "id"):
        stages[str(st.pipeline_id)].append(st)

    out = []
    for row in sorted(
        totals, key=lambda r: (pipelines[str(r["pipeline_id"])].position, str(r["pipeline_id"]), r["grp"])
    ):
        pid, grp = str(row["pipeline_id"]), row["grp"]
        steps = stages[pid]
        counts = [reached_of.get((str(st.id), grp), 0) for st in steps]
        funnel_stages = []
        for i, st in enumerate(steps):
            seconds, n = stay_of.get((str(st.id), grp), (0, 0))
            funnel_stages.append(
                FunnelStage(
                    stage_id=ids.encode("Stage", st.id),
                    name=st.name,
                    kind=st.kind,
                    reached=counts[i],
                    conversion_to_next=rate(counts[i + 1], counts[i]) if i + 1 < len(steps) else None,
                    average_days_in_stage=_days(seconds, n),
                )
            )
        won, lost = int(row["won"]), int(row["lost"])
        out.append(
            FunnelGroup(
                pipeline_id=ids.encode("Pipeline", pipelines[pid].id),
                pipeline=pipelines[pid].name,
                source=(grp or None) if breakdown == "source" else None,
                manager_id=ids.encode("User", grp) if breakdown == "manager" and grp else None,
                deals=int(row["deals"]),
                won=won,
                lost=lost,
                win_rate=rate(won, won + lost),
                average_sales_cycle_days=_days(row["won_seconds"], won),
                stages=funnel_stages,
            )
        )
    return out
