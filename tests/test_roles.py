"""The built-in roles through GraphQL: what each may read and write on accounts and orders, on
which rows (all / team / own), which fields logistics may not see or change, and the
admin-only order configuration."""

from __future__ import annotations

import pytest

from tests.helpers import Client, TenantFactory
from tests.test_accounts import (
    CREATE,
    CREATE_CONTACT,
    DELETE,
    DELETE_CONTACT,
    GET,
    GET_ORDER,
    LIST,
    MERGE,
    NODE,
    UPDATE,
    UPDATE_CONTACT,
    create_account,
    create_order,
    error,
    gql_code,
    list_accounts,
    make_account,
    make_contact,
    make_order,
    update_account,
)
from tests.test_tenancy import CHANGE_STATUS, DELETE_ORDER, ORDERS, UPDATE_ORDER

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

ITEMS = [{"sku": "CUP-6", "title": "Чашки", "quantity": "1", "unitPrice": "349.50"}]
MARKETING = ("tags", "emails", "source", "customFields")
STATUSES = "{ orderStatuses { id code next { code } } }"
CREATE_STATUS = """mutation($i: CreateOrderStatusInput!) { createOrderStatus(input: $i) {
    status { id code name next { code } } errors { field code message } } }"""
SET_TRANSITIONS = """mutation($i: SetOrderStatusTransitionsInput!) { setOrderStatusTransitions(input: $i) {
    status { id code next { code } } errors { field code message } } }"""
UPDATE_STATUS = """mutation($i: UpdateOrderStatusInput!) { updateOrderStatus(input: $i) {
    status { id name } errors { field code message } } }"""
DELETE_STATUS = """mutation($i: DeleteOrderStatusInput!) { deleteOrderStatus(input: $i) {
    status { id } errors { field code message } } }"""

OWNERS = ("owner", "manager", "north1", "north2", "south", "sales", "sales2")


async def build_org(api: Client, tenants: TenantFactory):
    """Every role (members without a team), plus two managers of team North, one of team South
    and a second salesperson; one account (with a contact and an order) owned by each of them."""
    t = await tenants.create()
    await tenants.add(t, "north1", "manager", "North")
    await tenants.add(t, "north2", "manager", "North")
    await tenants.add(t, "south", "manager", "South")
    await tenants.add(t, "sales2", "sales", "North")
    accounts, orders, contacts = {}, {}, {}
    for who in OWNERS:
        member = t.members[who]
        accounts[who] = await make_account(
            member,
            api,
            name=f"Клієнт {who}",
            phones=[f"067{OWNERS.index(who):07d}"],
            emails=[f"{who}@client.example"],
            tags=["vip"],
            source="website",
            customFields={"who": who},
        )
        orders[who] = await make_order(member, api, accounts[who]["id"])
        contacts[who] = await make_contact(member, api, accounts[who]["id"], f"Контакт {who}")
    return t, accounts, orders, contacts


@pytest.fixture(scope="module")
async def org(http):
    """Read-only: tests that write build their own organization."""
    api = Client(http)
    return await build_org(api, TenantFactory(api))


@pytest.fixture
async def fresh(api, tenants):
    return await build_org(api, tenants)


VISIBLE = {
    "owner": OWNERS,
    "admin": OWNERS,
    "support": OWNERS,
    "logistics": OWNERS,
    "analyst": OWNERS,
    "manager": ("manager",),  # a manager without a team has only their own rows
    "north1": ("north1", "north2", "sales2"),  # sales2 is in team North too
    "north2": ("north1", "north2", "sales2"),
    "south": ("south",),
    "sales": ("sales",),
    "sales2": ("sales2",),
}


