"""Accounts and contacts through GraphQL: create, update, versions, idempotency, soft delete,
merge, contacts, and the account list's filters, sorting and pagination."""

from __future__ import annotations

import asyncio
import base64

import pytest

from server.accounts.models import Account
from server.graphql import ids
from tests.helpers import Client, TenantFactory

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

ACCOUNT = """id name kind phone phones emails addresses tags source customFields version mergedIntoId
    createdAt owner { id email }"""
PAYLOAD = f"account {{ {ACCOUNT} }} errors {{ field code message }}"
CREATE = f"mutation($i: CreateAccountInput!) {{ createAccount(input: $i) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($i: UpdateAccountInput!) {{ updateAccount(input: $i) {{ {PAYLOAD} }} }}"
DELETE = f"mutation($i: DeleteInput!) {{ deleteAccount(input: $i) {{ {PAYLOAD} }} }}"
MERGE = f"mutation($i: MergeAccountsInput!) {{ mergeAccounts(input: $i) {{ {PAYLOAD} }} }}"
GET = f"query($id: ID!) {{ account(id: $id) {{ {ACCOUNT} }} }}"
NODE = (
    "query($id: ID!) { node(id: $id) { id ... on Account { name } ... on Contact { name } ... on Order { number } } }"
)
LIST = """query($first: Int, $after: String, $where: AccountWhere, $orderBy: AccountOrder) {
    accounts(first: $first, after: $after, where: $where, orderBy: $orderBy) {
        edges { cursor node { id name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }"""

CONTACT = "id name position phones emails version account { id name }"
CONTACT_PAYLOAD = f"contact {{ {CONTACT} }} errors {{ field code message }}"
CREATE_CONTACT = f"mutation($i: CreateContactInput!) {{ createContact(input: $i) {{ {CONTACT_PAYLOAD} }} }}"
UPDATE_CONTACT = f"mutation($i: UpdateContactInput!) {{ updateContact(input: $i) {{ {CONTACT_PAYLOAD} }} }}"
DELETE_CONTACT = f"mutation($i: DeleteInput!) {{ deleteContact(input: $i) {{ {CONTACT_PAYLOAD} }} }}"
CONTACTS = """query($where: ContactWhere) { contacts(first: 100, where: $where) {
    edges { node { id name account { id } } } totalCount } }"""

ORDER_ITEMS = [{"sku": "KETTLE-1", "title": "Чайник", "quantity": "1", "unitPrice": "1000"}]
CREATE_ORDER = """mutation($i: CreateOrderInput!) { createOrder(input: $i) {
    order { id number version account { id name } } errors { field code message } } }"""
GET_ORDER = "query($id: ID!) { order(id: $id) { id number version account { id name phone } } }"
CREATE_NOTE = """mutation($i: CreateActivityInput!) { createActivity(input: $i) {
    activity { id } errors { field code message } } }"""


# -- helpers (also used by test_tenancy and test_roles) -------------------------------------


async def create_account(member, api, **fields) -> dict:
    """The createAccount payload (account and errors)."""
    data = await member.data(api, CREATE, {"i": fields})
    return data["createAccount"]


async def make_account(member, api, name: str = "Олена Коваль", **fields) -> dict:
    payload = await create_account(member, api, name=name, **fields)
    assert payload["errors"] == [], payload
    return payload["account"]


async def update_account(member, api, account: dict, **fields) -> dict:
    data = await member.data(api, UPDATE, {"i": {"id": account["id"], "version": account["version"], **fields}})
    return data["updateAccount"]


async def get_account(member, api, account_id: str) -> dict | None:
    return (await member.data(api, GET, {"id": account_id}))["account"]


async def node(member, api, gid: str) -> dict | None:
    return (await member.data(api, NODE, {"id": gid}))["node"]


async def list_accounts(member, api, where=None, order_by=None, first=100, after=None) -> dict:
    variables = {"first": first, "after": after, "where": where, "orderBy": order_by}
    return (await member.data(api, LIST, variables))["accounts"]


async def names(member, api, where=None, order_by=None) -> list[str]:
    return [e["node"]["name"] for e in (await list_accounts(member, api, where, order_by))["edges"]]


async def make_contact(member, api, account_id: str, name: str = "Петро", **fields) -> dict:
    data = await member.data(api, CREATE_CONTACT, {"i": {"accountId": account_id, "name": name, **fields}})
    assert data["createContact"]["errors"] == [], data
    return data["createContact"]["contact"]


async def create_order(member, api, account_id: str, **fields) -> dict:
    data = await member.data(api, CREATE_ORDER, {"i": {"accountId": account_id, "items": ORDER_ITEMS, **fields}})
    return data["createOrder"]


async def make_order(member, api, account_id: str, **fields) -> dict:
    payload = await create_order(member, api, account_id, **fields)
    assert payload["errors"] == [], payload
    return payload["order"]


def error(payload: dict) -> tuple[str, str | None]:
    [err] = payload["errors"]
    return err["code"], err["field"]


def gql_code(body: dict) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]


# -- create ---------------------------------------------------------------------------------


