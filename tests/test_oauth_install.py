"""One registered app installed by many organizations (issue 11, item 7): a partner registers
its app once, marks it installable, and an owner or admin of each shop installs it on the
consent page; the app then gets tokens per installation (client credentials with
``organization``) and sees that shop's data only, within the scopes the shop approved."""

from __future__ import annotations

import re

import pytest

from server.auth.models import User
from server.auth.service import add_member
from server.organizations.models import Organization
from tests.helpers import PASSWORD
from tests.test_oauth_code import REDIRECT, authorize_params, code_from, exchange, pkce, register_app
from tests.test_orders import create_order, make_account
from tests.test_partner_audit import trail

UPDATE = """mutation($i: UpdateOAuthClientInput!) { updateOAuthClient(input: $i) {
    client { installable } errors { code } } }"""
INSTALLED = """{ oauthInstallations { id appName clientId developer scopes revokedAt installedBy { email } } }"""
UNINSTALL = """mutation($i: UninstallOAuthAppInput!) { uninstallOAuthApp(input: $i) {
    installation { revokedAt } errors { code } } }"""
ORDERS = "{ orders(first: 20) { totalCount edges { node { number status { code } } } } }"
ENGLISH = {"Accept-Language": "en"}
VIEWER = "{ viewer { credential name organization { slug } user { email } } }"


@pytest.fixture
async def world(api, tenants):
    """A partner's organization with its installable app, and two shops with an order each."""
    partner_org = await tenants.create(("owner",))
    app = await register_app(api, partner_org.owner, REDIRECT, scopes=("orders:read", "accounts:read"))
    made = await partner_org.owner.data(api, UPDATE, {"i": {"id": app["id"], "installable": True}})
    assert made["updateOAuthClient"] == {"client": {"installable": True}, "errors": []}
    shops = []
    for _ in range(2):
        shop = await tenants.create(("owner", "manager"))
        await create_order(shop.owner, api, await make_account(shop.owner, api))
        shops.append(shop)
    return partner_org, app, shops


async def install(http, app, email, scope="orders:read", **form_extra):
    verifier, challenge = pkce()
    params = authorize_params(app, REDIRECT, challenge, scope=scope)
    answer = await consent_with(http, params, email, **form_extra)
    return await exchange(http, app, code_from(answer), verifier, REDIRECT)


async def consent_with(http, params, email, organization=""):
    """A person submits the consent form, reading it in English."""
    page = await http.get("/oauth/authorize", params=params, headers=ENGLISH)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": csrf, "email": email, "password": PASSWORD, "decision": "approve"}
    if organization:
        form["organization"] = organization
    return await http.post("/oauth/authorize", params=params, data=form, headers=ENGLISH)


async def client_token(http, app, organization=None, scope=None):
    form = {"grant_type": "client_credentials"}
    if organization:
        form["organization"] = organization
    if scope:
        form["scope"] = scope
    return await http.post("/oauth/token", data=form, auth=(app["client_id"], app["client_secret"]))


async def test_a_shop_installs_the_app_and_the_app_reads_that_shop_only(http, api, world):
    partner_org, app, (shop, other_shop) = world
    page = await http.get("/oauth/authorize", params=authorize_params(app, REDIRECT, pkce()[1]), headers=ENGLISH)
    assert "asks to be installed" in page.text and 'name="organization"' in page.text

    installed = await install(http, app, shop.owner.email)
    assert installed.status_code == 200, installed.text
    body = installed.json()
    assert body["organization"] == shop.slug and "refresh_token" not in body and body["scope"] == "orders:read"

    orders = await api.data(ORDERS, token=body["access_token"])
    assert orders["orders"]["totalCount"] == 1  # the shop's one order, with its status
    viewer = (await api.data(VIEWER, token=body["access_token"]))["viewer"]
    assert viewer == {
        "credential": "OAUTH_APP",
        "name": "Call centre",
        "organization": {"slug": shop.slug},
        "user": None,
    }
    introspected = await http.post(
        "/oauth/introspect", data={"token": body["access_token"]}, auth=(app["client_id"], app["client_secret"])
    )
    assert introspected.json()["active"] is True and introspected.json()["organization"] == shop.slug
    # An X-Organization header naming another shop changes nothing.
    elsewhere = await api.data(ORDERS, token=body["access_token"], org=other_shop.slug)
    assert elsewhere == orders

    # Later tokens: client credentials for that installation.
    later = await client_token(http, app, organization=shop.slug)
    assert later.status_code == 200 and later.json()["organization"] == shop.slug
    assert (await api.data(ORDERS, token=later.json()["access_token"]))["orders"]["totalCount"] == 1
    # Only the scopes the shop approved, though the app has more.
    wider = await client_token(http, app, organization=shop.slug, scope="accounts:read")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"

    # Not installed in the other shop: a clear refusal, and nothing readable there.
    refused = await client_token(http, app, organization=other_shop.slug)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    assert "not installed" in refused.json()["error_description"]
    # Without `organization`: the partner's own organization, which has no orders.
    own = await client_token(http, app)
    assert (await api.data(ORDERS, token=own.json()["access_token"]))["orders"]["totalCount"] == 0

    listed = (await shop.owner.data(api, INSTALLED))["oauthInstallations"]
    assert [(i["appName"], i["clientId"], i["scopes"], i["installedBy"]) for i in listed] == [
        ("Call centre", app["client_id"], ["orders:read"], {"email": shop.owner.email})
    ]
    assert listed[0]["developer"] == f"Shop {partner_org.slug}"
    assert (await other_shop.owner.data(api, INSTALLED))["oauthInstallations"] == []
    assert (await partner_org.owner.data(api, INSTALLED))["oauthInstallations"] == []

    [entry] = await trail(api, shop.owner, "oauth_installation.install")
    assert entry["actedBy"]["user"] == {"email": shop.owner.email}
    assert entry["changes"]["scopes"] == [None, ["orders:read"]]