@pytest.mark.parametrize("role", list(VISIBLE))
async def test_row_scope_of_each_role(api, org, role):
    t, accounts, orders, contacts = org
    member = t.members[role]
    expected = VISIBLE[role]
    listed = await list_accounts(member, api)
    assert sorted(e["node"]["name"] for e in listed["edges"]) == sorted(f"Клієнт {w}" for w in expected)
    assert listed["totalCount"] == len(expected)
    seen_orders = (await member.data(api, ORDERS))["orders"]
    assert {e["node"]["id"] for e in seen_orders["edges"]} == {orders[w]["id"] for w in expected}
    seen_contacts = (await member.data(api, "{ contacts(first: 100) { edges { node { id } } totalCount } }"))[
        "contacts"
    ]
    assert {e["node"]["id"] for e in seen_contacts["edges"]} == {contacts[w]["id"] for w in expected}
    for who in OWNERS:
        visible = who in expected
        got_account = await member.data(api, "query($id: ID!) { account(id: $id) { id } }", {"id": accounts[who]["id"]})
        assert (got_account["account"] is not None) is visible, who
        assert ((await member.data(api, NODE, {"id": accounts[who]["id"]}))["node"] is not None) is visible, who
        assert ((await member.data(api, NODE, {"id": contacts[who]["id"]}))["node"] is not None) is visible, who
        got_order = await member.data(api, "query($id: ID!) { order(id: $id) { id } }", {"id": orders[who]["id"]})
        assert (got_order["order"] is not None) is visible, who
    # A phone lookup does not reach around the row scope either.
    found = await list_accounts(member, api, {"phone": {"eq": accounts["owner"]["phone"]}})
    assert found["totalCount"] == (1 if "owner" in expected else 0)


@pytest.mark.parametrize("role", ["owner", "admin"])
async def test_owner_and_admin_may_do_everything(api, fresh, role):
    t, accounts, _, _ = fresh
    member = t.members[role]
    created = await make_account(member, api, name="Новий", ownerId=t.sales.user_id)
    assert created["owner"]["email"] == t.sales.email
    payload = await update_account(member, api, accounts["south"], name="Змінено", ownerId=t.manager.user_id)
    assert payload["errors"] == []
    assert payload["account"]["owner"]["email"] == t.manager.email
    order = await make_order(member, api, accounts["sales"]["id"], managerId=t.sales.user_id)
    upd = await member.data(api, UPDATE_ORDER, {"i": {"id": order["id"], "version": 1, "items": ITEMS}})
    assert upd["updateOrder"]["errors"] == []
    moved = (await member.data(api, CHANGE_STATUS, {"i": {"id": order["id"], "version": 2, "status": "processing"}}))[
        "changeOrderStatus"
    ]
    assert moved["errors"] == []
    assert (await member.data(api, DELETE_ORDER, {"i": {"id": order["id"], "version": 3}}))["deleteOrder"][
        "errors"
    ] == []
    merged = (
        await member.data(api, MERGE, {"i": {"id": created["id"], "version": 1, "mergeId": accounts["sales2"]["id"]}})
    )["mergeAccounts"]
    assert merged["errors"] == []
    deleted = (await member.data(api, DELETE, {"i": {"id": created["id"], "version": 2}}))["deleteAccount"]
    assert deleted["errors"] == []
    for field in MARKETING:
        seen = await member.data(
            api, f"query($id: ID!) {{ account(id: $id) {{ {field} }} }}", {"id": accounts["owner"]["id"]}
        )
        assert seen["account"][field] is not None


