"""Customers' phones, e-mails and addresses for callers without ``pii:read``: masked in objects
(stock and fast path alike), timeline texts, search results, CSV exports and for partner apps,
while search by the full number still finds the customer. docs/roles.md, "Masked fields"."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import httpx
import pytest

from server.app import create_app
from server.auth.masking import mask_address, mask_email, mask_phone, mask_text
from server.auth.roles import DELIVERY_RECIPIENT, ROLES
from server.oauth.service import delegated_role
from tests.helpers import Client, TenantFactory, graphql_view
from tests.test_accounts import make_account, make_contact, make_order
from tests.test_oauth import access_token, register

FULL = {
    "phone": "+380671234599",
    "phones": ["+380671234599", "+380507654321"],
    "emails": ["olena@gmail.com"],
    "addresses": ["Київ, вул. Хрещатик, 1", "Львів"],
    "contacts": [{"phones": ["+380631112233"], "emails": ["petro@ukr.net"]}],
}
MASKED = {
    "phone": "+38067*****99",
    "phones": ["+38067*****99", "+38050*****21"],
    "emails": ["o***@gmail.com"],
    "addresses": ["Київ, ***", "Львів"],
    "contacts": [{"phones": ["+38063*****33"], "emails": ["p***@ukr.net"]}],
}
DELIVERY_FULL = {
    "recipientName": "Олена",
    "recipientPhone": "+380679998877",
    "city": "Київ",
    "address": "вул. Січова, 5",
}
DELIVERY_MASKED = {**DELIVERY_FULL, "recipientPhone": "+38067*****77", "address": "***"}

# role -> (account and contact PII in full, an order's delivery recipient in full)
SEES = {
    "owner": (True, True),
    "admin": (True, True),
    "manager": (True, True),
    "sales": (True, True),
    "support": (True, True),
    "logistics": (False, True),  # ships the order: the recipient in full, the customer masked
    "analyst": (False, False),
}

ACCOUNT = """query($id: ID!) { account(id: $id) { name phone phones %s addresses contacts { phones emails }
  orders(first: 5) { edges { node { delivery { recipientName recipientPhone city address } } } } } }"""
TIMELINE = "query($id: ID!) { account(id: $id) { timeline(first: 5) { edges { node { kind subject body data } } } } }"
SEARCH = "query($w: AccountWhere) { accounts(where: $w) { totalCount edges { node { name phone } } } }"
CREATE_ACTIVITY = """mutation($i: CreateActivityInput!) { createActivity(input: $i) { errors { code field } } }"""
CREATE_SEGMENT = """mutation($i: CreateSegmentInput!) { createSegment(input: $i) {
  segment { csvPath } errors { field code } } }"""


@pytest.fixture(scope="module")
async def stock_http(database):
    app = create_app(database.model_copy(update={"fast_path": False}), manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


@pytest.fixture(scope="module")
async def shop(http):
    """Every role (the salesperson and the manager in one team), and the salesperson's customer
    with two phones, an e-mail, addresses, a contact, an order with a delivery and a call."""
    api = Client(http)
    tenants = TenantFactory(api)
    t = await tenants.create(tuple(r for r in ROLES if r not in ("manager", "sales")))
    await tenants.add(t, "manager", "manager", "North")
    await tenants.add(t, "sales", "sales", "North")
    account = await make_account(
        t.sales,
        api,
        name="Олена Коваль",
        phones=["067 123 45 99", "050 765 43 21"],
        emails=["Olena@gmail.com"],
        addresses=["Київ, вул. Хрещатик, 1", "Львів"],
    )
    await make_contact(t.sales, api, account["id"], "Петро", phones=["063 111 22 33"], emails=["petro@ukr.net"])
    delivery = {
        "recipientName": "Олена",
        "recipientPhone": "067 999 88 77",
        "city": "Київ",
        "address": "вул. Січова, 5",
    }
    await make_order(t.sales, api, account["id"], delivery=delivery)
    call = {
        "kind": "CALL",
        "accountId": account["id"],
        "subject": "Incoming call from +380671234599",
        "body": "Просила передзвонити на 050 765 43 21 або написати на olena@gmail.com.",
        "data": {"caller": "+380671234599", "duration_seconds": 65},
    }
    assert (await t.sales.data(api, CREATE_ACTIVITY, {"i": call}))["createActivity"]["errors"] == []
    return t, account


def _expected(role: str) -> dict:
    account_full, delivery_full = SEES[role]
    expected = {"name": "Олена Коваль", **(FULL if account_full else MASKED)}
    if role == "logistics":
        del expected["emails"]  # not masked but hidden: a marketing field (Role.hidden_fields)
    delivery = DELIVERY_FULL if delivery_full else DELIVERY_MASKED
    expected["orders"] = {"edges": [{"node": {"delivery": delivery}}]}
    return expected


@pytest.mark.parametrize("role", list(SEES))
async def test_each_role_sees_pii_in_full_or_masked_on_both_paths(http, stock_http, shop, role):
    t, account = shop
    member = t.members[role]
    query = ACCOUNT % ("" if role == "logistics" else "emails")
    body = {"query": query, "variables": {"id": account["id"]}}
    headers = {"Authorization": f"Bearer {member.token}", "X-Organization": member.org}
    stats = graphql_view(http).fast_path.stats
    before = stats["planned"]
    fast = await http.post("/graphql", json=body, headers=headers)
    assert stats["planned"] == before + 1  # the planned path answered, and masked
    stock = await stock_http.post("/graphql", json=body, headers=headers)
    assert fast.json()["data"] == stock.json()["data"] == {"account": _expected(role)}
    assert fast.content == stock.content


@pytest.mark.parametrize("role", ["owner", "analyst", "logistics"])
async def test_timeline_texts_and_call_details_are_masked_without_pii_read(api, shop, role):
    t, account = shop
    edges = (await t.members[role].data(api, TIMELINE, {"id": account["id"]}))["account"]["timeline"]["edges"]
    [call] = [edge["node"] for edge in edges if edge["node"].pop("kind") == "CALL"]
    if SEES[role][0]:
        assert call == {
            "subject": "Incoming call from +380671234599",
            "body": "Просила передзвонити на 050 765 43 21 або написати на olena@gmail.com.",
            "data": {"caller": "+380671234599", "duration_seconds": 65},
        }
    else:
        assert call == {
            "subject": "Incoming call from +38067*****99",
            "body": "Просила передзвонити на +38050*****21 або написати на o***@gmail.com.",
            "data": {"caller": "+38067*****99", "duration_seconds": 65},
        }


async def test_ticket_texts_are_masked_without_pii_read(api, shop):
    t, account = shop
    create = """mutation($i: CreateTicketInput!) { createTicket(input: $i) { ticket { id } errors { code } } }"""
    comment = """mutation($i: CommentOnTicketInput!) { commentOnTicket(input: $i) { errors { code } } }"""
    ticket = {"subject": "Дзвінок з 0671234599", "description": "Пише з olena@gmail.com", "accountId": account["id"]}
    created = (await t.support.data(api, create, {"i": ticket}))["createTicket"]
    assert created["errors"] == []
    gid = created["ticket"]["id"]
    note = {"ticketId": gid, "body": "Новий номер: +380 50 765 43 21"}
    assert (await t.support.data(api, comment, {"i": note}))["commentOnTicket"]["errors"] == []
    read = "query($id: ID!) { ticket(id: $id) { subject description comments { body } } }"
    assert (await t.support.data(api, read, {"id": gid}))["ticket"] == {
        "subject": "Дзвінок з 0671234599",
        "description": "Пише з olena@gmail.com",
        "comments": [{"body": "Новий номер: +380 50 765 43 21"}],
    }
    assert (await t.analyst.data(api, read, {"id": gid}))["ticket"] == {
        "subject": "Дзвінок з +38067*****99",
        "description": "Пише з o***@gmail.com",
        "comments": [{"body": "Новий номер: +38050*****21"}],
    }


async def test_the_audit_trail_masks_customers_data_without_pii_read(api, shop):
    t, account = shop
    query = """query($id: ID!) { auditEntries(where: {entityId: {eq: $id}, action: {eq: "account.create"}}) {
        edges { node { changes } } } }"""
    [owner] = (await t.owner.data(api, query, {"id": account["id"]}))["auditEntries"]["edges"]
    [analyst] = (await t.analyst.data(api, query, {"id": account["id"]}))["auditEntries"]["edges"]
    assert owner["node"]["changes"]["phones"] == [None, FULL["phones"]]
    assert owner["node"]["changes"]["addresses"] == [None, FULL["addresses"]]
    changes = analyst["node"]["changes"]
    assert changes["phones"] == [None, MASKED["phones"]]
    assert changes["emails"] == [None, MASKED["emails"]]
    assert changes["addresses"] == [None, MASKED["addresses"]]
    assert changes["name"] == [None, "Олена Коваль"]


async def test_masked_values_sent_back_are_refused_not_stored(api, http, shop):
    """A partner that may write accounts but not see PII reads masked values; saving them back
    would overwrite the customer's real e-mail and address."""
    t, account = shop
    client = await register(t.owner, api, scopes=("accounts:read", "accounts:write", "orders:write"), name="editor")
    token = await access_token(http, client)
    update = """mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { errors { field code } } }"""
    read = "query($id: ID!) { account(id: $id) { version emails addresses } }"
    seen = (await api.data(read, {"id": account["id"]}, token=token))["account"]
    change = {"id": account["id"], "version": seen["version"], "emails": seen["emails"], "addresses": seen["addresses"]}
    body = await api.data(update, {"i": change}, token=token)
    assert body["updateAccount"]["errors"] == [
        {"field": "emails.0", "code": "INVALID"},
        {"field": "addresses.0", "code": "INVALID"},
    ]
    order = """mutation($i: CreateOrderInput!) { createOrder(input: $i) { errors { field code } } }"""
    items = [{"sku": "A", "title": "Чашка", "quantity": "1", "unitPrice": "10"}]
    new = {"accountId": account["id"], "items": items, "delivery": {"address": "***"}}
    assert (await api.data(order, {"i": new}, token=token))["createOrder"]["errors"] == [
        {"field": "delivery_address", "code": "INVALID"}
    ]
    assert (await t.owner.data(api, read, {"id": account["id"]}))["account"]["emails"] == FULL["emails"]


