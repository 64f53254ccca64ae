"""Custom roles as owners and admins manage them: the permission catalogue, making a role (from
scratch or copied from a preset), every problem of an input at once, no escalation, presets
that cannot be changed, changes that apply from the next request and are audited, deleting a
role nobody has, roles for API keys, the special rights (refunds, CSV exports, plugin admin),
and what the schema says each root field needs."""

from __future__ import annotations

import re
import uuid

import pytest

from server.auth.principal import Principal
from server.auth.roles import ROLES as BUILT_IN
from server.auth.roles import Role
from server.auth.scope import Scope
from server.core.errors import ErrorCode, UserInputErrors
from server.graphql.needs import MUTATION, PERMISSION_RE, QUERY
from server.roles.catalogue import NAMES
from server.roles.service import check_within
from tests.helpers import PASSWORD, QueryCounter
from tests.test_accounts import make_account, make_order
from tests.test_api_keys import CREATE as CREATE_KEY
from tests.test_api_keys import REVOKE as REVOKE_KEY
from tests.test_api_keys import with_key

CREATE_ROLE = """mutation($i: CreateRoleInput!) { createRole(input: $i) {
    role { id name description permissions rowScope hiddenFields builtIn } errors { field code message } } }"""
UPDATE_ROLE = """mutation($i: UpdateRoleInput!) { updateRole(input: $i) {
    role { id name permissions rowScope hiddenFields } errors { field code message } } }"""
DELETE_ROLE = """mutation($i: DeleteRoleInput!) { deleteRole(input: $i) {
    role { name } errors { field code message } } }"""
ROLES = "{ roles { id name permissions rowScope hiddenFields builtIn } }"
CATALOGUE = "{ permissions { objectType label permissions { name action description } } }"
CREATE_MEMBER = """mutation($i: CreateMemberInput!) { createMember(input: $i) {
    member { id role } errors { field code message } } }"""
UPDATE_MEMBER = """mutation($i: UpdateMemberInput!) { updateMember(input: $i) {
    member { id role } errors { field code message } } }"""
MEMBERS = "{ members { id role user { email } } }"
ME = "{ me { role permissions } }"
AUDIT = """query($where: AuditEntryWhere) { auditEntries(first: 20, where: $where) {
    edges { node { action entityType changes actor { email } } } } }"""
ORDERS = "{ orders(first: 5) { edges { node { id } } } }"
UPDATE_ORDER = """mutation($i: UpdateOrderInput!) { updateOrder(input: $i) {
    order { id paymentStatus } errors { field code message } } }"""
UNINSTALL = """mutation($i: PluginInstallationVersionInput!) { uninstallPlugin(input: $i) {
    installation { id } errors { field code message } } }"""
CREATE_SEGMENT = """mutation($i: CreateSegmentInput!) { createSegment(input: $i) {
    segment { id csvPath } errors { field code message } } }"""


async def make_role(member, api, name: str, **fields) -> dict:
    payload = (await member.data(api, CREATE_ROLE, {"i": {"name": name, **fields}}))["createRole"]
    assert payload["errors"] == [], payload
    return payload["role"]


async def add_member(api, tenants, t, by, role: str, name: str | None = None):
    """A member with ``role`` made through createMember (as people do), signed in."""
    email = f"{name or role}-{uuid.uuid4().hex[:8]}@example.com"
    made = await by.data(api, CREATE_MEMBER, {"i": {"email": email, "name": "X", "role": role, "password": PASSWORD}})
    assert made["createMember"]["errors"] == [], made
    member = await tenants.login(email, t.slug)
    member.role = role
    return member, made["createMember"]["member"]["id"]


async def test_catalogue_groups_every_permission_per_object_type_with_a_description(api, tenants):
    t = await tenants.create(("sales",))
    groups = (await t.sales.data(api, CATALOGUE))["permissions"]
    listed = {p["name"]: p for g in groups for p in g["permissions"]}
    assert set(listed) == NAMES
    by_type = {g["objectType"]: [p["action"] for p in g["permissions"]] for g in groups}
    assert by_type["orders"] == ["read", "create", "update", "delete", "refund"]
    assert by_type["accounts"] == ["read", "create", "update", "delete"]
    assert by_type["data"] == ["export", "import"] and by_type["plugins"] == ["admin"]
    assert all(p["description"] and g["label"] for g in groups for p in g["permissions"])
    ukrainian = await api.http.post("/graphql", json={"query": CATALOGUE}, headers={"Accept-Language": "uk"})
    english = await api.http.post("/graphql", json={"query": CATALOGUE}, headers={"Accept-Language": "en"})
    first_uk = ukrainian.json()["data"]["permissions"][0]
    first_en = english.json()["data"]["permissions"][0]
    assert first_en["label"] == "Customers and companies"
    assert first_uk["label"] != first_en["label"]