async def test_manager_works_on_their_team_only(api, fresh):
    t, accounts, orders, _ = fresh
    m = t.north1
    # A teammate's account: readable and writable, and may be handed over inside the team.
    payload = await update_account(m, api, accounts["north2"], name="Від колеги")
    assert payload["errors"] == []
    payload = await update_account(m, api, payload["account"], ownerId=t.north1.user_id)
    assert payload["errors"] == []
    assert payload["account"]["owner"]["email"] == t.north1.email
    assert (await update_account(m, api, payload["account"], ownerId=t.sales2.user_id))["errors"] == []
    made = await make_account(m, api, name="Для колеги", ownerId=t.north2.user_id)
    assert made["owner"]["email"] == t.north2.email
    # ... but not given away outside the team.
    mine = accounts["north1"]
    for owner in (t.south.user_id, t.manager.user_id, t.owner.user_id, t.sales.user_id, None):
        refused = await update_account(m, api, mine, ownerId=owner)
        assert error(refused) == ("FORBIDDEN", "ownerId")
        assert error(await create_account(m, api, name="Чужий", ownerId=owner)) == ("FORBIDDEN", "ownerId")
    assert (await m.data(api, GET, {"id": mine["id"]}))["account"] == mine
    assert (await list_accounts(m, api, {"name": {"eq": "Чужий"}}))["totalCount"] == 0
    # Another team's, a teamless manager's or the owner's account is not there at all.
    for who in ("south", "manager", "owner", "sales"):
        assert error(await update_account(m, api, accounts[who], name="Чуже")) == ("NOT_FOUND", "id")
        gone = (await m.data(api, DELETE, {"i": {"id": accounts[who]["id"], "version": 1}}))["deleteAccount"]
        assert error(gone) == ("NOT_FOUND", "id")
        assert error(await create_order(m, api, accounts[who]["id"])) == ("NOT_FOUND", "accountId")
        upd = await m.data(api, UPDATE_ORDER, {"i": {"id": orders[who]["id"], "version": 1, "comment": "x"}})
        assert error(upd["updateOrder"]) == ("NOT_FOUND", "id")
        contact = await m.data(api, CREATE_CONTACT, {"i": {"accountId": accounts[who]["id"], "name": "X"}})
        assert error(contact["createContact"]) == ("NOT_FOUND", "accountId")
        merge_out = (await m.data(api, MERGE, {"i": {"id": mine["id"], "version": 1, "mergeId": accounts[who]["id"]}}))[
            "mergeAccounts"
        ]
        assert error(merge_out) == ("NOT_FOUND", "mergeId")
    # Orders: a teammate's order may be changed; new orders default to the manager.
    upd = await m.data(api, UPDATE_ORDER, {"i": {"id": orders["north2"]["id"], "version": 1, "comment": "ok"}})
    assert upd["updateOrder"]["errors"] == []
    order = await make_order(m, api, accounts["sales2"]["id"])
    seen = await m.data(api, "query($id: ID!) { order(id: $id) { manager { email } } }", {"id": order["id"]})
    assert seen["order"]["manager"]["email"] == t.north1.email
    assert error(await create_order(m, api, mine["id"], managerId=t.south.user_id)) == ("FORBIDDEN", "managerId")
    # Merging and deleting inside the team work.
    merged = (await m.data(api, MERGE, {"i": {"id": mine["id"], "version": 1, "mergeId": made["id"]}}))["mergeAccounts"]
    assert merged["errors"] == []
    deleted = (await m.data(api, DELETE, {"i": {"id": mine["id"], "version": 2}}))["deleteAccount"]
    assert deleted["errors"] == []
    # The other team still sees its own account untouched.
    assert (await t.south.data(api, GET, {"id": accounts["south"]["id"]}))["account"] == accounts["south"]


