# ruff: noqa: UP031 - GraphQL text is full of braces: %-formatting keeps it readable
"""One truth, two paths: every query here is sent to the app with the fast path (the default)
and to the same app with FAST_PATH off (stock strawberry execution), with the same caller, and
the two HTTP answers must be the same bytes (status, content type, body).

The corpus: the README's OrdersPage, the order/account queries of the docs and tests, and
generated selections over Order, OrderItem, OrderStatus, Money, Delivery and Account (random
field subsets, variables, aliases, fragments, @include/@skip, cursors, filters, sorts), asked by
every role (team and own-rows scopes included; analysts and logistics see customers' phones,
e-mails and addresses masked), partners with narrow grants (one without order read, one with
pii:read), another organization, anonymous callers and a foreign X-Organization."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from server.accounts.models import Account
from server.graphql import ids
from server.orders.models import Order, OrderStatus
from tests.helpers import Client, QueryCounter, TenantFactory, app_client, graphql_view
from tests.test_accounts import make_account, make_contact, make_order
from tests.test_oauth import access_token, register
from tests.test_roles import OWNERS, build_org
from tests.test_sql_count import ORDERS_PAGE

README_ORDERS_PAGE = """query OrdersPage {
  orders(first: 50, orderBy: {field: CREATED_AT, direction: DESC}) {
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

# From the docs (docs/api.md, docs/cli.md, docs/partners.md) and the tests.
DOC_QUERIES = [
    ("{ orders(first: 5) { edges { node { number total { amount currency } status { name } } } } }", {}),
    ("{ orders(first: 20) { edges { node { number status { code } } } } }", {}),
    (
        """{ orders(where: {statusGroup: {in: [NEW, IN_PROGRESS]}, total: {gte: "100"}},
             orderBy: {field: TOTAL, direction: DESC}) { edges { node { number total { amount } } } totalCount } }""",
        {},
    ),
    (
        """query($id: ID!) { order(id: $id) { id number version currency source externalId
            status { code group } subtotal { amount currency } discountTotal { amount } total { amount currency }
            items { sku title quantity unitPrice { amount } discount { amount } total { amount } }
            delivery { method recipientName recipientPhone city branch waybillNumber } account { id name } } }""",
        {"id": "ORDER"},
    ),
    (
        """query($id: ID!) { account(id: $id) { id name kind phone phones emails tags source version
            createdAt updatedAt addresses mergedIntoId } }""",
        {"id": "ACCOUNT"},
    ),
    ("query($id: ID!) { account(id: $id) { id name contacts { name phones emails } } }", {"id": "ACCOUNT"}),
    ("query($id: ID!) { account(id: $id) { id name owner { name } } }", {"id": "ACCOUNT"}),  # not planned: owner
    (
        """query Account360($id: ID!) { account(id: $id) { id name phone contacts { id name phones }
            orders(first: 10) { edges { node { id number createdAt status { code name group } total { amount currency }
            items { sku title quantity unitPrice { amount currency } } } } pageInfo { hasNextPage endCursor } } } }""",
        {"id": "ACCOUNT"},
    ),
    ("query($id: ID!) { order(id: $id) { account { orders { totalCount } } } }", {"id": "ORDER"}),  # not planned
    ("{ orders { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }", {}),
    # docs/custom-fields.md: tags and custom-field filters are planned; a custom-field sort is not.
    (
        """{ orders(where: {OR: [{tag: {in: ["vip"]}}, {customField: {key: "gift_wrap", isSet: false}}]}) {
            edges { node { number tags } } } }""",
        {},
    ),
    ("""{ orders(orderBy: {customField: "gift_wrap"}) { edges { node { number } } } }""", {}),
    ("{ __typename orders(first: 1) { __typename edges { __typename cursor } } }", {}),
    ("{ orders(first: 101) { totalCount } }", {}),  # over the page cap: the stock error
    ('{ orders(first: 2, after: "not-a-cursor") { totalCount } }', {}),  # a bad cursor: the stock error
    ('{ order(id: "bm90LWFuLWlk") { id } }', {}),  # a bad ID
    ("{ orders(first: 3) { edges { node { id manager { name } } } } }", {}),  # not planned: manager
    ("{ orders(first: 3) { edges { node { id } } } me { user { id } } }", {}),  # not planned: me
    ("query Q($n: Int) { orders(first: $n) { edges { node { number } } } }", {"n": "x"}),  # bad variable
    ('query A { orders(first: 1) { totalCount } } query B { order(id: "x") { id } }', {}),  # no operationName
]

ORDER_SCALARS = [
    "id", "number", "createdAt", "updatedAt", "version", "currency", "source", "externalId", "comment",
    "paymentStatus", "__typename",
]  # fmt: skip
MONEY = ["amount", "currency", "__typename"]
STATUS = ["id", "code", "name", "position", "isInitial", "group", "__typename"]
DELIVERY = ["method", "recipientName", "recipientPhone", "city", "branch", "address", "waybillNumber"]
ACCOUNT = [
    "id", "name", "phone", "phones", "kind", "version", "createdAt", "updatedAt", "addresses", "mergedIntoId",
    "__typename",
]  # fmt: skip
MARKETING = ["emails", "tags", "source"]  # hidden from logistics: a FORBIDDEN on the stock path
ITEM_SCALARS = ["sku", "title", "quantity", "__typename"]
CONTACT = ["id", "name", "position", "phones", "emails", "version", "createdAt", "updatedAt", "__typename"]
NOT_PLANNED = ["manager { name }", "statusHistory { reason }", "shipments { id }", "status { next { code } }"]


class Gen:
    """Random selections with aliases, fragments and directives, deterministic per seed."""

    def __init__(self, seed: int):
        self.rnd = random.Random(seed)
        self.aliases = 0
        self.fragments: list[str] = []
        self.directive_vars: dict[str, bool] = {}

    def pick(self, fields: list[str], low: int = 1) -> list[str]:
        return self.rnd.sample(fields, self.rnd.randint(low, len(fields)))

    def decorate(self, field: str) -> str:
        r = self.rnd.random()
        if r < 0.1 and self.aliases < 10:
            self.aliases += 1
            return f"a{self.aliases}: {field}"
        if r < 0.17:
            name = f"v{len(self.directive_vars)}"
            self.directive_vars[name] = self.rnd.random() < 0.5
            return f"{field} @{self.rnd.choice(['include', 'skip'])}(if: ${name})"
        if r < 0.2:
            return f"{field} @skip(if: {self.rnd.choice(['true', 'false'])})"
        return field

    def block(self, type_name: str, parts: list[str]) -> str:
        """A selection set, sometimes wrapped in an inline or a named fragment, sometimes repeated."""
        parts = [self.decorate(p) for p in parts]
        if parts and self.rnd.random() < 0.2:
            parts.append(self.rnd.choice(parts).split(" @")[0].split(": ")[-1])  # a repeated field merges
        r = self.rnd.random()
        if r < 0.15:
            return "{ ... on %s { %s } }" % (type_name, " ".join(parts))
        if r < 0.3:
            name = f"F{len(self.fragments)}"
            self.fragments.append("fragment %s on %s { %s }" % (name, type_name, " ".join(parts)))
            return "{ ...%s }" % name
        return "{ %s }" % " ".join(parts)

    def money(self) -> str:
        return self.block("Money", self.pick(MONEY))

    def order(self, marketing: bool, unplanned: bool) -> str:
        parts = self.pick(ORDER_SCALARS)
        for name in ("subtotal", "discountTotal", "total"):
            if self.rnd.random() < 0.4:
                parts.append(f"{name} {self.money()}")
        if self.rnd.random() < 0.6:
            parts.append("status " + self.block("OrderStatus", self.pick(STATUS)))
        if self.rnd.random() < 0.3:
            parts.append("delivery " + self.block("Delivery", self.pick(DELIVERY)))
        if self.rnd.random() < 0.6:
            parts.append("account " + self.account(marketing))
        if self.rnd.random() < 0.6:
            items = self.pick(ITEM_SCALARS)
            for name in ("unitPrice", "discount", "total"):
                if self.rnd.random() < 0.4:
                    items.append(f"{name} {self.money()}")
            parts.append("items " + self.block("OrderItem", items))
        if unplanned:
            parts.append(self.rnd.choice(NOT_PLANNED))
        return self.block("Order", parts)

    def account(self, marketing: bool, root: bool = False) -> str:
        parts = self.pick(ACCOUNT) + (self.pick(MARKETING) if marketing else [])
        if root and self.rnd.random() < 0.5:  # the 360° view: the account's orders
            args = self.rnd.choice(["", "(first: 2)", "(first: 0)", "(first: $af)"])
            if args == "(first: $af)":
                self.directive_vars["af"] = self.rnd.choice([1, 5, None])  # declared as Int below
            parts.append("orders%s %s" % (args, self.connection(self.order(marketing, False))))
        if self.rnd.random() < 0.4:
            contact = self.pick(CONTACT)
            if self.rnd.random() < 0.3:
                contact.append("account { id name }")
            parts.append("contacts " + self.block("Contact", contact))
        return self.block("Account", parts)

    def connection(self, node: str) -> str:
        parts = []
        edge = ["cursor", f"node {node}"] + (["__typename"] if self.rnd.random() < 0.2 else [])
        parts.append("edges { %s }" % " ".join(self.rnd.sample(edge, len(edge))))
        if self.rnd.random() < 0.7:
            parts.append(
                "pageInfo { %s }" % " ".join(self.pick(["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]))
            )
        if self.rnd.random() < 0.3:
            parts.append("totalCount")
        return "{ %s }" % " ".join(self.rnd.sample(parts, len(parts)))


def _where(rnd: random.Random, data: dict) -> dict | None:
    choices = [
        None,
        {"statusGroup": {"in": rnd.sample(["NEW", "IN_PROGRESS", "SHIPPING", "COMPLETED", "CANCELLED"], 2)}},
        {"status": {"eq": rnd.choice(["new", "processing", "cancelled"])}},
        {"number": {"gte": rnd.randint(1, 10), "lte": rnd.randint(10, 40)}},
        {"total": {"gte": "500"}},
        {"account": {"eq": rnd.choice(data["account_ids"])}},
        {"createdAt": {"gte": "2020-01-01T00:00:00+00:00"}},
        {"OR": [{"number": {"eq": 1}}, {"source": {"eq": "website"}}]},
        {"source": {"in": ["manual", "website"]}},
    ]
    return rnd.choice(choices)


def generate(seed: int, data: dict, *, marketing: bool, failing: bool) -> tuple[str, dict]:
    """``failing``: the caller gets errors (a partner without status reads, logistics asking for
    marketing fields). Stock execution of such a query is not deterministic when other fields
    load concurrently (which root field's error comes first; graphql-core cancelling the
    others can even escape as CancelledError), so those callers get one root and planned fields."""
    g = Gen(seed)
    rnd = g.rnd
    unplanned = rnd.random() < 0.1 and not failing
    kind = rnd.choice(["orders", "orders", "orders", "order", "account"] + ([] if failing else ["both"]))
    variables: dict = {}
    roots = []
    if kind in ("orders", "both"):
        args = []
        if rnd.random() < 0.8:
            variables["first"] = rnd.choice([0, 1, 3, 5, 20, 50])
            args.append("first: $first")
        where = _where(rnd, data)
        if where is not None:
            variables["where"] = where
            args.append("where: $where")
        if rnd.random() < 0.6:
            variables["orderBy"] = {
                "field": rnd.choice(["CREATED_AT", "UPDATED_AT", "NUMBER", "TOTAL"]),
                "direction": rnd.choice(["ASC", "DESC"]),
            }
            args.append("orderBy: $orderBy")
        if rnd.random() < 0.3:
            args.append("after: $after")
            variables["after"] = "AFTER"  # replaced by the endCursor of the same query without it
        roots.append(
            "orders%s %s" % (f"({', '.join(args)})" if args else "", g.connection(g.order(marketing, unplanned)))
        )
    if kind in ("order", "both"):
        variables["id"] = rnd.choice(data["order_ids"])
        roots.append("%sorder(id: $id) %s" % ("o: " if rnd.random() < 0.3 else "", g.order(marketing, unplanned)))
    if kind == "account":
        variables["id"] = rnd.choice(data["account_ids"])
        roots.append("account(id: $id) " + g.account(marketing, root=True))
    variables.update({k: v for k, v in g.directive_vars.items()})
    types = {
        "first": "Int", "where": "OrderWhere", "orderBy": "OrderOrder", "after": "String", "id": "ID!",
        **{k: "Boolean!" for k in g.directive_vars},
        "af": "Int",
    }  # fmt: skip
    decl = ", ".join(f"${k}: {types[k]}" for k in variables)
    query = "query Gen%s { %s }\n%s" % (f"({decl})" if decl else "", " ".join(roots), "\n".join(g.fragments))
    return query, variables


# -- the two apps and the data ---------------------------------------------------------------


@pytest.fixture(scope="module")
async def stock_http(database):
    async with app_client(database, fast_path=False) as client:
        yield client


@pytest.fixture(scope="module")
async def shop(http):
    """Every role (two teams, a teamless manager, two salespeople), varied orders, partners."""
    api = Client(http)
    tenants = TenantFactory(api)
    t, accounts, orders, _contacts = await build_org(api, tenants)
    owner = t.owner
    statuses = {s.code: s for s in await OrderStatus.filter(organization__slug=t.slug)}
    extra = []
    for i in range(24):
        items = [
            {
                "sku": f"SKU-{i}-{j}",
                "title": f"Товар «{i}» № {j}",
                "quantity": ["1", "2", "0.5", "1.250", "3"][(i + j) % 5],
                "unitPrice": ["99.99", "1000", "0.01", "250.50"][(i * j) % 4],
                **({"discount": "0.01"} if (i + j) % 3 == 0 else {}),
            }
            for j in range(i % 4)
        ] or [{"sku": "ONE", "title": "Один", "quantity": "1", "unitPrice": "5"}]
        delivery = (
            {
                "method": "nova_poshta",
                "city": "Київ",
                "branch": f"№{i}",
                "recipientName": "Олена",
                **({"recipientPhone": f"067555{i:04d}", "address": f"вул. Січова, {i}"} if i % 4 == 1 else {}),
            }
            if i % 2
            else None
        )
        order = await make_order(
            owner,
            api,
            accounts[["owner", "sales", "north1", "south"][i % 4]]["id"],
            items=items,
            **({"delivery": delivery} if delivery else {}),
            **({"comment": f"коментар {i}"} if i % 3 == 0 else {}),
            **({"externalId": f"EXT-{i}", "source": "website"} if i % 5 == 0 else {}),
            **({"managerId": t.members[["sales", "north2", "manager"][i % 3]].user_id} if i % 2 else {}),
        )
        extra.append(order)
    # Spread them over statuses; one soft-deleted order; one order of a deleted account.
    codes = list(statuses)
    for i, order in enumerate(extra):
        pk = ids.decode(order["id"], "Order")[1]
        await Order.filter(id=pk).update(status_id=statuses[codes[i % len(codes)]].id, total=Decimal(100 * i))
    await Order.filter(id=ids.decode(extra[0]["id"], "Order")[1]).update(deleted_at=datetime.now(UTC))
    gone = await make_account(owner, api, name="Видалений клієнт", phones=["0501112233"], emails=["x@y.example"])
    gone_order = await make_order(owner, api, gone["id"])
    await make_contact(owner, api, gone["id"], "Контакт видаленого", phones=["0503334455"])
    await make_contact(
        owner, api, accounts["owner"]["id"], "Анна", position="бухгалтер", emails=["anna@client.example"]
    )
    await Account.filter(id=ids.decode(gone["id"], "Account")[1]).update(deleted_at=datetime.now(UTC))
    no_phone = await make_account(
        owner, api, name="Без телефону", phones=[], addresses=["Київ, вул. Хрещатик, 1", "Львів"]
    )
    await make_order(owner, api, no_phone["id"])

    callers = {name: {"Authorization": f"Bearer {m.token}", "X-Organization": m.org} for name, m in t.members.items()}
    # Partners with and without pii:read: masked PII is the same on both paths, like every role's.
    for scopes in (
        ("orders:read",),
        ("accounts:read",),
        ("orders:read", "accounts:read"),
        ("orders:read", "accounts:read", "pii:read"),
    ):
        client = await register(owner, api, scopes=scopes, name="app " + " ".join(scopes))
        callers["partner " + "+".join(scopes)] = {"Authorization": f"Bearer {await access_token(http, client)}"}
    other = await tenants.create(("owner",))
    callers["other organization"] = {"Authorization": f"Bearer {other.owner.token}", "X-Organization": other.slug}
    callers["foreign X-Organization"] = {"Authorization": f"Bearer {owner.token}", "X-Organization": other.slug}
    callers["anonymous"] = {}
    data = {
        "order_ids": [o["id"] for o in orders.values()] + [o["id"] for o in extra] + [gone_order["id"]],
        "account_ids": [a["id"] for a in accounts.values()] + [gone["id"], no_phone["id"]],
    }
    return callers, data


async def both(http, stock_http, headers: dict, query: str, variables: dict) -> httpx.Response:
    body = {"query": query, "variables": variables}
    fast = await http.post("/graphql", json=body, headers=headers)
    stock = await stock_http.post("/graphql", json=body, headers=headers)
    assert fast.status_code == stock.status_code
    assert fast.headers.get("content-type") == stock.headers.get("content-type")
    assert fast.content == stock.content, f"\n{query}\n{variables}\nfast:  {fast.text}\nstock: {stock.text}"
    return stock


def _fill(variables: dict, data: dict) -> dict:
    out = dict(variables)
    if out.get("id") == "ORDER":
        out["id"] = data["order_ids"][1]
    if out.get("id") == "ACCOUNT":
        out["id"] = data["account_ids"][0]
    return out


# -- the tests -----------------------------------------------------------------------------------


async def test_the_orders_page_is_planned_and_the_same_for_every_caller(http, stock_http, shop):
    callers, _data = shop
    stats = graphql_view(http).fast_path.stats
    for name, headers in callers.items():
        before = stats["planned"]
        response = await both(http, stock_http, headers, README_ORDERS_PAGE, {})
        planned = stats["planned"] - before
        if "data" in response.json() and not response.json().get("errors"):
            assert planned == 1, name  # answered by the plan, not by strawberry
        else:
            assert planned == 0, name  # errors (sign-in, forbidden) are strawberry's
    # Sanity: the page really has content, for the owner.
    body = (await http.post("/graphql", json={"query": README_ORDERS_PAGE}, headers=callers["owner"])).json()
    edges = body["data"]["orders"]["edges"]
    assert len(edges) > 20 and any(len(e["node"]["items"]) > 1 for e in edges)
    assert all(e["node"]["account"] is not None for e in edges)  # a deleted account still shows


async def test_queries_of_the_docs_and_tests_answer_the_same(http, stock_http, shop):
    callers, data = shop
    corpus = [(README_ORDERS_PAGE, {}), (ORDERS_PAGE, {"n": 7}), *DOC_QUERIES]
    fast_path = graphql_view(http).fast_path
    before = fast_path.stats["written by postgresql"]
    for headers in callers.values():
        for query, variables in corpus:
            await both(http, stock_http, headers, query, _fill(variables, data))
    _written_by_postgresql(fast_path, before, 20)


def _written_by_postgresql(fast_path, before: int, at_least: int) -> None:
    """On PostgreSQL, a good share of the answers compared were written by the database itself
    (sqljson.py), not by Python's writer: the comparison covers that path too."""
    if fast_path.settings.is_postgres and fast_path.settings.sql_json:
        assert fast_path.stats["written by postgresql"] - before >= at_least, fast_path.stats


async def test_pages_follow_the_same_cursors(http, stock_http, shop):
    callers, _data = shop
    query = """query($after: String, $o: OrderOrder) { orders(first: 4, after: $after, orderBy: $o) {
        edges { cursor node { number total { amount } } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    fast_path = graphql_view(http).fast_path
    before = fast_path.stats["written by postgresql"]
    for caller in ("owner", "north1", "sales"):
        for field in ("CREATED_AT", "UPDATED_AT", "NUMBER", "TOTAL"):
            for direction in ("ASC", "DESC"):
                after, pages = None, 0
                while True:
                    variables = {"after": after, "o": {"field": field, "direction": direction}}
                    page = (await both(http, stock_http, callers[caller], query, variables)).json()["data"]["orders"]
                    pages += 1
                    if not page["pageInfo"]["hasNextPage"]:
                        break
                    after = page["pageInfo"]["endCursor"]
                assert pages >= (2 if caller == "owner" else 1)
    _written_by_postgresql(fast_path, before, 24)  # every sort's cursors, dates, numbers and decimals


@pytest.mark.parametrize("seed_block", range(4))
async def test_generated_selections_answer_the_same(http, stock_http, shop, seed_block):
    callers, data = shop
    names = list(callers)
    stats = graphql_view(http).fast_path.stats
    before, written = stats["planned"], stats["written by postgresql"]
    for seed in range(seed_block * 50, seed_block * 50 + 50):
        caller = names[seed % len(names)]
        marketing = seed % 3 == 0
        failing = caller.startswith("partner") or (caller == "logistics" and marketing)
        query, variables = generate(seed, data, marketing=marketing, failing=failing)
        if variables.get("after") == "AFTER":
            # A real cursor: the end of the first page of the same query.
            first_page = (await stock_http.post(
                "/graphql", json={"query": query, "variables": {**variables, "after": None}}, headers=callers["owner"]
            )).json()  # fmt: skip
            cursor = None
            for value in (first_page.get("data") or {}).values():
                if isinstance(value, dict) and "pageInfo" in value:
                    cursor = value["pageInfo"].get("endCursor")
            variables["after"] = cursor
        await both(http, stock_http, callers[caller], query, variables)
    # The comparison means something only if the fast path answered a good share itself.
    assert stats["planned"] - before >= 15, stats
    _written_by_postgresql(graphql_view(http).fast_path, written, 5)


async def test_with_the_setting_off_nothing_is_planned(shop, stock_http):
    callers, _data = shop
    stats = graphql_view(stock_http).fast_path.stats
    await stock_http.post("/graphql", json={"query": README_ORDERS_PAGE}, headers=callers["owner"])
    assert stats["planned"] == 0


async def test_the_planned_page_costs_the_same_statements_for_10_and_50_orders(http, stock_http, shop):
    callers, _data = shop
    stats = graphql_view(http).fast_path.stats
    counts = {}
    # Twice first: a document already answered takes the lean lane on PostgreSQL, whatever its
    # page size, and a caller it has seen is checked inside the page's statement.
    for _ in range(2):
        await http.post("/graphql", json={"query": ORDERS_PAGE, "variables": {"n": 1}}, headers=callers["owner"])
    for n in (10, 30):
        before = stats["planned"]
        with QueryCounter() as fast:
            response = await http.post(
                "/graphql", json={"query": ORDERS_PAGE, "variables": {"n": n}}, headers=callers["owner"]
            )
        assert len(response.json()["data"]["orders"]["edges"]) == n
        assert stats["planned"] == before + 1
        with QueryCounter() as stock:
            await stock_http.post(
                "/graphql", json={"query": ORDERS_PAGE, "variables": {"n": n}}, headers=callers["owner"]
            )
        counts[n] = (fast.count, stock.count)
    assert counts[10][0] == counts[30][0], counts
    # Token, membership, orders, statuses, accounts, items (on PostgreSQL: the page written by
    # the database, the caller checked in the same statement): no more than the stock path's.
    assert counts[30][0] <= counts[30][1], counts


async def test_another_organization_sees_none_of_the_orders_on_the_planned_path(http, shop):
    callers, data = shop
    stats = graphql_view(http).fast_path.stats
    before = stats["planned"]
    headers = callers["other organization"]
    page = (await http.post("/graphql", json={"query": README_ORDERS_PAGE}, headers=headers)).json()
    assert page["data"]["orders"]["edges"] == []
    for order_id in data["order_ids"][:5]:
        body = {"query": "query($id: ID!) { order(id: $id) { id number } }", "variables": {"id": order_id}}
        assert (await http.post("/graphql", json=body, headers=headers)).json()["data"] == {"order": None}
    account = {"query": "query($id: ID!) { account(id: $id) { id } }", "variables": {"id": data["account_ids"][0]}}
    assert (await http.post("/graphql", json=account, headers=headers)).json()["data"] == {"account": None}
    assert stats["planned"] == before + 7  # all answered by the plan, with the caller's Scope


async def test_the_account_view_with_contacts_and_orders_is_planned(http, stock_http, shop):
    callers, data = shop
    query, _variables = next(q for q in DOC_QUERIES if q[0].lstrip().startswith("query Account360"))
    stats = graphql_view(http).fast_path.stats
    lane = graphql_view(http).lean_lane.stats
    body = {"query": query, "variables": {"id": data["account_ids"][0]}}
    # Once first: on the lean lane the caller is then remembered and checked inside the page.
    await http.post("/graphql", json=body, headers=callers["owner"])
    before, answered = stats["planned"], lane["answered"]
    with QueryCounter() as fast:
        account = (await http.post("/graphql", json=body, headers=callers["owner"])).json()["data"]["account"]
    assert account["contacts"] and account["orders"]["edges"]
    assert stats["planned"] == before + 1
    # Token, membership, account, contacts, orders, statuses, items; on PostgreSQL the database
    # writes the account with its contacts and orders in one statement, and on the lean lane (a
    # document answered before, a caller seen before) the caller is checked inside it.
    on_lane = lane["answered"] == answered + 1
    if graphql_view(http).fast_path.settings.is_postgres:
        assert fast.count == (1 if on_lane else 3), fast.statements
    else:
        assert fast.count == 7, fast.statements
    await both(http, stock_http, callers["owner"], query, body["variables"])


async def test_a_failure_inside_the_fast_path_still_gets_the_stock_answer(http, stock_http, shop, monkeypatch, caplog):
    import server.graphql.fastpath as fastpath

    async def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the planned path")

    monkeypatch.setattr(fastpath, "run_connection", broken)
    monkeypatch.setattr(fastpath.sqljson, "fetch", broken)
    callers, _data = shop
    stats = graphql_view(http).fast_path.stats
    lane = graphql_view(http).lean_lane.stats
    before, declined = stats["fallback"], lane["declined"]
    response = await both(http, stock_http, callers["owner"], README_ORDERS_PAGE, {})
    assert response.json()["data"]["orders"]["edges"]
    # On PostgreSQL the lean lane tried the plan first, then handed the request to the view.
    assert stats["fallback"] == before + 1 + (lane["declined"] - declined)
    assert "fast path failed" in caplog.text  # operators see it


async def test_hostile_filters_and_deleted_orders_answer_the_same(http, stock_http, shop):
    callers, _data = shop
    owner = callers["owner"]
    page = "query($w: OrderWhere, $d: Boolean!) { orders(first: 5, where: $w, includeDeleted: $d) { edges { node { id number } } } }"
    for where in (
        {"waybillNumber": {"contains": "a\u0000b"}},  # NUL: no column can store it
        {"externalId": {"eq": "x" * 200_000}},  # longer than any text field
    ):
        response = await both(http, stock_http, owner, page, {"w": where, "d": False})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", where
    stats = graphql_view(http).fast_path.stats
    before = stats["planned"]
    listed = await both(http, stock_http, owner, page, {"w": None, "d": True})
    assert stats["planned"] == before + 1  # includeDeleted is planned too
    shown = await both(http, stock_http, owner, page, {"w": None, "d": False})
    assert len(listed.json()["data"]["orders"]["edges"]) >= len(shown.json()["data"]["orders"]["edges"])


async def test_masked_pii_is_planned_and_the_same_on_both_paths(http, stock_http, shop):
    """Callers without pii:read (analyst, logistics, a partner without the scope) get masked
    phones, e-mails and addresses from the planned path exactly as strawberry masks them."""
    callers, data = shop
    query = """query($id: ID!) { order(id: $id) { delivery { recipientPhone address }
        account { phone phones addresses contacts { phones emails } } } }"""
    stats = graphql_view(http).fast_path.stats
    orders = data["order_ids"][len(OWNERS) + 1 : len(OWNERS) + 24 : 4]  # the extra orders with a recipient
    for name in ("owner", "analyst", "logistics", "partner orders:read+accounts:read"):
        for order_id in orders:
            before = stats["planned"]
            body = (await both(http, stock_http, callers[name], query, {"id": order_id})).json()
            assert stats["planned"] == before + 1, name
            delivery = body["data"]["order"]["delivery"]
            phone = body["data"]["order"]["account"]["phone"]
            if name == "owner":
                assert delivery["recipientPhone"].startswith("+380675550") and "*" not in phone
            elif name == "logistics":  # ships the order: the recipient in full, the customer masked
                assert delivery["recipientPhone"].startswith("+380675550") and "*****" in phone
            else:
                assert delivery["recipientPhone"].startswith("+38067*****") and delivery["address"] == "***"
                assert "*****" in phone
    query = "query($id: ID!) { account(id: $id) { addresses contacts { emails } } }"
    for name, addresses in (("owner", ["Київ, вул. Хрещатик, 1", "Львів"]), ("analyst", ["Київ, ***", "Львів"])):
        body = (await both(http, stock_http, callers[name], query, {"id": data["account_ids"][-1]})).json()
        assert body["data"]["account"]["addresses"] == addresses
