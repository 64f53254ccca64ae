"""LTV by each formula on the worked example of docs/analytics.md ("The flower shop"), and
LTV:CAC per acquisition source. Every number asserted here is computed by hand in the docs.

Period 2025-01-01 .. 2025-12-31 (365 days, so a yearly figure equals the period's), lost after
365 days (the default), gross margin 40 %, lifetime 3 years, discount rate 10 %, 3 years.

  P (instagram): 2024-07-01 500; 2025-03-01 1000, 2025-07-01 1000
  Q (instagram): 2024-11-01 500; 2025-09-02 2000
  R (google):    2024-05-01 800                 (customer at the start, lost by the end)
  S (google):    2024-08-01 600                 (the same)
  N1 (instagram): 2025-03-01 500, 2025-04-30 500 (new)
  N2 (google):   2025-06-15 1000                (new)
  acquisition costs: instagram 2025-01 300 UAH, google 2025-06 100 UAH
"""

from __future__ import annotations

from tests.analytics_data import SET_COST, SET_SETTINGS, Shop, utc

LTV = """query {
  analytics(period: {from: "2025-01-01", to: "2025-12-31"}) {
    customers { orders customersWhoOrdered purchaseFrequency customerLifespanDays
                customersAtStart customersAtEnd newCustomers lostCustomers retentionRate churnRate
                byCurrency { averageOrderValue { amount } revenuePerCustomer { amount } } }
    ltv {
      settings { ltvFormula grossMarginPercent lifetimeYears discountRatePercent npvYears lostAfterDays }
      value { formula currency amount }
      byFormula { formula currency amount }
      bySource { source currency newCustomers acquisitionCost { amount currency } cac { amount } ltv { amount }
                 ltvToCac }
    }
  }
}"""


async def flower_shop(api, tenants):
    tenant = await tenants.create(("owner", "analyst"))
    shop = await Shop.of(tenant.slug)
    for name, source in (("P", "instagram"), ("Q", "instagram"), ("R", "google"), ("S", "google")):
        await shop.account(name, source)
    await shop.account("N1", "instagram")
    await shop.account("N2", "google")
    await shop.order("P", utc(2024, 7, 1, 10), "500.00")
    await shop.order("P", utc(2025, 3, 1, 10), "1000.00")
    await shop.order("P", utc(2025, 7, 1, 10), "1000.00")
    await shop.order("Q", utc(2024, 11, 1, 10), "500.00")
    await shop.order("Q", utc(2025, 9, 2, 10), "2000.00")
    await shop.order("R", utc(2024, 5, 1, 10), "800.00")
    await shop.order("S", utc(2024, 8, 1, 10), "600.00")
    await shop.order("N1", utc(2025, 3, 1, 10), "500.00")
    await shop.order("N1", utc(2025, 4, 30, 10), "500.00")
    await shop.order("N2", utc(2025, 6, 15, 10), "1000.00")
    for source, month, amount in (("instagram", "2025-01", "300"), ("google", "2025-06", "100")):
        data = await tenant.owner.data(
            api, SET_COST, {"input": {"source": source, "month": month, "amount": {"amount": amount}}}
        )
        assert data["setAcquisitionCost"]["errors"] == []
    data = await tenant.owner.data(
        api,
        SET_SETTINGS,
        {"input": {"ltvFormula": "NPV", "grossMarginPercent": "40", "lifetimeYears": "3", "discountRatePercent": "10"}},
    )
    assert data["updateAnalyticsSettings"]["errors"] == []
    return tenant


async def test_the_inputs_of_the_worked_example(api, tenants):
    tenant = await flower_shop(api, tenants)
    c = (await tenant.owner.data(api, LTV))["analytics"]["customers"]
    assert (c["orders"], c["customersWhoOrdered"], c["purchaseFrequency"]) == (6, 4, "1.50")
    assert c["byCurrency"] == [
        {"averageOrderValue": {"amount": "1000.00"}, "revenuePerCustomer": {"amount": "1500.00"}}
    ]
    assert c["customerLifespanDays"] == "182.50"  # (365 + 305 + 60 + 0) / 4
    assert (c["customersAtStart"], c["customersAtEnd"], c["newCustomers"], c["lostCustomers"]) == (4, 4, 2, 2)
    assert (c["retentionRate"], c["churnRate"]) == ("50.00", "50.00")


