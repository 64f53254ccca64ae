"""OAuth 2 authorization code with PKCE (RFC 6749 4.1, RFC 7636): a partner application acts for
a person who consented on /oauth/authorize, with the intersection of its scopes and the person's
role; refresh tokens rotate, and a reused one revokes the whole family. The flow runs with
Authlib's own client over real HTTP; the negative cases fail as the RFCs say."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from server.oauth.models import OAuthAccessToken, OAuthAuthorizationCode, OAuthRefreshToken
from tests.helpers import PASSWORD
from tests.test_oauth import CREATE, ORDERS
from tests.test_orders import create_order, make_account

SET_URIS = """mutation($i: SetOAuthClientRedirectUrisInput!) { setOAuthClientRedirectUris(input: $i) {
    client { redirectUris } errors { field code message } } }"""


async def register_app(api, member, redirect_uri, scopes=("orders:read", "accounts:read")) -> dict:
    made = (await member.data(api, CREATE, {"i": {"name": "Call centre", "scopes": list(scopes)}}))["createOAuthClient"]
    assert made["errors"] == [], made
    uris = {"i": {"id": made["client"]["id"], "redirectUris": [redirect_uri]}}
    payload = (await member.data(api, SET_URIS, uris))["setOAuthClientRedirectUris"]
    assert payload == {"client": {"redirectUris": [redirect_uri]}, "errors": []}
    return {"client_id": made["client"]["clientId"], "client_secret": made["clientSecret"], "id": made["client"]["id"]}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(app: dict, redirect_uri: str, challenge: str, **extra) -> dict:
    return {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "orders:read",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


async def consent(http, params: dict, email: str, decision="approve", password=PASSWORD):
    """A person submits the consent form (what the browser does, for the negative cases)."""
    page = await http.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": csrf, "email": email, "password": password, "decision": decision}
    return await http.post("/oauth/authorize", params=params, data=form)


def code_from(response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


async def exchange(http, app, code, verifier, redirect_uri):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    return await http.post("/oauth/token", data=form, auth=(app["client_id"], app["client_secret"]))


@pytest.fixture
async def shop(api, tenants):
    shop = await tenants.create(("owner", "manager"))
    account = await make_account(shop.owner, api)
    await create_order(shop.owner, api, account)
    return shop


REDIRECT = "https://partner.example/callback"


@pytest.fixture
async def partner(api, shop):
    return await register_app(api, shop.owner, REDIRECT)


async def tokens_for(http, partner, email, **extra):
    verifier, challenge = pkce()
    code = code_from(await consent(http, authorize_params(partner, REDIRECT, challenge, **extra), email))
    response = await exchange(http, partner, code, verifier, REDIRECT)
    assert response.status_code == 200, response.text
    return response.json()


async def test_codes_and_tokens_are_stored_hashed(http, partner, shop):
    token = await tokens_for(http, partner, shop.owner.email)
    hashes = {hashlib.sha256(token[k].encode()).hexdigest() for k in ("access_token", "refresh_token")}
    assert await OAuthAccessToken.filter(token_hash__in=hashes).count() == 1
    assert await OAuthRefreshToken.filter(token_hash__in=hashes).count() == 1
    assert await OAuthAuthorizationCode.filter(code_hash__startswith="crm_").count() == 0


async def test_the_consent_page_allows_no_script_and_posts_only_here_and_to_the_app(http, partner):
    _v, challenge = pkce()
    page = await http.get("/oauth/authorize", params=authorize_params(partner, REDIRECT, challenge))
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "form-action 'self' https://partner.example;" in csp and "frame-ancestors 'none'" in csp


async def test_a_wrong_verifier_is_invalid_grant(http, partner, shop):
    _verifier, challenge = pkce()
    code = code_from(await consent(http, authorize_params(partner, REDIRECT, challenge), shop.owner.email))
    response = await exchange(http, partner, code, "x" * 50, REDIRECT)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_pkce_is_required_and_plain_is_refused(http, partner):
    for params in (
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge": "a" * 50, "code_challenge_method": "plain"},
    ):
        query = {k: v for k, v in (authorize_params(partner, REDIRECT, "c" * 43) | params).items() if v}
        response = await http.get("/oauth/authorize", params=query)
        assert response.status_code == 302, response.text
        error = parse_qs(urlsplit(response.headers["location"]).query)
        assert error["error"] == ["invalid_request"] and error["state"] == ["xyz"]


@pytest.mark.parametrize(
    "redirect_uri",
    [REDIRECT + "/", REDIRECT + "?x=1", "https://evil.example/callback", "HTTPS://partner.example/callback"],
)
async def test_a_redirect_uri_must_match_exactly_and_is_never_followed_otherwise(http, partner, redirect_uri):
    _v, challenge = pkce()
    response = await http.get("/oauth/authorize", params=authorize_params(partner, redirect_uri, challenge))
    assert response.status_code == 400 and "location" not in response.headers
    assert "redirect" in response.text.lower()


async def test_the_token_request_must_repeat_the_same_redirect_uri(http, partner, shop):
    for wrong in ("https://partner.example/other", None):
        verifier, challenge = pkce()
        code = code_from(await consent(http, authorize_params(partner, REDIRECT, challenge), shop.owner.email))
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
        if wrong:
            form["redirect_uri"] = wrong
        response = await http.post("/oauth/token", data=form, auth=(partner["client_id"], partner["client_secret"]))
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant", response.text


async def test_a_code_works_once_and_replaying_it_revokes_what_it_gave(http, api, partner, shop):
    verifier, challenge = pkce()
    code = code_from(await consent(http, authorize_params(partner, REDIRECT, challenge), shop.owner.email))
    first = await exchange(http, partner, code, verifier, REDIRECT)
    assert first.status_code == 200
    replay = await exchange(http, partner, code, verifier, REDIRECT)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    gone = await api.execute(ORDERS, token=first.json()["access_token"])
    assert gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_expired_code_is_invalid_grant(http, partner, shop):
    verifier, challenge = pkce()
    code = code_from(await consent(http, authorize_params(partner, REDIRECT, challenge), shop.owner.email))
    await OAuthAuthorizationCode.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = await exchange(http, partner, code, verifier, REDIRECT)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def refresh(http, partner, refresh_token):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await http.post("/oauth/token", data=form, auth=(partner["client_id"], partner["client_secret"]))


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(http, api, partner, shop):
    first = await tokens_for(http, partner, shop.owner.email)
    second = await refresh(http, partner, first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await api.data(ORDERS, token=second["access_token"]))["orders"]["totalCount"] == 1
    # The old refresh token again: someone has a copy. Everything from this consent stops.
    reuse = await refresh(http, partner, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    for token in (first["access_token"], second["access_token"]):
        assert (await api.execute(ORDERS, token=token))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await refresh(http, partner, second["refresh_token"])).json()["error"] == "invalid_grant"


async def test_a_delegated_token_has_the_intersection_of_scopes_and_role(http, api, tenants):
    shop = await tenants.create(("owner", "analyst"))
    partner = await register_app(api, shop.owner, REDIRECT, scopes=("orders:read", "orders:write"))
    token = await tokens_for(http, partner, shop.analyst.email, scope="orders:read orders:write")
    assert token["scope"] == "orders:read orders:write"
    write = await api.execute(
        'mutation { createAccount(input: {kind: PERSON, name: "X"}) { errors { code } } }', token=token["access_token"]
    )
    assert write["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_scope_the_app_was_not_given_is_invalid_scope(http, partner):
    _v, challenge = pkce()
    response = await http.get(
        "/oauth/authorize", params=authorize_params(partner, REDIRECT, challenge, scope="deals:read")
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_scope"]


async def test_a_delegated_token_sees_only_its_organization(http, api, partner, shop, tenants):
    other = await tenants.create(("owner",))
    await create_order(other.owner, api, await make_account(other.owner, api))
    token = await tokens_for(http, partner, shop.owner.email)
    for org in (None, other.slug):
        orders = await api.data(ORDERS, token=token["access_token"], org=org)
        assert orders["orders"]["totalCount"] == 1  # its own order only, whatever X-Organization says


async def test_only_members_of_the_apps_organization_can_consent(http, partner, tenants):
    stranger = (await tenants.create(("owner",))).owner
    _v, challenge = pkce()
    response = await consent(http, authorize_params(partner, REDIRECT, challenge), stranger.email)
    assert response.status_code == 403 and "location" not in response.headers


async def test_a_wrong_password_stays_on_the_page(http, partner, shop):
    _v, challenge = pkce()
    response = await consent(http, authorize_params(partner, REDIRECT, challenge), shop.owner.email, password="nope")
    assert response.status_code == 400 and "location" not in response.headers


async def test_a_forged_form_is_refused(http, partner, shop):
    _v, challenge = pkce()
    params = authorize_params(partner, REDIRECT, challenge)
    form = {"csrf_token": "1.abc", "email": shop.owner.email, "password": PASSWORD, "decision": "approve"}
    response = await http.post("/oauth/authorize", params=params, data=form)
    assert response.status_code == 400 and "location" not in response.headers


async def test_a_form_token_from_another_browser_is_refused(http, partner, shop):
    """The form's token is bound to the browser that opened the page (its consent cookie): a page
    fetched by someone else cannot be replayed from the victim's browser, nor the reverse."""
    _v, challenge = pkce()
    params = authorize_params(partner, REDIRECT, challenge)
    http.cookies.clear()  # a browser that never opened the page
    page = await http.get("/oauth/authorize", params=params)
    assert page.status_code == 200 and "crm_consent_browser" in page.cookies
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": csrf, "email": shop.owner.email, "password": PASSWORD, "decision": "approve"}
    other_browser = {"Cookie": "crm_consent_browser=" + secrets.token_urlsafe(24)}
    refused = await http.post("/oauth/authorize", params=params, data=form, headers=other_browser)
    assert refused.status_code == 400 and "location" not in refused.headers
    http.cookies.clear()
    refused = await http.post("/oauth/authorize", params=params, data=form)
    assert refused.status_code == 400 and "location" not in refused.headers
    http.cookies.update(page.cookies)
    allowed = await http.post("/oauth/authorize", params=params, data=form)
    assert allowed.status_code == 302 and "code=" in allowed.headers["location"]


