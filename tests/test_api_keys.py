"""API keys for simple integrations: an owner or admin makes one with a built-in role, the key is
shown once (only its SHA-256 is stored), it looks like ``crm_live_...`` so secret scanners find a
leaked one, and it acts in its organization only, with its role, until it expires or is revoked."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from server.apikeys.models import ApiKey
from server.audit.models import AuditEntry
from server.auth.roles import ROLES
from server.graphql import ids
from tests.helpers import Tenant
from tests.test_orders import make_account

# The pattern docs/partners.md gives secret scanners.
DOCUMENTED_PATTERN = re.compile(r"crm_live_[A-Za-z0-9_-]{43}")

CREATE = """mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) {
    apiKey { id name prefix role expiresAt revokedAt lastUsedAt } key errors { field code message } } }"""
REVOKE = """mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) {
    apiKey { id revokedAt } errors { field code message } } }"""
LIST = "{ apiKeys { id name prefix role } }"
ACCOUNTS = "{ accounts(first: 10) { totalCount edges { node { id name } } } }"
CREATE_ACCOUNT = """mutation($i: CreateAccountInput!) { createAccount(input: $i) {
    account { id } errors { code } } }"""


async def make_key(member, api, role="analyst", name="BI export", **extra) -> dict:
    payload = (await member.data(api, CREATE, {"i": {"name": name, "role": role, **extra}}))["createApiKey"]
    assert payload["errors"] == [], payload
    return payload


async def with_key(http, key: str, query: str, variables: dict | None = None, header="bearer", org=None) -> dict:
    headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
    if org:
        headers["X-Organization"] = org
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    return response.json()


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_only_owners_and_admins_list_partner_apps_and_api_keys(api, tenants, role):
    shop = await tenants.create((role,))
    member = getattr(shop, role)
    for query in ("{ oauthClients { clientId } }", LIST):
        body = await member.execute(api, query)
        if role in ("owner", "admin"):
            assert "errors" not in body, body
        else:
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (role, query, body)
    # Nor can they be read one by one through node(id), given an ID from the audit trail.
    owner = (await tenants.add(Tenant(slug=member.org), f"owner-{role}", "owner")) if role != "owner" else member
    key_id = (await make_key(owner, api))["apiKey"]["id"]
    node = (await member.data(api, "query($id: ID!) { node(id: $id) { id } }", {"id": key_id}))["node"]
    assert (node is not None) == (role in ("owner", "admin")), role


async def test_a_key_is_shown_once_matches_the_documented_pattern_and_only_its_hash_is_stored(http, api, tenants):
    shop = await tenants.create(("admin",))
    created = await make_key(shop.admin, api)
    key = created["key"]
    assert DOCUMENTED_PATTERN.fullmatch(key), key
    assert created["apiKey"]["prefix"] == key[:13] and created["apiKey"]["role"] == "analyst"
    listed = (await shop.admin.data(api, LIST))["apiKeys"]
    assert listed == [{"id": created["apiKey"]["id"], "name": "BI export", "prefix": key[:13], "role": "analyst"}]
    # The list never carries the key: the type has no such field.
    assert (await shop.admin.execute(api, "{ apiKeys { key } }"))["errors"]
    row = await ApiKey.get(id=ids.decode(created["apiKey"]["id"], "ApiKey")[1])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in " ".join(str(v) for v in (await ApiKey.filter(id=row.id).values()).pop().values())
    # Both ways of sending it work.
    assert (await with_key(http, key, ACCOUNTS))["data"]["accounts"]["totalCount"] == 0
    assert (await with_key(http, key, ACCOUNTS, header="x-api-key"))["data"]["accounts"]["totalCount"] == 0
    entry = await AuditEntry.get(action="api_key.create", entity_id=row.id)
    assert entry.actor_kind == "user" and entry.changes["role"] == [None, "analyst"]


async def test_a_key_has_its_role_and_no_more_than_its_creator_could_give(http, api, tenants):
    shop = await tenants.create(("owner", "admin", "sales"))
    refused = await shop.sales.execute(api, CREATE, {"i": {"name": "x", "role": "analyst"}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    owner_key = (await shop.admin.data(api, CREATE, {"i": {"name": "x", "role": "owner"}}))["createApiKey"]
    assert owner_key["key"] is None and owner_key["errors"][0]["field"] == "role"
    assert owner_key["errors"][0]["code"] == "FORBIDDEN"
    assert (await make_key(shop.owner, api, role="owner"))["apiKey"]["role"] == "owner"
    # Roles whose rows depend on the member (team, own) make no sense for a key.
    for role in ("manager", "sales", "cashier"):
        bad = (await shop.owner.data(api, CREATE, {"i": {"name": "x", "role": role}}))["createApiKey"]
        assert bad["errors"][0]["field"] == "role" and bad["errors"][0]["code"] == "INVALID", bad
    assert await ApiKey.filter(organization__slug=shop.slug).count() == 1

    analyst = (await make_key(shop.admin, api, role="analyst"))["key"]
    await make_account(shop.owner, api)
    assert (await with_key(http, analyst, ACCOUNTS))["data"]["accounts"]["totalCount"] == 1
    denied = await with_key(http, analyst, CREATE_ACCOUNT, {"i": {"name": "Ні"}})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await with_key(http, analyst, LIST))["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    writer = await make_key(shop.admin, api, role="admin")
    made = await with_key(http, writer["key"], CREATE_ACCOUNT, {"i": {"name": "Олег", "phones": ["0501112233"]}})
    account_id = made["data"]["createAccount"]["account"]["id"]
    entry = await AuditEntry.get(action="account.create", entity_id=ids.decode(account_id)[1])
    key_id = ids.decode(writer["apiKey"]["id"], "ApiKey")[1]
    assert (entry.actor_kind, entry.actor_id) == ("app", f"apikey:{key_id}")


async def test_a_key_expires(http, api, tenants):
    shop = await tenants.create(("admin",))
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    bad = await shop.admin.data(api, CREATE, {"i": {"name": "x", "role": "analyst", "expiresAt": past}})
    assert bad["createApiKey"]["errors"][0]["field"] == "expiresAt"
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    created = await make_key(shop.admin, api, expiresAt=soon)
    assert created["apiKey"]["expiresAt"]
    assert (await with_key(http, created["key"], ACCOUNTS))["data"]["accounts"]["totalCount"] == 0
    await ApiKey.filter(id=ids.decode(created["apiKey"]["id"])[1]).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    expired = await with_key(http, created["key"], ACCOUNTS)
    assert expired["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_revoked_key_stops_at_once_and_only_its_organization_can_revoke_it(http, api, tenants):
    shop, other = await tenants.create(("owner",)), await tenants.create(("owner",))
    created = await make_key(shop.owner, api)
    elsewhere = (await other.owner.data(api, REVOKE, {"i": {"id": created["apiKey"]["id"]}}))["revokeApiKey"]
    assert elsewhere["errors"][0]["code"] == "NOT_FOUND"
    assert (await with_key(http, created["key"], ACCOUNTS))["data"]["accounts"]["totalCount"] == 0
    revoked = (await shop.owner.data(api, REVOKE, {"i": {"id": created["apiKey"]["id"]}}))["revokeApiKey"]
    assert revoked["errors"] == [] and revoked["apiKey"]["revokedAt"]
    gone = await with_key(http, created["key"], ACCOUNTS)
    assert gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    entry = await AuditEntry.get(action="api_key.revoke", entity_id=ids.decode(created["apiKey"]["id"])[1])
    assert entry.actor_kind == "user" and entry.changes["revoked_at"][0] is None


async def test_last_use_is_written_at_most_once_a_minute(http, api, tenants):
    shop = await tenants.create(("admin",))
    created = await make_key(shop.admin, api)
    pk = ids.decode(created["apiKey"]["id"])[1]
    assert (await ApiKey.get(id=pk)).last_used_at is None
    await with_key(http, created["key"], ACCOUNTS)
    first = (await ApiKey.get(id=pk)).last_used_at
    assert first is not None
    await with_key(http, created["key"], ACCOUNTS)
    assert (await ApiKey.get(id=pk)).last_used_at == first  # no second write within the minute
    await ApiKey.filter(id=pk).update(last_used_at=first - timedelta(minutes=2))
    await with_key(http, created["key"], ACCOUNTS)
    assert (await ApiKey.get(id=pk)).last_used_at > first - timedelta(seconds=1)
    listed = (await shop.admin.data(api, "{ apiKeys { lastUsedAt } }"))["apiKeys"]
    assert listed[0]["lastUsedAt"]


async def test_a_key_sees_only_its_organization(http, api, tenants):
    shop, other = await tenants.create(("owner",)), await tenants.create(("owner",))
    theirs = await make_account(other.owner, api, name="Чужий клієнт")
    await make_key(other.owner, api, name="their key")
    key = (await make_key(shop.owner, api, role="admin"))["key"]
    assert (await with_key(http, key, ACCOUNTS))["data"]["accounts"]["totalCount"] == 0
    # X-Organization cannot move a key to another organization.
    moved = await with_key(http, key, ACCOUNTS, org=other.slug)
    assert moved["data"]["accounts"]["totalCount"] == 0
    node = await with_key(http, key, "query($id: ID!) { node(id: $id) { id } }", {"id": theirs})
    assert node["data"]["node"] is None
    assert [k["name"] for k in (await with_key(http, key, LIST))["data"]["apiKeys"]] == ["BI export"]
