"""Rate limits of /graphql weighted by query cost: per credential, per organization, per anonymous
address, with the RateLimit / RateLimit-Policy headers (draft-ietf-httpapi-ratelimit-headers-11)
on every response and HTTP 429 with Retry-After over a limit. Counters are shared through Redis:
two app instances, and two real `crm serve` processes, count together."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import httpx
import pytest
import redis

from server.accounts.models import Account
from server.app import create_app
from server.organizations.models import Organization
from tests import test_cli
from tests.helpers import PASSWORD, QueryCounter
from tests.test_cli import _free_port, _stop, crm, new_org, ok

fresh_db = test_cli.fresh_db
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
ACCOUNTS = "{ accounts(first: 10) { totalCount edges { node { id } } } }"
ME = "{ me { user { id } } }"


def parse(header: str) -> dict[str, dict[str, int]]:
    """A RateLimit / RateLimit-Policy field value: {"token": {"r": 95, "t": 60}, ...}."""
    out = {}
    for item in header.split(","):
        name, *params = item.strip().split(";")
        out[name.strip('"')] = {k: int(v) for k, v in (p.split("=") for p in params)}
    return out


def limited_app(database, namespace=None, **limits):
    settings = database.model_copy(
        update={"rate_limit_namespace": namespace or f"crm-test-{uuid.uuid4().hex[:10]}", **limits}
    )
    app = create_app(settings, manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def post(http, query, member=None, token=None, org=None):
    headers = {}
    if member is not None:
        token, org = member.token, member.org
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if org:
        headers["X-Organization"] = org
    return await http.post("/graphql", json={"query": query}, headers=headers)


def cost_of(response: httpx.Response) -> int:
    return response.json()["extensions"]["cost"]["requested"]


@pytest.fixture
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CRM_TESTS_WITHOUT_REDIS") == "1":
            pytest.skip(f"no Redis at {REDIS_URL} and CRM_TESTS_WITHOUT_REDIS=1")
        pytest.fail(f"these tests need Redis at {REDIS_URL} ({exc}); set CRM_TESTS_WITHOUT_REDIS=1 to skip them")
    return REDIS_URL


async def test_the_headers_count_down_by_each_requests_cost(database, tenants):
    shop = await tenants.create(("owner",))
    async with limited_app(
        database, rate_limit_per_token="1000/minute", rate_limit_per_organization="5000/minute"
    ) as http:
        first = await post(http, ACCOUNTS, shop.owner)
        cost = cost_of(first)
        assert cost > 1
        assert parse(first.headers["RateLimit-Policy"]) == {
            "token": {"q": 1000, "w": 60},
            "organization": {"q": 5000, "w": 60},
        }
        assert first.headers["RateLimit-Policy"] == '"token";q=1000;w=60, "organization";q=5000;w=60'
        state = parse(first.headers["RateLimit"])
        assert state["token"]["r"] == 1000 - cost and state["organization"]["r"] == 5000 - cost
        assert 0 < state["token"]["t"] <= 60
        second = await post(http, ME, shop.owner)
        state = parse(second.headers["RateLimit"])
        assert state["token"]["r"] == 1000 - cost - cost_of(second)
        # A request refused before execution (a syntax error) spends nothing but still has the headers.
        broken = await post(http, "{ me {", shop.owner)
        assert parse(broken.headers["RateLimit"])["token"]["r"] == state["token"]["r"]


async def test_over_the_limit_429_with_retry_after_and_nothing_runs(database, tenants):
    shop = await tenants.create(("owner",))
    async with limited_app(database, rate_limit_per_token="10/minute") as http:
        cost = cost_of(await post(http, ME, shop.owner))  # 3
        statuses = [(await post(http, ME, shop.owner)).status_code for _ in range(10 // cost)]
        assert statuses.count(200) == 10 // cost - 1 and statuses[-1] == 429
        refused = await post(http, ME, shop.owner)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        body = refused.json()
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED" and body.get("data") is None
        assert parse(refused.headers["RateLimit"])["token"]["r"] == 10 - (10 // cost) * cost
        # A refused mutation writes nothing.
        mutation = """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } } }"""
        denied = await http.post(
            "/graphql",
            json={"query": mutation, "variables": {"i": {"name": "Ні"}}},
            headers={"Authorization": f"Bearer {shop.owner.token}", "X-Organization": shop.slug},
        )
        assert denied.status_code == 429
        assert await Account.filter(organization__slug=shop.slug).count() == 0


ORDERS_PAGE = "{ orders(first: 5) { edges { node { id number } } } }"


def fast_path_stats(http: httpx.AsyncClient):
    from tests.helpers import graphql_view

    return graphql_view(http).fast_path.stats


async def test_pages_answered_by_the_fast_path_spend_the_same_budget(database, tenants):
    shop = await tenants.create(("owner",))
    async with limited_app(database, rate_limit_per_token="100/minute") as http:
        stats = fast_path_stats(http)
        first = await post(http, ORDERS_PAGE, shop.owner)
        assert stats["planned"] == 1, "the page must be answered by the fast path for this test to mean anything"
        assert first.status_code == 200 and "errors" not in first.json()
        cost = cost_of(first)
        assert parse(first.headers["RateLimit"])["token"]["r"] == 100 - cost
        answers = [await post(http, ORDERS_PAGE, shop.owner) for _ in range(100 // cost)]
        allowed = 100 // cost - 1
        assert [a.status_code for a in answers] == [200] * allowed + [429]
        assert answers[-1].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_page_over_the_budget_reads_nothing_on_any_road(database, tenants):
    """Over the budget, the page is refused before its rows are read, whether the fast path,
    the lean lane (PostgreSQL) or strawberry would have answered it."""
    shop = await tenants.create(("owner",))
    async with limited_app(database, rate_limit_per_token="100/minute") as http:
        cost = cost_of(await post(http, ORDERS_PAGE, shop.owner))
        for _ in range(100 // cost - 1):
            assert (await post(http, ORDERS_PAGE, shop.owner)).status_code == 200
        with QueryCounter() as counted:
            refused = await post(http, ORDERS_PAGE, shop.owner)
        assert refused.status_code == 429
        assert not [s for s in counted.statements if 'FROM "order"' in s], counted.statements


async def test_the_organization_limit_holds_across_two_tokens(database, tenants):
    shop = await tenants.create(("owner", "admin"))
    async with limited_app(database, rate_limit_per_token="30/minute", rate_limit_per_organization="45/minute") as http:
        cost = cost_of(await post(http, ME, shop.owner))  # 3 spent by the owner
        for _ in range(5):
            assert (await post(http, ME, shop.owner)).status_code == 200  # owner: 18 of 30, org: 18 of 45
        spent = 6 * cost
        answers = [await post(http, ME, shop.admin) for _ in range(10)]
        allowed = (45 - spent) // cost
        assert [a.status_code for a in answers] == [200] * allowed + [429] * (10 - allowed)
        last = parse(answers[-1].headers["RateLimit"])
        assert last["organization"]["r"] == 45 - (6 + allowed) * cost
        assert last["token"]["r"] == 30 - allowed * cost > 0  # the admin's own budget is not what ran out
        # Another organization is not affected.
        other = await tenants.create(("owner",))
        assert (await post(http, ME, other.owner)).status_code == 200


async def test_an_organization_can_have_its_own_quota(database, tenants):
    shop = await tenants.create(("owner",))
    await Organization.filter(slug=shop.slug).update(rate_limit_per_minute=12345)
    async with limited_app(database) as http:
        response = await post(http, ME, shop.owner)
    assert parse(response.headers["RateLimit-Policy"])["organization"] == {"q": 12345, "w": 60}


async def test_anonymous_callers_are_limited_per_address(database):
    async with limited_app(database, rate_limit_per_address="5/minute") as http:
        first = await post(http, "{ __typename }")
        assert parse(first.headers["RateLimit-Policy"]) == {"address": {"q": 5, "w": 60}}
        statuses = [(await post(http, "{ __typename }")).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]


async def test_two_app_instances_share_counters_through_redis(database, tenants, redis_url):
    shop = await tenants.create(("owner",))
    namespace = f"crm-test-{uuid.uuid4().hex[:10]}"
    limits = {"redis_url": redis_url, "rate_limit_per_token": "20/minute"}
    async with limited_app(database, namespace, **limits) as one, limited_app(database, namespace, **limits) as two:
        remaining = []
        for http in (one, two, one, two, one, two, one):
            response = await post(http, ME, shop.owner)
            remaining.append((response.status_code, parse(response.headers["RateLimit"])["token"]["r"]))
    assert remaining == [(200, 17), (200, 14), (200, 11), (200, 8), (200, 5), (200, 2), (429, 2)]


def _serve(env: dict, port: int, log) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_bounded_load_across_two_crm_serve_processes_sharing_redis(fresh_db, redis_url, tmp_path):
    env = fresh_db()
    new_org(env)
    ok(crm(["user", "create", "--org", "shop", "--email", "load@shop.ua", "--role", "owner"], env, input=PASSWORD))
    env |= {
        "REDIS_URL": redis_url,
        "RATE_LIMIT_NAMESPACE": f"crm-load-{uuid.uuid4().hex[:10]}",
        "ARQ_QUEUE_NAME": f"crm-load:{uuid.uuid4().hex[:10]}",
        "RATE_LIMIT_PER_TOKEN": "300/minute",  # 100 requests of cost 3
        "RATE_LIMIT_PER_ORGANIZATION": "100000/minute",
    }
    ports = [_free_port(), _free_port()]
    logs = [(tmp_path / f"serve{i}.log").open("w") for i in range(2)]
    procs = [_serve(env, port, log) for port, log in zip(ports, logs, strict=True)]
    try:
        for proc, port, log in zip(procs, ports, logs, strict=True):
            test_cli._wait_healthy(proc, port, tmp_path / log.name)
        login = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }"
        with httpx.Client(timeout=10) as client:
            answer = client.post(
                f"http://127.0.0.1:{ports[0]}/graphql",
                json={"query": login, "variables": {"e": "load@shop.ua", "p": PASSWORD}},
            )
            token = answer.json()["data"]["login"]["token"]
            headers = {"Authorization": f"Bearer {token}"}
            results = []
            for i in range(200):  # bounded: 200 requests, alternating between the two processes
                response = client.post(f"http://127.0.0.1:{ports[i % 2]}/graphql", json={"query": ME}, headers=headers)
                state = parse(response.headers["RateLimit"])
                results.append((response.status_code, state["token"]["r"], response.headers.get("Retry-After")))
    finally:
        for proc in procs:
            _stop(proc)
        for log in logs:
            log.close()
    assert [r[0] for r in results] == [200] * 100 + [429] * 100
    assert [r[1] for r in results[:100]] == [300 - 3 * (i + 1) for i in range(100)]
    assert all(r[1] == 0 and re.fullmatch(r"\d+", r[2]) for r in results[100:])


async def test_the_api_serves_unlimited_while_the_counters_are_unreachable(database, tenants, caplog):
    import socket

    shop = await tenants.create(("owner",))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    async with limited_app(database, redis_url=f"redis://127.0.0.1:{closed_port}/0") as http:
        with caplog.at_level("WARNING"):
            response = await post(http, ME, shop.owner)
    assert response.status_code == 200 and response.json()["data"]["me"]["user"]["id"] == shop.owner.user_id
    assert "RateLimit" not in response.headers
    assert any("counters are unreachable" in r.getMessage() for r in caplog.records)


async def test_a_browser_app_may_read_the_rate_limit_headers(database):
    async with limited_app(database, cors_allowed_origins=["https://app.example.com"]) as http:
        response = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://app.example.com"}
        )
    exposed = {h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ratelimit", "ratelimit-policy", "retry-after"} <= exposed
    assert parse(response.headers["RateLimit"])["address"]["r"] >= 0


async def test_csv_downloads_and_the_report_page_spend_the_same_budget(database, tenants):
    from server.graphql.rate_limits import EXPORT_COST

    shop = await tenants.create(("owner",))
    headers = {"Authorization": f"Bearer {shop.owner.token}", "X-Organization": shop.owner.org}
    async with limited_app(database, rate_limit_per_token=f"{EXPORT_COST + 500}/minute") as http:
        first = await http.get("/analytics/customers.csv?from=2026-01-01&to=2026-01-31", headers=headers)
        assert first.status_code == 200, first.text
        second = await http.get("/analytics/customers.csv?from=2026-01-01&to=2026-01-31", headers=headers)
        assert second.status_code == 429
        assert second.json()["error"]["code"] == "RATE_LIMITED"
        assert 1 <= int(second.headers["Retry-After"]) <= 60
        assert parse(second.headers["RateLimit"])["token"]["r"] == 500
        page = await http.get("/reports", headers=headers)
        assert page.status_code == 429
        # Queries cheaper than what is left still run.
        assert (await post(http, ME, shop.owner)).status_code == 200
