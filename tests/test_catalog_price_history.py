"""A variant's price history: what each price and cost write records (and what it does not),
newest first with who changed it and from where, cost hidden as ProductVariant.cost is, other
organizations kept out, and a page of variants with their history in a fixed number of SQL
statements."""

import pytest

from server.catalog.models import PriceChange
from tests.helpers import QueryCounter
from tests.test_catalog import UPDATE_VARIANT, product, variant_version

pytestmark = pytest.mark.english

ENTRY = """currency oldPrice { amount currency } newPrice { amount currency } oldCost { amount } newCost { amount }
    changedAt changedBy { email } source"""
HISTORY = f"""query($id: ID!, $first: Int, $after: String) {{ productVariant(id: $id) {{
    priceHistory(first: $first, after: $after) {{ totalCount edges {{ cursor node {{ {ENTRY} }} }}
      pageInfo {{ hasNextPage endCursor }} }} }} }}"""
PRICES_ONLY = """query($id: ID!) { productVariant(id: $id) { priceHistory { edges { node {
    currency oldPrice { amount } newPrice { amount } changedBy { email } source } } } } }"""
CREATE_VARIANT = """mutation($i: CreateProductVariantInput!) { createProductVariant(input: $i) {
    variant { id } errors { field code message } } }"""


def money(amount, currency="UAH"):
    return None if amount is None else {"amount": amount, "currency": currency}


def entry(currency, old_price, new_price, old_cost, new_cost, email, source="MANUAL"):
    return {
        "currency": currency,
        "oldPrice": money(old_price, currency),
        "newPrice": money(new_price, currency),
        "oldCost": None if old_cost is None else {"amount": old_cost},
        "newCost": None if new_cost is None else {"amount": new_cost},
        "changedBy": None if email is None else {"email": email},
        "source": source,
    }


async def history(member, api, variant, first=None, after=None) -> dict:
    body = await member.data(api, HISTORY, {"id": variant, "first": first, "after": after})
    return body["productVariant"]["priceHistory"]


def entries(page) -> list[dict]:
    return [{k: v for k, v in e["node"].items() if k != "changedAt"} for e in page["edges"]]


async def update(member, api, variant, **values) -> None:
    version = await variant_version(member, api, variant)
    body = await member.data(api, UPDATE_VARIANT, {"i": {"id": variant, "version": version, **values}})
    assert body["updateProductVariant"]["errors"] == [], body


async def kettle_shop(tenants, api, roles=("owner", "admin", "sales", "analyst")):
    t = await tenants.create(roles)
    p = await product(
        t.owner,
        api,
        "Чайник Bosch",
        [
            {"sku": "KETTLE-1", "price": "1299.99", "cost": "800.00"},
            {"sku": "CUP-6", "price": "349.50"},
        ],
    )
    return t, p["variants"][0]["id"], p["variants"][1]["id"]


async def test_every_price_and_cost_change_is_recorded_once_newest_first(api, tenants):
    t, kettle, cup = await kettle_shop(tenants, api)
    owner, admin = t.owner.email, t.admin.email

    # Creating records the initial prices (and cost, when there is one).
    assert entries(await history(t.owner, api, kettle)) == [entry("UAH", None, "1299.99", None, "800.00", owner)]
    assert entries(await history(t.owner, api, cup)) == [entry("UAH", None, "349.50", None, None, owner)]

    await update(t.admin, api, kettle, price="1399.00")  # the price
    await update(t.owner, api, kettle, cost="850")  # the cost
    await update(t.owner, api, kettle, price="1399", cost="850.00", title="Чайник Bosch TWK")  # the same numbers
    await update(t.owner, api, kettle, weightGrams=1300)  # no money at all
    await update(t.owner, api, kettle, cost=None)  # the cost removed
    page = await history(t.owner, api, kettle)
    assert entries(page) == [
        entry("UAH", "1399.00", "1399.00", "850.00", None, owner),
        entry("UAH", "1399.00", "1399.00", "800.00", "850.00", owner),
        entry("UAH", "1299.99", "1399.00", "800.00", "800.00", admin),
        entry("UAH", None, "1299.99", None, "800.00", owner),
    ]
    assert page["totalCount"] == 4
    times = [e["node"]["changedAt"] for e in page["edges"]]
    assert times == sorted(times, reverse=True)

    # Another currency: the old currency's price ends, the new one's begins.
    await update(t.owner, api, kettle, currency="EUR", price="31.50", cost="19")
    assert entries(await history(t.owner, api, kettle, first=2)) == [
        entry("EUR", None, "31.50", None, "19.00", owner),
        entry("UAH", "1399.00", None, None, None, owner),
    ]

    # A variant added to a product later records its first price too.
    p_id = (await t.owner.data(api, "query($id: ID!) { productVariant(id: $id) { product { id } } }", {"id": cup}))[
        "productVariant"
    ]["product"]["id"]
    body = await t.owner.data(api, CREATE_VARIANT, {"i": {"productId": p_id, "sku": "KETTLE-2", "price": "1349"}})
    added = body["createProductVariant"]["variant"]["id"]
    assert entries(await history(t.owner, api, added)) == [entry("UAH", None, "1349.00", None, None, owner)]