async def test_ltv_by_each_formula(api, tenants):
    tenant = await flower_shop(api, tenants)
    ltv = (await tenant.analyst.data(api, LTV))["analytics"]["ltv"]
    assert ltv["settings"] == {
        "ltvFormula": "NPV",
        "grossMarginPercent": "40.00",
        "lifetimeYears": "3.00",
        "discountRatePercent": "10.00",
        "npvYears": 3,
        "lostAfterDays": 365,
    }
    assert {v["formula"]: v["amount"] for v in ltv["byFormula"]} == {
        "ARPU_LIFETIME": "4500.00",  # 1500 × 1 × 3
        "AOV_FREQUENCY_LIFESPAN": "750.00",  # 1000 × 1.5 × 1 × (182.5 / 365)
        "MARGIN_CHURN": "1200.00",  # 1500 × 0.40 ÷ 0.50
        "NPV": "706.09",  # 600/1.1 + 600×0.5/1.21 + 600×0.25/1.331 − 200
        "SEGMENTS": "500.00",  # (5000 × 1.00 × 0.40 + 1000 × 0 × 0.40) ÷ 4
    }
    assert {v["currency"] for v in ltv["byFormula"]} == {"UAH"}
    assert ltv["value"] == [{"formula": "NPV", "currency": "UAH", "amount": "706.09"}]


async def test_ltv_to_cac_per_source(api, tenants):
    tenant = await flower_shop(api, tenants)
    by_source = (await tenant.owner.data(api, LTV))["analytics"]["ltv"]["bySource"]
    assert by_source == [
        {
            "source": "google",
            "currency": "UAH",
            "newCustomers": 1,
            "acquisitionCost": {"amount": "100.00", "currency": "UAH"},
            "cac": {"amount": "100.00"},
            "ltv": {"amount": "263.64"},  # 1000 × 0.40 ÷ 1.1 − 100 (retention 0: one year only)
            "ltvToCac": "2.64",
        },
        {
            "source": "instagram",
            "currency": "UAH",
            "newCustomers": 1,
            "acquisitionCost": {"amount": "300.00", "currency": "UAH"},
            "cac": {"amount": "300.00"},
            "ltv": {"amount": "1357.90"},  # 5000/3 × 0.40 × (1/1.1 + 1/1.21 + 1/1.331) − 300
            "ltvToCac": "4.53",
        },
    ]


async def test_acquisition_cost_entries_replace_and_refuse_bad_input(api, tenants):
    tenant = await tenants.create(("owner", "manager"))
    entry = {"source": "tiktok", "month": "2026-02", "amount": {"amount": "120.50"}}
    for amount in ("120.50", "99.99"):
        data = await tenant.owner.data(api, SET_COST, {"input": {**entry, "amount": {"amount": amount}}})
        assert data["setAcquisitionCost"]["acquisitionCost"] == {
            "source": "tiktok",
            "month": "2026-02",
            "amount": {"amount": amount, "currency": "UAH"},
        }
    costs = await tenant.owner.data(api, "{ acquisitionCosts { source month amount { amount currency } } }")
    assert costs["acquisitionCosts"] == [
        {"source": "tiktok", "month": "2026-02", "amount": {"amount": "99.99", "currency": "UAH"}}
    ]

    bad = {"source": "", "month": "2026-13", "amount": {"amount": "-1", "currency": "XXX"}}
    data = await tenant.owner.data(api, SET_COST, {"input": bad})
    payload = data["setAcquisitionCost"]
    assert payload["acquisitionCost"] is None
    assert sorted(e["field"] for e in payload["errors"]) == ["amount.amount", "amount.currency", "month", "source"]

    body = await tenant.manager.execute(api, SET_COST, {"input": entry})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_another_organizations_costs_do_not_count(api, tenants):
    tenant = await flower_shop(api, tenants)
    other = await tenants.create(("owner",))
    data = await other.owner.data(
        api, SET_COST, {"input": {"source": "instagram", "month": "2025-01", "amount": {"amount": "99999"}}}
    )
    assert data["setAcquisitionCost"]["errors"] == []
    by_source = (await tenant.owner.data(api, LTV))["analytics"]["ltv"]["bySource"]
    assert [s["acquisitionCost"]["amount"] for s in by_source] == ["100.00", "300.00"]
    assert (await other.owner.data(api, LTV))["analytics"]["ltv"]["bySource"] == []
    costs = await other.owner.data(api, "{ acquisitionCosts { source month amount { amount } } }")
    assert costs["acquisitionCosts"] == [{"source": "instagram", "month": "2025-01", "amount": {"amount": "99999.00"}}]
