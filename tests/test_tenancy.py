"""Tenant isolation: nothing of organization B can be seen, found, counted or changed by the
members of organization A, whatever ID, filter or mutation they try; and the organization a
request acts for is always one the caller belongs to."""

from __future__ import annotations

import pytest

from server.auth.models import User
from server.auth.service import add_member, create_user
from server.organizations.models import Organization
from tests.helpers import PASSWORD, Client, TenantFactory
from tests.test_accounts import (
    CONTACT,
    CONTACTS,
    CREATE_CONTACT,
    CREATE_NOTE,
    DELETE,
    DELETE_CONTACT,
    GET,
    GET_ORDER,
    LIST,
    MERGE,
    NODE,
    UPDATE,
    UPDATE_CONTACT,
    create_order,
    error,
    gql_code,
    list_accounts,
    make_account,
    make_contact,
    make_order,
)

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

ORDER_FIELDS = "id number version comment status { code } delivery { city } items { sku } account { id name }"
UPDATE_ORDER = f"""mutation($i: UpdateOrderInput!) {{ updateOrder(input: $i) {{
    order {{ {ORDER_FIELDS} }} errors {{ field code message }} }} }}"""
CHANGE_STATUS = f"""mutation($i: ChangeOrderStatusInput!) {{ changeOrderStatus(input: $i) {{
    order {{ {ORDER_FIELDS} }} errors {{ field code message }} }} }}"""
DELETE_ORDER = f"""mutation($i: DeleteOrderInput!) {{ deleteOrder(input: $i) {{
    order {{ {ORDER_FIELDS} }} errors {{ field code message }} }} }}"""
ORDERS = """query($where: OrderWhere) { orders(first: 100, where: $where) {
    edges { node { id number account { id } } } totalCount } }"""
FULL_ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
FULL_CONTACT = f"query($id: ID!) {{ node(id: $id) {{ ... on Contact {{ {CONTACT} }} }} }}"


async def build_two(api, tenants):
    """Organizations A and B; B has an account with a contact and an order."""
    a = await tenants.create(("owner", "admin", "manager", "sales", "analyst"))
    b = await tenants.create(("owner",))
    b_account = await make_account(
        b.owner,
        api,
        name="Клієнт Б",
        phones=["0671234567"],
        emails=["client@b.example"],
        tags=["vip"],
        source="rozetka",
    )
    b_contact = await make_contact(b.owner, api, b_account["id"], "Контакт Б", phones=["0501112233"])
    b_order = await make_order(b.owner, api, b_account["id"], delivery={"city": "Київ"})
    a_account = await make_account(a.owner, api, name="Клієнт А", phones=["0931234567"])
    return a, b, {"account": b_account, "contact": b_contact, "order": b_order, "a_account": a_account}


@pytest.fixture
async def two(api, tenants):
    return await build_two(api, tenants)


@pytest.fixture(scope="module")
async def two_shared(http):
    """For tests that only read."""
    api = Client(http)
    return await build_two(api, TenantFactory(api))