async def test_pages_follow_the_cursor(api, tenants):
    t, _kettle, cup = await kettle_shop(tenants, api, roles=("owner",))
    for price in ("350", "351", "352", "353"):
        await update(t.owner, api, cup, price=price)
    first = await history(t.owner, api, cup, first=2)
    assert [e["node"]["newPrice"]["amount"] for e in first["edges"]] == ["353.00", "352.00"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = await history(t.owner, api, cup, first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["newPrice"]["amount"] for e in second["edges"]] == ["351.00", "350.00"]
    third = await history(t.owner, api, cup, first=2, after=second["pageInfo"]["endCursor"])
    assert [e["node"]["newPrice"]["amount"] for e in third["edges"]] == ["349.50"]
    assert third["pageInfo"]["hasNextPage"] is False
    bad = await t.owner.execute(api, HISTORY, {"id": cup, "first": 101})
    assert bad["errors"][0]["message"] == "`first` must be between 0 and 100."


async def test_sales_see_price_changes_but_no_cost(api, tenants):
    t, kettle, _cup = await kettle_shop(tenants, api)
    await update(t.owner, api, kettle, price="1399.00")
    await update(t.owner, api, kettle, cost="900.00")  # a change of the cost alone

    # Cost fields are FORBIDDEN exactly as ProductVariant.cost is.
    hidden = await t.sales.execute(api, HISTORY, {"id": kettle})
    assert {e["extensions"]["code"] for e in hidden["errors"]} == {"FORBIDDEN"}
    assert {e["path"][-1] for e in hidden["errors"]} == {"oldCost", "newCost"}
    plain = await t.sales.execute(
        api, "query($id: ID!) { productVariant(id: $id) { cost { amount } } }", {"id": kettle}
    )
    assert plain["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Prices they see; that the cost alone changed they do not learn (no entry for it).
    body = await t.sales.data(api, PRICES_ONLY, {"id": kettle})
    assert [e["node"] for e in body["productVariant"]["priceHistory"]["edges"]] == [
        {
            "currency": "UAH",
            "oldPrice": {"amount": "1299.99"},
            "newPrice": {"amount": "1399.00"},
            "changedBy": {"email": t.owner.email},
            "source": "MANUAL",
        },
        {
            "currency": "UAH",
            "oldPrice": None,
            "newPrice": {"amount": "1299.99"},
            "changedBy": {"email": t.owner.email},
            "source": "MANUAL",
        },
    ]
    total = "query($id: ID!) { productVariant(id: $id) { priceHistory { totalCount } } }"
    count = await t.sales.data(api, total, {"id": kettle})
    assert count["productVariant"]["priceHistory"]["totalCount"] == 2

    # An analyst (who sees costs) sees all three, costs included.
    page = await history(t.analyst, api, kettle)
    assert [(e["node"]["oldCost"], e["node"]["newCost"]) for e in page["edges"]] == [
        ({"amount": "800.00"}, {"amount": "900.00"}),
        ({"amount": "800.00"}, {"amount": "800.00"}),
        (None, {"amount": "800.00"}),
    ]


async def test_another_organization_sees_nothing(api, tenants):
    t, kettle, _cup = await kettle_shop(tenants, api, roles=("owner",))
    other = await tenants.create(("owner",))
    assert (await other.owner.data(api, HISTORY, {"id": kettle}))["productVariant"] is None
    # Its own variants' history has none of the first organization's rows.
    p = await product(other.owner, api, "Чайник", [{"sku": "KETTLE-1", "price": "1"}])
    mine = await history(other.owner, api, p["variants"][0]["id"])
    assert entries(mine) == [entry("UAH", None, "1.00", None, None, other.owner.email)]
    assert len((await history(t.owner, api, kettle))["edges"]) == 1
    both = PriceChange.filter(variant__sku="KETTLE-1", organization__slug__in=[t.slug, other.slug])
    assert await both.count() == 2  # one per organization


async def test_an_api_key_is_recorded_as_the_api(api, tenants):
    t, _kettle, cup = await kettle_shop(tenants, api, roles=("owner",))
    made = await t.owner.data(
        api,
        "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key errors { code } } }",
        {"i": {"name": "price sync", "role": "admin"}},
    )
    key = made["createApiKey"]["key"]
    version = (await api.data("query($id: ID!) { productVariant(id: $id) { version } }", {"id": cup}, token=key))[
        "productVariant"
    ]["version"]
    body = await api.data(UPDATE_VARIANT, {"i": {"id": cup, "version": version, "price": "359.00"}}, token=key)
    assert body["updateProductVariant"]["errors"] == []
    assert entries(await history(t.owner, api, cup, first=1)) == [
        entry("UAH", "349.50", "359.00", None, None, None, source="API")
    ]


async def test_a_page_of_variants_with_history_costs_the_same_statements(api, tenants):
    t, kettle, cup = await kettle_shop(tenants, api, roles=("owner",))
    query = f"""{{ productVariants(first: 50) {{ edges {{ node {{ sku
        priceHistory(first: 3) {{ edges {{ node {{ {ENTRY} }} }} pageInfo {{ hasNextPage }} }} }} }} }} }}"""
    await t.owner.data(api, query)
    with QueryCounter() as counted:
        await t.owner.data(api, query)
    few = counted.count

    for i in range(6):
        p = await product(t.owner, api, f"Товар {i}", [{"sku": f"S{i}-A", "price": "1", "cost": "0.5"}])
        for price in ("2", "3", "4", "5"):
            await update(t.owner, api, p["variants"][0]["id"], price=price)
    for variant in (kettle, cup):
        for price in ("10", "11", "12"):
            await update(t.owner, api, variant, price=price)
    with QueryCounter() as counted:
        body = await t.owner.data(api, query)
    assert counted.count == few
    nodes = [e["node"] for e in body["productVariants"]["edges"]]
    assert len(nodes) == 8
    # Each variant got its own three newest entries, whatever the others have.
    by_sku = {n["sku"]: n["priceHistory"] for n in nodes}
    assert [e["node"]["newPrice"]["amount"] for e in by_sku["S0-A"]["edges"]] == ["5.00", "4.00", "3.00"]
    assert by_sku["S0-A"]["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["newPrice"]["amount"] for e in by_sku["CUP-6"]["edges"]] == ["12.00", "11.00", "10.00"]


async def test_a_refused_write_records_nothing_and_a_replay_nothing_twice(api, tenants):
    t, kettle, _cup = await kettle_shop(tenants, api, roles=("owner",))
    version = await variant_version(t.owner, api, kettle)
    stale = await t.owner.data(api, UPDATE_VARIANT, {"i": {"id": kettle, "version": version + 5, "price": "1"}})
    assert stale["updateProductVariant"]["errors"][0]["code"] == "CONFLICT"
    bad = await t.owner.data(api, UPDATE_VARIANT, {"i": {"id": kettle, "version": version, "currency": "EUR"}})
    assert bad["updateProductVariant"]["errors"][0]["code"] == "REQUIRED"
    assert len((await history(t.owner, api, kettle))["edges"]) == 1

    # createProduct with an idempotency key made twice: one product, one first price.
    variables = {"i": {"title": "Чашка", "idempotencyKey": "cup-1", "variants": [{"sku": "MUG", "price": "99"}]}}
    create = (
        "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { variants { id } } errors { code } } }"
    )
    made = [await t.owner.data(api, create, variables) for _ in range(2)]
    assert made[0] == made[1]
    mug = made[0]["createProduct"]["product"]["variants"][0]["id"]
    assert entries(await history(t.owner, api, mug)) == [entry("UAH", None, "99.00", None, None, t.owner.email)]