async def test_uninstalling_stops_the_apps_tokens_at_once(http, api, world):
    _partner_org, app, (shop, _other) = world
    token = (await install(http, app, shop.owner.email)).json()["access_token"]
    [installation] = (await shop.owner.data(api, INSTALLED))["oauthInstallations"]

    done = await shop.owner.data(api, UNINSTALL, {"i": {"id": installation["id"]}})
    assert done["uninstallOAuthApp"]["errors"] == [] and done["uninstallOAuthApp"]["installation"]["revokedAt"]
    assert (await api.execute(ORDERS, token=token))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = await client_token(http, app, organization=shop.slug)
    assert refused.status_code == 400 and "uninstalled" in refused.json()["error_description"]
    [entry] = await trail(api, shop.owner, "oauth_installation.uninstall")
    assert entry["changes"] == {"scopes": [["orders:read"], None]}

    # Installed again, with what is approved now.
    again = await install(http, app, shop.owner.email, scope="orders:read accounts:read")
    assert again.status_code == 200 and again.json()["scope"] == "accounts:read orders:read"


async def test_only_an_owner_or_admin_installs_and_chooses_among_their_organizations(http, api, world):
    partner_org, app, (shop, other_shop) = world
    params = authorize_params(app, REDIRECT, pkce()[1])
    manager = await consent_with(http, params, shop.manager.email)
    assert manager.status_code == 403 and "owner or admin" in manager.text

    # An owner of two shops names one; without a name the page lists them.
    user = await User.get(email=shop.owner.email)
    await add_member(await Organization.get(slug=other_shop.slug), user, "admin")
    ambiguous = await consent_with(http, params, shop.owner.email)
    assert ambiguous.status_code == 400 and shop.slug in ambiguous.text and other_shop.slug in ambiguous.text
    not_theirs = await consent_with(http, params, shop.owner.email, organization=partner_org.slug)
    assert not_theirs.status_code == 403
    chosen = await consent_with(http, params, shop.owner.email, organization=other_shop.slug)
    assert chosen.status_code == 302 and "code=" in chosen.headers["location"]


async def test_the_app_being_revoked_by_its_partner_stops_every_installation(http, api, world):
    partner_org, app, (shop, _other) = world
    token = (await install(http, app, shop.owner.email)).json()["access_token"]
    revoke = "mutation($i: RevokeOAuthClientInput!) { revokeOAuthClient(input: $i) { errors { code } } }"
    await partner_org.owner.data(api, revoke, {"i": {"id": app["id"]}})
    assert (await api.execute(ORDERS, token=token))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_private_app_still_acts_for_members_of_its_own_organization_only(http, api, tenants):
    home = await tenants.create(("owner",))
    stranger = await tenants.create(("owner",))
    app = await register_app(api, home.owner, REDIRECT)
    refused = await consent_with(http, authorize_params(app, REDIRECT, pkce()[1]), stranger.owner.email)
    assert refused.status_code == 403 and "not a member" in refused.text


async def test_an_install_code_used_twice_revokes_the_token_it_gave(http, api, world):
    _partner_org, app, (shop, _other) = world
    verifier, challenge = pkce()
    code = code_from(await consent_with(http, authorize_params(app, REDIRECT, challenge), shop.owner.email))
    first = await exchange(http, app, code, verifier, REDIRECT)
    assert first.status_code == 200
    again = await exchange(http, app, code, verifier, REDIRECT)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    replayed = await api.execute(ORDERS, token=first.json()["access_token"])
    assert replayed["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
