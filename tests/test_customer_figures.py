"""Per-customer figures: kept current in the same transaction as every order change, read
through `Account.figures`, filtered and sorted in `accounts(where:, orderBy:)`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.analytics.service import rebuild_figures
from server.organizations.models import Organization
from tests.figures_helpers import DELETE, figures, move, new_account, order, placed_at
from tests.helpers import QueryCounter
from tests.test_cli import (
    crm,
    failed,
    fresh_db,  # noqa: F401 - the fixture of fresh databases for `crm` runs
    new_org,
    ok,
    python,
)


async def test_figures_follow_orders_created_cancelled_and_deleted(api, tenants):
    t = await tenants.create(("owner",))
    account = await new_account(t.owner, api, "Олена")

    empty = await figures(t.owner, api, account)
    assert empty == {
        "firstOrderAt": None,
        "lastOrderAt": None,
        "orderCount": 0,
        "daysSinceLastOrder": None,
        "revenue": [],
        "averageOrderValue": [],
        "lifetimeValue": [],
        "rfm": None,
    }

    first = await order(t.owner, api, account, "100.00")
    second = await order(t.owner, api, account, "250.51")
    dollars = await order(t.owner, api, account, "40.00", currency="USD")
    got = await figures(t.owner, api, account)
    assert got["orderCount"] == 3
    assert got["firstOrderAt"] == first["createdAt"]
    assert got["lastOrderAt"] == dollars["createdAt"]
    assert got["daysSinceLastOrder"] == 0
    assert got["revenue"] == [{"amount": "350.51", "currency": "UAH"}, {"amount": "40.00", "currency": "USD"}]
    # 350.51 / 2 = 175.255, half up to cents.
    assert got["averageOrderValue"] == [{"amount": "175.26", "currency": "UAH"}, {"amount": "40.00", "currency": "USD"}]
    assert got["lifetimeValue"] == got["revenue"]

    await move(t.owner, api, second, "cancelled")
    got = await figures(t.owner, api, account)
    assert got["orderCount"] == 2
    assert got["revenue"] == [{"amount": "100.00", "currency": "UAH"}, {"amount": "40.00", "currency": "USD"}]
    assert got["averageOrderValue"][0] == {"amount": "100.00", "currency": "UAH"}

    deleted = await t.owner.data(api, DELETE, {"i": {"id": dollars["id"], "version": dollars["version"]}})
    assert deleted["deleteOrder"]["errors"] == []
    got = await figures(t.owner, api, account)
    assert got["orderCount"] == 1
    assert got["revenue"] == [{"amount": "100.00", "currency": "UAH"}]
    assert got["firstOrderAt"] == got["lastOrderAt"] == first["createdAt"]


async def test_a_failed_order_change_leaves_the_figures_as_they_were(api, tenants, monkeypatch):
    from server.orders import service as orders_service

    t = await tenants.create(("owner",))
    account = await new_account(t.owner, api, "Петро")
    kept = await order(t.owner, api, account, "70.00")
    before = await figures(t.owner, api, account)

    async def broken(*_args, **_kwargs):
        raise RuntimeError("the outbox is down")

    # The failure comes after the figures were recomputed in the same transaction.
    monkeypatch.setattr(orders_service.outbox, "emit", broken)
    item = {"sku": "SKU", "title": "Товар", "quantity": "1", "unitPrice": "500.00"}
    body = await t.owner.execute(
        api,
        "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
        {"i": {"accountId": account, "items": [item]}},
    )
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    body = await t.owner.execute(
        api,
        "mutation($i: ChangeOrderStatusInput!) { changeOrderStatus(input: $i) { order { id } } }",
        {"i": {"id": kept["id"], "version": kept["version"], "status": "cancelled"}},
    )
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    monkeypatch.undo()

    assert await figures(t.owner, api, account) == before
    assert before["orderCount"] == 1 and before["revenue"] == [{"amount": "70.00", "currency": "UAH"}]


async def test_orders_changed_at_the_same_time_all_count(api, tenants):
    """Each order change locks the customer's figures row before summing up, so on PostgreSQL
    concurrent changes take turns instead of overwriting each other's sums."""
    import asyncio

    t = await tenants.create(("owner",))
    account = await new_account(t.owner, api, "Поспішна")
    placed = [await order(t.owner, api, account, f"{i}.00") for i in range(1, 7)]
    await asyncio.gather(*(move(t.owner, api, p, "cancelled") for p in placed[:4]))
    got = await figures(t.owner, api, account)
    assert got["orderCount"] == 2
    assert got["revenue"] == [{"amount": "11.00", "currency": "UAH"}]