async def test_create_normalises_ukrainian_phones_and_defaults(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(
        t.owner,
        api,
        name="  ТОВ «Ромашка»  ",
        kind="COMPANY",
        phones=["(067) 123-45-67", "+38 050 765 43 21", "380931112233", "0038 063 000 11 22", "067-123-45-67"],
        emails=["Office@Romashka.UA", "office@romashka.ua", "sales@romashka.ua"],
        addresses=["Київ, вул. Хрещатик, 1"],
        tags=["VIP", "wholesale", "vip"],
        source="instagram",
        customFields={"edrpou": "12345678"},
    )
    assert account["name"] == "ТОВ «Ромашка»"
    assert account["kind"] == "COMPANY"
    # Every format becomes E.164, the duplicate is dropped and the first stays the primary.
    assert account["phones"] == ["+380671234567", "+380507654321", "+380931112233", "+380630001122"]
    assert account["phone"] == "+380671234567"
    assert account["emails"] == ["office@romashka.ua", "sales@romashka.ua"]
    assert account["tags"] == ["vip", "wholesale"]
    assert account["addresses"] == ["Київ, вул. Хрещатик, 1"]
    assert account["source"] == "instagram"
    assert account["customFields"] == {"edrpou": "12345678"}
    assert account["version"] == 1
    assert account["mergedIntoId"] is None
    assert account["owner"] == {"id": t.owner.user_id, "email": t.owner.email}
    # A person with no phone: defaults.
    bare = await make_account(t.owner, api, name="Іван")
    assert (bare["kind"], bare["phone"], bare["phones"], bare["tags"]) == ("PERSON", None, [], [])
    assert await get_account(t.owner, api, account["id"]) == account


async def test_create_understands_the_legacy_8_prefix(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api, name="Олена", phones=["8 (067) 123-45-67"])
    assert account["phone"] == "+380671234567"


@pytest.mark.parametrize(
    ("phones", "field"),
    [
        (["12345"], "phones.0"),
        (["0671234567", "not a phone"], "phones.1"),
        (["0671234567", "+380 67 123"], "phones.1"),
        (["067 123 45 67 89 00"], "phones.0"),
    ],
)
async def test_create_rejects_an_invalid_phone_and_writes_nothing(api, tenants, phones, field):
    t = await tenants.create(("owner",))
    payload = await create_account(t.owner, api, name="Олена", phones=phones)
    assert payload["account"] is None
    assert error(payload) == ("INVALID", field)
    assert phones[-1] in payload["errors"][0]["message"]
    assert (await list_accounts(t.owner, api))["totalCount"] == 0


async def test_create_rejects_an_invalid_email(api, tenants):
    t = await tenants.create(("owner",))
    payload = await create_account(t.owner, api, name="Олена", emails=["a@b.ua", "not-an-email"])
    assert error(payload) == ("INVALID", "emails.1")
    assert (await list_accounts(t.owner, api))["totalCount"] == 0


@pytest.mark.parametrize("name", ["", "   ", "\n\t"])
async def test_create_requires_a_name(api, tenants, name):
    t = await tenants.create(("owner",))
    payload = await create_account(t.owner, api, name=name, phones=["0671234567"])
    assert payload["account"] is None
    assert error(payload) == ("REQUIRED", "name")
    assert (await list_accounts(t.owner, api))["totalCount"] == 0


async def test_create_without_a_name_is_refused_by_the_schema(api, tenants):
    t = await tenants.create(("owner",))
    body = await t.owner.execute(api, CREATE, {"i": {"phones": ["0671234567"]}})
    assert body.get("data") is None
    assert gql_code(body) == "GRAPHQL_VALIDATION_FAILED"
    assert "name" in body["errors"][0]["message"]
    assert (await list_accounts(t.owner, api))["totalCount"] == 0


async def test_create_with_a_too_long_name_is_invalid(api, tenants):
    t = await tenants.create(("owner",))
    assert error(await create_account(t.owner, api, name="x" * 301)) == ("INVALID", "name")


async def test_idempotent_create_returns_the_first_account(api, tenants):
    t = await tenants.create(("owner",))
    first = await make_account(t.owner, api, name="Олена", phones=["0671234567"], idempotencyKey="form-42")
    again = await make_account(t.owner, api, name="Олена", phones=["0671234567"], idempotencyKey="form-42")
    assert again["id"] == first["id"]
    assert (await list_accounts(t.owner, api))["totalCount"] == 1
    other = await make_account(t.owner, api, name="Олена", phones=["0671234567"], idempotencyKey="form-43")
    assert other["id"] != first["id"]
    assert (await list_accounts(t.owner, api))["totalCount"] == 2


async def test_concurrent_retries_with_one_key_create_one_account(api, tenants):
    t = await tenants.create(("owner",))
    variables = {"i": {"name": "Олена", "phones": ["0671234567"], "idempotencyKey": "double-click"}}
    results = await asyncio.gather(*(t.owner.data(api, CREATE, variables) for _ in range(5)))
    assert all(r["createAccount"]["errors"] == [] for r in results), results
    assert len({r["createAccount"]["account"]["id"] for r in results}) == 1
    assert (await list_accounts(t.owner, api))["totalCount"] == 1


async def test_concurrent_retries_with_one_key_create_one_contact(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    variables = {"i": {"accountId": account["id"], "name": "Петро", "idempotencyKey": "double-click"}}
    results = await asyncio.gather(*(t.owner.data(api, CREATE_CONTACT, variables) for _ in range(5)))
    assert all(r["createContact"]["errors"] == [] for r in results), results
    assert len({r["createContact"]["contact"]["id"] for r in results}) == 1
    assert (await t.owner.data(api, CONTACTS))["contacts"]["totalCount"] == 1


async def test_idempotency_key_is_validated(api, tenants):
    t = await tenants.create(("owner",))
    assert error(await create_account(t.owner, api, name="A", idempotencyKey="")) == ("INVALID", "idempotencyKey")
    assert error(await create_account(t.owner, api, name="A", idempotencyKey="k" * 129)) == (
        "INVALID",
        "idempotencyKey",
    )
    assert (await list_accounts(t.owner, api))["totalCount"] == 0


# -- update -----------------------------------------------------------------------------------


async def test_update_changes_only_the_fields_sent(api, tenants):
    t = await tenants.create(("owner", "sales"))
    account = await make_account(
        t.owner,
        api,
        name="Олена",
        phones=["0671234567"],
        emails=["olena@example.com"],
        tags=["vip"],
        source="instagram",
        customFields={"size": "M"},
        addresses=["Львів"],
    )
    payload = await update_account(t.owner, api, account, name="Олена Коваль")
    assert payload["errors"] == []
    updated = payload["account"]
    assert updated["name"] == "Олена Коваль"
    assert updated["version"] == account["version"] + 1
    unchanged = {k: v for k, v in account.items() if k not in ("name", "version")}
    assert {k: v for k, v in updated.items() if k not in ("name", "version")} == unchanged
    assert await get_account(t.owner, api, account["id"]) == updated

    # Phones replaced in any format; the lookups follow.
    payload = await update_account(t.owner, api, updated, phones=["050 111 22 33", "(067) 123-45-67"])
    assert payload["errors"] == []
    updated = payload["account"]
    assert updated["phone"] == "+380501112233"
    assert updated["phones"] == ["+380501112233", "+380671234567"]
    assert updated["tags"] == ["vip"]
    assert await names(t.owner, api, {"phone": {"eq": "0501112233"}}) == ["Олена Коваль"]

    # Explicit nulls clear optional fields; kind and owner can change.
    payload = await update_account(t.owner, api, updated, source=None, tags=[], kind="COMPANY", ownerId=t.sales.user_id)
    assert payload["errors"] == []
    updated = payload["account"]
    assert (updated["source"], updated["tags"], updated["kind"]) == (None, [], "COMPANY")
    assert updated["owner"]["email"] == t.sales.email
    assert updated["emails"] == ["olena@example.com"]
    assert await names(t.owner, api, {"tag": {"eq": "vip"}}) == []


async def test_update_validates_like_create(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api, name="Олена", phones=["0671234567"])
    assert error(await update_account(t.owner, api, account, phones=["0671234567", "999"])) == ("INVALID", "phones.1")
    assert error(await update_account(t.owner, api, account, name="  ")) == ("REQUIRED", "name")
    assert error(await update_account(t.owner, api, account, name=None)) == ("REQUIRED", "name")
    assert error(await update_account(t.owner, api, account, emails=["nope"])) == ("INVALID", "emails.0")
    assert error(await update_account(t.owner, api, account, ownerId="garbage")) == ("INVALID", "ownerId")
    assert error(await update_account(t.owner, api, account, customFields=[1, 2])) == ("INVALID", "customFields")
    assert error(await update_account(t.owner, api, account, tags=["ok", " "])) == ("REQUIRED", "tags.1")
    assert error(await update_account(t.owner, api, account, addresses=[""])) == ("REQUIRED", "addresses.0")
    assert error(await update_account(t.owner, api, account, kind=None)) == ("INVALID", "kind")
    assert await get_account(t.owner, api, account["id"]) == account


async def test_update_with_a_stale_version_is_a_conflict_and_changes_nothing(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api, name="Олена", phones=["0671234567"])
    fresh = (await update_account(t.owner, api, account, name="Олена К."))["account"]
    payload = await update_account(t.owner, api, account, name="Стара назва", phones=["0501112233"])
    assert payload["account"] is None
    assert error(payload) == ("CONFLICT", "version")
    assert await get_account(t.owner, api, account["id"]) == fresh
    assert await names(t.owner, api, {"phone": {"eq": "0501112233"}}) == []
    # Deleting and merging check the version too.
    deleted = (await t.owner.data(api, DELETE, {"i": {"id": account["id"], "version": account["version"]}}))[
        "deleteAccount"
    ]
    assert error(deleted) == ("CONFLICT", "version")
    assert await get_account(t.owner, api, account["id"]) == fresh


async def test_update_of_an_unknown_account_is_not_found(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    await t.owner.data(api, DELETE, {"i": {"id": account["id"], "version": 1}})
    assert error(await update_account(t.owner, api, account, name="x")) == ("NOT_FOUND", "id")
    order_id = "T3JkZXI6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"  # Order:<zero uuid>
    assert error(await update_account(t.owner, api, {"id": order_id, "version": 1}, name="x")) == ("INVALID", "id")


# -- delete -------------------------------------------------------------------------------------


async def test_soft_delete_hides_the_account_but_its_orders_still_show_it(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(
        t.owner, api, name="Олена", phones=["0671234567"], emails=["olena@example.com"], tags=["vip"]
    )
    keep = await make_account(t.owner, api, name="Інший клієнт")
    order = await make_order(t.owner, api, account["id"])

    payload = (await t.owner.data(api, DELETE, {"i": {"id": account["id"], "version": account["version"]}}))[
        "deleteAccount"
    ]
    assert payload["errors"] == []
    assert payload["account"]["id"] == account["id"]

    assert await get_account(t.owner, api, account["id"]) is None
    assert await node(t.owner, api, account["id"]) is None
    listed = await list_accounts(t.owner, api)
    assert [e["node"]["id"] for e in listed["edges"]] == [keep["id"]]
    assert listed["totalCount"] == 1
    for where in (
        {"phone": {"eq": "(067) 123-45-67"}},
        {"email": {"eq": "olena@example.com"}},
        {"tag": {"eq": "vip"}},
        {"search": {"contains": "0671234567"}},
        {"search": {"contains": "Олена"}},
        {"name": {"contains": "Олена"}},
    ):
        assert await names(t.owner, api, where) == [], where

    # History is kept: the order still names its customer.
    seen = (await t.owner.data(api, GET_ORDER, {"id": order["id"]}))["order"]
    assert seen["account"] == {"id": account["id"], "name": "Олена", "phone": "+380671234567"}

    # Gone for writes too; deleting twice is NOT_FOUND.
    again = (await t.owner.data(api, DELETE, {"i": {"id": account["id"], "version": 2}}))["deleteAccount"]
    assert error(again) == ("NOT_FOUND", "id")
    assert error(await update_account(t.owner, api, {**account, "version": 2}, name="x")) == ("NOT_FOUND", "id")
    assert error(await create_order(t.owner, api, account["id"])) == ("NOT_FOUND", "accountId")

    # The phone is free again: a new account with it is the only one found.
    new = await make_account(t.owner, api, name="Олена нова", phones=["+380671234567"])
    assert [e["node"]["id"] for e in (await list_accounts(t.owner, api, {"phone": {"eq": "0671234567"}}))["edges"]] == [
        new["id"]
    ]


async def test_find_by_phone_for_integrations(api, tenants):
    """The service call telephony and marketplace plugins use to recognise a caller (no GraphQL
    field of its own): any format, the caller's organization and row scope, live accounts only."""
    from server.accounts import service
    from server.auth.models import User
    from server.auth.principal import for_user
    from server.auth.scope import Scope

    t = await tenants.create(("owner", "sales"))
    other = await tenants.create(("owner",))
    older = await make_account(t.owner, api, name="Старший", phones=["0671234567"])
    newer = await make_account(t.sales, api, name="Молодший", phones=["0501112233", "+380671234567"])
    gone = await make_account(t.owner, api, name="Видалений", phones=["0671234567"])
    await t.owner.data(api, DELETE, {"i": {"id": gone["id"], "version": 1}})
    await make_account(other.owner, api, name="Чужий", phones=["0671234567"])

    async def scope_of(member, slug):
        return Scope(await for_user(await User.get(email=member.email), slug))

    owner = await scope_of(t.owner, t.slug)
    assert [a.name for a in await service.find_by_phone(owner, "(067) 123-45-67")] == [older["name"], newer["name"]]
    assert [a.name for a in await service.find_by_phone(owner, "+380501112233")] == [newer["name"]]
    assert await service.find_by_phone(owner, "not a phone") == []
    sales = await scope_of(t.sales, t.slug)
    assert [a.name for a in await service.find_by_phone(sales, "0671234567")] == [newer["name"]]


async def test_contacts_of_a_deleted_account_are_gone_too(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    contact = await make_contact(t.owner, api, account["id"], "Петро")
    await t.owner.data(api, DELETE, {"i": {"id": account["id"], "version": account["version"]}})
    assert (await t.owner.data(api, CONTACTS))["contacts"]["totalCount"] == 0
    assert await node(t.owner, api, contact["id"]) is None


# -- merge ----------------------------------------------------------------------------------------


async def test_merge_moves_everything_to_the_survivor(api, tenants):
    t = await tenants.create(("owner",))
    keep = await make_account(
        t.owner,
        api,
        name="Олена Коваль",
        phones=["0671234567"],
        emails=["olena@example.com"],
        tags=["vip"],
        customFields={"size": "M"},
        addresses=["Київ"],
    )
    dup = await make_account(
        t.owner,
        api,
        name="Олена К.",
        phones=["050 111 22 33", "+380671234567"],
        emails=["OLENA.K@example.com", "olena@example.com"],
        tags=["wholesale", "vip"],
        customFields={"size": "L", "city": "Львів"},
        addresses=["Львів"],
    )
    contact = await make_contact(t.owner, api, dup["id"], "Петро")
    order = await make_order(t.owner, api, dup["id"])
    note = await t.owner.data(api, CREATE_NOTE, {"i": {"kind": "NOTE", "accountId": dup["id"], "body": "Дзвонила"}})
    assert note["createActivity"]["errors"] == []

    payload = (
        await t.owner.data(api, MERGE, {"i": {"id": keep["id"], "version": keep["version"], "mergeId": dup["id"]}})
    )["mergeAccounts"]
    assert payload["errors"] == []
    merged = payload["account"]
    assert merged["id"] == keep["id"]
    assert merged["name"] == "Олена Коваль"
    assert merged["version"] == keep["version"] + 1
    assert merged["phone"] == "+380671234567"
    assert merged["phones"] == ["+380671234567", "+380501112233"]
    assert merged["emails"] == ["olena@example.com", "olena.k@example.com"]
    assert merged["tags"] == ["vip", "wholesale"]
    assert merged["customFields"] == {"size": "M", "city": "Львів"}
    assert merged["addresses"] == ["Київ", "Львів"]
    assert merged["mergedIntoId"] is None

    view = await t.owner.data(
        api,
        """query($id: ID!) { account(id: $id) { contacts { id name }
            orders { edges { node { id account { id } } } totalCount }
            timeline(first: 50) { edges { node { id kind account { id } } } } } }""",
        {"id": keep["id"]},
    )
    survivor = view["account"]
    assert [c["id"] for c in survivor["contacts"]] == [contact["id"]]
    assert survivor["orders"]["totalCount"] == 1
    assert survivor["orders"]["edges"][0]["node"] == {"id": order["id"], "account": {"id": keep["id"]}}
    timeline_ids = {e["node"]["id"] for e in survivor["timeline"]["edges"]}
    assert note["createActivity"]["activity"]["id"] in timeline_ids
    assert all(e["node"]["account"]["id"] == keep["id"] for e in survivor["timeline"]["edges"])

    # The duplicate is gone everywhere; its phones and e-mails find the survivor.
    assert await get_account(t.owner, api, dup["id"]) is None
    assert await node(t.owner, api, dup["id"]) is None
    assert await names(t.owner, api) == ["Олена Коваль"]
    assert await names(t.owner, api, {"phone": {"eq": "0501112233"}}) == ["Олена Коваль"]
    assert await names(t.owner, api, {"email": {"eq": "olena.k@example.com"}}) == ["Олена Коваль"]
    assert await names(t.owner, api, {"tag": {"eq": "wholesale"}}) == ["Олена Коваль"]
    contact_seen = (
        await t.owner.data(
            api, f"query($id: ID!) {{ node(id: $id) {{ ... on Contact {{ {CONTACT} }} }} }}", {"id": contact["id"]}
        )
    )["node"]
    assert contact_seen["account"]["id"] == keep["id"]
    order_seen = (await t.owner.data(api, GET_ORDER, {"id": order["id"]}))["order"]
    assert order_seen["account"]["id"] == keep["id"]

    # The duplicate points at the survivor, and the audit trail says so.
    row = await Account.get(id=_pk(dup["id"]))
    assert row.deleted_at is not None
    assert str(row.merged_into_id) == str(_pk(keep["id"]))
    audit = await t.owner.data(
        api,
        """query($id: ID!) { auditEntries(first: 10, where: {entityId: {eq: $id}}) {
            edges { node { action changes } } } }""",
        {"id": dup["id"]},
    )
    actions = [e["node"]["action"] for e in audit["auditEntries"]["edges"]]
    assert "account.merged_into" in actions


async def test_merge_checks_version_and_self_and_changes_nothing(api, tenants):
    t = await tenants.create(("owner",))
    keep = await make_account(t.owner, api, name="Олена", phones=["0671234567"])
    dup = await make_account(t.owner, api, name="Олена К.", phones=["0501112233"])
    contact = await make_contact(t.owner, api, dup["id"])
    stale = (await t.owner.data(api, MERGE, {"i": {"id": keep["id"], "version": 7, "mergeId": dup["id"]}}))[
        "mergeAccounts"
    ]
    assert error(stale) == ("CONFLICT", "version")
    itself = (await t.owner.data(api, MERGE, {"i": {"id": keep["id"], "version": 1, "mergeId": keep["id"]}}))[
        "mergeAccounts"
    ]
    assert error(itself) == ("INVALID", "mergeId")
    garbage = (await t.owner.data(api, MERGE, {"i": {"id": keep["id"], "version": 1, "mergeId": "nope"}}))[
        "mergeAccounts"
    ]
    assert error(garbage) == ("INVALID", "mergeId")
    assert await get_account(t.owner, api, keep["id"]) == keep
    assert await get_account(t.owner, api, dup["id"]) == dup
    assert (await node(t.owner, api, contact["id"]))["id"] == contact["id"]
    assert await names(t.owner, api, {"phone": {"eq": "0501112233"}}) == ["Олена К."]

    # A deleted account cannot be merged in.
    await t.owner.data(api, DELETE, {"i": {"id": dup["id"], "version": dup["version"]}})
    gone = (await t.owner.data(api, MERGE, {"i": {"id": keep["id"], "version": 1, "mergeId": dup["id"]}}))[
        "mergeAccounts"
    ]
    assert error(gone) == ("NOT_FOUND", "mergeId")
    assert await get_account(t.owner, api, keep["id"]) == keep


async def test_concurrent_merges_of_one_duplicate_do_not_split_it(api, tenants):
    t = await tenants.create(("owner",))
    first = await make_account(t.owner, api, name="Перший")
    second = await make_account(t.owner, api, name="Другий")
    dup = await make_account(t.owner, api, name="Дубль", phones=["0671234567"])
    for i in range(3):
        await make_contact(t.owner, api, dup["id"], f"Контакт {i}")
    results = await asyncio.gather(
        *(
            t.owner.data(api, MERGE, {"i": {"id": keep["id"], "version": 1, "mergeId": dup["id"]}})
            for keep in (first, second)
        )
    )
    payloads = [r["mergeAccounts"] for r in results]
    winners = [p for p in payloads if not p["errors"]]
    assert len(winners) == 1, payloads
    [loser] = [p for p in payloads if p["errors"]]
    assert error(loser) == ("NOT_FOUND", "mergeId")
    survivor = winners[0]["account"]
    view = await t.owner.data(api, "query($id: ID!) { account(id: $id) { contacts { name } } }", {"id": survivor["id"]})
    assert len(view["account"]["contacts"]) == 3
    assert await names(t.owner, api, {"phone": {"eq": "0671234567"}}) == [survivor["name"]]


def _pk(gid: str):
    from server.graphql import ids

    return ids.decode(gid)[1]


# -- contacts -------------------------------------------------------------------------------------


async def test_contacts_crud(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api, name="ТОВ Ромашка", kind="COMPANY")
    contact = await make_contact(
        t.owner,
        api,
        account["id"],
        "  Петро Іваненко ",
        position="Закупівлі",
        phones=["(067) 123-45-67"],
        emails=["Petro@Romashka.UA"],
    )
    assert contact["name"] == "Петро Іваненко"
    assert contact["phones"] == ["+380671234567"]
    assert contact["emails"] == ["petro@romashka.ua"]
    assert contact["account"] == {"id": account["id"], "name": "ТОВ Ромашка"}
    assert contact["version"] == 1
    second = await make_contact(t.owner, api, account["id"], "Анна")

    view = await t.owner.data(
        api, "query($id: ID!) { account(id: $id) { contacts { id name } } }", {"id": account["id"]}
    )
    assert [c["name"] for c in view["account"]["contacts"]] == ["Анна", "Петро Іваненко"]
    listed = (await t.owner.data(api, CONTACTS, {"where": {"account": {"eq": account["id"]}}}))["contacts"]
    assert listed["totalCount"] == 2
    by_name = (await t.owner.data(api, CONTACTS, {"where": {"name": {"contains": "петро"}}}))["contacts"]
    assert [e["node"]["id"] for e in by_name["edges"]] == [contact["id"]]

    # Partial update.
    upd = (await t.owner.data(api, UPDATE_CONTACT, {"i": {"id": contact["id"], "version": 1, "position": "Директор"}}))[
        "updateContact"
    ]
    assert upd["errors"] == []
    assert upd["contact"]["position"] == "Директор"
    assert upd["contact"]["name"] == "Петро Іваненко"
    assert upd["contact"]["phones"] == ["+380671234567"]
    assert upd["contact"]["version"] == 2
    # Stale version, bad phone, blank name.
    for fields, expected in (
        ({"version": 1, "name": "X"}, ("CONFLICT", "version")),
        ({"version": 2, "phones": ["123"]}, ("INVALID", "phones.0")),
        ({"version": 2, "name": " "}, ("REQUIRED", "name")),
    ):
        payload = (await t.owner.data(api, UPDATE_CONTACT, {"i": {"id": contact["id"], **fields}}))["updateContact"]
        assert error(payload) == expected
    assert (await node(t.owner, api, contact["id"]))["name"] == "Петро Іваненко"

    # Delete (version checked).
    stale = (await t.owner.data(api, DELETE_CONTACT, {"i": {"id": contact["id"], "version": 1}}))["deleteContact"]
    assert error(stale) == ("CONFLICT", "version")
    deleted = (await t.owner.data(api, DELETE_CONTACT, {"i": {"id": contact["id"], "version": 2}}))["deleteContact"]
    assert deleted["errors"] == []
    assert await node(t.owner, api, contact["id"]) is None
    view = await t.owner.data(api, "query($id: ID!) { account(id: $id) { contacts { id } } }", {"id": account["id"]})
    assert view["account"]["contacts"] == [{"id": second["id"]}]
    again = (await t.owner.data(api, DELETE_CONTACT, {"i": {"id": contact["id"], "version": 2}}))["deleteContact"]
    assert error(again) == ("NOT_FOUND", "id")


async def test_create_contact_validates_and_is_idempotent(api, tenants):
    t = await tenants.create(("owner",))
    account = await make_account(t.owner, api)
    for fields, expected in (
        ({"name": ""}, ("REQUIRED", "name")),
        ({"name": "Петро", "phones": ["0671234567", "1"]}, ("INVALID", "phones.1")),
        ({"name": "Петро", "emails": ["@"]}, ("INVALID", "emails.0")),
        ({"name": "Петро", "accountId": "bad"}, ("INVALID", "accountId")),
    ):
        data = await t.owner.data(api, CREATE_CONTACT, {"i": {"accountId": account["id"], **fields}})
        assert error(data["createContact"]) == expected
    assert (await t.owner.data(api, CONTACTS))["contacts"]["totalCount"] == 0

    one = await make_contact(t.owner, api, account["id"], "Петро", idempotencyKey="c-1")
    two = await make_contact(t.owner, api, account["id"], "Петро", idempotencyKey="c-1")
    assert one["id"] == two["id"]
    assert (await t.owner.data(api, CONTACTS))["contacts"]["totalCount"] == 1


# -- lists: filters -------------------------------------------------------------------------------


async def make_crowd(api, tenants):
    """A tenant with four accounts to filter and sort."""
    t = await tenants.create(("owner", "sales"))
    a1 = await make_account(
        t.owner,
        api,
        name="Олена Коваль",
        phones=["0671234567"],
        emails=["Olena@Example.com"],
        tags=["vip"],
        source="instagram",
    )
    a2 = await make_account(
        t.owner,
        api,
        name="ТОВ Ромашка",
        kind="COMPANY",
        phones=["0501112233", "0442223344"],
        emails=["office@romashka.ua"],
        tags=["wholesale", "vip"],
        source="website",
    )
    a3 = await make_account(
        t.owner, api, name="Іван Петренко", phones=["0931234567"], tags=["wholesale"], ownerId=t.sales.user_id
    )
    a4 = await make_account(t.owner, api, name="Olena Shevchenko", emails=["shevchenko@example.com"])
    return t, (a1, a2, a3, a4)


@pytest.fixture(scope="module")
async def crowd(http):
    """One read-only crowd for the many filter cases (tests that change accounts make their own)."""
    api = Client(http)
    return await make_crowd(api, TenantFactory(api))


def _names(accounts) -> set[str]:
    return {a["name"] for a in accounts}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"phone": {"eq": "(067) 123-45-67"}}, {0}),
        ({"phone": {"eq": "+38 067 123 45 67"}}, {0}),
        ({"phone": {"eq": "380671234567"}}, {0}),
        ({"phone": {"eq": "044 222 33 44"}}, {1}),  # a second phone counts too
        ({"phone": {"in": ["+380501112233", "093-123-45-67"]}}, {1, 2}),
        ({"phone": {"eq": "0670000000"}}, set()),
        ({"phone": {"eq": "not a phone"}}, set()),
        ({"email": {"eq": "OLENA@example.COM"}}, {0}),
        ({"email": {"eq": "  office@romashka.ua "}}, {1}),
        ({"email": {"in": ["olena@example.com", "shevchenko@example.com"]}}, {0, 3}),
        ({"tag": {"eq": "VIP"}}, {0, 1}),
        ({"tag": {"in": ["wholesale"]}}, {1, 2}),
        ({"search": {"contains": "Коваль"}}, {0}),
        # Either alphabet finds both spellings (KMU 2010 transliteration, docs/search.md).
        ({"search": {"contains": "олена"}}, {0, 3}),
        ({"search": {"contains": "Olena"}}, {0, 3}),
        ({"search": {"contains": "067 123 45 67"}}, {0}),
        ({"search": {"contains": "+380931234567"}}, {2}),
        ({"search": {"contains": "Office@Romashka.ua"}}, {1}),
        ({"search": {"contains": "   "}}, {0, 1, 2, 3}),
        ({"search": {"contains": "vip"}}, set()),  # tags are not searched (the tag filter is)
        ({"search": {"contains": "ромаш"}}, {1}),
        ({"name": {"contains": "ромаш"}}, {1}),
        ({"name": {"contains": "ПЕТРЕНКО"}}, {2}),
        ({"name": {"contains": "shev"}}, {3}),
        ({"name": {"eq": "Іван Петренко"}}, {2}),
        ({"kind": {"eq": "company"}}, {1}),
        ({"kind": {"in": ["person"]}}, {0, 2, 3}),
        ({"source": {"eq": "instagram"}}, {0}),
        ({"AND": [{"tag": {"eq": "vip"}}, {"kind": {"eq": "person"}}]}, {0}),
        ({"tag": {"eq": "vip"}, "kind": {"eq": "person"}}, {0}),
        ({"OR": [{"phone": {"eq": "0671234567"}}, {"tag": {"eq": "wholesale"}}]}, {0, 1, 2}),
        (
            {"AND": [{"OR": [{"tag": {"eq": "vip"}}, {"name": {"contains": "Іван"}}]}, {"kind": {"eq": "person"}}]},
            {0, 2},
        ),
        ({"OR": [{"email": {"eq": "olena@example.com"}}, {"email": {"eq": "shevchenko@example.com"}}]}, {0, 3}),
    ],
)
async def test_account_filters(api, crowd, where, expected):
    t, accounts = crowd
    found = await list_accounts(t.owner, api, where)
    assert _names(e["node"] for e in found["edges"]) == _names(accounts[i] for i in expected)
    assert found["totalCount"] == len(expected)


async def test_filter_by_owner_and_created_at(api, crowd):
    t, (a1, a2, a3, a4) = crowd
    assert await names(t.owner, api, {"owner": {"eq": t.sales.user_id}}) == ["Іван Петренко"]
    assert set(await names(t.owner, api, {"owner": {"in": [t.owner.user_id]}})) == _names([a1, a2, a4])
    bad = await t.owner.execute(api, LIST, {"where": {"owner": {"eq": "garbage"}}})
    assert gql_code(bad) == "BAD_REQUEST"

    between = {"createdAt": {"gte": a2["createdAt"], "lte": a3["createdAt"]}}
    assert set(await names(t.owner, api, between)) == _names([a2, a3])
    exclusive = {"createdAt": {"gt": a2["createdAt"], "lt": a4["createdAt"]}}
    assert await names(t.owner, api, exclusive) == [a3["name"]]
    assert set(await names(t.owner, api, {"createdAt": {"lt": a2["createdAt"]}})) == {a1["name"]}
    combined = {"createdAt": {"gte": a2["createdAt"]}, "OR": [{"tag": {"eq": "vip"}}, {"kind": {"eq": "company"}}]}
    assert await names(t.owner, api, combined) == [a2["name"]]


# -- lists: sorting and pagination ------------------------------------------------------------------


async def test_order_by_name_and_created_at(api, tenants):
    t, accounts = await make_crowd(api, tenants)
    created = [a["name"] for a in accounts]
    assert await names(t.owner, api) == created[::-1]  # newest first by default
    assert await names(t.owner, api, order_by={"field": "CREATED_AT", "direction": "ASC"}) == created
    assert await names(t.owner, api, order_by={"field": "CREATED_AT", "direction": "DESC"}) == created[::-1]
    by_name = await names(t.owner, api, order_by={"field": "NAME", "direction": "ASC"})
    assert sorted(by_name) == sorted(created)
    assert by_name.index("Olena Shevchenko") < by_name.index("Іван Петренко")  # Latin before Cyrillic
    assert by_name.index("Олена Коваль") < by_name.index("ТОВ Ромашка")
    assert await names(t.owner, api, order_by={"field": "NAME", "direction": "DESC"}) == by_name[::-1]
    # UPDATED_AT follows the last change.
    await update_account(t.owner, api, accounts[0], tags=["x"])
    latest = await names(t.owner, api, order_by={"field": "UPDATED_AT", "direction": "DESC"})
    assert latest[0] == accounts[0]["name"]


ORDERINGS = [
    {"field": "NAME", "direction": "ASC"},
    {"field": "NAME", "direction": "DESC"},
    {"field": "CREATED_AT", "direction": "ASC"},
    {"field": "CREATED_AT", "direction": "DESC"},
    {"field": "UPDATED_AT", "direction": "DESC"},
]


@pytest.mark.parametrize("order_by", ORDERINGS, ids=lambda o: f"{o['field']}-{o['direction']}")
async def test_walking_pages_returns_every_account_once_in_order(api, tenants, order_by):
    t = await tenants.create(("owner",))
    # Ties on name are broken by id, so equal names are neither lost nor repeated.
    for name in ("bravo", "alpha", "delta", "alpha", "charlie", "echo", "bravo"):
        await make_account(t.owner, api, name=name)
    everything = await list_accounts(t.owner, api, order_by=order_by)
    expected = [e["node"]["id"] for e in everything["edges"]]
    assert len(expected) == 7
    if order_by["field"] == "NAME":
        seen_names = [e["node"]["name"] for e in everything["edges"]]
        assert seen_names == sorted(seen_names, reverse=order_by["direction"] == "DESC")

    walked, after, pages = [], None, 0
    while True:
        page = await list_accounts(t.owner, api, order_by=order_by, first=2, after=after)
        pages += 1
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert len(page["edges"]) <= 2
        walked += [e["node"]["id"] for e in page["edges"]]
        if page["edges"]:
            assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert pages < 10
    assert walked == expected
    assert pages == 4
    assert len(page["edges"]) == 1

    # Exactly full last page: hasNextPage is false, not a phantom empty page.
    six = await list_accounts(t.owner, api, order_by=order_by, first=6)
    last = await list_accounts(t.owner, api, order_by=order_by, first=1, after=six["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in last["edges"]] == expected[6:]
    assert last["pageInfo"]["hasNextPage"] is False
    seven = await list_accounts(t.owner, api, order_by=order_by, first=7)
    assert seven["pageInfo"]["hasNextPage"] is False
    past = await list_accounts(t.owner, api, order_by=order_by, first=7, after=seven["pageInfo"]["endCursor"])
    assert past["edges"] == []
    assert past["pageInfo"]["hasNextPage"] is False
    assert past["pageInfo"]["endCursor"] is None


async def test_pagination_with_a_filter_keeps_the_filter(api, crowd):
    t, _ = crowd
    where = {"tag": {"in": ["vip", "wholesale"]}}
    first = await list_accounts(t.owner, api, where, {"field": "NAME", "direction": "ASC"}, first=2)
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await list_accounts(
        t.owner, api, where, {"field": "NAME", "direction": "ASC"}, first=2, after=first["pageInfo"]["endCursor"]
    )
    got = [e["node"]["name"] for e in first["edges"] + rest["edges"]]
    assert sorted(got) == sorted(["Олена Коваль", "ТОВ Ромашка", "Іван Петренко"])
    assert len(set(got)) == 3
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_page_size_edges(api, crowd):
    t, _ = crowd
    zero = await list_accounts(t.owner, api, first=0)
    assert zero["edges"] == []
    assert zero["totalCount"] == 4
    assert zero["pageInfo"]["endCursor"] is None
    assert len((await list_accounts(t.owner, api, first=100))["edges"]) == 4
    default = await t.owner.data(api, "{ accounts { edges { cursor } } }")
    assert len(default["accounts"]["edges"]) == 4
    for first in (101, -1):
        body = await t.owner.execute(api, LIST, {"first": first})
        assert body["data"] == {"accounts": None}  # the root field alone is null
        assert gql_code(body) == "BAD_REQUEST"
        assert "`first` must be between 0 and 100" in body["errors"][0]["message"]
    # A huge page is refused before it runs (by the cost limit).
    body = await t.owner.execute(api, LIST, {"first": 10_000})
    assert body["data"] is None
    assert gql_code(body) in ("BAD_REQUEST", "QUERY_TOO_COSTLY")


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "!!!",
        _b64("{}"),
        _b64('{"a": 1}'),
        _b64("[1]"),
        _b64("5"),
        _b64('["2024-01-01T00:00:00+00:00", "not-a-uuid"]'),
        _b64('["not a date", "00000000-0000-0000-0000-000000000000"]'),
        _b64('[null, "00000000-0000-0000-0000-000000000000"]'),
    ],
)
async def test_a_garbage_cursor_is_a_clear_error(api, crowd, after):
    t, _ = crowd
    body = await t.owner.execute(api, LIST, {"first": 2, "after": after})
    assert body["data"] == {"accounts": None}
    assert gql_code(body) == "BAD_REQUEST"
    assert "cursor" in body["errors"][0]["message"]


async def test_a_cursor_of_another_ordering_is_a_clear_error(api, crowd):
    t, _ = crowd
    page = await list_accounts(t.owner, api, order_by={"field": "NAME", "direction": "ASC"}, first=1)
    body = await t.owner.execute(api, LIST, {"first": 1, "after": page["pageInfo"]["endCursor"]})
    assert gql_code(body) == "BAD_REQUEST"


async def test_cursor_json_is_not_trusted(api, crowd):
    """Well-formed JSON of the wrong shape must not become an internal error."""
    t, _ = crowd
    for raw in ('["2024-01-01T00:00:00+00:00", 5]', '[[1], "00000000-0000-0000-0000-000000000000"]'):
        body = await t.owner.execute(api, LIST, {"first": 2, "after": _b64(raw)})
        codes = {e["extensions"]["code"] for e in body.get("errors") or []}
        assert "INTERNAL_SERVER_ERROR" not in codes, (raw, body)


async def test_a_merge_keeps_every_opt_out_of_both_accounts(api, tenants):
    """Where both accounts chose for a channel, "no" wins; a choice only the duplicate made moves
    over, so its old unsubscribe links and the next notification still respect it."""
    from server.notifications.models import ChannelConsent
    from server.notifications.service import opted_out

    t = await tenants.create(("owner",))
    keep = await make_account(t.owner, api, name="Олена Коваль", phones=["0671234567"])
    dup = await make_account(t.owner, api, name="Олена К.", phones=["0501112233"])
    keep_id, dup_id = ids.decode(keep["id"], "Account")[1], ids.decode(dup["id"], "Account")[1]
    org_id = (await Account.get(id=keep_id)).organization_id
    for account_id, channel, opted_in in ((keep_id, "sms", True), (dup_id, "sms", False), (dup_id, "email", False)):
        await ChannelConsent.create(organization_id=org_id, account_id=account_id, channel=channel, opted_in=opted_in)
    merged = await t.owner.data(api, MERGE, {"i": {"id": keep["id"], "version": keep["version"], "mergeId": dup["id"]}})
    assert merged["mergeAccounts"]["errors"] == []
    assert await opted_out(keep_id, "sms") and await opted_out(keep_id, "email")
    assert not await ChannelConsent.filter(account_id=dup_id).exists()
