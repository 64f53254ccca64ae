"""The orders page must cost the same number of SQL statements for 50 and for 100 orders."""

from decimal import Decimal

from server.accounts.models import Account
from server.orders.models import Order, OrderItem, OrderStatus
from server.organizations.models import Organization
from tests.helpers import QueryCounter

ORDERS_PAGE = """query OrdersPage($n: Int!) {
  orders(first: $n, orderBy: {field: CREATED_AT, direction: DESC}) {
    edges { cursor node {
      id number createdAt
      status { code name group }
      total { amount currency }
      account { id name phone }
      items { sku title quantity unitPrice { amount currency } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _bulk_orders(slug: str, count: int) -> None:
    org = await Organization.get(slug=slug)
    statuses = await OrderStatus.filter(organization=org).order_by("position")
    accounts = [Account(organization=org, name=f"Клієнт {i}", phones=[f"+38067{i:07d}"]) for i in range(count)]
    await Account.bulk_create(accounts)
    accounts = await Account.filter(organization=org).order_by("name")
    orders = [
        Order(
            organization=org,
            number=i + 1,
            account=accounts[i % len(accounts)],
            status=statuses[i % len(statuses)],
            currency="UAH",
            subtotal=Decimal("200.00"),
            total=Decimal("200.00"),
        )
        for i in range(count)
    ]
    await Order.bulk_create(orders)
    orders = await Order.filter(organization=org)
    await OrderItem.bulk_create(
        [
            OrderItem(
                organization=org,
                order=o,
                position=j,
                sku=f"SKU-{j}",
                title="Товар",
                quantity=1,
                unit_price=Decimal("100.00"),
                total=Decimal("100.00"),
            )
            for o in orders
            for j in range(2)
        ]
    )


async def test_orders_page_statement_count_does_not_grow_with_page_size(api, tenants, database):
    t = await tenants.create(("owner",))
    await _bulk_orders(t.slug, 100)
    # Once answered, the document takes the lean lane on PostgreSQL (the caller in one
    # statement), and from the lane's second request the caller is checked inside the page's
    # statement: both counted pages must take the same road.
    for _ in range(2):
        await t.owner.data(api, ORDERS_PAGE, {"n": 1})

    counts = {}
    for n in (50, 100):
        with QueryCounter() as q:
            data = await t.owner.data(api, ORDERS_PAGE, {"n": n})
        edges = data["orders"]["edges"]
        assert len(edges) == n
        assert all(e["node"]["account"]["phone"].startswith("+38067") for e in edges)
        assert all(len(e["node"]["items"]) == 2 for e in edges)
        counts[n] = q.count

    # The counter sees the statements (PostgreSQL: the page written by the database, the caller
    # checked in it).
    assert counts[50] >= (1 if database.is_postgres else 4), counts
    assert counts[50] == counts[100], counts
    # Auth (token, membership), orders, statuses, accounts, items: a handful, never per row.
    assert counts[100] <= 8, counts
