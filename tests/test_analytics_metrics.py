"""Customer metrics and cohorts over a period, on a small hand-computed data set.

The shop (Europe/Kyiv, UTC+2 in winter) with "lost after 90 days"; February 2026 is
2026-01-31 22:00 UTC .. 2026-02-28 22:00 UTC:

  A (instagram): 2025-12-10 1000, 2026-02-05 300, 2026-02-20 500     customer at start; 2 orders in Feb
  B (google):    2025-11-15 400                                      customer at start, lost by the end
  C (instagram): 2026-02-10 200, 2026-02-28 23:30 Kyiv 100, 2026-03-15 150   new; the 23:30 order is in
  D (google):    2026-02-15 cancelled, 2026-03-01 00:30 Kyiv 250     nothing in February (the 00:30 is out)
  E (none):      2026-02-12 50 USD                                   new, another currency
  F (google):    2025-08-01 700                                      lost long ago: counts nowhere

and another organization with big orders in the same days, which must change nothing.
"""

from __future__ import annotations

import pytest

from tests.analytics_data import CUSTOMERS, SET_SETTINGS, Shop, utc

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english


async def february_shop(tenants) -> tuple:
    tenant = await tenants.create(("owner", "manager", "support", "sales", "analyst"))
    shop = await Shop.of(tenant.slug)
    for name, source in (("A", "instagram"), ("B", "google"), ("C", "instagram"), ("D", "google"), ("E", None)):
        await shop.account(name, source)
    await shop.account("F", "google")
    await shop.order("A", utc(2025, 12, 10, 10), "1000.00")
    await shop.order("A", utc(2026, 2, 5, 10), "300.00", channel="rozetka")
    await shop.order("A", utc(2026, 2, 20, 10), "500.00")
    await shop.order("B", utc(2025, 11, 15, 10), "400.00")
    await shop.order("C", utc(2026, 2, 10, 10), "200.00")
    await shop.order("C", utc(2026, 2, 28, 21, 30), "100.00")  # 23:30 in Kyiv on the last day: in
    await shop.order("C", utc(2026, 3, 15, 10), "150.00")
    await shop.order("D", utc(2026, 2, 15, 10), "999.00", group="cancelled")
    await shop.order("D", utc(2026, 2, 28, 22, 30), "250.00")  # 00:30 in Kyiv on March 1st: out
    await shop.order("E", utc(2026, 2, 12, 10), "50.00", "USD")
    await shop.order("F", utc(2025, 8, 1, 10), "700.00")

    other = await tenants.create(("owner",))
    elsewhere = await Shop.of(other.slug)
    await elsewhere.account("A", "instagram")
    await elsewhere.account("Z", "instagram")
    for day in (5, 10, 20):
        await elsewhere.order("A", utc(2026, 2, day, 10), "100000.00")
    await elsewhere.order("Z", utc(2025, 12, 1, 10), "7.00")
    return tenant, other


async def set_lost_after(api, member, days: int) -> None:
    data = await member.data(api, SET_SETTINGS, {"input": {"lostAfterDays": days}})
    assert data["updateAnalyticsSettings"]["errors"] == []


FEB = {"from": "2026-02-01", "to": "2026-02-28"}


async def test_customer_metrics_of_february(api, tenants):
    tenant, _other = await february_shop(tenants)
    await set_lost_after(api, tenant.owner, 90)

    data = (await tenant.owner.data(api, CUSTOMERS, FEB))["analytics"]

    assert data["period"] == {
        "from": "2026-02-01",
        "to": "2026-02-28",
        "timezone": "Europe/Kyiv",
        "startsAt": "2026-01-31T22:00:00+00:00",
        "endsAt": "2026-02-28T22:00:00+00:00",
    }
    c = data["customers"]
    assert c["orders"] == 5  # A 2, C 2, E 1
    assert c["customersWhoOrdered"] == 3
    assert c["byCurrency"] == [
        {
            "currency": "UAH",
            "orders": 4,
            "customers": 2,
            "revenue": {"amount": "1100.00", "currency": "UAH"},
            "averageOrderValue": {"amount": "275.00", "currency": "UAH"},
            "revenuePerCustomer": {"amount": "550.00", "currency": "UAH"},
        },
        {
            "currency": "USD",
            "orders": 1,
            "customers": 1,
            "revenue": {"amount": "50.00", "currency": "USD"},
            "averageOrderValue": {"amount": "50.00", "currency": "USD"},
            "revenuePerCustomer": {"amount": "50.00", "currency": "USD"},
        },
    ]
    assert c["purchaseFrequency"] == "1.67"  # 5 / 3
    assert c["repeatPurchaseRate"] == "66.67"  # A and C of 3
    # A: 2025-12-10 10:00 → 2026-02-20 10:00 = 72 days; C: 18 days 11.5 hours; E: 0 → 90.479… / 3
    assert c["customerLifespanDays"] == "30.16"
    assert c["lostAfterDays"] == 90
    assert c["customersAtStart"] == 2  # A and B (F's last order is more than 90 days before)
    assert c["customersAtEnd"] == 3  # A, C, E (B lost)
    assert c["newCustomers"] == 2  # C, E
    assert c["lostCustomers"] == 1  # B
    assert c["retentionRate"] == "50.00"  # (3 − 2) / 2
    assert c["churnRate"] == "50.00"  # 1 / 2