async def b_state(api, b, rec) -> dict:
    """Everything of B's records as B's owner sees them."""
    return {
        "account": (await b.owner.data(api, GET, {"id": rec["account"]["id"]}))["account"],
        "contact": (await b.owner.data(api, FULL_CONTACT, {"id": rec["contact"]["id"]}))["node"],
        "order": (await b.owner.data(api, FULL_ORDER, {"id": rec["order"]["id"]}))["order"],
        "accounts": (await list_accounts(b.owner, api))["totalCount"],
        "orders": (await b.owner.data(api, ORDERS))["orders"]["totalCount"],
    }


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "sales", "analyst"])
async def test_reads_never_reach_another_organization(api, two_shared, role):
    a, _b, rec = two_shared
    member = a.members[role]
    for key in ("account", "contact", "order"):
        assert (await member.data(api, NODE, {"id": rec[key]["id"]}))["node"] is None, key
    assert (await member.data(api, GET, {"id": rec["account"]["id"]}))["account"] is None
    assert (await member.data(api, GET_ORDER, {"id": rec["order"]["id"]}))["order"] is None

    # Filters that match B's record exactly find nothing (and count nothing).
    for where in (
        {"phone": {"eq": "(067) 123-45-67"}},
        {"phone": {"in": ["+380671234567"]}},
        {"email": {"eq": "client@b.example"}},
        {"tag": {"eq": "vip"}},
        {"source": {"eq": "rozetka"}},
        {"search": {"contains": "Клієнт Б"}},
        {"search": {"contains": "0671234567"}},
        {"search": {"contains": "client@b.example"}},
        {"name": {"contains": "Клієнт"}},
        {"OR": [{"phone": {"eq": "0671234567"}}, {"name": {"eq": "Клієнт Б"}}]},
    ):
        found = await list_accounts(member, api, where)
        ids = [e["node"]["id"] for e in found["edges"]]
        assert rec["account"]["id"] not in ids, where
        assert found["totalCount"] == len(ids), where
    visible = await list_accounts(member, api)
    assert rec["account"]["id"] not in [e["node"]["id"] for e in visible["edges"]]

    orders = (await member.data(api, ORDERS))["orders"]
    assert rec["order"]["id"] not in [e["node"]["id"] for e in orders["edges"]]
    by_account = (await member.data(api, ORDERS, {"where": {"account": {"eq": rec["account"]["id"]}}}))["orders"]
    assert by_account == {"edges": [], "totalCount": 0}
    by_number = (await member.data(api, ORDERS, {"where": {"number": {"eq": rec["order"]["number"]}}}))["orders"]
    assert rec["order"]["id"] not in [e["node"]["id"] for e in by_number["edges"]]
    contacts = (await member.data(api, CONTACTS, {"where": {"account": {"eq": rec["account"]["id"]}}}))["contacts"]
    assert contacts == {"edges": [], "totalCount": 0}
    everyone = (await member.data(api, CONTACTS))["contacts"]
    assert rec["contact"]["id"] not in [e["node"]["id"] for e in everyone["edges"]]


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "sales"])
async def test_writes_never_reach_another_organization(api, two, role):
    a, b, rec = two
    member = a.members[role]
    before = await b_state(api, b, rec)
    acc, order, contact = rec["account"], rec["order"], rec["contact"]
    mine = rec["a_account"]
    if role in ("manager", "sales"):
        mine = await make_account(member, api, name="Мій клієнт")  # one the caller may write

    async def mutate(query, variables, name):
        return (await member.data(api, query, {"i": variables}))[name]

    attempts = [
        (UPDATE, {"id": acc["id"], "version": acc["version"], "name": "Зламано"}, "updateAccount", "id"),
        (UPDATE, {"id": acc["id"], "version": acc["version"], "phones": ["0501112233"]}, "updateAccount", "id"),
        (CREATE_CONTACT, {"accountId": acc["id"], "name": "Шпигун"}, "createContact", "accountId"),
        (UPDATE_CONTACT, {"id": contact["id"], "version": 1, "name": "Зламано"}, "updateContact", "id"),
        (
            UPDATE_ORDER,
            {"id": order["id"], "version": order["version"], "comment": "Зламано"},
            "updateOrder",
            "id",
        ),
        (
            CHANGE_STATUS,
            {"id": order["id"], "version": order["version"], "status": "processing"},
            "changeOrderStatus",
            "id",
        ),
    ]
    if role in ("owner", "admin", "manager"):  # the roles that may delete and merge at all
        attempts += [
            (DELETE, {"id": acc["id"], "version": acc["version"]}, "deleteAccount", "id"),
            (DELETE_CONTACT, {"id": contact["id"], "version": 1}, "deleteContact", "id"),
            (DELETE_ORDER, {"id": order["id"], "version": order["version"]}, "deleteOrder", "id"),
            (MERGE, {"id": mine["id"], "version": mine["version"], "mergeId": acc["id"]}, "mergeAccounts", "mergeId"),
            (MERGE, {"id": acc["id"], "version": acc["version"], "mergeId": mine["id"]}, "mergeAccounts", "id"),
        ]
    for query, variables, name, field in attempts:
        payload = await mutate(query, variables, name)
        assert error(payload) == ("NOT_FOUND", field), (name, payload)
        assert next(v for k, v in payload.items() if k != "errors") is None

    payload = await create_order(member, api, acc["id"])
    assert error(payload) == ("NOT_FOUND", "accountId")
    note = (await member.data(api, CREATE_NOTE, {"i": {"kind": "NOTE", "accountId": acc["id"], "body": "x"}}))[
        "createActivity"
    ]
    assert note["activity"] is None
    assert note["errors"][0]["code"] == "NOT_FOUND"

    assert await b_state(api, b, rec) == before
    # A's own account is untouched by the failed merges.
    assert (await member.data(api, GET, {"id": mine["id"]}))["account"]["version"] == mine["version"]