async def test_sales_works_on_their_own_records_only(api, fresh):
    t, accounts, orders, contacts = fresh
    s = t.sales
    created = await make_account(s, api, name="Мій новий")
    assert created["owner"]["email"] == s.email
    assert (await make_account(s, api, name="Теж мій", ownerId=s.user_id))["owner"]["email"] == s.email
    # May not assign to anyone else, on create or update; nothing is written.
    for owner in (t.owner.user_id, t.sales2.user_id, t.manager.user_id, None):
        refused = await create_account(s, api, name="Чужий", ownerId=owner)
        assert refused["account"] is None
        assert error(refused) == ("FORBIDDEN", "ownerId")
        assert error(await update_account(s, api, accounts["sales"], ownerId=owner)) == ("FORBIDDEN", "ownerId")
    assert (await list_accounts(s, api, {"name": {"eq": "Чужий"}}))["totalCount"] == 0
    assert (await s.data(api, GET, {"id": accounts["sales"]["id"]}))["account"] == accounts["sales"]
    # Own account: update and contacts work.
    assert (await update_account(s, api, accounts["sales"], tags=["hot"]))["errors"] == []
    contact = await s.data(api, CREATE_CONTACT, {"i": {"accountId": accounts["sales"]["id"], "name": "Новий"}})
    assert contact["createContact"]["errors"] == []
    upd = await s.data(api, UPDATE_CONTACT, {"i": {"id": contacts["sales"]["id"], "version": 1, "name": "Інше"}})
    assert upd["updateContact"]["errors"] == []
    # Others' records are not found.
    for who in ("owner", "sales2", "manager"):
        assert error(await update_account(s, api, accounts[who], name="x")) == ("NOT_FOUND", "id")
        assert error(await create_order(s, api, accounts[who]["id"])) == ("NOT_FOUND", "accountId")
        upd = await s.data(api, UPDATE_ORDER, {"i": {"id": orders[who]["id"], "version": 1, "comment": "x"}})
        assert error(upd["updateOrder"]) == ("NOT_FOUND", "id")
        upd = await s.data(api, UPDATE_CONTACT, {"i": {"id": contacts[who]["id"], "version": 1, "name": "x"}})
        assert error(upd["updateContact"]) == ("NOT_FOUND", "id")
    # Orders: own account, managed by themselves only.
    order = await make_order(s, api, accounts["sales"]["id"])
    assert error(await create_order(s, api, accounts["sales"]["id"], managerId=t.owner.user_id)) == (
        "FORBIDDEN",
        "managerId",
    )
    upd = await s.data(api, UPDATE_ORDER, {"i": {"id": order["id"], "version": 1, "managerId": t.sales2.user_id}})
    assert error(upd["updateOrder"]) == ("FORBIDDEN", "managerId")
    seen = (await s.data(api, ORDERS))["orders"]
    assert {e["node"]["id"] for e in seen["edges"]} == {orders["sales"]["id"], order["id"]}
    # Sales may not delete or merge (a GraphQL error, nothing changed).
    for query, variables in (
        (DELETE, {"id": accounts["sales"]["id"], "version": 2}),
        (MERGE, {"id": accounts["sales"]["id"], "version": 2, "mergeId": created["id"]}),
        (DELETE_ORDER, {"id": order["id"], "version": 1}),
        (DELETE_CONTACT, {"id": contacts["sales"]["id"], "version": 2}),
    ):
        body = await s.execute(api, query, {"i": variables})
        assert body["data"] is None
        assert gql_code(body) == "FORBIDDEN"
    assert (await s.data(api, GET, {"id": created["id"]}))["account"]["id"] == created["id"]
    assert (await s.data(api, GET_ORDER, {"id": order["id"]}))["order"]["id"] == order["id"]


def read_only_attempts(accounts, contacts) -> list[tuple[str, dict]]:
    acc, contact = accounts["owner"], contacts["owner"]
    return [
        (CREATE, {"name": "Новий"}),
        (CREATE, {"name": "Новий", "phones": ["not a phone"]}),  # refused before validation
        (UPDATE, {"id": acc["id"], "version": acc["version"], "name": "Змінено"}),
        (UPDATE, {"id": acc["id"], "version": acc["version"], "phones": ["bad"]}),
        (
            UPDATE,
            {
                "id": acc["id"],
                "version": acc["version"],
                "ownerId": "VXNlcjowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA",
            },
        ),
        (DELETE, {"id": acc["id"], "version": acc["version"]}),
        (MERGE, {"id": acc["id"], "version": acc["version"], "mergeId": accounts["sales"]["id"]}),
        (CREATE_CONTACT, {"accountId": acc["id"], "name": "X"}),
        (UPDATE_CONTACT, {"id": contact["id"], "version": 1, "name": "X"}),
        (DELETE_CONTACT, {"id": contact["id"], "version": 1}),
    ]


def order_writes(accounts, orders) -> list[tuple[str, dict]]:
    order = orders["owner"]
    return [
        (
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } errors { code } } }",
            {"accountId": accounts["owner"]["id"], "items": ITEMS},
        ),
        (UPDATE_ORDER, {"id": order["id"], "version": 1, "comment": "x"}),
        (CHANGE_STATUS, {"id": order["id"], "version": 1, "status": "processing"}),
        (DELETE_ORDER, {"id": order["id"], "version": 1}),
    ]


async def assert_forbidden(member, api, attempts):
    for query, variables in attempts:
        body = await member.execute(api, query, {"i": variables})
        assert body.get("data") is None, (query, body)
        assert gql_code(body) == "FORBIDDEN", (query, body)
        assert "not allow" in body["errors"][0]["message"]