async def test_merging_accounts_moves_their_figures(api, tenants):
    t = await tenants.create(("owner",))
    keep = await new_account(t.owner, api, "Ірина")
    dup = await new_account(t.owner, api, "Ірина (дубль)")
    await order(t.owner, api, keep, "10.00")
    await order(t.owner, api, dup, "15.00")
    version = await t.owner.data(api, "query($id: ID!) { account(id: $id) { version } }", {"id": keep})
    merged = await t.owner.data(
        api,
        "mutation($i: MergeAccountsInput!) { mergeAccounts(input: $i) { errors { code } } }",
        {"i": {"id": keep, "version": version["account"]["version"], "mergeId": dup}},
    )
    assert merged["mergeAccounts"]["errors"] == []
    got = await figures(t.owner, api, keep)
    assert got["orderCount"] == 2
    assert got["revenue"] == [{"amount": "25.00", "currency": "UAH"}]


async def test_rebuild_sums_up_orders_written_outside_the_api(api, tenants):
    t = await tenants.create(("owner",))
    account = await new_account(t.owner, api, "Оксана")
    day = datetime(2026, 3, 1, 12, tzinfo=UTC)
    await placed_at(t.slug, account, [(day, "10.00"), (day + timedelta(days=3), "20.05")])
    await placed_at(t.slug, account, [(day + timedelta(days=5), "999.00")], status="refused")  # cancelled group
    assert (await figures(t.owner, api, account))["orderCount"] == 0  # written behind the service's back

    org = await Organization.get(slug=t.slug)
    assert await rebuild_figures(org) == 1
    assert await rebuild_figures(org) == 1  # again: the same figures
    got = await figures(t.owner, api, account)
    assert got["orderCount"] == 2
    assert got["revenue"] == [{"amount": "30.05", "currency": "UAH"}]
    assert got["firstOrderAt"] == "2026-03-01T12:00:00+00:00"
    assert got["lastOrderAt"] == "2026-03-04T12:00:00+00:00"
    expected_days = (datetime.now(UTC) - datetime(2026, 3, 4, 12, tzinfo=UTC)).days
    assert got["daysSinceLastOrder"] == expected_days


LIST = """query($where: AccountWhere, $order: AccountOrder, $first: Int, $after: String) {
  accounts(where: $where, orderBy: $order, first: $first, after: $after) {
    edges { node { name figures { orderCount } } } pageInfo { endCursor hasNextPage } totalCount } }"""


async def _names(member, api, **variables) -> list[str]:
    data = await member.data(api, LIST, variables)
    return [e["node"]["name"] for e in data["accounts"]["edges"]]


@pytest.fixture
async def three_customers(api, tenants):
    """X: 3 orders, 300 UAH, last 10 days ago; Y: 1 order, 1000 UAH, 40 days ago; Z: none."""
    t = await tenants.create(("owner", "sales"))
    now = datetime.now(UTC)
    x = await new_account(t.owner, api, "X")
    y = await new_account(t.owner, api, "Y")
    await new_account(t.owner, api, "Z")
    await placed_at(t.slug, x, [(now - timedelta(days=d), "100.00") for d in (30, 20, 10)])
    await placed_at(t.slug, y, [(now - timedelta(days=40), "1000.00")])
    await rebuild_figures(await Organization.get(slug=t.slug))
    return t


async def test_accounts_filter_by_figures(api, three_customers):
    t = three_customers
    assert sorted(await _names(t.owner, api, where={"orderCount": {"gte": 1}})) == ["X", "Y"]
    assert await _names(t.owner, api, where={"orderCount": {"eq": 0}}) == ["Z"]
    assert await _names(t.owner, api, where={"revenue": {"gte": "300.01"}}) == ["Y"]
    assert sorted(await _names(t.owner, api, where={"revenue": {"lte": "300.00"}})) == ["X", "Z"]
    assert await _names(t.owner, api, where={"daysSinceLastOrder": {"gte": 30}}) == ["Y"]
    assert await _names(t.owner, api, where={"daysSinceLastOrder": {"lte": 15}}) == ["X"]
    since = (datetime.now(UTC) - timedelta(days=15)).isoformat()
    assert await _names(t.owner, api, where={"lastOrderAt": {"gte": since}}) == ["X"]
    either = {"OR": [{"orderCount": {"gte": 3}}, {"revenue": {"gte": "1000"}}]}
    assert sorted(await _names(t.owner, api, where=either)) == ["X", "Y"]


