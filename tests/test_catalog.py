"""The catalog and stock through GraphQL: products and variants, order lines from variants, the
margin, stock adjustments, reservations following the order's status (idempotent, refused when
short, backorders), low-stock events, and no oversell under parallel confirmations."""

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.catalog.models import StockLevel, StockReservation
from server.core.models import OutboxEvent
from server.graphql import ids
from tests.helpers import QueryCounter

pytestmark = pytest.mark.english

PRODUCT_FIELDS = """id title isActive version category { name }
    variants { id sku title barcode price { amount currency } weightGrams onHand reserved available version }"""
CREATE_PRODUCT = f"""mutation($i: CreateProductInput!) {{ createProduct(input: $i) {{
    product {{ {PRODUCT_FIELDS} }} errors {{ field code message }} }} }}"""
UPDATE_PRODUCT = f"""mutation($i: UpdateProductInput!) {{ updateProduct(input: $i) {{
    product {{ {PRODUCT_FIELDS} }} errors {{ field code message }} }} }}"""
ARCHIVE_PRODUCT = """mutation($i: ArchiveProductInput!) { archiveProduct(input: $i) {
    product { isActive version } errors { field code message } } }"""
UPDATE_VARIANT = """mutation($i: UpdateProductVariantInput!) { updateProductVariant(input: $i) {
    variant { id sku version lowStockThreshold isActive } errors { field code message } } }"""
CREATE_WAREHOUSE = """mutation($i: CreateWarehouseInput!) { createWarehouse(input: $i) {
    warehouse { id code } errors { field code message } } }"""
ADJUST = """mutation($i: AdjustStockInput!) { adjustStock(input: $i) {
    movement { kind onHandDelta onHandAfter reservedAfter reason actor { email } }
    variant { onHand reserved available stock { warehouse { code } onHand reserved available } }
    errors { field code message } } }"""
CREATE_ORDER = """mutation($i: CreateOrderInput!) { createOrder(input: $i) {
    order { id version total { amount } items { sku title quantity unitPrice { amount } total { amount }
      variant { sku } } } errors { field code message } } }"""
UPDATE_ORDER = """mutation($i: UpdateOrderInput!) { updateOrder(input: $i) {
    order { id version } errors { field code message } } }"""
STATUS = """mutation($i: ChangeOrderStatusInput!) { changeOrderStatus(input: $i) {
    order { id version status { code } } errors { field code message } } }"""
VARIANT = "query($id: ID!) { productVariant(id: $id) { onHand reserved available } }"
SETTINGS = """mutation($i: SetCatalogSettingsInput!) { setCatalogSettings(input: $i) {
    settings { allowBackorders } errors { code } } }"""


async def make_account(member, api, name="Олена Коваль"):
    data = await member.data(
        api,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }",
        {"i": {"name": name}},
    )
    return data["createAccount"]["account"]["id"]


async def product(member, api, title, variants, **extra) -> dict:
    body = await member.data(api, CREATE_PRODUCT, {"i": {"title": title, "variants": variants, **extra}})
    assert body["createProduct"]["errors"] == [], body
    return body["createProduct"]["product"]


async def warehouse(member, api, code="main", position=0) -> str:
    body = await member.data(api, CREATE_WAREHOUSE, {"i": {"name": code.title(), "code": code, "position": position}})
    assert body["createWarehouse"]["errors"] == [], body
    return body["createWarehouse"]["warehouse"]["id"]


async def adjust(member, api, variant, wh, kind, quantity, reason=None) -> dict:
    body = await member.data(
        api,
        ADJUST,
        {"i": {"variantId": variant, "warehouseId": wh, "kind": kind, "quantity": quantity, "reason": reason}},
    )
    return body["adjustStock"]


async def order(member, api, account, items) -> dict:
    body = await member.data(api, CREATE_ORDER, {"i": {"accountId": account, "items": items}})
    assert body["createOrder"]["errors"] == [], body
    return body["createOrder"]["order"]


async def move(member, api, o, status) -> dict:
    body = await member.data(api, STATUS, {"i": {"id": o["id"], "version": o["version"], "status": status}})
    return body["changeOrderStatus"]


async def stock(member, api, variant) -> dict:
    return (await member.data(api, VARIANT, {"id": variant}))["productVariant"]


async def variant_version(member, api, variant) -> int:
    return (await member.data(api, "query($id: ID!) { productVariant(id: $id) { version } }", {"id": variant}))[
        "productVariant"
    ]["version"]


async def shop(tenants, api, on_hand="5", roles=("owner", "sales", "logistics", "analyst")):
    """An organization with one warehouse and a kettle (``on_hand`` of it) and a cup (none)."""
    t = await tenants.create(roles)
    wh = await warehouse(t.owner, api)
    p = await product(
        t.owner,
        api,
        "Чайник Bosch",
        [
            {
                "sku": "KETTLE-1",
                "title": "Чайник Bosch, білий",
                "price": "1299.99",
                "cost": "800.00",
                "weightGrams": 1200,
            },
            {"sku": "CUP-6", "title": "Чашки, 6 шт.", "price": "349.50"},
        ],
    )
    kettle, cup = p["variants"][0]["id"], p["variants"][1]["id"]
    if on_hand != "0":
        assert (await adjust(t.owner, api, kettle, wh, "RECEIVE", on_hand))["errors"] == []
    return t, wh, kettle, cup


