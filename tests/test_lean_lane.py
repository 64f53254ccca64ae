"""The lean lane (server/graphql/lean.py): on PostgreSQL, a known read is answered in front of
the HTTP view with the caller read in one statement. It must answer exactly what the stock path
answers (strawberry, FAST_PATH off) for every role, and step aside whenever the caller is not
(or no longer) one it can vouch for: revoked or expired tokens, deactivated members, other
organizations. On SQLite it never answers and everything works as before."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from server.app import create_app
from server.auth.models import AuthToken, Membership, User
from server.auth.tokens import hash_token
from server.graphql import ids
from server.i18n import current_locale
from server.organizations.models import Organization
from server.roles.models import CustomRole
from tests.helpers import Client, QueryCounter, TenantFactory, app_client, graphql_view
from tests.test_accounts import make_order
from tests.test_fastpath_differential import DOC_QUERIES, README_ORDERS_PAGE
from tests.test_roles import build_org

ORDER_PAGE = next(q for q, v in DOC_QUERIES if v.get("id") == "ORDER" and "delivery" in q)
ACCOUNT_PAGE = next(q for q, _v in DOC_QUERIES if q.lstrip().startswith("query Account360"))
TWO_ROOTS = """query Two($id: ID!) {
  order(id: $id) { number items { sku quantity } }
  orders(first: 3) { edges { node { number account { name } } } }
}"""
IGNORED_HEADERS = {"date", "ratelimit", "content-length"}  # content-length: compared through the body


@pytest.fixture(scope="module")
async def stock_http(database):
    async with app_client(database, fast_path=False) as client:
        yield client


def lane_of(http: httpx.AsyncClient):
    return getattr(graphql_view(http), "lean_lane", None)


def answered(http) -> int:
    lane = lane_of(http)
    return lane.stats["answered"] if lane is not None else 0


@pytest.fixture(scope="module")
async def org(http):
    api = Client(http)
    tenants = TenantFactory(api)
    t, accounts, orders, _contacts = await build_org(api, tenants)
    return t, tenants, accounts, orders


def pages(accounts, orders) -> list[tuple[str, dict]]:
    return [
        (README_ORDERS_PAGE, {}),
        (ORDER_PAGE, {"id": orders["owner"]["id"]}),
        (ORDER_PAGE, {"id": orders["sales"]["id"]}),
        (ACCOUNT_PAGE, {"id": accounts["owner"]["id"]}),
        (ACCOUNT_PAGE, {"id": accounts["north1"]["id"]}),
    ]


async def same(http, stock_http, headers: dict, body: dict) -> httpx.Response:
    lean = await http.post("/graphql", json=body, headers=headers)
    stock = await stock_http.post("/graphql", json=body, headers=headers)
    assert lean.status_code == stock.status_code
    assert lean.content == stock.content, f"\n{body}\nlean:  {lean.text}\nstock: {stock.text}"
    lean_headers = {k: v for k, v in lean.headers.items() if k not in IGNORED_HEADERS}
    stock_headers = {k: v for k, v in stock.headers.items() if k not in IGNORED_HEADERS}
    assert lean_headers == stock_headers
    assert ("ratelimit" in lean.headers) == ("ratelimit" in stock.headers)
    return lean


async def test_every_role_gets_the_stock_answer_and_known_pages_take_the_lane(http, stock_http, org, database):
    t, _tenants, accounts, orders = org
    on_postgres = database.is_postgres
    for name, member in t.members.items():
        headers = {"Authorization": f"Bearer {member.token}", "X-Organization": member.org}
        for query, variables in pages(accounts, orders):
            body = {"query": query, "variables": variables}
            await http.post("/graphql", json=body, headers=headers)  # the document becomes known
            before = answered(http)
            response = await same(http, stock_http, headers, body)
            ok = "errors" not in response.json()
            # Answered by the lane exactly when the plan answers (PostgreSQL only); errors
            # (a role without orders:read, hidden fields) are the stock path's.
            assert answered(http) - before == (1 if ok and on_postgres else 0), (name, query[:40], response.text)
    # Sanity: the roles see different things (row scope and masking came through Scope).
    bodies = set()
    for name in ("owner", "north1", "sales", "analyst"):
        member = t.members[name]
        headers = {"Authorization": f"Bearer {member.token}", "X-Organization": member.org}
        bodies.add((await http.post("/graphql", json={"query": README_ORDERS_PAGE}, headers=headers)).content)
    assert len(bodies) == 4


async def test_a_revoked_token_is_refused_at_once(http, stock_http, org, database):
    t, tenants, _accounts, _orders = org
    member = await tenants.login(t.owner.email, t.slug)
    headers = {"Authorization": f"Bearer {member.token}", "X-Organization": member.org}
    body = {"query": README_ORDERS_PAGE}
    await http.post("/graphql", json=body, headers=headers)
    before = answered(http)
    assert "data" in (await http.post("/graphql", json=body, headers=headers)).json()
    assert answered(http) == before + (1 if database.is_postgres else 0)
    logout = await http.post("/graphql", json={"query": "mutation { logout { ok } }"}, headers=headers)
    assert logout.json()["data"]["logout"]["ok"] is True
    before = answered(http)
    refused = await same(http, stock_http, headers, body)
    assert answered(http) == before
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert refused.json()["data"] == {"orders": None}


async def test_expired_tokens_and_deactivated_members_are_refused(http, stock_http, org):
    t, tenants, _accounts, _orders = org
    body = {"query": README_ORDERS_PAGE}
    expired = await tenants.login(t.owner.email, t.slug)
    headers = {"Authorization": f"Bearer {expired.token}", "X-Organization": expired.org}
    await http.post("/graphql", json=body, headers=headers)
    await AuthToken.filter(token_hash=hash_token(expired.token)).update(expires_at=datetime.now(UTC) - timedelta(1))
    before = answered(http)
    response = await same(http, stock_http, headers, body)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert answered(http) == before

    leaver = await tenants.add(t, "leaver", "sales")
    headers = {"Authorization": f"Bearer {leaver.token}", "X-Organization": leaver.org}
    assert "errors" not in (await http.post("/graphql", json=body, headers=headers)).json()
    user_id = ids.decode(leaver.user_id, "User")[1]
    await Membership.filter(user_id=user_id, organization__slug=t.slug).update(is_active=False)
    before = answered(http)
    response = await same(http, stock_http, headers, body)
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert answered(http) == before
    # Without X-Organization: the member has no organization left.
    response = await same(http, stock_http, {"Authorization": headers["Authorization"]}, body)
    assert "errors" in response.json()
    assert answered(http) == before


async def test_other_callers_get_the_stock_answer(http, stock_http, org):
    t, tenants, _accounts, _orders = org
    other = await tenants.create(("owner",))
    body = {"query": README_ORDERS_PAGE}
    callers = [
        {"Authorization": f"Bearer {other.owner.token}", "X-Organization": other.slug},  # its own, empty page
        {"Authorization": f"Bearer {t.owner.token}", "X-Organization": other.slug},  # not a member there
        {"Authorization": f"Bearer {t.owner.token}"},  # no X-Organization: the only membership
        {"Authorization": f"Bearer {t.owner.token}", "X-Organization": ""},
        {"Authorization": "Bearer crm_not-a-token", "X-Organization": t.slug},
        {
            "Authorization": f"Bearer {t.owner.token}",
            "X-Organization": t.slug,
            "Accept": "application/graphql-response+json",
        },
        {"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.slug, "Accept-Language": "uk"},
    ]
    for headers in callers:
        await http.post("/graphql", json=body, headers=headers)
        await same(http, stock_http, headers, body)
    own = await same(http, stock_http, callers[0], body)
    assert own.json()["data"]["orders"]["edges"] == []
    # Bodies the lane does not take apart: the view answers them.
    headers = callers[2]
    for raw in (b"{", b"[]", b'{"query": 1}', b'{"query": "{ __typename }", "extra": 1}'):
        lean = await http.post("/graphql", content=raw, headers=headers | {"Content-Type": "application/json"})
        stock = await stock_http.post("/graphql", content=raw, headers=headers | {"Content-Type": "application/json"})
        assert (lean.status_code, lean.content) == (stock.status_code, stock.content)


async def test_a_persisted_query_hash_takes_the_lane(http, stock_http, org, database):
    t, _tenants, _accounts, _orders = org
    headers = {"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.slug}
    digest = hashlib.sha256(README_ORDERS_PAGE.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    for client in (http, stock_http):  # registered with the document, as Apollo's client does
        await client.post("/graphql", json={"query": README_ORDERS_PAGE, "extensions": extensions}, headers=headers)
    before = answered(http)
    response = await same(http, stock_http, headers, {"extensions": extensions})
    assert response.json()["data"]["orders"]["edges"]
    assert answered(http) == before + (1 if database.is_postgres else 0)


async def test_the_caller_is_read_once_then_checked_inside_the_page_statement(http, stock_http, org, database):
    t, tenants, _accounts, _orders = org
    north1 = await tenants.login(t.members["north1"].email, t.slug)  # a new token: not remembered yet
    headers = {"Authorization": f"Bearer {north1.token}", "X-Organization": t.slug}
    body = {"query": README_ORDERS_PAGE}
    await http.post("/graphql", json=body, headers=headers)  # the document is known already; be sure
    north1 = await tenants.login(t.members["north1"].email, t.slug)
    headers = {"Authorization": f"Bearer {north1.token}", "X-Organization": t.slug}
    before = answered(http)
    with QueryCounter() as first:
        await http.post("/graphql", json=body, headers=headers)
    with QueryCounter() as second:
        answer = await http.post("/graphql", json=body, headers=headers)
    assert answer.content == (await same(http, stock_http, headers, body)).content
    with QueryCounter() as stock:
        await stock_http.post("/graphql", json=body, headers=headers)
    if database.is_postgres:
        assert answered(http) == before + 3
        # A team manager: token, membership and team were three statements, now one; the
        # page with its statuses, accounts and items is one more (written by PostgreSQL).
        assert first.count == 2, first.statements
        assert sum("auth_token" in s for s in first.statements) == 1
        # The same token again: the caller built last time, vouched for by the page's own
        # statement, which reads the caller row again and answers only if it is unchanged.
        assert second.count == 1, second.statements
        assert "auth_token" in second.statements[0] and '"order"' in second.statements[0]
    else:
        assert answered(http) == before
    assert first.count <= stock.count


async def test_a_remembered_caller_that_changed_is_read_afresh(http, stock_http, org, database):
    """Whatever changed since the caller was remembered (role, team, language, the token), the
    answer is the stock path's for the caller as it is now, from the very next request."""
    t, tenants, accounts, orders = org
    lane = lane_of(http)
    stale = lane.stats["stale callers"] if lane is not None else 0
    member = await tenants.add(t, f"changing{len(t.members)}", "sales")
    user_id = ids.decode(member.user_id, "User")[1]
    headers = {"Authorization": f"Bearer {member.token}", "X-Organization": t.slug}
    membership = Membership.filter(user_id=user_id, organization__slug=t.slug)
    north = await Membership.get(user_id=ids.decode(t.members["north2"].user_id, "User")[1])

    async def nothing():
        await Membership.filter(user_id=user_id).first()

    organization = Organization.filter(slug=t.slug)
    quota = (await organization.first()).rate_limit_per_minute
    token = AuthToken.filter(token_hash=hash_token(member.token))
    changes = [  # (the change, whether it changes the caller's row)
        (lambda: membership.update(role="manager"), True),  # every row
        (lambda: membership.update(role="analyst"), True),  # masked phones: Python's writer
        (nothing, False),
        (lambda: membership.update(role="manager", team_id=north.team_id), True),  # team North's rows
        (lambda: User.filter(id=user_id).update(locale="en"), True),
        (lambda: organization.update(rate_limit_per_minute=10**9), True),  # the organization's budget
        (lambda: token.update(expires_at=datetime.now(UTC) + timedelta(days=2)), True),
    ]
    # Besides the pages: two root fields (PostgreSQL writes both, the caller checked in the
    # first), and one whose first root reads nothing.
    documents = [
        *pages(accounts, orders),
        (TWO_ROOTS, {"id": orders["owner"]["id"]}),
        ("query First { __typename orders(first: 2) { edges { node { number } } } }", {}),
    ]
    try:
        for change, _ in changes:
            for query, variables in documents:
                await same(http, stock_http, headers, {"query": query, "variables": variables})
            await change()
            for query, variables in documents:
                await same(http, stock_http, headers, {"query": query, "variables": variables})
    finally:
        await organization.update(rate_limit_per_minute=quota)
    if database.is_postgres:
        assert lane.stats["stale callers"] - stale == sum(changed for _, changed in changes)
    # Signed out: a query that reads nothing but __typename is checked too (alone), and the
    # stock path answers it as it answers a stranger.
    typename = {"query": "query Ping { __typename }"}
    await http.post("/graphql", json=typename, headers=headers)  # the document becomes known
    for _ in range(2):  # the quota put back above is a change too: then remembered afresh
        await same(http, stock_http, headers, typename)
    await http.post("/graphql", json={"query": "mutation { logout { ok } }"}, headers=headers)
    before, stale = answered(http), lane.stats["stale callers"] if lane is not None else 0
    await same(http, stock_http, headers, typename)
    if database.is_postgres:
        assert lane.stats["stale callers"] == stale + 1
    refused = await same(http, stock_http, headers, {"query": README_ORDERS_PAGE})
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", refused.text
    assert answered(http) == before


