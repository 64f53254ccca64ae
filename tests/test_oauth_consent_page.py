"""The consent page in a real browser: Authlib's OAuth client starts the authorization code
flow with PKCE against the live server, a person signs in and allows (or denies) in headless
Chromium, and the client gets its code at the redirect URI and exchanges it over HTTP."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

from authlib.integrations.httpx_client import AsyncOAuth2Client

from tests.helpers import PASSWORD
from tests.test_oauth import ORDERS
from tests.test_oauth_code import register_app
from tests.test_orders import create_order, make_account

CALLBACK = "/partner-callback"  # nothing is served there: the test reads the address the browser reached


async def start(live_server, api, owner, scope="orders:read"):
    redirect_uri = live_server + CALLBACK
    app = await register_app(api, owner, redirect_uri)
    client = AsyncOAuth2Client(
        app["client_id"], app["client_secret"], scope=scope, redirect_uri=redirect_uri, code_challenge_method="S256"
    )
    verifier = secrets.token_urlsafe(48)
    url, state = client.create_authorization_url(live_server + "/oauth/authorize", code_verifier=verifier)
    return client, url, state, verifier


async def sign_in(page, email, button):
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation(url=f"**{CALLBACK}?**"):
        await page.click(f"button[value={button}]")
    return page.url


async def test_a_person_allows_the_app_in_the_browser(live_server, api, tenants, browser_page):
    shop = await tenants.create(("owner",))
    await create_order(shop.owner, api, await make_account(shop.owner, api))
    client, url, state, verifier = await start(live_server, api, shop.owner)
    async with client:
        response = await browser_page.goto(url)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp  # no script at all
        assert await browser_page.locator("h1").inner_text() == f"Call centre wants access to Shop {shop.slug}"
        assert await browser_page.locator("#scopes li").all_inner_texts() == ["See orders"]
        callback = await sign_in(browser_page, shop.owner.email, "approve")
        assert parse_qs(urlsplit(callback).query)["state"] == [state]
        token = await client.fetch_token(
            live_server + "/oauth/token", authorization_response=callback, code_verifier=verifier
        )
    assert token["scope"] == "orders:read" and token["refresh_token"]
    assert (await api.data(ORDERS, token=token["access_token"]))["orders"]["totalCount"] == 1
    assert browser_page.blocked_requests == []


async def test_denying_sends_access_denied_to_the_app(live_server, api, tenants, browser_page):
    shop = await tenants.create(("owner",))
    client, url, state, _verifier = await start(live_server, api, shop.owner)
    async with client:
        await browser_page.goto(url)
        callback = await sign_in(browser_page, shop.owner.email, "deny")
    query = parse_qs(urlsplit(callback).query)
    assert query["error"] == ["access_denied"] and query["state"] == [state] and "code" not in query


async def test_the_page_speaks_ukrainian(live_server, api, tenants, browser):
    shop = await tenants.create(("owner",))
    _client, url, _state, _verifier = await start(live_server, api, shop.owner, scope="orders:read accounts:read")
    context = await browser.new_context(locale="uk-UA")
    try:
        page = await context.new_page()
        await page.goto(url)
        texts = await page.locator("#scopes li").all_inner_texts()
        assert texts == ["Бачити замовлення", "Бачити клієнтів і компанії"]
        assert await page.locator("button[value=approve]").inner_text() == "Увійти й дозволити"
    finally:
        await context.close()


async def test_a_shops_owner_installs_a_partners_app_in_the_browser(live_server, api, tenants, browser_page):
    partner = await tenants.create(("owner",))
    shop = await tenants.create(("owner",))
    await create_order(shop.owner, api, await make_account(shop.owner, api))
    client, url, _state, verifier = await start(live_server, api, partner.owner)
    update = "mutation($i: UpdateOAuthClientInput!) { updateOAuthClient(input: $i) { errors { code } } }"
    [app] = (await partner.owner.data(api, "{ oauthClients { id } }"))["oauthClients"]
    await partner.owner.data(api, update, {"i": {"id": app["id"], "installable": True}})
    async with client:
        await browser_page.goto(url)
        assert await browser_page.locator("h1").inner_text() == "Call centre asks to be installed in your organization"
        await browser_page.fill("#organization", shop.slug)
        callback = await sign_in(browser_page, shop.owner.email, "approve")
        token = await client.fetch_token(
            live_server + "/oauth/token", authorization_response=callback, code_verifier=verifier
        )
    assert token["organization"] == shop.slug and "refresh_token" not in token
    assert (await api.data(ORDERS, token=token["access_token"]))["orders"]["totalCount"] == 1
    assert browser_page.blocked_requests == []