async def test_copy_a_preset_then_change_it(api, tenants):
    t = await tenants.create(("owner", "admin"))
    role = await make_role(t.admin, api, "Склад-2", copyFrom="logistics", description="Другий склад")
    presets = {r["name"]: r for r in (await t.admin.data(api, ROLES))["roles"]}
    logistics = presets["logistics"]
    assert role["permissions"] == logistics["permissions"]
    assert (role["rowScope"], role["hiddenFields"]) == (logistics["rowScope"], logistics["hiddenFields"])
    assert role["builtIn"] is False and role["id"] and logistics["builtIn"] is True and logistics["id"] is None
    assert role["description"] == "Другий склад"
    changed = (
        await t.admin.data(
            api, UPDATE_ROLE, {"i": {"name": "Склад-2", "permissions": ["orders:read"], "hiddenFields": []}}
        )
    )["updateRole"]
    assert changed["errors"] == [] and changed["role"]["permissions"] == ["orders:read"]
    entries = [
        e["node"]
        for e in (await t.owner.data(api, AUDIT, {"where": {"entityType": {"eq": "CustomRole"}}}))["auditEntries"][
            "edges"
        ]
    ]
    update = next(e for e in entries if e["action"] == "role.update")
    assert update["changes"]["permissions"] == [logistics["permissions"], ["orders:read"]]
    assert update["changes"]["hidden_fields"] == [logistics["hiddenFields"], []]
    create = next(e for e in entries if e["action"] == "role.create")
    assert create["changes"]["copied_from"] == [None, "logistics"]
    assert create["actor"]["email"] == t.admin.email


async def test_every_problem_of_an_input_at_once(api, tenants):
    t = await tenants.create(("admin",))
    bad = {
        "name": "owner",
        "permissions": ["orders:read", "orders:fly", "accounts:read", "nothing"],
        "rowScope": "galaxy",
        "hiddenFields": ["Account.name"],
    }
    payload = (await t.admin.data(api, CREATE_ROLE, {"i": bad}))["createRole"]
    assert payload["role"] is None
    assert sorted((e["field"], e["code"]) for e in payload["errors"]) == [
        ("hiddenFields.0", "INVALID"),
        ("name", "DUPLICATE"),
        ("permissions.1", "INVALID"),
        ("permissions.3", "INVALID"),
        ("rowScope", "INVALID"),
    ]
    assert "orders:fly" in next(e["message"] for e in payload["errors"] if e["field"] == "permissions.1")
    await make_role(t.admin, api, "Каса", permissions=["orders:read"])
    again = (await t.admin.data(api, CREATE_ROLE, {"i": {"name": "Каса"}}))["createRole"]
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("name", "DUPLICATE")]


async def test_nobody_gives_more_than_they_have(api, tenants):
    t = await tenants.create(("owner", "admin"))
    hr_permissions = ["members:read", "members:create", "members:update", "accounts:read"]
    await make_role(t.owner, api, "hr", permissions=hr_permissions, rowScope="team")
    hr, _ = await add_member(api, tenants, t, t.owner, "hr")
    # More permissions, a wider row scope: refused, both named at once.
    refused = (
        await hr.data(
            api,
            CREATE_ROLE,
            {"i": {"name": "boss", "permissions": ["accounts:read", "orders:delete"], "rowScope": "all"}},
        )
    )["createRole"]
    assert {e["code"] for e in refused["errors"]} == {"FORBIDDEN"} and len(refused["errors"]) == 2
    assert "orders:delete" in refused["errors"][0]["message"]
    # Within their own rights: fine.
    await make_role(hr, api, "reader", permissions=["accounts:read"], rowScope="own")
    # Giving a member a built-in role above theirs, or changing an admin: refused.
    admin_member = next(m for m in (await t.owner.data(api, MEMBERS))["members"] if m["role"] == "admin")
    demote = (await hr.data(api, UPDATE_MEMBER, {"i": {"id": admin_member["id"], "role": "reader"}}))["updateMember"]
    assert {(e["field"], e["code"]) for e in demote["errors"]} == {("id", "FORBIDDEN")}
    _, reader_id = await add_member(api, tenants, t, hr, "reader")
    promote = (await hr.data(api, UPDATE_MEMBER, {"i": {"id": reader_id, "role": "admin"}}))["updateMember"]
    assert {(e["field"], e["code"]) for e in promote["errors"]} == {("role", "FORBIDDEN")}
    assert any("members:delete" in e["message"] for e in promote["errors"])  # every missing right named
    # Nor may hr widen a role beyond their own rights.
    widen = (
        await hr.data(api, UPDATE_ROLE, {"i": {"name": "reader", "permissions": ["accounts:read", "deals:read"]}})
    )["updateRole"]
    assert [e["code"] for e in widen["errors"]] == ["FORBIDDEN"]
    # The admin has everything, so any combination is theirs to give.
    ok = await make_role(t.admin, api, "auditor", permissions=["audit:read", "plugins:admin"])
    assert ok["permissions"] == ["audit:read", "plugins:admin"]