async def test_products_variants_filters_and_versions(api, tenants):
    t = await tenants.create(("owner", "sales", "analyst"))
    cat = await t.owner.data(
        api,
        "mutation($i: CreateProductCategoryInput!) { createProductCategory(input: $i) { category { id name } errors { code } } }",
        {"i": {"name": "Кухня"}},
    )
    cat_id = cat["createProductCategory"]["category"]["id"]
    kettle = await product(
        t.owner,
        api,
        "Чайник Bosch",
        [{"sku": "KETTLE-1", "price": "1299.99", "cost": "800", "barcode": "4820000000017", "weightGrams": 1200}],
        categoryId=cat_id,
    )
    assert kettle["category"] == {"name": "Кухня"}
    assert kettle["variants"][0]["title"] == "Чайник Bosch"  # the product's title by default
    assert kettle["variants"][0]["price"] == {"amount": "1299.99", "currency": "UAH"}
    assert kettle["variants"][0]["available"] == "0"
    await product(t.owner, api, "Чашка", [{"sku": "CUP-1", "price": "99"}])

    # Every problem of the input at once: a taken SKU, a SKU twice, a bad price, a missing one.
    bad = await t.owner.data(
        api,
        CREATE_PRODUCT,
        {
            "i": {
                "title": "Ще",
                "variants": [
                    {"sku": "KETTLE-1", "price": "1"},
                    {"sku": "X", "price": "1.001"},
                    {"sku": "X"},
                ],
            }
        },
    )
    fields = {(e["field"], e["code"]) for e in bad["createProduct"]["errors"]}
    assert fields == {
        ("variants.1.price", "INVALID"),
        ("variants.2.price", "REQUIRED"),
        ("variants.2.sku", "DUPLICATE"),
    }
    taken = await t.owner.data(
        api, CREATE_PRODUCT, {"i": {"title": "Ще", "variants": [{"sku": "KETTLE-1", "price": "1"}]}}
    )
    assert taken["createProduct"]["errors"] == [
        {"field": "variants.0.sku", "code": "DUPLICATE", "message": "SKU KETTLE-1 is already in the catalog."}
    ]

    async def titles(where):
        q = "query($w: ProductWhere) { products(where: $w) { edges { node { title } } } }"
        return [e["node"]["title"] for e in (await t.sales.data(api, q, {"w": where}))["products"]["edges"]]

    assert await titles(None) == ["Чайник Bosch", "Чашка"]
    assert await titles({"search": {"contains": "ettle"}}) == ["Чайник Bosch"]  # by SKU
    assert await titles({"search": {"contains": "чаш"}}) == ["Чашка"]  # by title
    assert await titles({"search": {"eq": "4820000000017"}}) == ["Чайник Bosch"]  # by barcode
    assert await titles({"sku": {"eq": "CUP-1"}}) == ["Чашка"]
    assert await titles({"category": {"eq": cat_id}}) == ["Чайник Bosch"]

    # One more variant; its SKU must be new too.
    add_variant = """mutation($i: CreateProductVariantInput!) { createProductVariant(input: $i) {
        variant { sku title price { amount } product { title } } errors { field code message } } }"""
    dup = await t.owner.data(api, add_variant, {"i": {"productId": kettle["id"], "sku": "CUP-1", "price": "1"}})
    assert dup["createProductVariant"]["errors"] == [
        {"field": "sku", "code": "DUPLICATE", "message": "SKU CUP-1 is already in the catalog."}
    ]
    black = await t.owner.data(api, add_variant, {"i": {"productId": kettle["id"], "sku": "KETTLE-2", "price": "1350"}})
    assert black["createProductVariant"] == {
        "variant": {
            "sku": "KETTLE-2",
            "title": "Чайник Bosch",
            "price": {"amount": "1350.00"},
            "product": {"title": "Чайник Bosch"},
        },
        "errors": [],
    }
    assert await titles({"sku": {"in": ["KETTLE-2"]}}) == ["Чайник Bosch"]

    # Optimistic concurrency, then archiving.
    stale = await t.owner.data(api, UPDATE_PRODUCT, {"i": {"id": kettle["id"], "version": 99, "title": "X"}})
    assert stale["updateProduct"]["errors"][0]["code"] == "CONFLICT"
    ok = await t.owner.data(api, UPDATE_PRODUCT, {"i": {"id": kettle["id"], "version": 1, "title": "Чайник Bosch TWK"}})
    assert ok["updateProduct"]["product"]["version"] == 2
    archived = await t.owner.data(api, ARCHIVE_PRODUCT, {"i": {"id": kettle["id"], "version": 2}})
    assert archived["archiveProduct"]["product"] == {"isActive": False, "version": 3}
    assert await titles({"isActive": True}) == ["Чашка"]
    assert await titles({"isActive": False}) == ["Чайник Bosch TWK"]

    # Sales read the catalog but do not change it, and do not see costs.
    forbidden = await t.sales.execute(
        api, CREATE_PRODUCT, {"i": {"title": "Y", "variants": [{"sku": "Y", "price": "1"}]}}
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    cost_q = "query($id: ID!) { product(id: $id) { title variants { sku cost { amount } } } }"
    hidden = await t.sales.execute(api, cost_q, {"id": kettle["id"]})
    assert hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert hidden["errors"][0]["path"][-1] == "cost"
    seen = await t.analyst.data(api, cost_q, {"id": kettle["id"]})
    assert seen["product"]["variants"] == [
        {"sku": "KETTLE-1", "cost": {"amount": "800.00"}},
        {"sku": "KETTLE-2", "cost": None},
    ]

    # Another organization sees none of it, and may reuse the SKU.
    other = await tenants.create(("owner",))
    assert (await other.owner.data(api, "{ products { edges { node { id } } } }"))["products"]["edges"] == []
    assert (await other.owner.data(api, cost_q, {"id": kettle["id"]}))["product"] is None
    await product(other.owner, api, "Чайник", [{"sku": "KETTLE-1", "price": "1"}])


async def test_order_lines_from_variants_and_the_margin(api, tenants):
    t, _wh, kettle, cup = await shop(tenants, api)
    account = await make_account(t.sales, api)
    o = await order(
        t.sales,
        api,
        account,
        [
            {"variantId": kettle, "quantity": "2"},
            {"variantId": cup, "quantity": "1", "unitPrice": "300"},  # a price of its own
            {"sku": "GIFT", "title": "Листівка", "quantity": "1", "unitPrice": "10"},  # free text
        ],
    )
    assert [(i["sku"], i["title"], i["unitPrice"]["amount"], i["variant"]) for i in o["items"]] == [
        ("KETTLE-1", "Чайник Bosch, білий", "1299.99", {"sku": "KETTLE-1"}),
        ("CUP-6", "Чашки, 6 шт.", "300.00", {"sku": "CUP-6"}),
        ("GIFT", "Листівка", "10.00", None),
    ]
    assert o["total"]["amount"] == "2909.98"
    # Margin: only the kettle has a cost: 2 × 1299.99 − 2 × 800.00.
    margin_q = "query($id: ID!) { order(id: $id) { number margin { amount currency } } }"
    assert (await t.owner.data(api, margin_q, {"id": o["id"]}))["order"]["margin"] == {
        "amount": "999.98",
        "currency": "UAH",
    }
    hidden = await t.sales.execute(api, margin_q, {"id": o["id"]})
    assert hidden["data"]["order"] is None or hidden["data"]["order"]["margin"] is None
    assert hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # A free-text line still needs its SKU, title and price; a variant must exist and be on sale.
    bad = await t.sales.data(
        api,
        CREATE_ORDER,
        {
            "i": {
                "accountId": account,
                "items": [
                    {"quantity": "1"},
                    {"variantId": ids.encode("ProductVariant", ids.decode(account)[1]), "quantity": "1"},
                ],
            }
        },
    )
    assert {(e["field"], e["code"]) for e in bad["createOrder"]["errors"]} == {
        ("items.0.sku", "REQUIRED"),
        ("items.0.title", "REQUIRED"),
        ("items.0.unitPrice", "REQUIRED"),
        ("items.1.variantId", "NOT_FOUND"),
    }
    v = await t.owner.data(api, "query($id: ID!) { productVariant(id: $id) { version } }", {"id": cup})
    archived = await t.owner.data(
        api, UPDATE_VARIANT, {"i": {"id": cup, "version": v["productVariant"]["version"], "isActive": False}}
    )
    assert archived["updateProductVariant"]["variant"]["isActive"] is False
    refused = await t.sales.data(
        api, CREATE_ORDER, {"i": {"accountId": account, "items": [{"variantId": cup, "quantity": "1"}]}}
    )
    assert refused["createOrder"]["errors"] == [
        {"field": "items.0.variantId", "code": "INVALID", "message": "Variant CUP-6 is archived."}
    ]
    # The order that already has the archived cup may still be edited, and its kettles keep the
    # cost they were sold at when the kettle's cost changes.
    v = await t.owner.data(api, "query($id: ID!) { productVariant(id: $id) { version } }", {"id": kettle})
    costlier = {"id": kettle, "version": v["productVariant"]["version"], "cost": "900.00"}
    assert (await t.owner.data(api, UPDATE_VARIANT, {"i": costlier}))["updateProductVariant"]["errors"] == []
    lines = [
        {"variantId": kettle, "quantity": "2"},
        {"variantId": cup, "quantity": "2", "unitPrice": "300"},
        {"sku": "GIFT", "title": "Листівка", "quantity": "1", "unitPrice": "10"},
    ]
    edited = await t.owner.data(api, UPDATE_ORDER, {"i": {"id": o["id"], "version": o["version"], "items": lines}})
    assert edited["updateOrder"]["errors"] == []
    assert (await t.owner.data(api, margin_q, {"id": o["id"]}))["order"]["margin"]["amount"] == "999.98"


FIGURES = """query($id: ID!) { node(id: $id) { ... on Account { figures {
    orderCount revenue { amount currency } margin { amount currency } } } } }"""


async def test_a_customers_margin_sums_their_orders_and_is_hidden_like_the_orders(api, tenants):
    from server.analytics import figures
    from server.analytics.models import CustomerFigures
    from server.organizations.models import Organization

    t, _wh, kettle, cup = await shop(tenants, api, on_hand="10")
    account = await make_account(t.sales, api)  # the salesperson's own customer
    empty = await t.owner.data(api, FIGURES, {"id": account})
    assert empty["node"]["figures"]["margin"] == []
    await order(t.owner, api, account, [{"variantId": kettle, "quantity": "2"}])  # 2 × (1299.99 − 800)
    await order(t.owner, api, account, [{"variantId": kettle, "quantity": "0.5", "unitPrice": "1000.01"}])
    await order(t.owner, api, account, [{"variantId": cup, "quantity": "1"}])  # no cost: no margin
    cancelled = await order(t.owner, api, account, [{"variantId": kettle, "quantity": "1"}])
    assert (await move(t.owner, api, cancelled, "cancelled"))["errors"] == []
    # 999.98 + (1000.01 × 0.5 = 500.01 after rounding the line) − 400.00 = 1099.99
    seen = (await t.owner.data(api, FIGURES, {"id": account}))["node"]["figures"]
    assert seen["orderCount"] == 3
    assert seen["margin"] == [{"amount": "1099.99", "currency": "UAH"}]
    hidden = await t.sales.execute(api, FIGURES, {"id": account})
    assert hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN", hidden
    assert hidden["errors"][0]["path"][-1] == "margin"
    # A rebuild from scratch comes to the same figure.
    org = await Organization.get(id=(await CustomerFigures.get(account_id=ids.decode(account)[1])).organization_id)
    await CustomerFigures.filter(organization_id=org.id).update(by_currency=[])
    await figures.rebuild(org)
    again = (await t.owner.data(api, FIGURES, {"id": account}))["node"]["figures"]
    assert again["margin"] == [{"amount": "1099.99", "currency": "UAH"}]

    # The period's margin in analytics: the same lines, over all customers (here: one).
    kyiv = datetime.now(ZoneInfo("Europe/Kyiv")).date()
    period = {"from": str(kyiv - timedelta(days=1)), "to": str(kyiv + timedelta(days=1))}
    query = """query($p: PeriodInput!) { analytics(period: $p) { margin {
        currency orders revenue { amount } cost { amount } margin { amount } marginPercent } } }"""
    assert (await t.analyst.data(api, query, {"p": period}))["analytics"]["margin"] == [
        {
            "currency": "UAH",
            "orders": 2,  # the cup's order has no cost, the cancelled one does not count
            "revenue": {"amount": "3099.99"},  # 2599.98 + 500.01
            "cost": {"amount": "2000.00"},
            "margin": {"amount": "1099.99"},
            "marginPercent": "35.48",
        }
    ]
    hidden = await t.sales.execute(api, query, {"p": period})
    assert hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN", hidden


async def test_reservations_follow_the_order_status(api, tenants):
    t, _wh, kettle, _cup = await shop(tenants, api, on_hand="5")
    account = await make_account(t.owner, api)
    o = await order(
        t.owner, api, account, [{"variantId": kettle, "quantity": "1"}, {"variantId": kettle, "quantity": "1"}]
    )
    assert await stock(t.owner, api, kettle) == {"onHand": "5", "reserved": "0", "available": "5"}  # new: nothing held

    o = (await move(t.owner, api, o, "processing"))["order"]
    assert await stock(t.owner, api, kettle) == {"onHand": "5", "reserved": "2", "available": "3"}
    # Another confirmed-like status does not reserve twice.
    o = (await move(t.owner, api, o, "picking"))["order"]
    assert await stock(t.owner, api, kettle) == {"onHand": "5", "reserved": "2", "available": "3"}
    # Changing a confirmed order's lines moves its reservation along.
    changed = await t.owner.data(
        api,
        UPDATE_ORDER,
        {"i": {"id": o["id"], "version": o["version"], "items": [{"variantId": kettle, "quantity": "3"}]}},
    )
    assert changed["updateOrder"]["errors"] == []
    o = changed["updateOrder"]["order"]
    assert await stock(t.owner, api, kettle) == {"onHand": "5", "reserved": "3", "available": "2"}
    # More than there is: refused like a confirmation, and the reservation stays as it was.
    short = await t.owner.data(
        api,
        UPDATE_ORDER,
        {"i": {"id": o["id"], "version": o["version"], "items": [{"variantId": kettle, "quantity": "6"}]}},
    )
    assert short["updateOrder"]["errors"] == [
        {"field": "items.0", "code": "OUT_OF_STOCK", "message": "Not enough KETTLE-1 in stock: 6 wanted, 5 available."}
    ]
    assert await stock(t.owner, api, kettle) == {"onHand": "5", "reserved": "3", "available": "2"}

    o = (await move(t.owner, api, o, "packed"))["order"]
    o = (await move(t.owner, api, o, "shipped"))["order"]
    assert await stock(t.owner, api, kettle) == {"onHand": "2", "reserved": "0", "available": "2"}  # written off
    o = (await move(t.owner, api, o, "delivered"))["order"]
    o = (await move(t.owner, api, o, "returned"))["order"]
    assert await stock(t.owner, api, kettle) == {"onHand": "2", "reserved": "0", "available": "2"}  # stays written off

    # A cancelled order gives its reservation back.
    second = await order(t.owner, api, account, [{"variantId": kettle, "quantity": "2"}])
    second = (await move(t.owner, api, second, "processing"))["order"]
    assert await stock(t.owner, api, kettle) == {"onHand": "2", "reserved": "2", "available": "0"}
    second = (await move(t.owner, api, second, "cancelled"))["order"]
    assert await stock(t.owner, api, kettle) == {"onHand": "2", "reserved": "0", "available": "2"}

    # A deleted order holds nothing either.
    third = await order(t.owner, api, account, [{"variantId": kettle, "quantity": "1"}])
    third = (await move(t.owner, api, third, "processing"))["order"]
    assert await stock(t.owner, api, kettle) == {"onHand": "2", "reserved": "1", "available": "1"}
    deleted = await t.owner.data(
        api,
        "mutation($i: DeleteOrderInput!) { deleteOrder(input: $i) { errors { code } } }",
        {"i": {"id": third["id"], "version": third["version"]}},
    )
    assert deleted["deleteOrder"]["errors"] == []
    assert await stock(t.owner, api, kettle) == {"onHand": "2", "reserved": "0", "available": "2"}

    movements = await t.logistics.data(
        api,
        """query($v: ID!) { stockMovements(where: {variant: {eq: $v}}, first: 20) { edges { node {
            kind onHandDelta reservedDelta onHandAfter reservedAfter order { number } actor { email } } } } }""",
        {"v": kettle},
    )
    rows = [e["node"] for e in movements["stockMovements"]["edges"]][::-1]  # oldest first
    assert [(r["kind"], r["onHandDelta"], r["reservedDelta"]) for r in rows] == [
        ("RECEIVE", "5", "0"),
        ("RESERVE", "0", "2"),
        ("RELEASE", "0", "-2"),
        ("RESERVE", "0", "3"),
        ("SHIP", "-3", "-3"),
        ("RESERVE", "0", "2"),
        ("RELEASE", "0", "-2"),
        ("RESERVE", "0", "1"),
        ("RELEASE", "0", "-1"),
    ]
    assert rows[1]["order"] == {"number": 1}  # logistics reads orders (all rows)
    assert rows[4]["actor"]["email"] == t.owner.email
    org = (await StockLevel.get(variant_id=ids.decode(kettle)[1])).organization_id  # type: ignore[attr-defined]
    topics = (
        await OutboxEvent.filter(organization_id=org, topic__startswith="catalog.stock")
        .order_by("created_at")
        .values_list("topic", flat=True)
    )
    assert topics == [
        "catalog.stock_adjusted",
        "catalog.stock_reserved",
        "catalog.stock_released",
        "catalog.stock_reserved",
        "catalog.stock_shipped",
        "catalog.stock_reserved",
        "catalog.stock_released",
        "catalog.stock_reserved",
        "catalog.stock_released",
    ]


async def test_too_little_stock_refuses_the_confirmation_naming_every_short_line(api, tenants):
    t, _wh, kettle, cup = await shop(tenants, api, on_hand="1")
    account = await make_account(t.owner, api)
    o = await order(
        t.owner,
        api,
        account,
        [
            {"sku": "GIFT", "title": "Листівка", "quantity": "1", "unitPrice": "10"},
            {"variantId": kettle, "quantity": "2"},
            {"variantId": cup, "quantity": "1"},
        ],
    )
    refused = await move(t.owner, api, o, "processing")
    assert refused["order"] is None
    assert refused["errors"] == [
        {"field": "items.1", "code": "OUT_OF_STOCK", "message": "Not enough KETTLE-1 in stock: 2 wanted, 1 available."},
        {"field": "items.2", "code": "OUT_OF_STOCK", "message": "Not enough CUP-6 in stock: 1 wanted, 0 available."},
    ]
    # Nothing moved: the order is still new, nothing is reserved, nothing was announced.
    still = await t.owner.data(api, "query($id: ID!) { order(id: $id) { status { code } version } }", {"id": o["id"]})
    assert still["order"] == {"status": {"code": "new"}, "version": o["version"]}
    assert await stock(t.owner, api, kettle) == {"onHand": "1", "reserved": "0", "available": "1"}
    assert await StockReservation.filter(order_id=ids.decode(o["id"])[1]).count() == 0

    # With backorders allowed, the order is confirmed and the stock goes below zero.
    forbidden = await t.logistics.execute(api, SETTINGS, {"i": {"allowBackorders": True}})
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await t.owner.data(api, SETTINGS, {"i": {"allowBackorders": True}}))["setCatalogSettings"]["settings"] == {
        "allowBackorders": True
    }
    confirmed = await move(t.owner, api, o, "processing")
    assert confirmed["errors"] == []
    assert await stock(t.owner, api, kettle) == {"onHand": "1", "reserved": "2", "available": "-1"}
    assert await stock(t.owner, api, cup) == {"onHand": "0", "reserved": "1", "available": "-1"}