async def test_search_by_the_full_number_finds_the_customer_with_the_number_masked(api, shop):
    t, _account = shop
    analyst = t.analyst
    for where in (
        {"phone": {"eq": "067 123 45 99"}},
        {"phone": {"in": ["+380507654321"]}},
        {"search": {"contains": "(067) 123-45-99"}},
        {"email": {"eq": "olena@gmail.com"}},
        {"search": {"contains": "OLENA@gmail.com"}},
    ):
        found = (await analyst.data(api, SEARCH, {"w": where}))["accounts"]
        assert found["totalCount"] == 1, where
        assert found["edges"][0]["node"] == {"name": "Олена Коваль", "phone": "+38067*****99"}
    # Part of a number, or the masked form, finds nothing: no way to unmask digit by digit.
    for where in (
        {"phone": {"eq": "+38067*****99"}},
        {"phone": {"contains": "1234599"}},
        {"search": {"contains": "1234599"}},
        {"search": {"contains": "38067123459"}},
        {"search": {"contains": "o***@gmail.com"}},
    ):
        assert (await analyst.data(api, SEARCH, {"w": where}))["accounts"]["totalCount"] == 0, where


async def _csv(api, member, path: str) -> list[list[str]]:
    headers = {"Authorization": f"Bearer {member.token}", "X-Organization": member.org, "Accept-Language": "en"}
    response = await api.http.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))