async def test_page_sizes_each_get_their_own_statement_and_cost(http, stock_http, org, database):
    """Page sizes are written into PostgreSQL's statement and the query cost is kept per
    document and page size: a page of one size must never be answered or charged as another."""
    t, _tenants, accounts, _orders = org
    headers = {"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.slug}
    account_orders = """query AccountOrders($id: ID!, $n: Int!) {
      account(id: $id) { name orders(first: $n) { edges { node { number } } pageInfo { hasNextPage } } }
    }"""
    page = "query Page($n: Int) { orders(first: $n) { edges { node { number } } } }"
    account_id = accounts["owner"]["id"]
    for _ in range(3):  # four orders in all: every page size below cuts the list
        await make_order(t.owner, Client(http), account_id)
    total = 4
    before = answered(http)
    sizes = (1, 3, 2, 1, 3)
    for n in sizes:
        body = {"query": account_orders, "variables": {"id": account_id, "n": n}}
        await http.post("/graphql", json=body, headers=headers)
        response = (await same(http, stock_http, headers, body)).json()
        assert len(response["data"]["account"]["orders"]["edges"]) == min(n, total)
    # 3.0 is an Int to GraphQL but not a page size to the cost estimate (the default page is):
    # the cost of one must not be kept for the other.
    for n in (3.0, 3, 3.0, None, 3):
        body = {"query": page, "variables": {"n": n}}
        await http.post("/graphql", json=body, headers=headers)
        response = (await same(http, stock_http, headers, body)).json()
        assert response["extensions"]["cost"]["requested"] > 0
    if database.is_postgres:
        assert answered(http) - before >= 2 * len(sizes)


async def test_with_the_setting_off_the_lane_answers_nothing(database, org):
    t, _tenants, _accounts, _orders = org
    app = create_app(database.model_copy(update={"lean_lane": False}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        headers = {"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.slug}
        for _ in range(2):
            response = await client.post("/graphql", json={"query": README_ORDERS_PAGE}, headers=headers)
            assert response.json()["data"]["orders"]["edges"]
        assert lane_of(client).stats["answered"] == 0


async def test_custom_roles_take_the_lane_with_their_own_rules(http, stock_http, org, database):
    t, tenants, accounts, orders = org
    organization = await Organization.get(slug=t.slug)
    grants = ["orders:read", "order_statuses:read", "accounts:read"]
    await CustomRole.create(organization=organization, name="Каса", permissions=grants, row_scope="own")
    await CustomRole.create(
        organization=organization, name="Склад", permissions=grants, hidden_fields=["Account.phone"]
    )
    cashier = await tenants.add(t, "cashier", "Каса")
    storekeeper = await tenants.add(t, "storekeeper", "Склад")
    for member in (cashier, storekeeper):
        headers = {"Authorization": f"Bearer {member.token}", "X-Organization": member.org}
        for query, variables in pages(accounts, orders):
            body = {"query": query, "variables": variables}
            await http.post("/graphql", json=body, headers=headers)
            before = answered(http)
            response = await same(http, stock_http, headers, body)
            planned = database.is_postgres and "errors" not in response.json()
            assert answered(http) - before == (1 if planned else 0), (member.role, query[:40], response.text)
    # Own rows only: the cashier owns nothing, so the page is empty.
    headers = {"Authorization": f"Bearer {cashier.token}", "X-Organization": t.slug}
    page = (await http.post("/graphql", json={"query": README_ORDERS_PAGE}, headers=headers)).json()
    assert page["data"]["orders"]["edges"] == []
    # A changed role applies from the next request: the cashier's role now sees every row. The
    # lane remembered the cashier with the old role; the page's statement finds the role row
    # changed, and the stock path answers that request; the next one is the lane's again.
    await CustomRole.filter(organization=organization, name="Каса").update(row_scope="all")
    headers = {"Authorization": f"Bearer {cashier.token}", "X-Organization": t.slug}
    before = answered(http)
    for _ in range(2):
        page = await same(http, stock_http, headers, {"query": README_ORDERS_PAGE})
        assert "errors" not in page.json(), page.text
        assert page.json()["data"]["orders"]["edges"]
    assert answered(http) == before + (1 if database.is_postgres else 0)


async def test_the_lane_speaks_the_callers_language(http, org, database, monkeypatch):
    """The person's own language beats Accept-Language in front of the view as behind it: the
    plan runs in the language the stock path would choose (server.i18n.choose)."""
    _t, tenants, _accounts, _orders = org
    shop = await tenants.create(("owner",))
    headers = {"Authorization": f"Bearer {shop.owner.token}", "X-Organization": shop.slug, "Accept-Language": "uk"}
    chosen = await http.post(
        "/graphql",
        json={"query": 'mutation { updateMyLocale(input: {locale: "en"}) { errors { code } } }'},
        headers=headers,
    )
    assert chosen.json()["data"]["updateMyLocale"]["errors"] == []
    fast_path = lane_of(http).view.fast_path
    seen: list[str] = []
    execute = fast_path.execute

    async def recording(*args, **kwargs):
        seen.append(current_locale())
        return await execute(*args, **kwargs)

    await http.post("/graphql", json={"query": README_ORDERS_PAGE}, headers=headers)  # the document becomes known
    monkeypatch.setattr(fast_path, "execute", recording)
    before = answered(http)
    response = await http.post("/graphql", json={"query": README_ORDERS_PAGE}, headers=headers)
    assert response.json()["data"]["orders"]["edges"] == []
    assert answered(http) - before == (1 if database.is_postgres else 0)
    assert seen == ["en"]