async def test_without_warehouses_backorders_confirm_and_ship_without_reserving(api, tenants):
    """A shop that keeps prices in the catalog but no stock (no active warehouse)."""
    t = await tenants.create(("owner",))
    p = await product(t.owner, api, "Послуга", [{"sku": "SETUP", "title": "Налаштування", "price": "500"}])
    setup = p["variants"][0]["id"]
    account = await make_account(t.owner, api)
    o = await order(t.owner, api, account, [{"variantId": setup, "quantity": "1"}])
    refused = await move(t.owner, api, o, "processing")
    assert [e["code"] for e in refused["errors"]] == ["OUT_OF_STOCK"]
    assert (await t.owner.data(api, SETTINGS, {"i": {"allowBackorders": True}}))["setCatalogSettings"]["errors"] == []
    confirmed = await move(t.owner, api, o, "processing")
    assert confirmed["errors"] == []
    o = confirmed["order"]
    for status in ("picking", "packed", "shipped"):
        moved = await move(t.owner, api, o, status)
        assert moved["errors"] == []
        o = moved["order"]
    assert await StockReservation.filter(order_id=ids.decode(o["id"])[1]).count() == 0
    assert await stock(t.owner, api, setup) == {"onHand": "0", "reserved": "0", "available": "0"}


async def test_stock_adjustments_and_the_low_stock_alert(api, tenants):
    t, wh, kettle, _cup = await shop(tenants, api, on_hand="0")
    second = await warehouse(t.owner, api, "lviv", position=1)
    received = await adjust(t.logistics, api, kettle, wh, "RECEIVE", "10", "Накладна 17")
    assert received["errors"] == []
    assert received["movement"] == {
        "kind": "RECEIVE",
        "onHandDelta": "10",
        "onHandAfter": "10",
        "reservedAfter": "0",
        "reason": "Накладна 17",
        "actor": {"email": t.logistics.email},
    }
    await adjust(t.logistics, api, kettle, second, "RECEIVE", "2.5")
    counted = await adjust(t.logistics, api, kettle, wh, "COUNT", "8")
    assert counted["movement"]["onHandDelta"] == "-2"
    assert counted["variant"]["onHand"] == "10.5"
    assert counted["variant"]["stock"] == [
        {"warehouse": {"code": "main"}, "onHand": "8", "reserved": "0", "available": "8"},
        {"warehouse": {"code": "lviv"}, "onHand": "2.5", "reserved": "0", "available": "2.5"},
    ]
    too_much = await adjust(t.logistics, api, kettle, second, "WRITE_OFF", "3")
    assert too_much["errors"] == [
        {
            "field": "quantity",
            "code": "INVALID",
            "message": "Only 2.5 on hand in this warehouse: cannot write off more.",
        }
    ]
    bad = await adjust(t.logistics, api, kettle, wh, "RECEIVE", "-1")
    assert bad["errors"][0]["field"] == "quantity"
    denied = await t.sales.execute(
        api, ADJUST, {"i": {"variantId": kettle, "warehouseId": wh, "kind": "RECEIVE", "quantity": "1"}}
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Warehouse staff manage stock, not the catalog.
    no_product = await t.logistics.execute(
        api, CREATE_PRODUCT, {"i": {"title": "Y", "variants": [{"sku": "Y", "price": "1"}]}}
    )
    assert no_product["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # The alert: once when available drops below the threshold, again only after it was back up.
    version = await t.owner.data(api, "query($id: ID!) { productVariant(id: $id) { version } }", {"id": kettle})
    set_t = await t.owner.data(
        api,
        UPDATE_VARIANT,
        {"i": {"id": kettle, "version": version["productVariant"]["version"], "lowStockThreshold": "5"}},
    )
    assert set_t["updateProductVariant"]["variant"]["lowStockThreshold"] == "5"
    org = (await StockLevel.filter(variant_id=ids.decode(kettle)[1]).first()).organization_id  # type: ignore[union-attr]

    async def alerts():
        return (
            await OutboxEvent.filter(organization_id=org, topic="catalog.low_stock")
            .order_by("created_at")
            .values_list("payload", flat=True)
        )

    assert await alerts() == []  # 10.5 available
    account = await make_account(t.owner, api)
    o = await order(t.owner, api, account, [{"variantId": kettle, "quantity": "6"}])
    await move(t.owner, api, o, "processing")  # 4.5 available: below 5
    [alert] = await alerts()
    assert alert["sku"] == "KETTLE-1" and alert["available"] == "4.500" and alert["threshold"] == "5.000"
    await adjust(t.logistics, api, kettle, wh, "WRITE_OFF", "1", "Розбитий")  # lower still: no new alert
    assert len(await alerts()) == 1
    await adjust(t.logistics, api, kettle, wh, "RECEIVE", "10")
    # 17 on hand here, 6 of them promised to the order: those are not written off.
    promised = await adjust(t.logistics, api, kettle, wh, "WRITE_OFF", "12")
    assert promised["errors"] == [
        {
            "field": "quantity",
            "code": "INVALID",
            "message": "6 of the 17 on hand are reserved for orders: write off at most 11, or record a stock count.",
        }
    ]
    assert len(await alerts()) == 1
    await adjust(t.logistics, api, kettle, wh, "WRITE_OFF", "11")
    assert len(await alerts()) == 2


async def test_a_count_below_what_orders_hold_shows_the_shortage_and_stock_has_a_ceiling(api, tenants):
    t, wh, kettle, _cup = await shop(tenants, api, on_hand="5")
    account = await make_account(t.owner, api)
    o = await order(t.owner, api, account, [{"variantId": kettle, "quantity": "4"}])
    assert (await move(t.owner, api, o, "processing"))["errors"] == []
    # Two kettles turn out broken: the count is the truth, even below what is promised.
    counted = await adjust(t.logistics, api, kettle, wh, "COUNT", "3", "Інвентаризація")
    assert counted["errors"] == []
    assert await stock(t.owner, api, kettle) == {"onHand": "3", "reserved": "4", "available": "-1"}
    nothing_free = await adjust(t.logistics, api, kettle, wh, "WRITE_OFF", "1")
    assert nothing_free["errors"][0]["message"] == (
        "4 of the 3 on hand are reserved for orders: write off at most 0, or record a stock count."
    )
    too_many = await adjust(t.logistics, api, kettle, wh, "RECEIVE", "999999999")
    assert too_many["errors"] == [
        {"field": "quantity", "code": "INVALID", "message": "A warehouse holds at most 999999999 of a variant."}
    ]
    assert await stock(t.owner, api, kettle) == {"onHand": "3", "reserved": "4", "available": "-1"}


async def test_a_new_currency_restates_the_money_and_a_sku_race_is_a_clear_error(api, tenants):
    t, _wh, kettle, cup = await shop(tenants, api, on_hand="0")
    version = await variant_version(t.owner, api, kettle)
    bare = await t.owner.data(api, UPDATE_VARIANT, {"i": {"id": kettle, "version": version, "currency": "USD"}})
    assert sorted((e["field"], e["code"]) for e in bare["updateProductVariant"]["errors"]) == [
        ("cost", "REQUIRED"),
        ("price", "REQUIRED"),
    ]
    restated = await t.owner.data(
        api,
        UPDATE_VARIANT,
        {"i": {"id": kettle, "version": version, "currency": "USD", "price": "31.50", "cost": "19.00"}},
    )
    assert restated["updateProductVariant"]["errors"] == []
    # The cup has no cost: the price alone restates it.
    cup_version = await variant_version(t.owner, api, cup)
    cup_usd = await t.owner.data(
        api, UPDATE_VARIANT, {"i": {"id": cup, "version": cup_version, "currency": "USD", "price": "8.50"}}
    )
    assert cup_usd["updateProductVariant"]["errors"] == []

    # Two variants given one new SKU at the same moment: one gets it, the other a DUPLICATE error.
    versions = [await variant_version(t.owner, api, v) for v in (kettle, cup)]
    results = await asyncio.gather(
        *(
            t.owner.data(api, UPDATE_VARIANT, {"i": {"id": v, "version": n, "sku": "SET-1"}})
            for v, n in zip((kettle, cup), versions, strict=True)
        )
    )
    errors = [r["updateProductVariant"]["errors"] for r in results]
    assert sorted(len(e) for e in errors) == [0, 1]
    [[duplicate]] = [e for e in errors if e]
    assert duplicate == {"field": "sku", "code": "DUPLICATE", "message": "SKU SET-1 is already in the catalog."}


async def test_parallel_confirmations_never_oversell(api, tenants):
    """Eight orders of one kettle each, three kettles: confirmed in parallel over HTTP, exactly
    three get through and reserved never exceeds what is on hand (PostgreSQL: the stock rows are
    locked FOR UPDATE; SQLite: transactions take the write lock)."""
    t, wh, kettle, cup = await shop(tenants, api, on_hand="3")
    orders = []
    for i in range(8):
        account = await make_account(t.owner, api, f"Клієнт {i}")
        orders.append(await order(t.owner, api, account, [{"variantId": kettle, "quantity": "1"}]))
    results = await asyncio.gather(*(move(t.owner, api, o, "processing") for o in orders))
    succeeded = [r for r in results if r["errors"] == []]
    refused = [r for r in results if r["errors"]]
    assert len(succeeded) == 3
    assert {e["code"] for r in refused for e in r["errors"]} == {"OUT_OF_STOCK"}
    assert await stock(t.owner, api, kettle) == {"onHand": "3", "reserved": "3", "available": "0"}
    level = await StockLevel.get(variant_id=ids.decode(kettle)[1])
    assert level.reserved == level.on_hand == 3
    assert await StockReservation.filter(variant_id=ids.decode(kettle)[1], state="active").count() == 3

    # Parallel first receipts of a variant in a warehouse make one stock row and add up.
    receipts = await asyncio.gather(*(adjust(t.logistics, api, cup, wh, "RECEIVE", "1") for _ in range(5)))
    assert all(r["errors"] == [] for r in receipts)
    assert await stock(t.owner, api, cup) == {"onHand": "5", "reserved": "0", "available": "5"}

    # The same order confirmed twice at once holds its kettle once (the second is a version conflict).
    t2, _wh2, kettle2, _cup = await shop(tenants, api, on_hand="3", roles=("owner",))
    o = await order(t2.owner, api, await make_account(t2.owner, api), [{"variantId": kettle2, "quantity": "1"}])
    twice = await asyncio.gather(move(t2.owner, api, o, "processing"), move(t2.owner, api, o, "processing"))
    assert sorted(bool(r["errors"]) for r in twice) == [False, True]
    assert await stock(t2.owner, api, kettle2) == {"onHand": "3", "reserved": "1", "available": "2"}


async def test_list_statements_do_not_grow_with_the_page(api, tenants):
    t, wh, _kettle, _cup = await shop(tenants, api, roles=("owner",))
    queries = [
        """{ products(first: 50) { edges { node { title category { name }
            variants { sku price { amount } cost { amount } available stock { warehouse { code } onHand } } } } } }""",
        """{ productVariants(first: 50) { edges { node { sku onHand reserved available product { title }
            stock { warehouse { code } available } } } } }""",
        """{ stockMovements(first: 50) { edges { node { kind onHandDelta reason variant { sku } warehouse { code }
            order { number } actor { email } } } } }""",
    ]
    few = []
    for query in queries:
        await t.owner.data(api, query)
        with QueryCounter() as counted:
            await t.owner.data(api, query)
        few.append(counted.count)
    for i in range(6):
        p = await product(
            t.owner, api, f"Товар {i}", [{"sku": f"S{i}-A", "price": "1"}, {"sku": f"S{i}-B", "price": "2"}]
        )
        await adjust(t.owner, api, p["variants"][0]["id"], wh, "RECEIVE", "1")
    many = []
    for query in queries:
        with QueryCounter() as counted:
            body = await t.owner.data(api, query)
        many.append(counted.count)
        assert len(next(iter(body.values()))["edges"]) > 6
    assert many == few


async def test_the_demo_shop_has_a_catalog_with_stock(api, database):
    from server.demo.seed import DEMO_PASSWORD, DEMO_SLUG, demo_email, seed_demo
    from tests.helpers import Member

    await seed_demo(postgres=database.is_postgres)
    login = await api.data(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
        {"e": demo_email("logistics"), "p": DEMO_PASSWORD},
    )
    logistics = Member(demo_email("logistics"), "logistics", login["login"]["token"], "", DEMO_SLUG)
    body = await logistics.data(
        api,
        """{ products(where: {search: {contains: "bosch"}}) { edges { node { title category { name parent { name } }
            variants { sku available lowStockThreshold stock { warehouse { code } onHand } } } } }
            warehouses { code } }""",
    )
    [kettle] = [e["node"] for e in body["products"]["edges"]]
    assert kettle["category"] == {"name": "Чайники", "parent": {"name": "Кухня"}}
    assert kettle["variants"][0] == {
        "sku": "BOSCH-TWK-W",
        "available": "16",
        "lowStockThreshold": "5",
        "stock": [{"warehouse": {"code": "kyiv"}, "onHand": "12"}, {"warehouse": {"code": "lviv"}, "onHand": "4"}],
    }
    assert [w["code"] for w in body["warehouses"]] == ["kyiv", "lviv"]


async def test_a_status_holding_catalog_orders_keeps_its_group(api, tenants):
    """Reservations follow the status's group: changing the group under them would leave stock
    reserved for orders that are cancelled by name only."""
    t, _wh, kettle, _cup = await shop(tenants, api)
    account = await make_account(t.owner, api)
    o = await order(t.owner, api, account, [{"variantId": kettle, "quantity": "1"}])
    assert (await move(t.owner, api, o, "processing"))["errors"] == []
    statuses = {s["code"]: s["id"] for s in (await t.owner.data(api, "{ orderStatuses { id code } }"))["orderStatuses"]}
    change = """mutation($i: UpdateOrderStatusInput!) { updateOrderStatus(input: $i) {
        status { group } errors { field code } } }"""
    refused = await t.owner.data(api, change, {"i": {"id": statuses["processing"], "group": "CANCELLED"}})
    assert refused["updateOrderStatus"]["errors"] == [{"field": "group", "code": "CONFLICT"}]
    assert (await stock(t.owner, api, kettle))["reserved"] == "1"
    free = await t.owner.data(api, change, {"i": {"id": statuses["delayed"], "group": "CANCELLED"}})
    assert free["updateOrderStatus"] == {"status": {"group": "CANCELLED"}, "errors": []}