async def test_the_segment_csv_export_is_masked_without_pii_read(api, shop):
    t, account = shop
    payload = (
        await t.owner.data(api, CREATE_SEGMENT, {"i": {"name": "Покупці", "rules": {"orderCount": {"gte": 1}}}})
    )["createSegment"]
    assert payload["errors"] == [], payload
    path = payload["segment"]["csvPath"]
    header, *rows = await _csv(api, t.owner, path)
    assert header[:5] == ["ID", "Name", "Phone", "E-mail", "Address"]
    assert [row[:5] for row in rows] == [
        [account["id"], "Олена Коваль", "+380671234599", "olena@gmail.com", "Київ, вул. Хрещатик, 1"]
    ]
    header, *rows = await _csv(api, t.analyst, path)
    assert [row[:5] for row in rows] == [
        [account["id"], "Олена Коваль", "+38067*****99", "o***@gmail.com", "Київ, ***"]
    ]
    header, *rows = await _csv(api, t.logistics, path)
    assert header[:4] == ["ID", "Name", "Phone", "Address"]
    assert [row[:4] for row in rows] == [[account["id"], "Олена Коваль", "+38067*****99", "Київ, ***"]]
    # A segment on cities is the owner's to use: exported by the analyst it would tell the street.
    by_city = await t.owner.data(api, CREATE_SEGMENT, {"i": {"name": "Кияни", "rules": {"cities": ["Київ"]}}})
    city_path = by_city["createSegment"]["segment"]["csvPath"]
    assert len(await _csv(api, t.owner, city_path)) == 2
    headers = {"Authorization": f"Bearer {t.analyst.token}", "X-Organization": t.analyst.org}
    assert (await api.http.get(city_path, headers=headers)).status_code == 403


