"""The audit trail names who acted when it was not a person: a partner's OAuth app (its name and
client id), an API key (its name and prefix), a plugin (its title), and a person acting through
an app (the person, and the app). Changes to grants, keys and apps are audited with before and
after, and never with a secret in them."""

from __future__ import annotations

import hashlib
import json

from server.audit import service as audit
from server.auth.scope import Scope
from server.organizations.models import Organization
from tests.test_api_keys import CREATE as CREATE_KEY
from tests.test_oauth import access_token, register
from tests.test_oauth_code import REDIRECT, register_app, tokens_for

TRAIL = """query($w: AuditEntryWhere) { auditEntries(first: 50, where: $w) { edges { node {
    action actorKind changes actor { email }
    actedBy { kind id displayName clientId keyPrefix user { email } via { kind displayName clientId } } } } } }"""
CREATE_ACCOUNT = """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }"""
UPDATE = (
    """mutation($i: UpdateOAuthClientInput!) { updateOAuthClient(input: $i) { client { scopes } errors { code } } }"""
)
ROTATE = """mutation($i: OAuthClientIdInput!) { rotateOAuthClientSecret(input: $i) { clientSecret errors { code } } }"""
REVOKE_KEY = """mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { revokedAt } errors { code } } }"""
GRANTS = "{ oauthGrants { id } }"
REVOKE_GRANT = """mutation($i: RevokeOAuthGrantInput!) { revokeOAuthGrant(input: $i) { revoked errors { code } } }"""


async def trail(api, member, action: str) -> list[dict]:
    data = await member.data(api, TRAIL, {"w": {"action": {"eq": action}}})
    return [edge["node"] for edge in data["auditEntries"]["edges"]]


async def test_a_change_by_an_oauth_app_names_the_app(http, api, tenants):
    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api, scopes=("accounts:write",), name="Warehouse app")
    token = await access_token(http, client)
    made = await api.data(CREATE_ACCOUNT, {"i": {"name": "Олена", "phones": ["0671234567"]}}, token=token)
    assert made["createAccount"]["errors"] == []

    [entry] = await trail(api, shop.owner, "account.create")
    client_id = client["client"]["clientId"]
    assert entry["actorKind"] == "app" and entry["actor"] is None  # the old fields, as before
    assert entry["actedBy"] == {
        "kind": "OAUTH_APP",
        "id": client_id,
        "displayName": f"Warehouse app ({client_id})",
        "clientId": client_id,
        "keyPrefix": None,
        "user": None,
        "via": None,
    }


async def test_a_change_by_an_api_key_names_the_key(api, tenants):
    shop = await tenants.create(("owner",))
    made = await shop.owner.data(api, CREATE_KEY, {"i": {"name": "BI import", "role": "admin"}})
    key, prefix = made["createApiKey"]["key"], made["createApiKey"]["apiKey"]["prefix"]
    await api.data(CREATE_ACCOUNT, {"i": {"name": "Петро", "phones": ["0671234568"]}}, token=key)

    [entry] = await trail(api, shop.owner, "account.create")
    assert entry["actedBy"]["kind"] == "API_KEY"
    assert entry["actedBy"]["displayName"] == f"BI import ({prefix})" and entry["actedBy"]["keyPrefix"] == prefix


async def test_a_change_by_a_plugin_names_the_plugin(api, tenants):
    shop = await tenants.create(("owner",))
    organization = await Organization.get(slug=shop.slug)
    scope = Scope.for_app(organization, "delivery:novaposhta", "delivery-tracking")
    await audit.record(scope, "shipment.status", organization, {"status": ["created", "delivered"]})

    [entry] = await trail(api, shop.owner, "shipment.status")
    assert entry["actedBy"]["kind"] == "PLUGIN"
    assert (entry["actedBy"]["id"], entry["actedBy"]["displayName"]) == ("novaposhta", "Nova Poshta")