async def test_filters_by_source_channel_and_manager(api, tenants):
    tenant, _other = await february_shop(tenants)
    query = CUSTOMERS
    instagram = (await tenant.owner.data(api, query, {**FEB, "filter": {"source": "instagram"}}))["analytics"]
    assert instagram["customers"]["orders"] == 4
    assert [x["revenue"]["amount"] for x in instagram["customers"]["byCurrency"]] == ["1100.00"]
    rozetka = (await tenant.owner.data(api, query, {**FEB, "filter": {"channel": "rozetka"}}))["analytics"]
    assert rozetka["customers"]["orders"] == 1
    assert rozetka["customers"]["byCurrency"][0]["revenue"]["amount"] == "300.00"
    nobody = {"managerId": tenant.manager.user_id}
    managed = (await tenant.owner.data(api, query, {**FEB, "filter": nobody}))["analytics"]
    assert managed["customers"]["orders"] == 0
    assert managed["customers"]["purchaseFrequency"] is None


async def test_period_edges_follow_the_organizations_time_zone(api, tenants):
    tenant = await tenants.create(("owner",))
    shop = await Shop.of(tenant.slug)
    await shop.account("X")
    await shop.order("X", utc(2026, 1, 31, 21, 30), "1.00")  # 23:30 Kyiv on Jan 31: before
    await shop.order("X", utc(2026, 1, 31, 22, 30), "2.00")  # 00:30 Kyiv on Feb 1: in
    await shop.order("X", utc(2026, 2, 28, 21, 30), "4.00")  # 23:30 Kyiv on Feb 28: in
    await shop.order("X", utc(2026, 2, 28, 22, 30), "8.00")  # 00:30 Kyiv on Mar 1: after
    # Summer time (UTC+3): the last day of June ends at 21:00 UTC.
    await shop.order("X", utc(2026, 6, 30, 20, 30), "16.00")  # 23:30 Kyiv on Jun 30: in
    await shop.order("X", utc(2026, 6, 30, 21, 30), "32.00")  # 00:30 Kyiv on Jul 1: after

    feb = (await tenant.owner.data(api, CUSTOMERS, FEB))["analytics"]["customers"]
    assert feb["byCurrency"][0]["revenue"]["amount"] == "6.00"
    june = (await tenant.owner.data(api, CUSTOMERS, {"from": "2026-06-01", "to": "2026-06-30"}))["analytics"]
    assert june["period"]["endsAt"] == "2026-06-30T21:00:00+00:00"
    assert june["customers"]["byCurrency"][0]["revenue"]["amount"] == "16.00"


async def test_another_organization_sees_only_its_own_orders(api, tenants):
    _tenant, other = await february_shop(tenants)
    c = (await other.owner.data(api, CUSTOMERS, FEB))["analytics"]["customers"]
    assert c["orders"] == 3
    assert c["byCurrency"][0]["revenue"]["amount"] == "300000.00"
    assert c["customersAtStart"] == 1  # Z, from December (the default: lost after 365 days)
    assert c["newCustomers"] == 1  # A there


COHORTS = """query($from: Date!, $to: Date!) {
  analytics(period: {from: $from, to: $to}) {
    cohorts { month customers months { offset month customers share revenue { amount currency } } }
  }
}"""


async def test_cohort_matrix(api, tenants):
    tenant, _other = await february_shop(tenants)
    data = await tenant.owner.data(api, COHORTS, {"from": "2026-01-01", "to": "2026-03-31"})
    assert data["analytics"]["cohorts"] == [
        {
            "month": "2026-02-01",
            "customers": 2,  # C and E
            "months": [
                {
                    "offset": 0,
                    "month": "2026-02-01",
                    "customers": 2,
                    "share": "100.00",
                    "revenue": [{"amount": "300.00", "currency": "UAH"}, {"amount": "50.00", "currency": "USD"}],
                },
                {
                    "offset": 1,
                    "month": "2026-03-01",
                    "customers": 1,  # C again
                    "share": "50.00",
                    "revenue": [{"amount": "150.00", "currency": "UAH"}],
                },
            ],
        },
        {
            "month": "2026-03-01",
            "customers": 1,  # D: its first order that counts is 00:30 on March 1st in Kyiv
            "months": [
                {
                    "offset": 0,
                    "month": "2026-03-01",
                    "customers": 1,
                    "share": "100.00",
                    "revenue": [{"amount": "250.00", "currency": "UAH"}],
                }
            ],
        },
    ]


