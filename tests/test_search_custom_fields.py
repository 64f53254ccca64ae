"""Custom-field values in search (docs/search.md, docs/custom-fields.md): text, link and choice
values of accounts, contacts, deals, orders and tickets are found by `search` and `where.search`
on the engine under test, never through a field the caller's role may not see, never after the
field is archived, never in another organization; the index follows changes and merges."""

from __future__ import annotations

from server.organizations.models import Organization
from server.search.index import reindex_organization
from server.search.models import SearchTerm
from tests.helpers import QueryCounter
from tests.test_accounts import make_account, make_contact, make_order
from tests.test_custom_fields import define, post
from tests.test_search import ACCOUNTS, CONTACTS, DEALS, ORDERS, TICKETS, _list, _search

ERRORS = "errors { field code }"
UPDATE_ACCOUNT = f"""mutation($i: UpdateAccountInput!) {{ updateAccount(input: $i) {{ account {{ id version }}
    {ERRORS} }} }}"""
CREATE_DEAL = f"mutation($i: CreateDealInput!) {{ createDeal(input: $i) {{ deal {{ id }} {ERRORS} }} }}"
CREATE_TICKET = f"mutation($i: CreateTicketInput!) {{ createTicket(input: $i) {{ ticket {{ id }} {ERRORS} }} }}"
ARCHIVE = f"""mutation($i: ArchiveCustomFieldInput!) {{ archiveCustomField(input: $i) {{
    definition {{ version }} {ERRORS} }} }}"""
UPDATE_FIELD = f"""mutation($i: UpdateCustomFieldInput!) {{ updateCustomField(input: $i) {{
    definition {{ version }} {ERRORS} }} }}"""
MERGE_ACCOUNTS = f"""mutation($i: MergeAccountsInput!) {{ mergeAccounts(input: $i) {{ account {{ id }} {ERRORS} }} }}"""


def _found(hits: list[dict]) -> set[tuple[str, str]]:
    return {(h["type"], h["matchedField"]) for h in hits}


async def test_custom_field_values_are_found_on_every_kind(api, tenants):
    t = await tenants.create(("owner",))
    await define(api, t.owner, objectType="ACCOUNT", key="note", kind="TEXT")
    await define(api, t.owner, objectType="CONTACT", key="site", kind="LINK")
    slot = await define(
        api,
        t.owner,
        objectType="ORDER",
        key="slot",
        kind="CHOICE",
        choices=[{"value": "am", "labelUk": "Ранок", "labelEn": "Morning"}, {"value": "pm"}],
    )
    await define(
        api,
        t.owner,
        objectType="DEAL",
        key="channels",
        kind="MULTI_CHOICE",
        choices=[{"value": "viber"}, {"value": "sms"}],
    )
    await define(api, t.owner, objectType="TICKET", key="serial", kind="TEXT")
    await define(api, t.owner, objectType="ACCOUNT", key="visits", kind="NUMBER")
    account = await make_account(
        t.owner,
        api,
        "Олена",
        customFieldValues=[{"key": "note", "textValue": "Квіткова крамниця"}, {"key": "visits", "numberValue": "4711"}],
    )
    await make_contact(
        t.owner, api, account["id"], "Петро", customFieldValues=[{"key": "site", "linkValue": "https://kvity.example"}]
    )
    order = await make_order(t.owner, api, account["id"], customFieldValues=[{"key": "slot", "choiceValues": ["am"]}])
    deal = await t.owner.data(
        api,
        CREATE_DEAL,
        {
            "i": {
                "accountId": account["id"],
                "title": "Опт",
                "customFieldValues": [{"key": "channels", "choiceValues": ["viber", "sms"]}],
            }
        },
    )
    assert deal["createDeal"]["errors"] == []
    ticket = await t.owner.data(
        api,
        CREATE_TICKET,
        {"i": {"subject": "Брак", "customFieldValues": [{"key": "serial", "textValue": "SN-40417-ZX"}]}},
    )
    assert ticket["createTicket"]["errors"] == []

    # Text in either alphabet, a word's start or any part; the field says where it matched.
    [hit] = await _search(t.owner, api, "kvitkova")
    assert (hit["type"], hit["matchedField"], hit["score"], hit["node"]["id"]) == (
        "ACCOUNT",
        "CUSTOM_FIELD",
        60,
        account["id"],
    )
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "крамниц") == {"Олена"}
    assert await _list(t.owner, api, CONTACTS, "contacts", "kvity.example") == {"Петро"}
    # A choice by its value and by either label.
    for text in ("ранок", "Morning"):
        assert await _list(t.owner, api, ORDERS, "orders", text, "number") == {order["number"]}, text
    assert _found(await _search(t.owner, api, "morning")) == {("ORDER", "CUSTOM_FIELD")}
    # Relabelled choices: found by the new label, not the old one.
    relabelled = await post(
        api,
        t.owner,
        UPDATE_FIELD,
        {
            "i": {
                "id": slot["id"],
                "version": slot["version"],
                "choices": [{"value": "am", "labelUk": "Ранок", "labelEn": "Early"}, {"value": "pm"}],
            }
        },
    )
    assert relabelled["updateCustomField"]["errors"] == []
    assert await _list(t.owner, api, ORDERS, "orders", "early", "number") == {order["number"]}
    assert await _list(t.owner, api, ORDERS, "orders", "morning", "number") == set()
    assert await _list(t.owner, api, DEALS, "deals", "viber", "title") == {"Опт"}
    assert await _list(t.owner, api, DEALS, "deals", "sms", "title") == {"Опт"}
    assert await _list(t.owner, api, TICKETS, "tickets", "sn-40417", "subject") == {"Брак"}
    # Numbers are not searched.
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "4711") == set()

    # A changed value: the old one stops matching, the new one matches.
    changed = await t.owner.data(
        api,
        UPDATE_ACCOUNT,
        {
            "i": {
                "id": account["id"],
                "version": account["version"],
                "customFieldValues": [{"key": "note", "textValue": "Пекарня"}],
            }
        },
    )
    assert changed["updateAccount"]["errors"] == []
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "kvitkova") == set()
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "pekarnia") == {"Олена"}
    cleared = await t.owner.data(
        api,
        UPDATE_ACCOUNT,
        {
            "i": {
                "id": account["id"],
                "version": changed["updateAccount"]["account"]["version"],
                "customFieldValues": [{"key": "note"}],
            }
        },
    )
    assert cleared["updateAccount"]["errors"] == []
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "pekarnia") == set()

    # A rebuild (crm search reindex, the migration) writes the same custom terms again.
    org = await Organization.get(slug=t.slug)
    before = sorted(await SearchTerm.filter(organization_id=org.id, field="custom").values_list("value", flat=True))
    assert "kvity example" in before and "ranok" in before and "early" in before
    await SearchTerm.filter(organization_id=org.id).delete()
    await reindex_organization(org.id)
    after = sorted(await SearchTerm.filter(organization_id=org.id, field="custom").values_list("value", flat=True))
    assert after == before


