"""Automatic persisted queries as Apollo Client, urql and graphql-request use them: hash only ->
PersistedQueryNotFound; query + hash -> checked, stored, run; later hash-only GET and POST run
it, in any API process (the store is Redis or the database, not one process's memory)."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import httpx

from server.app import create_app
from server.graphql.models import PersistedQuery
from server.graphql.persisted import forget_expired

QUERY = "query Orders { orders(first: 1) { totalCount } }"


def extensions(query: str = QUERY, version: int = 1) -> dict:
    return {"persistedQuery": {"version": version, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}


def _stores(settings) -> list:
    """The database store, and Redis too when the run has one (REDIS_URL)."""
    return [None, settings.redis_url] if settings.redis_url else [None]


def _app_client(settings, redis_url) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update={"redis_url": redis_url}), manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_hash_then_register_then_hash_only_in_another_process(database, tenants):
    for redis_url in _stores(database):
        await _register_and_reuse(database, tenants, redis_url)


async def _register_and_reuse(database, tenants, redis_url):
    t = await tenants.create(("owner",))
    headers = {"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.owner.org}
    query = QUERY.replace("Orders", f"Orders_{t.owner.org.replace('-', '_')}")  # new in every store
    ext = extensions(query)
    first_client = _app_client(database, redis_url)
    second_client = _app_client(database, redis_url)  # another process: its own LRU
    async with first_client, second_client:
        # 1. Hash only, unknown: Apollo's exact answer, HTTP 200 so the client retries with the query.
        miss = await first_client.post("/graphql", json={"extensions": ext}, headers=headers)
        assert miss.status_code == 200
        assert miss.json() == {
            "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
        }
        # 2. Query and hash: checked, stored, run.
        full = await first_client.post("/graphql", json={"query": query, "extensions": ext}, headers=headers)
        assert full.json()["data"] == {"orders": {"totalCount": 0}}
        # 3. Hash only, in the other process: POST and GET run the stored document.
        post = await second_client.post(
            "/graphql", json={"extensions": ext, "variables": {}, "operationName": None}, headers=headers
        )
        assert post.json()["data"] == {"orders": {"totalCount": 0}}
        get = await second_client.get(
            "/graphql",
            params={"extensions": json.dumps(ext)},
            headers={**headers, "Accept": "*/*"},  # Apollo Client's default Accept: still the API, not GraphiQL
        )
        assert get.status_code == 200 and get.json()["data"] == {"orders": {"totalCount": 0}}
    if redis_url is None:
        assert await PersistedQuery.filter(sha256=ext["persistedQuery"]["sha256Hash"]).exists()


async def test_wrong_hash_or_version_is_a_bad_request_and_stores_nothing(api, tenants, http):
    t = await tenants.create(("owner",))
    headers = {"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.owner.org}
    wrong = extensions("{ __typename }")
    response = await http.post("/graphql", json={"query": QUERY, "extensions": wrong}, headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "provided sha does not match query", "extensions": {"code": "BAD_REQUEST"}}]
    }
    assert not await PersistedQuery.filter(sha256=wrong["persistedQuery"]["sha256Hash"]).exists()
    again = await http.post("/graphql", json={"extensions": wrong}, headers=headers)
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    future = await http.post("/graphql", json={"query": QUERY, "extensions": extensions(version=2)}, headers=headers)
    assert future.status_code == 400
    assert future.json()["errors"][0] == {
        "message": "Unsupported persisted query version",
        "extensions": {"code": "BAD_REQUEST"},
    }
    garbage = await http.post(
        "/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": 42}}}, headers=headers
    )
    assert garbage.status_code == 400 and garbage.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_persisted_query_still_runs_with_the_callers_permissions(api, tenants, http):
    owner_tenant = await tenants.create(("owner",))
    other = await tenants.create(("owner",))
    query = "query Mine { me { user { email } } }"
    ext = extensions(query)
    owner = {"Authorization": f"Bearer {owner_tenant.owner.token}", "X-Organization": owner_tenant.owner.org}
    await http.post("/graphql", json={"query": query, "extensions": ext}, headers=owner)
    # Another tenant's member runs the same hash: their own answer, never the registrant's.
    theirs = await http.post(
        "/graphql",
        json={"extensions": ext},
        headers={"Authorization": f"Bearer {other.owner.token}", "X-Organization": other.owner.org},
    )
    assert theirs.json()["data"]["me"]["user"]["email"] == other.owner.email
    anonymous = await http.post("/graphql", json={"extensions": ext})
    assert anonymous.json()["data"]["me"] is None


async def test_expired_documents_are_forgotten_and_registered_again(database, http):
    query = "query Expiring { __typename }"
    ext = extensions(query)
    await PersistedQuery.create(sha256=ext["persistedQuery"]["sha256Hash"], query=query)
    await PersistedQuery.filter(sha256=ext["persistedQuery"]["sha256Hash"]).update(
        created_at=datetime.now(UTC) - timedelta(days=database.persisted_query_days + 1)
    )
    assert await forget_expired(database) >= 1
    assert not await PersistedQuery.filter(sha256=ext["persistedQuery"]["sha256Hash"]).exists()


async def test_anonymous_callers_and_non_graphql_text_register_nothing(api, tenants, http):
    """Nobody can fill the shared store without an account, nor with text that is not GraphQL."""
    t = await tenants.create(("owner",))
    member = {"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.owner.org}
    anonymous_query = "query Anonymous_" + t.owner.org.replace("-", "_") + " { __typename }"
    ext = extensions(anonymous_query)
    ran = await http.post("/graphql", json={"query": anonymous_query, "extensions": ext})
    assert ran.json()["data"] == {"__typename": "Query"}  # it runs, but is not kept
    assert not await PersistedQuery.filter(sha256=ext["persistedQuery"]["sha256Hash"]).exists()
    again = await http.post("/graphql", json={"extensions": ext}, headers=member)
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    junk = "x" * 5000 + t.owner.org
    refused = await http.post("/graphql", json={"query": junk, "extensions": extensions(junk)}, headers=member)
    assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert not await PersistedQuery.filter(sha256=extensions(junk)["persistedQuery"]["sha256Hash"]).exists()