async def snapshot(api, t, accounts, orders) -> dict:
    return {
        "accounts": (await t.owner.data(api, LIST, {"first": 100}))["accounts"],
        "owner_account": (await t.owner.data(api, GET, {"id": accounts["owner"]["id"]}))["account"],
        "owner_order": (await t.owner.data(api, GET_ORDER, {"id": orders["owner"]["id"]}))["order"],
        "orders": (await t.owner.data(api, ORDERS))["orders"],
        "contacts": (await t.owner.data(api, "{ contacts(first: 100) { edges { node { id name } } } }"))["contacts"],
    }


async def test_support_reads_accounts_and_orders_but_writes_neither(api, org):
    t, accounts, orders, contacts = org
    before = await snapshot(api, t, accounts, orders)
    support = t.support
    seen = await support.data(
        api,
        f"query($id: ID!) {{ account(id: $id) {{ name phone {' '.join(MARKETING)} orders {{ totalCount }} }} }}",
        {"id": accounts["sales"]["id"]},
    )
    assert seen["account"]["tags"] == ["vip"]
    assert seen["account"]["orders"]["totalCount"] == 1
    assert (await support.data(api, GET_ORDER, {"id": orders["sales"]["id"]}))["order"]["id"] == orders["sales"]["id"]
    await assert_forbidden(support, api, read_only_attempts(accounts, contacts))
    await assert_forbidden(support, api, order_writes(accounts, orders))
    assert await snapshot(api, t, accounts, orders) == before


async def test_analyst_reads_everything_and_changes_nothing(api, org):
    t, accounts, orders, contacts = org
    before = await snapshot(api, t, accounts, orders)
    analyst = t.analyst
    seen = await analyst.data(
        api,
        f"query($id: ID!) {{ account(id: $id) {{ name {' '.join(MARKETING)} }} }}",
        {"id": accounts["south"]["id"]},
    )
    assert seen["account"]["customFields"] == {"who": "south"}
    assert (await analyst.data(api, "{ orderStatuses { code } }"))["orderStatuses"]
    await assert_forbidden(analyst, api, read_only_attempts(accounts, contacts))
    await assert_forbidden(analyst, api, order_writes(accounts, orders))
    statuses = (await analyst.data(api, STATUSES))["orderStatuses"]
    await assert_forbidden(
        analyst,
        api,
        [
            (CREATE_STATUS, {"code": "x", "name": "X", "group": "IN_PROGRESS"}),
            (SET_TRANSITIONS, {"fromId": statuses[0]["id"], "toIds": []}),
        ],
    )
    assert await snapshot(api, t, accounts, orders) == before


async def test_logistics_does_not_see_marketing_fields(api, org):
    t, accounts, orders, _ = org
    lg = t.logistics
    listed = await lg.data(api, "{ accounts(first: 100) { edges { node { id name phone phones kind } } } }")
    assert len(listed["accounts"]["edges"]) == len(OWNERS)
    acc = accounts["sales"]
    basic = await lg.data(
        api, "query($id: ID!) { account(id: $id) { name phone contacts { name } } }", {"id": acc["id"]}
    )
    assert basic["account"]["name"] == acc["name"]
    masked_phone = acc["phone"][:6] + "*****" + acc["phone"][-2:]  # logistics has no pii:read
    assert basic["account"]["phone"] == masked_phone
    for field in MARKETING:
        body = await lg.execute(
            api, f"query($id: ID!) {{ account(id: $id) {{ name phone {field} }} }}", {"id": acc["id"]}
        )
        assert body["data"]["account"] == {"name": acc["name"], "phone": masked_phone, field: None}
        [err] = body["errors"]
        assert err["extensions"]["code"] == "FORBIDDEN"
        assert err["path"] == ["account", field]
        # Through a list and through an order too.
        body = await lg.execute(api, f"{{ accounts(first: 1) {{ edges {{ node {{ name {field} }} }} }} }}")
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert body["errors"][0]["path"] == ["accounts", "edges", 0, "node", field]
        body = await lg.execute(
            api,
            f"query($id: ID!) {{ order(id: $id) {{ number account {{ name {field} }} }} }}",
            {"id": orders["sales"]["id"]},
        )
        assert body["data"]["order"]["account"] == {"name": acc["name"], field: None}
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Nor can the hidden fields be probed with filters or search.
    for where in (
        {"tag": {"eq": "vip"}},
        {"email": {"eq": "sales@client.example"}},
        {"source": {"eq": "website"}},
        {"OR": [{"name": {"contains": "x"}}, {"AND": [{"tag": {"in": ["vip"]}}]}]},
    ):
        body = await lg.execute(api, LIST, {"where": where})
        assert body["data"] == {"accounts": None}, where
        assert gql_code(body) == "FORBIDDEN"
    assert (await list_accounts(lg, api, {"search": {"contains": "sales@client.example"}}))["totalCount"] == 0
    assert (await list_accounts(lg, api, {"search": {"contains": acc["phone"]}}))["totalCount"] == 1
    # Other roles do filter by them.
    assert (await list_accounts(t.support, api, {"search": {"contains": "sales@client.example"}}))["totalCount"] == 1
    assert (await list_accounts(t.support, api, {"tag": {"eq": "vip"}}))["totalCount"] == len(OWNERS)