async def test_accounts_sort_by_figures_page_by_page(api, three_customers):
    t = three_customers
    by_count = {"field": "ORDER_COUNT", "direction": "DESC"}
    assert await _names(t.owner, api, order=by_count) == ["X", "Y", "Z"]
    assert await _names(t.owner, api, order={"field": "REVENUE", "direction": "DESC"}) == ["Y", "X", "Z"]
    assert await _names(t.owner, api, order={"field": "LAST_ORDER_AT", "direction": "ASC"}) == ["Z", "Y", "X"]
    # Keyset pages over a figures column: nothing skipped, nothing twice.
    seen, after = [], None
    for _ in range(3):
        data = await t.owner.data(
            api, LIST, {"order": {"field": "REVENUE", "direction": "ASC"}, "first": 1, "after": after}
        )
        seen += [e["node"]["name"] for e in data["accounts"]["edges"]]
        after = data["accounts"]["pageInfo"]["endCursor"]
    assert seen == ["Z", "X", "Y"]


async def test_figures_follow_the_accounts_row_scope_and_tenancy(api, tenants, three_customers):
    t = three_customers
    mine = await new_account(t.sales, api, "Своя")
    await order(t.sales, api, mine, "5.00")
    # A salesperson sees their own account's figures and nobody else's.
    assert await _names(t.sales, api, where={"orderCount": {"gte": 1}}) == ["Своя"]
    assert await _names(t.sales, api, order={"field": "REVENUE", "direction": "DESC"}) == ["Своя"]

    other = await tenants.create(("owner",))
    assert await _names(other.owner, api, where={"orderCount": {"gte": 0}}) == []
    x_id = await t.owner.data(api, '{ accounts(where: {name: {eq: "X"}}) { edges { node { id } } } }')
    gid = x_id["accounts"]["edges"][0]["node"]["id"]
    assert (await other.owner.data(api, "query($id: ID!) { account(id: $id) { id } }", {"id": gid}))["account"] is None


PAGE = """query($n: Int!) { accounts(first: $n, orderBy: {field: REVENUE, direction: DESC}) {
  edges { node { id name figures { orderCount lastOrderAt daysSinceLastOrder revenue { amount currency }
    averageOrderValue { amount } rfm { cell group } } } } } }"""


async def test_accounts_page_with_figures_costs_the_same_statements_for_any_size(api, tenants):
    t = await tenants.create(("owner",))
    now = datetime.now(UTC)
    for i in range(40):
        gid = await new_account(t.owner, api, f"Клієнт {i:02d}")
        await placed_at(t.slug, gid, [(now - timedelta(days=i + 1), f"{10 + i}.00")])
    await rebuild_figures(await Organization.get(slug=t.slug))
    counts = {}
    for n in (20, 40):
        with QueryCounter() as q:
            data = await t.owner.data(api, PAGE, {"n": n})
        edges = data["accounts"]["edges"]
        assert len(edges) == n
        assert edges[0]["node"]["figures"]["revenue"] == [{"amount": "49.00", "currency": "UAH"}]
        assert all(e["node"]["figures"]["rfm"] is not None for e in edges)
        counts[n] = q.count
    assert counts[20] == counts[40], counts
    assert counts[40] <= 6, counts


# -- `crm analytics rebuild` and bulk-loaded demo data -----------------------------------------------

CHECK = r"""
import asyncio, json, sys
from server.config import Settings
from server.db import init_db, close_db
from server.analytics.figures import counted_orders
from server.analytics.models import CustomerFigures
from server.organizations.models import Organization

async def main():
    await init_db(Settings())
    org = await Organization.get(slug=sys.argv[1])
    rows = await CustomerFigures.filter(organization=org).values("order_count", "rfm_group")
    print(json.dumps({
        "rows": len(rows),
        "orders_in_figures": sum(r["order_count"] for r in rows),
        "counted_orders": await counted_orders(org.id).count(),
        "grouped": sum(1 for r in rows if r["rfm_group"]),
    }))
    await close_db()

asyncio.run(main())
"""


def test_bulk_loaded_orders_have_figures_and_rebuild_recomputes_them(fresh_db):  # noqa: F811
    import json

    env = fresh_db()
    new_org(env)
    ok(crm(["demo-data", "--org", "shop", "--accounts", "12", "--orders", "60", "--seed", "5"], env))
    loaded = json.loads(ok(python(["-c", CHECK, "shop"], env)))
    assert loaded["rows"] == 12
    assert loaded["orders_in_figures"] == loaded["counted_orders"] > 0
    assert loaded["grouped"] > 0
    assert (
        ok(crm(["analytics", "rebuild", "--org", "shop"], env)).strip()
        == "shop: recomputed the figures of 12 account(s)."
    )
    assert json.loads(ok(python(["-c", CHECK, "shop"], env))) == loaded
    assert failed(crm(["analytics", "rebuild", "--org", "nope"], env)) == "Error: Organization 'nope' not found."