async def test_presets_cannot_be_changed_or_deleted(api, tenants):
    t = await tenants.create(("owner",))
    changed = (await t.owner.data(api, UPDATE_ROLE, {"i": {"name": "sales", "permissions": []}}))["updateRole"]
    deleted = (await t.owner.data(api, DELETE_ROLE, {"i": {"name": "admin"}}))["deleteRole"]
    assert [(e["field"], e["code"]) for e in changed["errors"]] == [("name", "FORBIDDEN")]
    assert [(e["field"], e["code"]) for e in deleted["errors"]] == [("name", "FORBIDDEN")]
    sales = next(r for r in (await t.owner.data(api, ROLES))["roles"] if r["name"] == "sales")
    assert "orders:create" in sales["permissions"]


async def test_members_without_the_right_cannot_manage_roles(api, tenants):
    t = await tenants.create(("manager", "analyst"))
    for member in (t.manager, t.analyst):
        body = await member.execute(api, CREATE_ROLE, {"i": {"name": "x", "permissions": []}})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_changed_or_renamed_role_applies_on_the_next_request(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api, name="Клієнт")
    await make_order(t.owner, api, account["id"])
    await make_role(t.owner, api, "orders-desk", permissions=["orders:read", "accounts:read", "order_statuses:read"])
    desk, desk_id = await add_member(api, tenants, t, t.owner, "orders-desk")
    assert len((await desk.data(api, ORDERS))["orders"]["edges"]) == 1
    me = (await desk.data(api, ME))["me"]
    assert me == {"role": "orders-desk", "permissions": ["accounts:read", "order_statuses:read", "orders:read"]}
    renamed = (
        await t.owner.data(api, UPDATE_ROLE, {"i": {"name": "orders-desk", "newName": "desk", "permissions": []}})
    )["updateRole"]
    assert renamed["errors"] == []
    assert next(m for m in (await t.owner.data(api, MEMBERS))["members"] if m["id"] == desk_id)["role"] == "desk"
    body = await desk.execute(api, ORDERS)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await desk.data(api, ME))["me"] == {"role": "desk", "permissions": []}
    # A custom role may be given by its ID as well as by its name.
    reader = await make_role(t.owner, api, "reader", permissions=["orders:read"])
    by_id = (await t.owner.data(api, UPDATE_MEMBER, {"i": {"id": desk_id, "role": reader["id"]}}))["updateMember"]
    assert by_id == {"member": {"id": desk_id, "role": "reader"}, "errors": []}
    unknown = (await t.owner.data(api, UPDATE_MEMBER, {"i": {"id": desk_id, "role": "x" * 40}}))["updateMember"]
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [("role", "INVALID")]