async def test_logistics_changes_delivery_and_status_but_not_items(api, fresh):
    t, accounts, orders, contacts = fresh
    lg = t.logistics
    order = orders["sales"]
    delivery = {"method": "nova_poshta", "city": "Львів", "branch": "Відділення №3", "recipientPhone": "067 000 00 05"}
    upd = await lg.data(api, UPDATE_ORDER, {"i": {"id": order["id"], "version": 1, "delivery": delivery}})
    assert upd["updateOrder"]["errors"] == []
    assert upd["updateOrder"]["order"]["delivery"] == {"city": "Львів"}
    upd = await lg.data(
        api,
        UPDATE_ORDER,
        {
            "i": {
                "id": order["id"],
                "version": 2,
                "delivery": {"waybillNumber": "20450000000000"},
                "comment": "Відправлено",
            }
        },
    )
    assert upd["updateOrder"]["errors"] == []
    moved = await lg.data(api, CHANGE_STATUS, {"i": {"id": order["id"], "version": 3, "status": "processing"}})
    assert moved["changeOrderStatus"]["errors"] == []
    assert moved["changeOrderStatus"]["order"]["status"]["code"] == "processing"
    for fields, field in (
        ({"items": ITEMS}, "items"),
        ({"paymentStatus": "PAID"}, "paymentStatus"),
        ({"managerId": t.logistics.user_id}, "managerId"),
        ({"currency": "USD"}, "currency"),
        ({"items": ITEMS, "delivery": {"city": "Одеса"}}, "items"),
    ):
        upd = (await lg.data(api, UPDATE_ORDER, {"i": {"id": order["id"], "version": 4, **fields}}))["updateOrder"]
        assert upd["order"] is None
        assert error(upd) == ("FORBIDDEN", field), fields
    seen = await t.owner.data(
        api,
        "query($id: ID!) { order(id: $id) { version items { sku } delivery { city } paymentStatus } }",
        {"id": order["id"]},
    )
    assert seen["order"] == {
        "version": 4,
        "items": [{"sku": "KETTLE-1"}],
        "delivery": {"city": "Львів"},
        "paymentStatus": "UNPAID",
    }
    # No account writes, no deleting orders, no configuration.
    await assert_forbidden(lg, api, read_only_attempts(accounts, contacts))
    await assert_forbidden(lg, api, [(DELETE_ORDER, {"id": order["id"], "version": 4})])
    await assert_forbidden(lg, api, [(CREATE_STATUS, {"code": "x", "name": "X", "group": "SHIPPING"})])