@pytest.mark.parametrize("role", ["support", "sales"])
async def test_roles_without_analytics_read_get_forbidden(api, tenants, role):
    tenant, _other = await february_shop(tenants)
    body = await getattr(tenant, role).execute(api, CUSTOMERS, FEB)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "analytics:read" in body["errors"][0]["message"]


async def test_analyst_reads_and_may_not_change_settings(api, tenants):
    tenant, _other = await february_shop(tenants)
    data = await tenant.analyst.data(api, CUSTOMERS, FEB)
    assert data["analytics"]["customers"]["orders"] == 5
    body = await tenant.analyst.execute(api, SET_SETTINGS, {"input": {"lostAfterDays": 30}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_manager_sees_the_orders_of_their_team(api, tenants):
    tenant = await tenants.create(("owner", "manager"))
    shop = await Shop.of(tenant.slug)
    await shop.account("X")
    await shop.order("X", utc(2026, 2, 5, 10), "10.00", manager=tenant.manager.user_id)
    await shop.order("X", utc(2026, 2, 6, 10), "20.00", manager=tenant.owner.user_id)
    mine = (await tenant.manager.data(api, CUSTOMERS, FEB))["analytics"]["customers"]
    assert mine["byCurrency"][0]["revenue"]["amount"] == "10.00"
    everything = (await tenant.owner.data(api, CUSTOMERS, FEB))["analytics"]["customers"]
    assert everything["byCurrency"][0]["revenue"]["amount"] == "30.00"


async def test_bad_periods_and_settings_are_refused_clearly(api, tenants):
    tenant = await tenants.create(("owner",))
    body = await tenant.owner.execute(api, CUSTOMERS, {"from": "2026-02-10", "to": "2026-02-01"})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "period.to"}
    data = await tenant.owner.data(
        api, SET_SETTINGS, {"input": {"lostAfterDays": 0, "grossMarginPercent": "120", "npvYears": 3}}
    )
    payload = data["updateAnalyticsSettings"]
    assert payload["settings"] is None
    assert sorted(e["field"] for e in payload["errors"]) == ["grossMarginPercent", "lostAfterDays"]
    settings = await tenant.owner.data(api, "{ analyticsSettings { lostAfterDays npvYears } }")
    assert settings["analyticsSettings"] == {"lostAfterDays": 365, "npvYears": 3}  # nothing half-written


async def test_filter_by_saved_segment(api, tenants):
    from server.accounts.models import Account

    tenant, other = await february_shop(tenants)
    for name in ("A", "E"):
        await Account.filter(organization__slug=tenant.slug, name=name).update(addresses=["Київ, вул. Хрещатик, 1"])
    create = (
        """mutation($i: CreateSegmentInput!) { createSegment(input: $i) { segment { id count } errors { code } } }"""
    )
    made = await tenant.owner.data(api, create, {"i": {"name": "Київ", "rules": {"cities": ["Київ"]}}})
    segment = made["createSegment"]["segment"]
    assert segment["count"] == 2
    kyiv = (await tenant.owner.data(api, CUSTOMERS, {**FEB, "filter": {"segmentId": segment["id"]}}))["analytics"]
    # A: 300 + 500 UAH in February, E: 50 USD; nobody else's orders.
    assert kyiv["customers"]["orders"] == 3
    assert sorted((x["revenue"]["currency"], x["revenue"]["amount"]) for x in kyiv["customers"]["byCurrency"]) == [
        ("UAH", "800.00"),
        ("USD", "50.00"),
    ]
    # Rules whose SQL has parameters of its own (tags), or values that look like SQL or like
    # the analytics' parameters, are just values: nobody matches, nothing breaks.
    for rules in ({"tags": ["vip"]}, {"cities": ["O'Brien :f_source \\' --"]}):
        made = await tenant.owner.data(api, create, {"i": {"name": str(rules)[:60], "rules": rules}})
        odd = made["createSegment"]["segment"]["id"]
        none = (await tenant.owner.data(api, CUSTOMERS, {**FEB, "filter": {"segmentId": odd}}))["analytics"]
        assert none["customers"]["orders"] == 0
    # Another organization's segment is not found, as any row of theirs.
    body = await other.owner.execute(api, CUSTOMERS, {**FEB, "filter": {"segmentId": segment["id"]}})
    assert body["data"]["analytics"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "not found" in error["message"], error