async def test_members_of_another_organization_cannot_be_assigned(api, two):
    a, b, rec = two
    payload = (
        await a.owner.data(
            api,
            "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { field code } } }",
            {"i": {"name": "X", "ownerId": b.owner.user_id}},
        )
    )["createAccount"]
    assert payload == {"account": None, "errors": [{"field": "ownerId", "code": "NOT_FOUND"}]}
    payload = (
        await a.owner.data(api, UPDATE, {"i": {"id": rec["a_account"]["id"], "version": 1, "ownerId": b.owner.user_id}})
    )["updateAccount"]
    assert error(payload) == ("NOT_FOUND", "ownerId")
    payload = await create_order(a.owner, api, rec["a_account"]["id"], managerId=b.owner.user_id)
    assert error(payload) == ("NOT_FOUND", "managerId")
    # Filtering by B's user shows nothing, and B's user is not shown as anyone's owner.
    assert (await list_accounts(a.owner, api, {"owner": {"eq": b.owner.user_id}}))["totalCount"] == 0
    account = await a.owner.data(
        api, "query($id: ID!) { account(id: $id) { owner { email } } }", {"id": rec["a_account"]["id"]}
    )
    assert account["account"]["owner"]["email"] == a.owner.email


async def test_same_phone_key_and_number_in_two_organizations_stay_apart(api, tenants):
    a = await tenants.create(("owner",))
    b = await tenants.create(("owner",))
    in_a = await make_account(a.owner, api, name="Олена (А)", phones=["0671234567"], idempotencyKey="import-1")
    in_b = await make_account(b.owner, api, name="Олена (Б)", phones=["+380671234567"], idempotencyKey="import-1")
    assert in_a["id"] != in_b["id"]  # an idempotency key is per organization
    for member, mine in ((a.owner, in_a), (b.owner, in_b)):
        found = await list_accounts(member, api, {"phone": {"eq": "067 123 45 67"}})
        assert [e["node"]["id"] for e in found["edges"]] == [mine["id"]]
    order_a = await make_order(a.owner, api, in_a["id"])
    order_b = await make_order(b.owner, api, in_b["id"])
    assert order_a["number"] == order_b["number"] == 1
    # Merging or deleting in A leaves B's twin alone.
    await a.owner.data(api, DELETE, {"i": {"id": in_a["id"], "version": in_a["version"]}})
    assert (await list_accounts(b.owner, api, {"phone": {"eq": "0671234567"}}))["totalCount"] == 1
    assert (await b.owner.data(api, GET, {"id": in_b["id"]}))["account"]["name"] == "Олена (Б)"


