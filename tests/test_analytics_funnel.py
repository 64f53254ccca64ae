"""The deal funnel and the support figures on small hand-computed data sets, and the CSV downloads.

Funnel: a pipeline Lead (0) → Proposal (1) → Negotiation (2) → Won (3), Lost (4); deals created
on 2026-02-02 10:00 UTC ("day 0"):

  d1 (ads):      Lead d0 → Proposal d2 → Negotiation d5 → Won d10
  d2 (ads):      Lead d0 → Proposal d4 → Lost d6
  d3 (referral): Lead d0 → Won d3            (skips two stages)
  d4 (referral): Lead d0, still there
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from server.deals.models import Deal, DealStageChange, Pipeline, Stage
from server.graphql import ids
from server.tickets.models import Ticket
from tests.analytics_data import Shop, utc

DAY0 = utc(2026, 2, 2, 10)

FUNNEL = """query($breakdown: FunnelBreakdown!, $filter: AnalyticsFilter) {
  analytics(period: {from: "2026-02-01", to: "2026-02-28"}, filter: $filter) {
    funnel(breakdown: $breakdown) {
      pipeline source deals won lost winRate averageSalesCycleDays
      stages { name kind reached conversionToNext averageDaysInStage }
    }
  }
}"""


async def sales_shop(tenants):
    tenant = await tenants.create(("owner", "support", "sales"))
    shop = await Shop.of(tenant.slug)
    account = await shop.account("Buyer")
    org = shop.org
    pipeline = await Pipeline.create(organization_id=org.id, name="Wholesale", position=5)
    stages = {}
    for i, (name, kind) in enumerate(
        (("Lead", "open"), ("Proposal", "open"), ("Negotiation", "open"), ("Won", "won"), ("Lost", "lost"))
    ):
        stages[name] = await Stage.create(
            organization_id=org.id, pipeline_id=pipeline.id, name=name, position=i, kind=kind
        )

    async def deal(title: str, source: str, moves: list[tuple[str, int]]):
        last, last_day = moves[-1]
        closed = DAY0 + timedelta(days=last_day) if stages[last].kind != "open" else None
        d = await Deal.create(
            organization_id=org.id,
            title=title,
            account_id=account.id,
            pipeline_id=pipeline.id,
            stage_id=stages[last].id,
            currency="UAH",
            source=source,
            closed_at=closed,
        )
        await Deal.filter(id=d.id).update(created_at=DAY0)
        previous = None
        for name, day in moves:
            change = await DealStageChange.create(
                organization_id=org.id, deal_id=d.id, from_stage_id=previous, to_stage_id=stages[name].id
            )
            await DealStageChange.filter(id=change.id).update(created_at=DAY0 + timedelta(days=day))
            previous = stages[name].id

    await deal("d1", "ads", [("Lead", 0), ("Proposal", 2), ("Negotiation", 5), ("Won", 10)])
    await deal("d2", "ads", [("Lead", 0), ("Proposal", 4), ("Lost", 6)])
    await deal("d3", "referral", [("Lead", 0), ("Won", 3)])
    await deal("d4", "referral", [("Lead", 0)])
    return tenant, pipeline


async def test_funnel_per_pipeline(api, tenants):
    tenant, pipeline = await sales_shop(tenants)
    flt = {"pipelineId": ids.encode("Pipeline", pipeline.id)}
    data = await tenant.owner.data(api, FUNNEL, {"breakdown": "NONE", "filter": flt})
    assert data["analytics"]["funnel"] == [
        {
            "pipeline": "Wholesale",
            "source": None,
            "deals": 4,
            "won": 2,
            "lost": 1,
            "winRate": "66.67",
            "averageSalesCycleDays": "6.50",  # (10 + 3) / 2
            "stages": [
                {
                    "name": "Lead",
                    "kind": "open",
                    "reached": 4,
                    "conversionToNext": "75.00",
                    "averageDaysInStage": "3.00",
                },
                {
                    "name": "Proposal",
                    "kind": "open",
                    "reached": 3,
                    "conversionToNext": "66.67",
                    "averageDaysInStage": "2.50",
                },
                {
                    "name": "Negotiation",
                    "kind": "open",
                    "reached": 2,
                    "conversionToNext": "100.00",
                    "averageDaysInStage": "5.00",
                },
                {"name": "Won", "kind": "won", "reached": 2, "conversionToNext": None, "averageDaysInStage": None},
            ],
        }
    ]


async def test_funnel_by_source(api, tenants):
    tenant, pipeline = await sales_shop(tenants)
    flt = {"pipelineId": ids.encode("Pipeline", pipeline.id)}
    groups = (await tenant.owner.data(api, FUNNEL, {"breakdown": "SOURCE", "filter": flt}))["analytics"]["funnel"]
    summary = [
        (g["source"], g["deals"], g["won"], g["lost"], g["winRate"], [s["reached"] for s in g["stages"]])
        for g in groups
    ]
    assert summary == [
        ("ads", 2, 1, 1, "50.00", [2, 2, 1, 1]),
        ("referral", 2, 1, 0, "100.00", [2, 1, 1, 1]),
    ]


async def test_funnel_of_another_organization_is_empty(api, tenants):
    await sales_shop(tenants)
    other = await tenants.create(("owner",))
    data = await other.owner.data(api, FUNNEL, {"breakdown": "NONE"})
    assert data["analytics"]["funnel"] == []


SUPPORT = """query {
  analytics(period: {from: "2026-02-01", to: "2026-02-28"}) {
    support {
      overall { tickets firstResponseMeanMinutes firstResponseMedianMinutes resolutionMeanMinutes
                resolutionMedianMinutes firstResponseSlaRate resolutionSlaRate }
      byPriority { priority tickets firstResponseMeanMinutes firstResponseMedianMinutes resolutionMeanMinutes
                   firstResponseSlaRate resolutionSlaRate }
      byAgent { agentId tickets firstResponseSlaRate }
    }
  }
}"""


async def help_desk(tenants):
    """t1 high, agent: reply 30 min (due 60), resolved 120 (due 240)   both on time
    t2 high, agent: reply 90 (due 60), resolved 300 (due 240)         both late
    t3 normal, owner: reply 10 (due 60), open, resolution due in 2099  reply on time, resolution not judged yet
    t4 normal, nobody: no reply, open, both due long ago               both missed"""
    tenant = await tenants.create(("owner", "support", "sales"))
    shop = await Shop.of(tenant.slug)
    agent = ids.decode(tenant.support.user_id, "User")[1]
    owner = ids.decode(tenant.owner.user_id, "User")[1]
    t0 = utc(2026, 2, 3, 9)

    def at(minutes):
        return None if minutes is None else t0 + timedelta(minutes=minutes)

    rows = [
        ("high", agent, 30, 60, 120, 240),
        ("high", agent, 90, 60, 300, 240),
        ("normal", owner, 10, 60, None, None),
        ("normal", None, None, 60, None, 480),
    ]
    for n, (priority, assignee, reply, reply_due, resolved, resolve_due) in enumerate(rows, 1):
        ticket = await Ticket.create(
            organization_id=shop.org.id,
            number=n,
            subject=f"t{n}",
            priority=priority,
            status="resolved" if resolved else "open",
            assignee_id=assignee,
            first_response_at=at(reply),
            first_response_due_at=at(reply_due),
            resolved_at=at(resolved),
            resolution_due_at=at(resolve_due) if resolve_due else utc(2099, 1, 1),
        )
        await Ticket.filter(id=ticket.id).update(created_at=t0)
    return tenant


async def test_support_times_and_sla(api, tenants):
    tenant = await help_desk(tenants)
    support = (await tenant.support.data(api, SUPPORT))["analytics"]["support"]
    assert support["overall"] == {
        "tickets": 4,
        "firstResponseMeanMinutes": "43.33",  # (30 + 90 + 10) / 3
        "firstResponseMedianMinutes": "30.00",
        "resolutionMeanMinutes": "210.00",  # (120 + 300) / 2
        "resolutionMedianMinutes": "210.00",
        "firstResponseSlaRate": "50.00",  # t1, t3 on time; t2 late, t4 overdue
        "resolutionSlaRate": "33.33",  # t1 on time; t2 late, t4 overdue; t3 not due yet
    }
    assert support["byPriority"] == [
        {
            "priority": "high",
            "tickets": 2,
            "firstResponseMeanMinutes": "60.00",
            "firstResponseMedianMinutes": "60.00",
            "resolutionMeanMinutes": "210.00",
            "firstResponseSlaRate": "50.00",
            "resolutionSlaRate": "50.00",
        },
        {
            "priority": "normal",
            "tickets": 2,
            "firstResponseMeanMinutes": "10.00",
            "firstResponseMedianMinutes": "10.00",
            "resolutionMeanMinutes": None,
            "firstResponseSlaRate": "50.00",
            "resolutionSlaRate": "0.00",
        },
    ]
    by_agent = {a["agentId"]: (a["tickets"], a["firstResponseSlaRate"]) for a in support["byAgent"]}
    assert by_agent == {tenant.support.user_id: (2, "50.00"), tenant.owner.user_id: (1, "100.00"), None: (1, "0.00")}


async def test_support_agents_see_support_figures_only(api, tenants):
    tenant = await help_desk(tenants)
    body = await tenant.support.execute(
        api, '{ analytics(period: {from: "2026-02-01", to: "2026-02-28"}) { funnel { deals } } }'
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await tenant.sales.execute(api, SUPPORT)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def download(api, member, path: str, **headers):
    auth = {"Authorization": f"Bearer {member.token}", "X-Organization": member.org} if member else {}
    return await api.http.get(path, headers={**auth, **headers})


def table(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.text)))


async def test_csv_downloads(api, tenants):
    tenant, pipeline = await sales_shop(tenants)
    funnel = await download(
        api,
        tenant.owner,
        f"/analytics/funnel.csv?from=2026-02-01&to=2026-02-28&pipelineId={ids.encode('Pipeline', pipeline.id)}",
    )
    assert funnel.status_code == 200
    assert funnel.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="funnel-2026-02-01-2026-02-28.csv"' in funnel.headers["content-disposition"]
    rows = table(funnel)
    assert rows[0][:4] == ["pipeline", "source", "manager_id", "deals"]
    assert [(r[8], r[10], r[11]) for r in rows[1:]] == [
        ("Lead", "4", "75.00"),
        ("Proposal", "3", "66.67"),
        ("Negotiation", "2", "100.00"),
        ("Won", "2", ""),
    ]

    shop = await Shop.of(tenant.slug)
    await shop.account("X", "instagram")
    await shop.order("X", utc(2026, 2, 10, 10), "120.00")
    await shop.order("X", utc(2026, 2, 11, 10), "80.00")
    customers = table(await download(api, tenant.owner, "/analytics/customers.csv?from=2026-02-01&to=2026-02-28"))
    assert customers[0] == ["metric", "currency", "value"]
    values = {(r[0], r[1]): r[2] for r in customers[1:]}
    assert values[("orders", "")] == "2"
    assert values[("average_order_value", "UAH")] == "100.00"
    assert values[("repeat_purchase_rate", "")] == "100.00"
    assert values[("churn_rate", "")] == ""  # nobody at the start: no rate

    cohorts = table(await download(api, tenant.owner, "/analytics/cohorts.csv?from=2026-02-01&to=2026-02-28"))
    assert cohorts == [
        [
            "cohort_month",
            "cohort_customers",
            "month_offset",
            "month",
            "customers",
            "share_percent",
            "currency",
            "revenue",
        ],
        ["2026-02-01", "1", "0", "2026-02-01", "1", "100.00", "UAH", "200.00"],
    ]
    ltv = table(await download(api, tenant.owner, "/analytics/ltv.csv?from=2026-02-01&to=2026-02-28"))
    assert ltv[0] == ["formula", "currency", "ltv", "chosen"]
    assert [r[0] for r in ltv[1:]] == ["arpu_lifetime", "aov_frequency_lifespan", "margin_churn", "npv", "segments"]
    assert ltv[1] == ["arpu_lifetime", "UAH", f"{200 * 365 / 28 * 3:.2f}", "yes"]  # ARPU × 365/28 × 3 years
    acquisition = table(await download(api, tenant.owner, "/analytics/acquisition.csv?from=2026-02-01&to=2026-02-28"))
    assert acquisition[1][:4] == ["instagram", "UAH", "1", "0.00"]


async def test_csv_is_authenticated_and_permission_checked(api, tenants):
    tenant = await help_desk(tenants)
    path = "/analytics/support.csv?from=2026-02-01&to=2026-02-28"
    anonymous = await download(api, None, path)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "UNAUTHENTICATED"
    rows = table(await download(api, tenant.support, path))
    assert rows[0][:3] == ["group", "key", "tickets"]
    assert rows[1][:5] == ["all", "", "4", "43.33", "30.00"]
    forbidden = await download(api, tenant.support, "/analytics/customers.csv?from=2026-02-01&to=2026-02-28")
    assert forbidden.status_code == 403
    bad = await download(api, tenant.owner, "/analytics/customers.csv?from=2026-02-30&to=2026-03-01")
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "from")
    unknown = await download(api, tenant.owner, "/analytics/secrets.csv?from=2026-02-01&to=2026-02-28")
    assert unknown.status_code == 404
    other = await tenants.create(("owner",))
    foreign = await download(api, tenant.owner, path, **{"X-Organization": other.slug})
    assert foreign.status_code in (400, 403)