async def test_the_token_endpoint_says_what_is_wrong_with_a_json_body(http, partner):
    response = await http.post(
        "/oauth/token", json={"grant_type": "client_credentials"}, auth=(partner["client_id"], partner["client_secret"])
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert "x-www-form-urlencoded" in response.json()["error_description"]


async def test_revoking_a_delegated_token_ends_the_whole_grant(http, api, partner, shop):
    token = await tokens_for(http, partner, shop.owner.email)
    auth = (partner["client_id"], partner["client_secret"])
    response = await http.post("/oauth/revoke", data={"token": token["refresh_token"]}, auth=auth)
    assert response.status_code == 200
    gone = await api.execute(ORDERS, token=token["access_token"])
    assert gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await refresh(http, partner, token["refresh_token"])).json()["error"] == "invalid_grant"
    # Revoking what is unknown or already revoked is no error (RFC 7009 2.2).
    assert (await http.post("/oauth/revoke", data={"token": "nothing"}, auth=auth)).status_code == 200


async def test_revocation_and_introspection_need_the_client_and_its_own_tokens(http, api, partner, shop):
    token = await tokens_for(http, partner, shop.owner.email)
    other = await register_app(api, shop.owner, REDIRECT)
    for path in ("/oauth/revoke", "/oauth/introspect"):
        wrong = await http.post(path, data={"token": token["access_token"]}, auth=(partner["client_id"], "bad"))
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    foreign = await http.post(
        "/oauth/introspect", data={"token": token["access_token"]}, auth=(other["client_id"], other["client_secret"])
    )
    assert foreign.json() == {"active": False}
    await http.post(
        "/oauth/revoke", data={"token": token["access_token"]}, auth=(other["client_id"], other["client_secret"])
    )
    assert (await api.data(ORDERS, token=token["access_token"]))["orders"]["totalCount"] == 1  # untouched