async def test_hidden_and_archived_fields_and_other_organizations(api, tenants):
    from tests.test_custom_roles import add_member, make_role

    t = await tenants.create(("owner", "logistics"))
    other = await tenants.create(("owner",))
    secret = await define(api, t.owner, objectType="ORDER", key="supplier", kind="TEXT")
    await define(api, t.owner, objectType="ORDER", key="slot", kind="TEXT")
    await define(api, t.owner, objectType="ACCOUNT", key="note", kind="TEXT")
    await make_role(
        t.owner,
        api,
        "Комплектувальник",
        permissions=["orders:read", "accounts:read"],
        hiddenFields=["Order.customFields.supplier"],
    )
    picker, _ = await add_member(api, tenants, t, t.owner, "Комплектувальник")
    account = await make_account(
        t.owner, api, "Клієнт", customFieldValues=[{"key": "note", "textValue": "Зелений чай"}]
    )
    order = await make_order(
        t.owner,
        api,
        account["id"],
        customFieldValues=[{"key": "supplier", "textValue": "Чайна Фабрика"}, {"key": "slot", "textValue": "Вечір"}],
    )
    # The other organization has the same values: never found by the first, and the other way round.
    await define(api, other.owner, objectType="ACCOUNT", key="note", kind="TEXT")
    theirs = await make_account(
        other.owner, api, "Їхній", customFieldValues=[{"key": "note", "textValue": "Зелений чай"}]
    )
    assert [h["node"]["id"] for h in await _search(t.owner, api, "zelenyi")] == [account["id"]]
    assert [h["node"]["id"] for h in await _search(other.owner, api, "zelenyi")] == [theirs["id"]]
    assert await _list(other.owner, api, ORDERS, "orders", "fabryka", "number") == set()

    # A field hidden from the role (Order.customFields.supplier) never makes an order match for it;
    # the owner finds it, and the picker still finds orders by the fields it may see.
    number = order["number"]
    assert await _list(t.owner, api, ORDERS, "orders", "fabryka", "number") == {number}
    assert _found(await _search(t.owner, api, "Чайна фабрика")) == {("ORDER", "CUSTOM_FIELD")}
    assert await _list(picker, api, ORDERS, "orders", "fabryka", "number") == set()
    assert await _search(picker, api, "Чайна фабрика") == []
    assert await _list(picker, api, ORDERS, "orders", "vechir", "number") == {number}
    # Logistics may not see Account.customFields at all: no account by its note.
    assert await _list(t.logistics, api, ACCOUNTS, "accounts", "zelenyi") == set()
    assert await _search(t.logistics, api, "zelenyi") == []

    # An archived field's values stop matching; brought back, they match again.
    archived = await post(api, t.owner, ARCHIVE, {"i": {"id": secret["id"], "version": secret["version"]}})
    assert archived["archiveCustomField"]["errors"] == []
    assert await _list(t.owner, api, ORDERS, "orders", "fabryka", "number") == set()
    assert await _search(t.owner, api, "fabryka") == []
    back = await post(
        api,
        t.owner,
        UPDATE_FIELD,
        {
            "i": {
                "id": secret["id"],
                "version": archived["archiveCustomField"]["definition"]["version"],
                "archived": False,
            }
        },
    )
    assert back["updateCustomField"]["errors"] == []
    assert await _list(t.owner, api, ORDERS, "orders", "fabryka", "number") == {number}


