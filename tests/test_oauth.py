"""OAuth 2 for partners: an organization's admin registers a partner application, the partner
gets an access token with its client credentials at POST /oauth/token (RFC 6749 4.4) and calls
the GraphQL API with exactly the permissions it was given, in that organization only."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from server.audit.models import AuditEntry
from server.graphql import ids
from server.oauth.models import OAuthAccessToken, OAuthClient
from tests.test_orders import create_order, make_account

CREATE = """mutation($i: CreateOAuthClientInput!) { createOAuthClient(input: $i) {
    client { id name clientId scopes revokedAt lastUsedAt } clientSecret errors { field code message } } }"""
REVOKE = """mutation($i: RevokeOAuthClientInput!) { revokeOAuthClient(input: $i) {
    client { revokedAt } errors { field code message } } }"""
ORDERS = "{ orders(first: 10) { totalCount edges { node { id number } } } }"
ACCOUNTS = "{ accounts(first: 10) { totalCount } }"


async def register(admin, api, scopes=("orders:read",), name="Warehouse app") -> dict:
    payload = (await admin.data(api, CREATE, {"i": {"name": name, "scopes": list(scopes)}}))["createOAuthClient"]
    assert payload["errors"] == [], payload
    return payload


async def token_request(http, form: dict, *, basic: tuple[str, str] | None = None):
    headers = {}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    return await http.post("/oauth/token", data=form, headers=headers)


async def access_token(http, client: dict, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = await token_request(http, form, basic=(client["client"]["clientId"], client["clientSecret"]))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def as_partner(api, token: str, query: str, variables: dict | None = None) -> dict:
    return await api.execute(query, variables, token=token)


async def test_a_partner_reads_orders_with_its_token(api, http, tenants):
    shop = await tenants.create(("owner",))
    account = await make_account(shop.owner, api)
    await create_order(shop.owner, api, account)
    client = await register(shop.owner, api)
    assert client["client"]["scopes"] == ["orders:read"] and client["clientSecret"].startswith("crm_secret_")

    response = await token_request(
        http, {"grant_type": "client_credentials"}, basic=(client["client"]["clientId"], client["clientSecret"])
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "orders:read")
    assert response.headers["cache-control"] == "no-store"

    data = (await as_partner(api, body["access_token"], ORDERS))["data"]
    assert data["orders"]["totalCount"] == 1
    # Only what it was given: no accounts, no writes.
    refused = await as_partner(api, body["access_token"], ACCOUNTS)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_client_secret_post_works_too(http, api, tenants):
    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api)
    form = {
        "grant_type": "client_credentials",
        "client_id": client["client"]["clientId"],
        "client_secret": client["clientSecret"],
    }
    response = await token_request(http, form)
    assert response.status_code == 200 and response.json()["access_token"].startswith("crm_oat_")


@pytest.mark.parametrize(
    ("form", "secret", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, "wrong", 401, "invalid_client"),
        ({"grant_type": "password", "username": "a", "password": "b"}, None, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "accounts:read"}, None, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "members:write"}, None, 400, "invalid_scope"),
    ],
)
async def test_token_errors_follow_the_rfc(http, api, tenants, form, secret, status, error):
    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api)
    basic = (client["client"]["clientId"], secret or client["clientSecret"])
    response = await token_request(http, form, basic=basic)
    assert response.status_code == status and response.json()["error"] == error
    assert await OAuthAccessToken.filter(client__client_id=client["client"]["clientId"]).count() == 0


async def test_an_unknown_client_is_invalid_client(http):
    response = await token_request(http, {"grant_type": "client_credentials"}, basic=("crm_client_nope", "x"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_a_narrower_scope_gives_a_narrower_token(http, api, tenants):
    shop = await tenants.create(("owner",))
    account = await make_account(shop.owner, api)
    client = await register(shop.owner, api, scopes=("orders:read", "orders:write", "accounts:read"))
    token = await access_token(http, client, scope="orders:read")
    assert (await as_partner(api, token, ORDERS))["data"]["orders"]["totalCount"] == 0
    create = """mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } errors { code } } }"""
    variables = {
        "i": {"accountId": account, "items": [{"sku": "A", "title": "Кава", "quantity": 1, "unitPrice": "100"}]}
    }
    refused = await as_partner(api, token, create, variables)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    writer = await access_token(http, client)  # no scope asked: everything the client has
    created = (await as_partner(api, writer, create, variables))["data"]["createOrder"]
    assert created["errors"] == [] and created["order"]["id"]
    # The audit trail names the partner.
    entry = await AuditEntry.filter(action="order.create", entity_id=ids.decode(created["order"]["id"])[1]).first()
    assert (entry.actor_kind, entry.actor_id) == ("app", f"oauth:{client['client']['clientId']}")


async def test_a_partner_sees_only_its_organization(http, api, tenants):
    shop, other = await tenants.create(("owner",)), await tenants.create(("owner",))
    account = await make_account(other.owner, api)
    await create_order(other.owner, api, account)
    token = await access_token(http, await register(shop.owner, api))
    assert (await as_partner(api, token, ORDERS))["data"]["orders"]["totalCount"] == 0
    # X-Organization cannot move a token to another organization.
    moved = await api.execute(ORDERS, token=token, org=other.slug)
    assert moved["data"]["orders"]["totalCount"] == 0


async def test_revoking_stops_old_tokens_and_new_ones(http, api, tenants):
    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api)
    token = await access_token(http, client)
    revoked = (await shop.owner.data(api, REVOKE, {"i": {"id": client["client"]["id"]}}))["revokeOAuthClient"]
    assert revoked["errors"] == [] and revoked["client"]["revokedAt"]
    assert (await as_partner(api, token, ORDERS))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    response = await token_request(
        http, {"grant_type": "client_credentials"}, basic=(client["client"]["clientId"], client["clientSecret"])
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_an_expired_token_is_refused(http, api, tenants):
    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api)
    token = await access_token(http, client)
    await OAuthAccessToken.filter(client__client_id=client["client"]["clientId"]).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert (await as_partner(api, token, ORDERS))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # Hourly housekeeping deletes it; a token still valid stays.
    from server.jobs.housekeeping import housekeeping

    fresh = await access_token(http, client)
    assert (await housekeeping())["oauth_tokens"] >= 1
    assert await OAuthAccessToken.filter(client__client_id=client["client"]["clientId"]).count() == 1
    assert (await as_partner(api, fresh, ORDERS))["data"]["orders"]["totalCount"] == 0


async def test_only_owners_and_admins_manage_partners_and_secrets_are_not_stored(http, api, tenants):
    shop = await tenants.create(("owner", "admin", "sales"))
    refused = await shop.sales.execute(api, CREATE, {"i": {"name": "x", "scopes": ["orders:read"]}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = (await shop.admin.data(api, CREATE, {"i": {"name": "x", "scopes": ["settings:write"]}}))["createOAuthClient"]
    assert bad["errors"][0]["field"] == "scopes.0" and bad["errors"][0]["code"] == "INVALID"
    client = await register(shop.admin, api)
    listed = (await shop.owner.data(api, "{ oauthClients { clientId scopes } }"))["oauthClients"]
    assert listed == [{"clientId": client["client"]["clientId"], "scopes": ["orders:read"]}]
    row = await OAuthClient.get(client_id=client["client"]["clientId"])
    assert client["clientSecret"] not in (row.secret_hash, str(row.scopes))
    token = await access_token(http, client)
    assert await OAuthAccessToken.filter(token_hash=token).count() == 0  # only its hash is kept
    other = await tenants.create(("owner",))
    elsewhere = (await other.owner.data(api, REVOKE, {"i": {"id": client["client"]["id"]}}))["revokeOAuthClient"]
    assert elsewhere["errors"][0]["code"] == "NOT_FOUND"


async def test_tokens_are_only_issued_over_https(database, api, tenants):
    # Production settings: a plain-http request (no TLS, no trusted proxy saying https) is refused.
    import httpx

    from server.app import create_app

    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api)
    production = database.model_copy(update={"debug": False, "demo": False, "secret_key": "k" * 40})
    app = create_app(production, manage_db=False)
    form = {"grant_type": "client_credentials"}
    basic = (client["client"]["clientId"], client["clientSecret"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://crm.example") as plain:
        refused = await token_request(plain, form, basic=basic)
    assert refused.status_code == 400 and "https" in refused.json()["error_description"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://crm.example") as tls:
        assert (await token_request(tls, form, basic=basic)).status_code == 200


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "127.5.6.7", "[::1]:8000"])
async def test_a_loopback_host_header_does_not_switch_tls_off(database, api, tenants, host):
    # A reverse proxy forwarding to 127.0.0.1 passes on whatever Host the caller sent; a plain
    # http request must be refused whatever that header says (Authlib alone would let it pass).
    import httpx

    from server.app import create_app

    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api)
    production = database.model_copy(update={"debug": False, "demo": False, "secret_key": "k" * 40})
    app = create_app(production, manage_db=False)
    basic = (client["client"]["clientId"], client["clientSecret"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://crm.example") as plain:
        refused = await plain.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Host": host, "Authorization": "Basic " + base64.b64encode(":".join(basic).encode()).decode()},
        )
    assert refused.status_code == 400, refused.text
    assert "access_token" not in refused.json() and "https" in refused.json()["error_description"]