async def test_introspection_describes_an_active_token(http, partner, shop):
    token = await tokens_for(http, partner, shop.owner.email)
    auth = (partner["client_id"], partner["client_secret"])
    body = (await http.post("/oauth/introspect", data={"token": token["access_token"]}, auth=auth)).json()
    assert body["active"] is True and body["scope"] == "orders:read" and body["client_id"] == partner["client_id"]
    assert body["organization"] == shop.slug and body["username"] == shop.owner.email and body["exp"] > body["iat"]
    await http.post("/oauth/revoke", data={"token": token["access_token"]}, auth=auth)
    assert (await http.post("/oauth/introspect", data={"token": token["access_token"]}, auth=auth)).json() == {
        "active": False
    }


async def test_the_metadata_document_names_the_endpoints(http):
    body = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert body["token_endpoint"].endswith("/oauth/token") and body["authorization_endpoint"].endswith(
        "/oauth/authorize"
    )
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["revocation_endpoint"].endswith("/oauth/revoke")
    assert body["introspection_endpoint"].endswith("/oauth/introspect")
    assert "orders:read" in body["scopes_supported"]


GRANTS = "{ oauthGrants { id client { clientId } user { email } scopes grantedAt lastRefreshedAt } }"
REVOKE_GRANT = "mutation($i: RevokeOAuthGrantInput!) { revokeOAuthGrant(input: $i) { revoked errors { code } } }"


