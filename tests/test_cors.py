"""CORS: a browser app on an allowed origin may call the API; any other origin gets nothing
that lets its page read the answer."""

from __future__ import annotations

import httpx
import pytest

from server.app import create_app
from server.http.cors import DEMO_ORIGIN_REGEX

SPA = "https://app.example.com"


def _client(settings, **cors) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update=cors), manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def _preflight(origin: str, headers: str = "authorization, content-type, x-organization, accept-language") -> dict:
    return {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers}


@pytest.fixture
async def configured(database):
    async with _client(database, cors_allowed_origins=[SPA]) as client:
        yield client


async def test_a_preflight_from_an_allowed_origin_is_answered(configured):
    response = await configured.options("/graphql", headers=_preflight(SPA))
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == SPA
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "x-organization", "accept-language"):
        assert header in allowed
    # Bearer tokens, not cookies: the browser is never told to send credentials.
    assert "access-control-allow-credentials" not in response.headers
    assert int(response.headers["access-control-max-age"]) > 0


async def test_a_preflight_from_another_origin_gets_no_allow_origin(configured):
    response = await configured.options("/graphql", headers=_preflight("https://evil.example"))
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code >= 400


async def test_a_preflight_asking_for_another_header_is_refused(configured):
    response = await configured.options("/graphql", headers=_preflight(SPA, "x-secret-header"))
    assert response.status_code == 400


async def test_the_actual_request_from_an_allowed_origin_carries_allow_origin(configured, tenants):
    tenant = await tenants.create(roles=("manager",))
    response = await configured.post(
        "/graphql",
        json={"query": "{ me { email } }"},
        headers={"Origin": SPA, "Authorization": f"Bearer {tenant.manager.token}"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SPA
    assert response.json()["data"]["me"]["email"] == tenant.manager.email
    foreign = await configured.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://x.example"})
    assert "access-control-allow-origin" not in foreign.headers


async def test_by_default_no_origin_is_allowed(http):
    preflight = await http.options("/graphql", headers=_preflight(SPA))
    assert "access-control-allow-origin" not in preflight.headers
    actual = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": SPA})
    assert actual.status_code == 200 and "access-control-allow-origin" not in actual.headers


async def test_an_origin_regex_allows_a_family_of_origins(database):
    async with _client(database, cors_allowed_origin_regex=r"https://[a-z0-9-]+\.example\.com") as client:
        ok = await client.options("/graphql", headers=_preflight("https://shop-1.example.com"))
        assert ok.headers["access-control-allow-origin"] == "https://shop-1.example.com"
        # The whole origin must match, not a prefix of it.
        tricked = await client.options("/graphql", headers=_preflight("https://a.example.com.evil.example"))
        assert "access-control-allow-origin" not in tricked.headers


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:5173", True),
        ("http://127.0.0.1:3000", True),
        ("http://localhost", True),
        ("https://localhost:5173", False),
        ("http://localhost.evil.example", False),
        ("http://192.168.1.10:5173", False),
    ],
)
async def test_the_demo_allows_spa_dev_servers_on_this_machine(database, origin, allowed):
    # `crm serve --demo` sets this regex (server/cli.py); tests/test_cli.py checks it end to end.
    async with _client(database, cors_allowed_origin_regex=DEMO_ORIGIN_REGEX, demo=True) as client:
        response = await client.options("/graphql", headers=_preflight(origin))
        assert (response.headers.get("access-control-allow-origin") == origin) is allowed