async def test_a_partner_without_the_pii_scope_sees_masked_values(api, http, shop):
    t, account = shop
    query = ACCOUNT % "emails"
    for scopes, full in (
        (("accounts:read", "orders:read"), False),
        (("accounts:read", "orders:read", "pii:read"), True),
    ):
        client = await register(t.owner, api, scopes=scopes, name=" ".join(scopes))
        token = await access_token(http, client)
        body = await api.execute(query, {"id": account["id"]}, token=token)
        expected = {"name": "Олена Коваль", **(FULL if full else MASKED)}
        expected["orders"] = {"edges": [{"node": {"delivery": DELIVERY_FULL if full else DELIVERY_MASKED}}]}
        assert body["data"] == {"account": expected}, scopes


async def test_only_callers_who_see_addresses_may_choose_customers_by_city(api, http, shop):
    """A city rule matches any part of an address: it would probe the street a mask hides."""
    t, _account = shop
    client = await register(t.owner, api, scopes=("accounts:read", "accounts:write"), name="writer")
    token = await access_token(http, client)
    rules = {"name": "Хрещатик", "rules": {"cities": ["Хрещатик"]}}
    body = await api.execute(CREATE_SEGMENT, {"i": rules}, token=token)
    assert body["data"]["createSegment"] == {
        "segment": None,
        "errors": [{"field": "rules.cities", "code": "FORBIDDEN"}],
    }
    client = await register(t.owner, api, scopes=("accounts:read", "accounts:write", "pii:read"), name="trusted")
    token = await access_token(http, client)
    body = await api.execute(CREATE_SEGMENT, {"i": rules}, token=token)
    assert body["data"]["createSegment"]["errors"] == []


def test_an_app_acting_for_a_person_sees_their_unmasked_fields_only_with_the_pii_scope():
    client = SimpleNamespace(name="Склад", scopes=["orders:read", "pii:read"])
    logistics = ROLES["logistics"]
    assert delegated_role(logistics, ["orders:read"], client).unmasked_fields == frozenset()
    assert delegated_role(logistics, ["orders:read", "pii:read"], client).unmasked_fields == DELIVERY_RECIPIENT
    owner = delegated_role(ROLES["owner"], ["orders:read"], client)
    assert not owner.allows("pii:read")
    assert delegated_role(ROLES["owner"], ["orders:read", "pii:read"], client).allows("pii:read")


@pytest.mark.parametrize(
    ("mask", "value", "masked"),
    [
        (mask_phone, "+380671234599", "+38067*****99"),
        (mask_phone, "+380441234567", "+38044*****67"),  # Kyiv landline: the area code stays
        (mask_phone, "+48501234567", "+48501****67"),
        (mask_email, "olena@gmail.com", "o***@gmail.com"),
        (mask_email, "a@b.ua", "a***@b.ua"),
        (mask_address, "Київ, вул. Хрещатик, 1, кв. 5", "Київ, ***"),
        (mask_address, "Одеса", "Одеса"),
        (mask_address, "вул. Хрещатик 1", "***"),
        (mask_text, "Дзвінок з 0671234599, e-mail ivan.p@ukr.net", "Дзвінок з +38067*****99, e-mail i***@ukr.net"),
        (mask_text, "Замовлення №12345 на 250 грн", "Замовлення №12345 на 250 грн"),
    ],
)
def test_mask_formats(mask, value, masked):
    assert mask(value) == masked