async def test_owners_see_and_revoke_the_grants_people_gave(http, api, partner, shop, tenants):
    token = await tokens_for(http, partner, shop.manager.email)
    grants = (await shop.owner.data(api, GRANTS))["oauthGrants"]
    assert [(g["client"]["clientId"], g["user"]["email"], g["scopes"]) for g in grants] == [
        (partner["client_id"], shop.manager.email, ["orders:read"])
    ]
    # Managers do not, and another organization sees nothing and cannot revoke it.
    assert (await shop.manager.execute(api, GRANTS))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = await tenants.create(("owner",))
    assert (await other.owner.data(api, GRANTS))["oauthGrants"] == []
    elsewhere = await other.owner.data(api, REVOKE_GRANT, {"i": {"id": grants[0]["id"]}})
    assert elsewhere["revokeOAuthGrant"] == {"revoked": False, "errors": [{"code": "NOT_FOUND"}]}
    # Still working (a manager sees only their own orders: none here, within the role's row scope).
    assert (await api.data(ORDERS, token=token["access_token"]))["orders"]["totalCount"] == 0

    revoked = await shop.owner.data(api, REVOKE_GRANT, {"i": {"id": grants[0]["id"]}})
    assert revoked["revokeOAuthGrant"] == {"revoked": True, "errors": []}
    gone = await api.execute(ORDERS, token=token["access_token"])
    assert gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await shop.owner.data(api, GRANTS))["oauthGrants"] == []


UPDATE = """mutation($i: UpdateOAuthClientInput!) { updateOAuthClient(input: $i) {
    client { name scopes } errors { field code } } }"""
ROTATE = """mutation($i: OAuthClientIdInput!) { rotateOAuthClientSecret(input: $i) { clientSecret errors { code } } }"""
APP = "{ oauthApp { clientId name scopes organization { slug } actingFor { email } } me { permissions } }"


async def test_an_apps_scopes_change_and_its_secret_rotates_without_deleting_it(http, api, partner, shop):
    token = await tokens_for(http, partner, shop.owner.email)
    narrowed = await shop.owner.data(api, UPDATE, {"i": {"id": partner["id"], "scopes": ["accounts:read"]}})
    assert narrowed["updateOAuthClient"] == {
        "client": {"name": "Call centre", "scopes": ["accounts:read"]},
        "errors": [],
    }
    # A token already issued loses what its app no longer has.
    lost = await api.execute(ORDERS, token=token["access_token"])
    assert lost["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    rotated = (await shop.owner.data(api, ROTATE, {"i": {"id": partner["id"]}}))["rotateOAuthClientSecret"]
    assert rotated["errors"] == [] and rotated["clientSecret"] != partner["client_secret"]
    form = {"grant_type": "client_credentials"}
    old = await http.post("/oauth/token", data=form, auth=(partner["client_id"], partner["client_secret"]))
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    assert "does not exist" not in old.json()["error_description"]
    new = await http.post("/oauth/token", data=form, auth=(partner["client_id"], rotated["clientSecret"]))
    assert new.status_code == 200


async def test_an_app_token_can_ask_who_it_is(http, api, partner, shop):
    delegated = await tokens_for(http, partner, shop.owner.email)
    body = await api.data(APP, token=delegated["access_token"])
    assert body["oauthApp"] == {
        "clientId": partner["client_id"],
        "name": "Call centre",
        "scopes": ["orders:read"],
        "organization": {"slug": shop.slug},
        "actingFor": {"email": shop.owner.email},
    }
    # The person's role narrowed to the token's scopes, and what orders:read brings along.
    assert body["me"]["permissions"] == ["order_statuses:read", "orders:read"]
    form = {"grant_type": "client_credentials"}
    app_token = (
        await http.post("/oauth/token", data=form, auth=(partner["client_id"], partner["client_secret"]))
    ).json()
    app = (await api.data(APP, token=app_token["access_token"]))["oauthApp"]
    assert app["actingFor"] is None and app["scopes"] == ["accounts:read", "orders:read"]
    assert (await shop.owner.data(api, "{ oauthApp { name } }"))["oauthApp"] is None


async def test_the_consent_page_counts_wrong_passwords_like_login(http, partner, shop):
    _v, challenge = pkce()
    params = authorize_params(partner, REDIRECT, challenge)
    for _ in range(10):  # login_failures_per_email = 10 per 15 minutes
        await consent(http, params, shop.owner.email, password="wrong")
    blocked = await consent(http, params, shop.owner.email)  # even the right password, for now
    assert blocked.status_code == 400 and "location" not in blocked.headers
    assert "Wrong e-mail or password" not in blocked.text
