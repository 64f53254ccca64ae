"""What partners tripped on (issue 11, item 7): scopes that work as a group (an order is read
with its status), `viewer` telling an app or key who it is, error texts that say what went
wrong, and old codes and refresh tokens cleaned away by housekeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from server.auth.models import User
from server.jobs.housekeeping import housekeeping
from server.oauth import housekeeping as oauth_housekeeping
from server.oauth.models import OAuthAuthorizationCode, OAuthClient, OAuthRefreshToken
from tests.test_api_keys import make_key
from tests.test_oauth import REVOKE, access_token, register
from tests.test_oauth_code import REDIRECT, register_app, tokens_for
from tests.test_orders import create_order, make_account

ORDERS_WITH_STATUS = "{ orders(first: 20) { edges { node { number status { code } } } } }"
VIEWER = """{ viewer { credential name clientId keyPrefix role scopes permissions
    organization { slug } user { email } } me { email } }"""


async def test_orders_read_brings_their_statuses_along(http, api, tenants):
    shop = await tenants.create(("owner",))
    account = await make_account(shop.owner, api)
    order = await create_order(shop.owner, api, account)
    client = await register(shop.owner, api, scopes=("orders:read",))
    body = await api.execute(ORDERS_WITH_STATUS, token=await access_token(http, client))
    assert "errors" not in body, body
    [edge] = body["data"]["orders"]["edges"]
    assert edge["node"]["number"] == order["order"]["number"] and edge["node"]["status"]["code"]
    # Still not a write, nor anything the scope does not bring.
    refused = await api.execute("{ accounts(first: 1) { totalCount } }", token=await access_token(http, client))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_viewer_tells_an_app_token_who_it_is(http, api, tenants):
    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api, scopes=("orders:read", "accounts:read"), name="Warehouse app")
    body = await api.data(VIEWER, token=await access_token(http, client))
    assert body["me"] is None  # `me` is a signed-in person's
    assert body["viewer"] == {
        "credential": "OAUTH_APP",
        "name": "Warehouse app",
        "clientId": client["client"]["clientId"],
        "keyPrefix": None,
        "role": "partner",
        "scopes": ["accounts:read", "orders:read"],
        "permissions": ["accounts:read", "order_statuses:read", "orders:read"],
        "organization": {"slug": shop.slug},
        "user": None,
    }


async def test_viewer_for_a_delegated_token_an_api_key_and_a_person(http, api, tenants):
    shop = await tenants.create(("owner",))
    partner = await register_app(api, shop.owner, REDIRECT)
    delegated = (await api.data(VIEWER, token=(await tokens_for(http, partner, shop.owner.email))["access_token"]))[
        "viewer"
    ]
    assert (delegated["credential"], delegated["user"], delegated["scopes"]) == (
        "OAUTH_APP",
        {"email": shop.owner.email},
        ["orders:read"],
    )

    key = await make_key(shop.owner, api, role="analyst", name="BI export")
    by_key = (await api.data(VIEWER, token=key["key"]))["viewer"]
    assert by_key["credential"] == "API_KEY" and by_key["user"] is None
    assert (by_key["name"], by_key["keyPrefix"], by_key["role"]) == ("BI export", key["apiKey"]["prefix"], "analyst")
    assert by_key["organization"] == {"slug": shop.slug} and "orders:read" in by_key["permissions"]

    person = (await shop.owner.data(api, VIEWER))["viewer"]
    assert (person["credential"], person["user"], person["role"]) == ("SESSION", {"email": shop.owner.email}, "owner")
    assert (await api.execute(VIEWER))["data"]["viewer"] is None


async def test_a_revoked_client_is_told_it_was_revoked_only_with_its_secret(http, api, tenants):
    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api)
    await shop.owner.data(api, REVOKE, {"i": {"id": client["client"]["id"]}})
    form = {"grant_type": "client_credentials"}
    client_id = client["client"]["clientId"]

    refused = await http.post("/oauth/token", data=form, auth=(client_id, client["clientSecret"]))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert "revoked" in refused.json()["error_description"]
    introspected = await http.post("/oauth/introspect", data={"token": "x"}, auth=(client_id, client["clientSecret"]))
    assert introspected.status_code == 401 and "revoked" in introspected.json()["error_description"]

    guessed = await http.post("/oauth/token", data=form, auth=(client_id, "crm_secret_wrong"))
    assert guessed.status_code == 401 and "revoked" not in guessed.json()["error_description"]
    assert "does not exist" not in guessed.json()["error_description"]


async def test_a_json_token_request_is_told_to_send_a_form(http, api, tenants):
    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api)
    body = {"grant_type": "client_credentials"}
    refused = await http.post("/oauth/token", json=body, auth=(client["client"]["clientId"], client["clientSecret"]))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    assert "application/x-www-form-urlencoded" in refused.json()["error_description"]
    assert "grant type" not in refused.json()["error_description"]


async def _rows(client: OAuthClient, user_id, now: datetime) -> dict[str, object]:
    """Codes and refresh tokens in every state housekeeping tells apart, by name."""
    day = timedelta(days=1)

    async def code(name, expires_at, used_at=None):
        return name, await OAuthAuthorizationCode.create(
            code_hash=uuid4().hex,
            client=client,
            user_id=user_id,
            redirect_uri=REDIRECT,
            code_challenge="x",
            family=uuid4(),
            expires_at=expires_at,
            used_at=used_at,
        )

    async def refresh(name, expires_at, used_at=None, revoked_at=None):
        return name, await OAuthRefreshToken.create(
            token_hash=uuid4().hex,
            client=client,
            user_id=user_id,
            family=uuid4(),
            expires_at=expires_at,
            used_at=used_at,
            revoked_at=revoked_at,
        )

    made = [
        await code("fresh code", now + timedelta(seconds=30)),
        await code("code used just now", now - timedelta(seconds=30), used_at=now - timedelta(seconds=50)),
        await code("old used code", now - 2 * day, used_at=now - 2 * day),
        await code("old unused code", now - 2 * day),
        await refresh("live refresh", now + 20 * day),
        await refresh("rotated refresh, not expired", now + 20 * day, used_at=now - 3 * day),
        await refresh("revoked just now", now + 20 * day, revoked_at=now - timedelta(hours=1)),
        await refresh("revoked long ago", now + 20 * day, revoked_at=now - 2 * day),
        await refresh("expired long ago", now - 2 * day),
    ]
    return dict(made)


@pytest.mark.parametrize("batch", [1000, 2])
async def test_housekeeping_deletes_old_codes_and_refresh_tokens_in_batches(api, tenants, monkeypatch, batch):
    monkeypatch.setattr(oauth_housekeeping, "BATCH", batch)
    shop = await tenants.create(("owner",))
    client = await OAuthClient.get(client_id=(await register(shop.owner, api))["client"]["clientId"])
    user = await User.get(email=shop.owner.email)
    now = datetime.now(UTC)
    rows = await _rows(client, user.id, now)

    done = await housekeeping(now)
    # At least this test's (the database is shared by the session's tests).
    assert done["oauth_codes"] >= 2 and done["oauth_refresh_tokens"] >= 2
    kept = {name for name, row in rows.items() if await type(row).exists(id=row.id)}
    # A used code or rotated refresh token is kept a while: presented again, it revokes its family.
    assert kept == {
        "fresh code",
        "code used just now",
        "live refresh",
        "rotated refresh, not expired",
        "revoked just now",
    }
    again = await housekeeping(now)  # idempotent
    assert (again["oauth_codes"], again["oauth_refresh_tokens"]) == (0, 0)