async def test_x_organization_of_a_stranger_is_forbidden(api, tenants):
    a = await tenants.create(("owner",))
    b = await tenants.create(("owner",))
    for org in (b.slug, "no-such-organization"):
        for query in (LIST, "{ me { email } }", "{ orders { totalCount } }"):
            body = await api.execute(query, {}, token=a.owner.token, org=org)
            assert body.get("data") is None, body
            assert gql_code(body) == "FORBIDDEN"
            assert "not a member" in body["errors"][0]["message"]
        body = await api.execute(
            'mutation { createAccount(input: {name: "X"}) { account { id } } }', token=a.owner.token, org=org
        )
        assert gql_code(body) == "FORBIDDEN"
    # Nothing was created anywhere.
    assert (await list_accounts(b.owner, api))["totalCount"] == 0
    assert (await list_accounts(a.owner, api))["totalCount"] == 0


async def test_a_user_of_two_organizations_must_choose_one(api, tenants):
    a = await tenants.create(("owner",))
    b = await tenants.create(("owner",))
    await make_account(a.owner, api, name="Клієнт А")
    await make_account(b.owner, api, name="Клієнт Б")
    user = await create_user("both-" + a.slug + "@example.com", PASSWORD, "Both")
    await add_member(await Organization.get(slug=a.slug), user, "manager", "m")
    await add_member(await Organization.get(slug=b.slug), user, "analyst")
    factory = TenantFactory(api)
    both = await factory.login(user.email, a.slug)
    token = both.token

    me = await api.data("{ me { email role organization { slug } organizations { slug } } }", token=token)
    assert me["me"]["email"] == user.email
    assert me["me"]["organization"] is None and me["me"]["role"] is None
    assert sorted(o["slug"] for o in me["me"]["organizations"]) == sorted([a.slug, b.slug])

    for query in (LIST, "{ orders { totalCount } }", "{ contacts { totalCount } }", "{ orderStatuses { code } }"):
        body = await api.execute(query, token=token)
        assert not any((body.get("data") or {}).values()), body
        assert gql_code(body) == "ORGANIZATION_REQUIRED"
    body = await api.execute(NODE, {"id": "QWNjb3VudDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA"}, token=token)
    assert gql_code(body) == "ORGANIZATION_REQUIRED"
    body = await api.execute('mutation { createAccount(input: {name: "X"}) { account { id } } }', token=token)
    assert gql_code(body) == "ORGANIZATION_REQUIRED"

    # With the header, each organization shows its own data and the role held there.
    seen_a = await api.data(LIST, {"first": 10}, token=token, org=a.slug)
    seen_b = await api.data(LIST, {"first": 10}, token=token, org=b.slug)
    assert [e["node"]["name"] for e in seen_a["accounts"]["edges"]] == []  # a manager sees their team's only
    assert [e["node"]["name"] for e in seen_b["accounts"]["edges"]] == ["Клієнт Б"]  # an analyst sees all
    assert (await api.data("{ me { role } }", token=token, org=b.slug))["me"]["role"] == "analyst"
    denied = await api.execute(
        'mutation { createAccount(input: {name: "X"}) { account { id } } }', token=token, org=b.slug
    )
    assert gql_code(denied) == "FORBIDDEN"
    made = await api.data(
        'mutation { createAccount(input: {name: "Від менеджера"}) { account { id } errors { code } } }',
        token=token,
        org=a.slug,
    )
    assert made["createAccount"]["errors"] == []
    assert (await list_accounts(b.owner, api))["totalCount"] == 1


async def test_a_deactivated_membership_loses_the_organization(api, tenants):
    a = await tenants.create(("owner", "sales"))
    from server.auth.models import Membership

    user = await User.get(email=a.sales.email)
    await Membership.filter(user=user).update(is_active=False)
    body = await a.sales.execute(api, LIST)
    assert gql_code(body) == "FORBIDDEN"
    body = await api.execute(LIST, {}, token=a.sales.token)
    assert gql_code(body) == "ORGANIZATION_REQUIRED"
