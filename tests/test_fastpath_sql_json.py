"""On PostgreSQL the planned pages are written by the database (server/graphql/fastpath/sqljson.py):
the same bytes as Python's writer for awkward values, the same fallback for values Python refuses,
and Python's writer for callers who would see something masked or hidden.

The whole corpus of tests/test_fastpath_differential.py also runs through this path on
PostgreSQL; here are the values that corpus does not hold. On SQLite there is nothing to compare
(the database does not write JSON there), so these tests need PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from server.accounts.models import Account
from server.graphql import ids
from server.orders.models import Order, OrderItem, OrderStatus
from server.organizations.models import Organization
from tests.helpers import Client, TenantFactory, app_client, graphql_view
from tests.test_accounts import make_account, make_contact, make_order

AWKWARD = 'Лапки " і \\ зворотна риска\nрядок\tтаб \x07 дзвоник \x1f 😀 \u2028 ї </script>'

ORDER = """query($id: ID!) { order(id: $id) {
  __typename id number createdAt updatedAt version currency source externalId comment paymentStatus tags
  subtotal { amount currency } discountTotal { amount } total { amount currency }
  delivery { method recipientName recipientPhone city branch address waybillNumber }
  status { id code name position isInitial group }
  account { id name kind phone phones emails tags source addresses mergedIntoId version createdAt }
  items { sku title quantity unitPrice { amount currency } discount { amount } total { amount } }
} }"""

ACCOUNT = """query($id: ID!, $n: Int) { account(id: $id) {
  id name phone phones emails tags addresses
  contacts { id name position phones emails createdAt account { id name } }
  orders(first: $n) { __typename edges { __typename cursor node { id number comment tags items { quantity title } } }
    pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } }
} }"""

ORDERS = """query($o: OrderOrder, $after: String) { orders(first: 3, orderBy: $o, after: $after) {
  edges { cursor node { id number createdAt total { amount } status { group } account { phone } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
} }"""


@pytest.fixture(scope="module")
async def python_http(database):
    """The same server with answers written by Python from rows."""
    async with app_client(database, sql_json=False) as client:
        yield client


def fast_path(http: httpx.AsyncClient):
    return graphql_view(http).fast_path


@pytest.fixture(scope="module")
async def shop(http, database):
    if not database.is_postgres:
        pytest.skip("the database writes the JSON only on PostgreSQL (DATABASE_URL)")
    api = Client(http)
    t = await TenantFactory(api).create(("owner", "analyst"))
    account = await make_account(
        t.owner, api, name=AWKWARD, phones=["+380671234567", "0509998877"], emails=["a@b.example"], tags=[AWKWARD, "ї"]
    )
    await make_contact(t.owner, api, account["id"], AWKWARD, position="бухгалтерка\n", emails=["c@d.example"])
    orders = []
    for i, quantity in enumerate(("1.500", "2", "0.001", "12345.678", "10.010")):
        orders.append(
            await make_order(
                t.owner,
                api,
                account["id"],
                items=[{"sku": f"S{i}", "title": AWKWARD, "quantity": quantity, "unitPrice": "0.10"}],
                comment=AWKWARD if i % 2 else "",
                delivery={"method": "nova_poshta", "city": "Київ", "branch": "№1", "recipientName": AWKWARD},
            )
        )
    # Whole seconds and not: isoformat() writes the microseconds only when there are some.
    first = ids.decode(orders[0]["id"], "Order")[1]
    await Order.filter(id=first).update(created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    second = ids.decode(orders[1]["id"], "Order")[1]
    await Order.filter(id=second).update(created_at=datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC), total=Decimal(0))
    headers = {name: {"Authorization": f"Bearer {m.token}", "X-Organization": m.org} for name, m in t.members.items()}
    return t, headers, account, orders


async def same(http, python_http, headers: dict, query: str, variables: dict) -> httpx.Response:
    body = {"query": query, "variables": variables}
    ours = await http.post("/graphql", json=body, headers=headers)
    python = await python_http.post("/graphql", json=body, headers=headers)
    assert (ours.status_code, ours.content) == (python.status_code, python.content), (
        f"\n{variables}\nPostgreSQL: {ours.text}\nPython:     {python.text}"
    )
    return ours


async def test_the_database_writes_the_bytes_python_writes(http, python_http, shop):
    _t, headers, account, orders = shop
    stats = fast_path(http).stats
    before, fell_back = stats["written by postgresql"], stats["fallback"]
    for order in orders:
        answer = (await same(http, python_http, headers["owner"], ORDER, {"id": order["id"]})).json()
        assert answer["data"]["order"]["account"]["name"] == AWKWARD
    for n in (1, 2, 5, None):
        page = await same(http, python_http, headers["owner"], ACCOUNT, {"id": account["id"], "n": n})
        assert page.json()["data"]["account"]["contacts"][0]["name"] == AWKWARD
    for field in ("CREATED_AT", "UPDATED_AT", "NUMBER", "TOTAL"):
        for direction in ("ASC", "DESC"):
            variables = {"o": {"field": field, "direction": direction}, "after": None}
            while True:
                page = (await same(http, python_http, headers["owner"], ORDERS, variables)).json()["data"]["orders"]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                variables["after"] = page["pageInfo"]["endCursor"]
    quantities = [
        (
            await http.post("/graphql", json={"query": ORDER, "variables": {"id": o["id"]}}, headers=headers["owner"])
        ).json()["data"]["order"]["items"][0]["quantity"]
        for o in orders
    ]
    assert quantities == ["1.5", "2", "0.001", "12345.678", "10.01"]
    # Every one of those was written by PostgreSQL, not by Python's writer, and none fell back.
    assert stats["written by postgresql"] - before >= len(orders) + 4 + 8
    assert stats["fallback"] == fell_back


async def test_a_list_asked_only_for_its_typename_is_one_object(http, python_http, shop):
    """Nothing but literals selected (no edges, no cursors): still one object, with no rows,
    one row or many."""
    t, headers, account, _orders = shop
    api = Client(http)
    lonely = await make_account(t.owner, api, name="Без замовлень")
    empty = await TenantFactory(api).create(("owner",))
    nobody = {"Authorization": f"Bearer {empty.owner.token}", "X-Organization": empty.slug}
    account_orders = (
        "query($id: ID!) { account(id: $id) { orders(first: 3) { __typename pageInfo { hasPreviousPage } } } }"
    )
    stats = fast_path(http).stats
    before, fell_back = stats["written by postgresql"], stats["fallback"]
    for caller in (headers["owner"], nobody):
        for query, variables in (
            ("{ orders(first: 5) { __typename } }", {}),
            ("{ orders(first: 0) { pageInfo { hasPreviousPage } } }", {}),
            (account_orders, {"id": account["id"]}),
            (account_orders, {"id": lonely["id"]}),
        ):
            answer = (await same(http, python_http, caller, query, variables)).json()
            assert "errors" not in answer, answer
    owner_view = (await same(http, python_http, headers["owner"], account_orders, {"id": lonely["id"]})).json()
    assert owner_view["data"]["account"]["orders"] == {
        "__typename": "OrderConnection",
        "pageInfo": {"hasPreviousPage": False},
    }
    assert stats["written by postgresql"] - before == 9
    assert stats["fallback"] == fell_back


async def test_a_value_python_refuses_falls_back_the_same_way(http, python_http, shop):
    t, headers, account, orders = shop
    stats = fast_path(http).stats
    status = await OrderStatus.filter(organization__slug=t.slug).first()
    order_pk = ids.decode(orders[0]["id"], "Order")[1]
    await Order.filter(id=order_pk).update(status_id=status.id)
    account_pk = ids.decode(account["id"], "Account")[1]
    try:
        # A status group the schema does not know, and a phone that is not a string.
        await OrderStatus.filter(id=status.id).update(group="no_such_group")
        await Account.filter(id=account_pk).update(phones=[380671234567])
        before = stats["fallback"]
        body = {"query": ORDER, "variables": {"id": orders[0]["id"]}}
        ours = (await http.post("/graphql", json=body, headers=headers["owner"])).json()
        python = (await python_http.post("/graphql", json=body, headers=headers["owner"])).json()
        # strawberry's answer both times: the enum cannot be written (each error has its own id)
        assert ours["data"] == python["data"] == {"order": None}
        assert (
            [e["path"] for e in ours["errors"]]
            == [e["path"] for e in python["errors"]]
            == [["order", "status", "group"]]
        )
        await same(http, python_http, headers["owner"], ACCOUNT, {"id": account["id"], "n": 2})
        assert stats["fallback"] - before >= 2
    finally:
        await OrderStatus.filter(id=status.id).update(group=status.group)
        await Account.filter(id=account_pk).update(phones=["+380671234567", "0509998877"])


async def test_masked_callers_are_written_by_python(http, python_http, shop):
    _t, headers, _account, orders = shop
    stats = fast_path(http).stats
    before = stats["written by postgresql"], stats["planned"]
    answer = (await same(http, python_http, headers["analyst"], ORDER, {"id": orders[0]["id"]})).json()
    assert "*" in answer["data"]["order"]["account"]["phone"]  # masked: the analyst has no pii:read
    assert stats["written by postgresql"] == before[0]
    assert stats["planned"] > before[1]


async def test_another_organization_stays_out(http, python_http, shop):
    _t, headers, account, orders = shop
    other = await TenantFactory(Client(http)).create(("owner",))
    foreign = {"Authorization": f"Bearer {other.owner.token}", "X-Organization": other.slug}
    assert (await same(http, python_http, foreign, ORDER, {"id": orders[1]["id"]})).json()["data"] == {"order": None}
    page = (await same(http, python_http, foreign, ACCOUNT, {"id": account["id"], "n": 5})).json()
    assert page["data"] == {"account": None}
    # An item moved to another organization's order is not this one's.
    item = await OrderItem.filter(order_id=ids.decode(orders[2]["id"], "Order")[1]).first()
    foreign_org = await Organization.get(slug=other.slug)
    await OrderItem.filter(id=item.id).update(organization_id=foreign_org.id)
    try:
        answer = (await same(http, python_http, headers["owner"], ORDER, {"id": orders[2]["id"]})).json()
        assert answer["data"]["order"]["items"] == []
    finally:
        await OrderItem.filter(id=item.id).update(organization_id=item.organization_id)