async def test_a_person_acting_through_an_app_is_named_with_the_app(http, api, tenants):
    shop = await tenants.create(("owner",))
    partner = await register_app(api, shop.owner, REDIRECT, scopes=("accounts:write", "orders:read"))
    tokens = await tokens_for(http, partner, shop.owner.email, scope="accounts:write")
    await api.data(CREATE_ACCOUNT, {"i": {"name": "Ірина", "phones": ["0671234569"]}}, token=tokens["access_token"])

    [entry] = await trail(api, shop.owner, "account.create")
    assert entry["actor"] == {"email": shop.owner.email}
    assert entry["actedBy"]["kind"] == "USER" and entry["actedBy"]["user"] == {"email": shop.owner.email}
    assert entry["actedBy"]["via"] == {
        "kind": "OAUTH_APP",
        "displayName": f"Call centre ({partner['client_id']})",
        "clientId": partner["client_id"],
    }
    # The trail can be searched for everything done through one app.
    through = await shop.owner.data(api, TRAIL, {"w": {"actorVia": {"eq": f"oauth:{partner['client_id']}"}}})
    actions = {edge["node"]["action"] for edge in through["auditEntries"]["edges"]}
    assert actions == {"account.create", "oauth_grant.create"}


async def test_grants_are_audited_when_given_and_when_revoked(http, api, tenants):
    shop = await tenants.create(("owner",))
    partner = await register_app(api, shop.owner, REDIRECT)
    first = await tokens_for(http, partner, shop.owner.email)
    [given] = await trail(api, shop.owner, "oauth_grant.create")
    assert given["changes"]["scopes"] == [None, ["orders:read"]]
    assert given["changes"]["grant"][0] is None and shop.owner.email in given["changes"]["grant"][1]
    assert given["actedBy"]["user"] == {"email": shop.owner.email}
    assert given["actedBy"]["via"]["clientId"] == partner["client_id"]

    # The app revokes its own token (RFC 7009): the grant ends, named as the app's doing.
    revoked = await http.post(
        "/oauth/revoke", data={"token": first["refresh_token"]}, auth=(partner["client_id"], partner["client_secret"])
    )
    assert revoked.status_code == 200
    [by_app] = await trail(api, shop.owner, "oauth_grant.revoke")
    assert by_app["actedBy"]["kind"] == "OAUTH_APP"
    assert by_app["changes"]["grant"][1] is None and shop.owner.email in by_app["changes"]["grant"][0]
    assert by_app["changes"]["reason"] == [None, "revoked by the app"]

    # An admin revokes another consent: named as the admin.
    await tokens_for(http, partner, shop.owner.email)
    [grant] = (await shop.owner.data(api, GRANTS))["oauthGrants"]
    await shop.owner.data(api, REVOKE_GRANT, {"i": {"id": grant["id"]}})
    entries = await trail(api, shop.owner, "oauth_grant.revoke")
    assert [e["actedBy"]["kind"] for e in entries] == ["USER", "OAUTH_APP"]  # newest first
    assert entries[0]["changes"]["reason"] == [None, "revoked by an admin"] and entries[0]["actedBy"]["via"] is None


async def test_app_and_key_changes_are_audited_with_before_and_after_and_no_secret(http, api, tenants):
    shop = await tenants.create(("owner",))
    client = await register(shop.owner, api, scopes=("orders:read",))
    client_pk = client["client"]["id"]
    await shop.owner.data(api, UPDATE, {"i": {"id": client_pk, "scopes": ["orders:read", "accounts:read"]}})
    rotated = (await shop.owner.data(api, ROTATE, {"i": {"id": client_pk}}))["rotateOAuthClientSecret"]
    made = await shop.owner.data(api, CREATE_KEY, {"i": {"name": "Export", "role": "analyst"}})
    await shop.owner.data(api, REVOKE_KEY, {"i": {"id": made["createApiKey"]["apiKey"]["id"]}})

    [created] = await trail(api, shop.owner, "oauth_client.create")
    assert created["changes"]["scopes"] == [None, ["orders:read"]]
    [updated] = await trail(api, shop.owner, "oauth_client.update")
    assert updated["changes"] == {"scopes": [["orders:read"], ["accounts:read", "orders:read"]]}
    [rotation] = await trail(api, shop.owner, "oauth_client.rotate_secret")
    [key_made] = await trail(api, shop.owner, "api_key.create")
    assert key_made["changes"]["role"] == [None, "analyst"]
    [key_revoked] = await trail(api, shop.owner, "api_key.revoke")
    assert key_revoked["changes"]["revoked_at"][0] is None and key_revoked["changes"]["revoked_at"][1]
    for entry in (created, updated, rotation, key_made, key_revoked):
        assert entry["actedBy"]["displayName"].endswith(f"<{shop.owner.email}>")

    everything = json.dumps(await shop.owner.data(api, TRAIL))
    for secret in (client["clientSecret"], rotated["clientSecret"], made["createApiKey"]["key"]):
        assert secret not in everything and hashlib.sha256(secret.encode()).hexdigest() not in everything