async def test_a_role_in_use_is_not_deleted(api, tenants, http):
    t = await tenants.create(("owner",))
    await make_role(t.owner, api, "bi", permissions=["accounts:read"])
    _, member_id = await add_member(api, tenants, t, t.owner, "bi")
    key = (await t.owner.data(api, CREATE_KEY, {"i": {"name": "BI", "role": "bi"}}))["createApiKey"]
    assert key["errors"] == [] and key["apiKey"]["role"] == "bi"
    assert "errors" not in await with_key(http, key["key"], "{ accounts(first: 1) { totalCount } }")
    refused = (await t.owner.data(api, DELETE_ROLE, {"i": {"name": "bi"}}))["deleteRole"]
    [error] = refused["errors"]
    # The message (in the organization's language) names the role and how many members and keys have it.
    assert error["code"] == "CONFLICT" and "bi" in error["message"]
    assert re.findall(r"\d+", error["message"]) == ["1", "1"], error
    await t.owner.data(api, UPDATE_MEMBER, {"i": {"id": member_id, "role": "analyst"}})
    await t.owner.data(api, REVOKE_KEY, {"i": {"id": key["apiKey"]["id"]}})
    deleted = (await t.owner.data(api, DELETE_ROLE, {"i": {"name": "bi"}}))["deleteRole"]
    assert deleted == {"role": {"name": "bi"}, "errors": []}
    assert "bi" not in {r["name"] for r in (await t.owner.data(api, ROLES))["roles"]}
    entries = (await t.owner.data(api, AUDIT, {"where": {"action": {"eq": "role.delete"}}}))["auditEntries"]["edges"]
    assert entries[0]["node"]["changes"]["permissions"] == [["accounts:read"], None]


async def test_api_keys_take_custom_roles_that_see_all_rows(api, tenants, http):
    t = await tenants.create(("owner",))
    await make_role(t.owner, api, "reader-all", permissions=["accounts:read"])
    await make_role(t.owner, api, "reader-team", permissions=["accounts:read"], rowScope="team")
    await make_account(t.owner, api, name="Клієнт")
    team = (await t.owner.data(api, CREATE_KEY, {"i": {"name": "x", "role": "reader-team"}}))["createApiKey"]
    assert [(e["field"], e["code"]) for e in team["errors"]] == [("role", "INVALID")]
    made = (await t.owner.data(api, CREATE_KEY, {"i": {"name": "x", "role": "reader-all"}}))["createApiKey"]
    assert made["errors"] == []
    read = await with_key(http, made["key"], "{ accounts(first: 5) { totalCount } }")
    assert read["data"]["accounts"]["totalCount"] == 1
    write = await with_key(http, made["key"], 'mutation { createAccount(input: {name: "x"}) { errors { code } } }')
    assert write["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_refunds_are_a_right_of_their_own(api, tenants):
    t = await tenants.create(("owner", "sales"))
    perms = ["orders:read", "orders:update", "accounts:read", "order_statuses:read"]
    await make_role(t.owner, api, "cashier", permissions=perms)
    await make_role(t.owner, api, "refunder", permissions=[*perms, "orders:refund"])
    cashier, _ = await add_member(api, tenants, t, t.owner, "cashier")
    refunder, _ = await add_member(api, tenants, t, t.owner, "refunder")
    account = await make_account(t.owner, api, name="Клієнт")
    order = await make_order(t.owner, api, account["id"])
    refund = {"id": order["id"], "version": order["version"], "paymentStatus": "REFUNDED"}
    refused = (await cashier.data(api, UPDATE_ORDER, {"i": refund}))["updateOrder"]
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("paymentStatus", "FORBIDDEN")]
    paid = (await cashier.data(api, UPDATE_ORDER, {"i": {**refund, "paymentStatus": "PAID"}}))["updateOrder"]
    assert paid["errors"] == [] and paid["order"]["paymentStatus"] == "PAID"
    done = (await refunder.data(api, UPDATE_ORDER, {"i": {**refund, "version": refund["version"] + 1}}))["updateOrder"]
    assert done["errors"] == [] and done["order"]["paymentStatus"] == "REFUNDED"


async def test_csv_exports_need_the_export_right(api, tenants):
    t = await tenants.create(("owner",))
    await make_role(t.owner, api, "viewer", permissions=["accounts:read", "analytics:read", "orders:read"])
    await make_role(
        t.owner, api, "exporter", permissions=["accounts:read", "analytics:read", "orders:read", "data:export"]
    )
    viewer, _ = await add_member(api, tenants, t, t.owner, "viewer")
    exporter, _ = await add_member(api, tenants, t, t.owner, "exporter")
    segment = (await t.owner.data(api, CREATE_SEGMENT, {"i": {"name": "Усі", "rules": {}}}))["createSegment"]
    assert segment["errors"] == [], segment
    for path in (segment["segment"]["csvPath"], "/analytics/customers.csv?from=2026-02-01&to=2026-02-28"):
        statuses = {}
        for who in (viewer, exporter):
            headers = {"Authorization": f"Bearer {who.token}", "X-Organization": t.slug}
            statuses[who.role] = (await api.http.get(path, headers=headers)).status_code
        assert statuses == {"viewer": 403, "exporter": 200}, path