async def test_a_merged_account_is_found_by_the_values_it_took_over(api, tenants):
    t = await tenants.create(("owner",))
    await define(api, t.owner, objectType="ACCOUNT", key="note", kind="TEXT")
    await define(api, t.owner, objectType="ACCOUNT", key="city", kind="TEXT")
    keep = await make_account(t.owner, api, "Олена", customFieldValues=[{"key": "note", "textValue": "основний"}])
    dup = await make_account(
        t.owner,
        api,
        "Олена К.",
        customFieldValues=[{"key": "note", "textValue": "дубль"}, {"key": "city", "textValue": "Вінниця"}],
    )
    merged = await t.owner.data(
        api, MERGE_ACCOUNTS, {"i": {"id": keep["id"], "version": keep["version"], "mergeId": dup["id"]}}
    )
    assert merged["mergeAccounts"]["errors"] == []
    assert [h["node"]["id"] for h in await _search(t.owner, api, "vinnytsia")] == [keep["id"]]
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "osnovnyi") == {"Олена"}
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "dubl") == set()  # the survivor kept its own


async def test_statement_count_does_not_grow_with_custom_field_hits(api, tenants):
    t = await tenants.create(("owner",))
    await define(api, t.owner, objectType="ACCOUNT", key="note", kind="TEXT")
    await define(api, t.owner, objectType="ORDER", key="slot", kind="TEXT")
    for i in range(6):
        account = await make_account(
            t.owner, api, f"Клієнт {i}", customFieldValues=[{"key": "note", "textValue": f"Зірка {i}"}]
        )
        await make_order(t.owner, api, account["id"], customFieldValues=[{"key": "slot", "textValue": f"Зірка {i}"}])
    counts = {}
    for first in (8, 12):  # both: the six accounts ("zirka 0".."zirka 5"), then orders
        with QueryCounter() as q:
            hits = await _search(t.owner, api, "zirka", first=first)
        assert len(hits) == first and _found(hits) <= {("ACCOUNT", "CUSTOM_FIELD"), ("ORDER", "CUSTOM_FIELD")}
        counts[first] = q.count
    assert counts[8] == counts[12] <= 6, counts
    with QueryCounter() as q:
        assert len(await _list(t.owner, api, ORDERS, "orders", "zirka", "number")) == 6
    assert q.count <= 4, q.count


async def test_imported_values_are_found(api, tenants, database):
    import base64
    import csv
    import io

    from server.jobs.inprocess import run_until_idle

    t = await tenants.create(("owner",))
    await define(api, t.owner, objectType="ACCOUNT", key="note", kind="TEXT")
    out = io.StringIO()
    csv.writer(out).writerows([["ПІБ", "Примітка"], ["Андрій Коваль", "Гуртовий покупець"]])
    file = {"fileName": "clients.csv", "contentBase64": base64.b64encode(out.getvalue().encode()).decode()}
    for dry, found in ((True, set()), (False, {"Андрій Коваль"})):
        started = await post(
            api,
            t.owner,
            "mutation($i: StartImportInput!) { startImport(input: $i) { batch { id } errors { field code } } }",
            {"i": {"kind": "ACCOUNTS", "mapping": {"ПІБ": "name", "Примітка": "custom.note"}, "dryRun": dry, **file}},
        )
        assert started["startImport"]["errors"] == [], started
        await run_until_idle(database)
        assert await _list(t.owner, api, ACCOUNTS, "accounts", "hurtovyi") == found, dry