async def test_order_configuration_is_for_admins(api, fresh):
    t = fresh[0]
    statuses = {s["code"]: s for s in (await t.manager.data(api, STATUSES))["orderStatuses"]}
    before = await t.owner.data(api, STATUSES)
    for member in (t.manager, t.sales, t.support, t.logistics, t.analyst):
        await assert_forbidden(
            member,
            api,
            [
                (CREATE_STATUS, {"code": "on_hold", "name": "Пауза", "group": "IN_PROGRESS"}),
                (SET_TRANSITIONS, {"fromId": statuses["new"]["id"], "toIds": [statuses["cancelled"]["id"]]}),
                (UPDATE_STATUS, {"id": statuses["new"]["id"], "name": "Зламано"}),
                (DELETE_STATUS, {"id": statuses["returned"]["id"]}),
            ],
        )
    assert await t.owner.data(api, STATUSES) == before

    created = (
        await t.admin.data(
            api, CREATE_STATUS, {"i": {"code": "on_hold", "name": "Пауза", "group": "IN_PROGRESS", "position": 5}}
        )
    )["createOrderStatus"]
    assert created["errors"] == []
    hold = created["status"]
    assert hold["code"] == "on_hold"
    setting = (
        await t.admin.data(
            api,
            SET_TRANSITIONS,
            {"i": {"fromId": statuses["new"]["id"], "toIds": [hold["id"], statuses["cancelled"]["id"]]}},
        )
    )["setOrderStatusTransitions"]
    assert setting["errors"] == []
    assert sorted(n["code"] for n in setting["status"]["next"]) == ["cancelled", "on_hold"]
    back = (
        await t.admin.data(api, SET_TRANSITIONS, {"i": {"fromId": hold["id"], "toIds": [statuses["processing"]["id"]]}})
    )["setOrderStatusTransitions"]
    assert back["errors"] == []
    # The new path is usable by anyone who may move orders.
    order = await make_order(t.manager, api, (await make_account(t.manager, api, name="Тест"))["id"])
    moved = await t.manager.data(api, CHANGE_STATUS, {"i": {"id": order["id"], "version": 1, "status": "on_hold"}})
    assert moved["changeOrderStatus"]["errors"] == []
    refused = await t.manager.data(api, CHANGE_STATUS, {"i": {"id": order["id"], "version": 2, "status": "delivered"}})
    assert error(refused["changeOrderStatus"]) == ("FORBIDDEN_TRANSITION", "status")


ZERO_ACCOUNT = "QWNjb3VudDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA"  # Account:<zero uuid>
UNAUTHENTICATED = [
    ("{ accounts { totalCount } }", {}),
    (
        "query($id: ID!) { account(id: $id) { id } }",
        {"id": ZERO_ACCOUNT},
    ),
    ("query($id: ID!) { node(id: $id) { id } }", {"id": ZERO_ACCOUNT}),
    ("{ contacts { totalCount } }", {}),
    ("{ orders { totalCount } }", {}),
    ("{ orderStatuses { code } }", {}),
    ('mutation { createAccount(input: {name: "X"}) { account { id } errors { code } } }', {}),
    (
        UPDATE,
        {"i": {"id": ZERO_ACCOUNT, "version": 1, "name": "X"}},
    ),
    ('mutation { createOrderStatus(input: {code: "x", name: "X", group: NEW}) { errors { code } } }', {}),
]


@pytest.mark.parametrize(
    ("query", "variables"),
    UNAUTHENTICATED,
    ids=[
        "accounts",
        "account",
        "node",
        "contacts",
        "orders",
        "orderStatuses",
        "createAccount",
        "updateAccount",
        "createOrderStatus",
    ],
)
async def test_unauthenticated_requests_are_refused(api, query, variables):
    for token in (None, "crm_not-a-real-token"):
        body = await api.execute(query, variables, token=token)
        # Nullable fields (account, node) come back null, next to the error.
        assert not any((body.get("data") or {}).values()), body
        assert gql_code(body) == "UNAUTHENTICATED"


async def test_account_view_leaves_out_what_the_role_does_not_work_with(api, tenants):
    t = await tenants.create(("owner", "logistics"))
    created = await t.owner.data(
        api, 'mutation { createAccount(input: {name: "Склад"}) { account { id } errors { code } } }'
    )
    query = "query($id: ID!) { account(id: $id) { name tickets { totalCount } deals { totalCount } orders { totalCount } } }"
    body = await t.logistics.execute(api, query, {"id": created["createAccount"]["account"]["id"]})
    assert "errors" not in body
    assert body["data"]["account"] == {"name": "Склад", "tickets": None, "deals": None, "orders": {"totalCount": 0}}