async def test_plugin_administration_is_a_right_of_its_own(api, tenants):
    t = await tenants.create(("owner",))
    await make_role(t.owner, api, "settings", permissions=["settings:read", "settings:create", "settings:update"])
    await make_role(t.owner, api, "plugins", permissions=["settings:read", "plugins:admin"])
    settings, _ = await add_member(api, tenants, t, t.owner, "settings")
    plugins, _ = await add_member(api, tenants, t, t.owner, "plugins")
    missing = {"id": "UGx1Z2luSW5zdGFsbGF0aW9uOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA", "version": 1}
    refused = await settings.execute(api, UNINSTALL, {"i": missing})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    allowed = (await plugins.data(api, UNINSTALL, {"i": missing}))["uninstallPlugin"]
    assert [e["code"] for e in allowed["errors"]] == ["NOT_FOUND"]  # allowed to try: there is no such plugin


async def test_a_custom_role_costs_one_statement_a_built_in_none(api, tenants):
    t = await tenants.create(("owner", "analyst"))
    await make_role(t.owner, api, "analyst-2", copyFrom="analyst")
    custom, _ = await add_member(api, tenants, t, t.owner, "analyst-2")
    counts = {}
    for member in (t.analyst, custom):
        await member.data(api, ME)  # warm: nothing cached across requests, but first-use imports
        with QueryCounter() as q:
            assert (await member.data(api, ME))["me"]["role"] == member.role
        counts[member.role] = q.count
    assert counts["analyst-2"] == counts["analyst"] + 1, counts


@pytest.mark.parametrize("root", ["Query", "Mutation"])
async def test_every_root_field_says_what_it_needs(api, tenants, root):
    t = await tenants.create(("owner",))
    introspect = f'{{ __type(name: "{root}") {{ fields {{ name description }} }} }}'
    fields = (await t.owner.data(api, introspect))["__type"]["fields"]
    assert set(QUERY if root == "Query" else MUTATION) == {f["name"] for f in fields}
    for f in fields:
        description = f["description"] or ""
        named = PERMISSION_RE.findall(description)
        assert named or re.search(r"\bPublic[.:]", description), f
        for resource, action in named:
            write = action == "write" and {f"{resource}:create", f"{resource}:update"} <= NAMES
            assert f"{resource}:{action}" in NAMES or write, (f["name"], resource, action)


def test_a_caller_limited_to_some_fields_gives_that_limit_at_most():
    """Logistics may change only delivery fields of orders: it may pass on its own role, never
    a role that changes orders freely or reads what is hidden from it."""
    logistics = Scope(Principal(kind="user", id="x", role=BUILT_IN["logistics"]))
    check_within(logistics, BUILT_IN["logistics"], "role")
    with pytest.raises(UserInputErrors) as refused:
        check_within(logistics, Role("free", "", {"orders": ("read", "update")}), "role")
    assert [e.code for e in refused.value.errors] == [ErrorCode.FORBIDDEN, ErrorCode.FORBIDDEN]


async def test_a_settings_role_may_not_give_an_app_more_than_it_has(api, tenants):
    """An app's token reaches every row and field: a custom role with settings rights but
    without pii:read (or orders) may not mint one with them."""
    shop = await tenants.create(("owner",))
    spec = {
        "name": "settings-clerk",
        "permissions": ["settings:read", "settings:create", "settings:update", "accounts:read"],
        "rowScope": "all",
    }
    made = await shop.owner.data(
        api, "mutation($i: CreateRoleInput!) { createRole(input: $i) { errors { field code } } }", {"i": spec}
    )
    assert made["createRole"]["errors"] == []
    clerk = await tenants.add(shop, "clerk", "owner")
    from server.auth.models import Membership
    from server.graphql import ids

    await Membership.filter(user_id=ids.decode(clerk.user_id)[1]).update(role="settings-clerk")
    create = """mutation($i: CreateOAuthClientInput!) { createOAuthClient(input: $i) {
        clientSecret errors { field code message } } }"""
    too_much = await clerk.data(api, create, {"i": {"name": "Leak", "scopes": ["accounts:read", "pii:read"]}})
    assert too_much["createOAuthClient"]["clientSecret"] is None
    assert [(e["field"], e["code"]) for e in too_much["createOAuthClient"]["errors"]] == [("scopes", "FORBIDDEN")]
    within = await clerk.data(api, create, {"i": {"name": "Sync", "scopes": ["accounts:read"]}})
    assert within["createOAuthClient"]["errors"] == [] and within["createOAuthClient"]["clientSecret"]
