"""Duplicates: the warning on create and update, the REFUSE policy, the report, merging contacts,
and merging accounts moving everything; scoped to the caller and their organization."""

from __future__ import annotations

from server.accounts.models import Contact, ContactIdentifier
from server.audit.models import AuditEntry
from server.graphql import ids

MATCHES = "duplicates { field kind value account { id name } contact { id name } }"
ERRORS = "errors { field code message }"
CREATE = f"""mutation($i: CreateAccountInput!) {{ createAccount(input: $i) {{
    account {{ id name version }} {ERRORS} {MATCHES} }} }}"""
UPDATE = f"""mutation($i: UpdateAccountInput!) {{ updateAccount(input: $i) {{
    account {{ id version phones }} {ERRORS} {MATCHES} }} }}"""
CREATE_CONTACT = f"""mutation($i: CreateContactInput!) {{ createContact(input: $i) {{
    contact {{ id version }} {ERRORS} {MATCHES} }} }}"""
MERGE_CONTACTS = f"""mutation($i: MergeContactsInput!) {{ mergeContacts(input: $i) {{
    contact {{ id version phones emails }} {ERRORS} }} }}"""
POLICY = """mutation($p: DuplicatePolicy!) { updateOrganization(input: {duplicatePolicy: $p}) {
    organization { duplicatePolicy } errors { field code } } }"""
REPORT = """query($type: DuplicateObjectType, $first: Int, $after: String) {
    duplicates(type: $type, first: $first, after: $after) {
        nodes { kind value accounts { id name } contacts { id name } }
        pageInfo { hasNextPage hasPreviousPage endCursor } } }"""


async def create_account(member, api, name, phones=(), emails=(), **extra) -> dict:
    body = await member.data(
        api, CREATE, {"i": {"name": name, "phones": list(phones), "emails": list(emails), **extra}}
    )
    return body["createAccount"]


async def create_contact(member, api, account_id, name, phones=(), emails=()) -> dict:
    body = await member.data(
        api,
        CREATE_CONTACT,
        {"i": {"accountId": account_id, "name": name, "phones": list(phones), "emails": list(emails)}},
    )
    return body["createContact"]


async def test_a_known_phone_or_email_warns_with_the_existing_records(api, tenants):
    t = await tenants.create(("owner",))
    created = (await create_account(t.owner, api, "Олена", ["067 123 45 67"], ["Olena@Example.com"]))["account"]
    olena = {"id": created["id"], "name": "Олена"}
    company = (await create_account(t.owner, api, "ТОВ Ромашка"))["account"]
    ivan = (await create_contact(t.owner, api, company["id"], "Іван", ["+380501112233"]))["contact"]

    # Another format of the same phone, the e-mail in other case: both found; saved anyway.
    second = await create_account(t.owner, api, "Олена К.", ["+38 (067) 123-45-67"], ["olena@example.COM"])
    assert second["errors"] == []
    assert second["account"]["name"] == "Олена К."
    assert second["duplicates"] == [
        {"field": "phones.0", "kind": "PHONE", "value": "+380671234567", "account": olena, "contact": None},
        {"field": "emails.0", "kind": "EMAIL", "value": "olena@example.com", "account": olena, "contact": None},
    ]
    # A contact's phone counts too, for a new account and for a new contact elsewhere.
    third = await create_account(t.owner, api, "Іван П.", ["0501112233"])
    assert third["duplicates"] == [
        {
            "field": "phones.0",
            "kind": "PHONE",
            "value": "+380501112233",
            "account": None,
            "contact": {"id": ivan["id"], "name": "Іван"},
        }
    ]
    # Changing phones warns too (not about the account itself).
    changed = await t.owner.data(
        api,
        UPDATE,
        {"i": {"id": company["id"], "version": company["version"], "phones": ["0671234567"]}},
    )
    found = changed["updateAccount"]
    assert found["errors"] == []
    assert {m["account"]["name"] for m in found["duplicates"]} == {"Олена", "Олена К."}
    # Nothing shared: no warning; a contact repeating its own account's phone is no duplicate.
    assert (await create_account(t.owner, api, "Новий", ["0939998877"]))["duplicates"] == []
    own = await create_contact(t.owner, api, company["id"], "Марія", ["0671234567"])
    assert {m["account"]["name"] for m in own["duplicates"]} == {"Олена", "Олена К."}


async def test_refuse_policy_is_an_error_naming_the_existing_record(api, tenants):
    t = await tenants.create(("owner", "sales", "analyst"))
    olena = (await create_account(t.owner, api, "Олена", ["0671234567"], ["olena@example.com"]))["account"]

    refused = await t.sales.execute(api, POLICY, {"p": "REFUSE"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # settings:write only
    set_policy = await t.owner.data(api, POLICY, {"p": "REFUSE"})
    assert set_policy["updateOrganization"] == {"organization": {"duplicatePolicy": "REFUSE"}, "errors": []}

    body = await create_account(t.owner, api, "Дубль", ["+380671234567"], ["OLENA@example.com"])
    assert body["account"] is None
    assert body["errors"] == [
        {"field": "phones.0", "code": "DUPLICATE", "message": f"Цей телефон уже належить {olena['id']}."},
        {"field": "emails.0", "code": "DUPLICATE", "message": f"Цей e-mail уже належить {olena['id']}."},
    ]
    # In English for an English client.
    response = await api.http.post(
        "/graphql",
        json={"query": CREATE, "variables": {"i": {"name": "Дубль", "phones": ["0671234567"]}}},
        headers={"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.slug, "Accept-Language": "en"},
    )
    message = response.json()["data"]["createAccount"]["errors"][0]["message"]
    assert message == f"This phone already belongs to {olena['id']}."
    # A salesperson who may not see Olena's account is refused without learning its ID.
    hidden = await create_account(t.sales, api, "Дубль", ["0671234567"])
    assert hidden["account"] is None
    assert hidden["errors"] == [
        {"field": "phones.0", "code": "DUPLICATE", "message": "Цей телефон уже належить запису, який вам не видно."}
    ]
    # Nothing was written by the refusals; a new phone still passes.
    listed = await t.owner.data(api, "{ accounts(first: 10) { totalCount } }")
    assert listed["accounts"]["totalCount"] == 1
    assert (await create_account(t.owner, api, "Інший", ["0931112233"]))["errors"] == []


async def test_warnings_name_only_visible_records_with_pii_masked(api, tenants):
    t = await tenants.create(("owner", "sales"))
    await create_account(t.owner, api, "Чужий", ["0671234567"])  # owned by the owner: hidden from sales
    mine = await create_account(t.sales, api, "Мій", ["0671234567"])
    assert mine["errors"] == [] and mine["duplicates"] == []

    other = await tenants.create(("owner",))
    foreign = await create_account(other.owner, api, "Інша фірма", ["0671234567"])
    # Another organization's records never count.
    assert [m["account"]["name"] for m in foreign["duplicates"]] == []

    seen = await create_account(t.sales, api, "Мій 2", ["0671234567"])
    assert [m["account"]["name"] for m in seen["duplicates"]] == ["Мій"]
    assert seen["duplicates"][0]["value"] == "+380671234567"  # sales has pii:read


async def test_duplicates_report_groups_visible_records_and_pages(api, tenants):
    t = await tenants.create(("owner", "sales", "analyst", "logistics"))
    a1 = (await create_account(t.owner, api, "A1", ["0671234567"]))["account"]
    a2 = (await create_account(t.owner, api, "A2", ["0671234567"], ["shared@example.com"]))["account"]
    a3 = (await create_account(t.owner, api, "A3", [], ["SHARED@example.com"]))["account"]
    await create_account(t.owner, api, "Alone", ["0931112233"])
    company = (await create_account(t.owner, api, "Фірма"))["account"]
    c1 = (await create_contact(t.owner, api, company["id"], "К1", ["0501112233"]))["contact"]
    c2 = (await create_contact(t.owner, api, company["id"], "К2", ["0501112233"]))["contact"]
    other = await tenants.create(("owner",))
    await create_account(other.owner, api, "Foreign", ["0671234567"])

    page = (await t.owner.data(api, REPORT, {"first": 1}))["duplicates"]
    assert page["nodes"] == [
        {
            "kind": "EMAIL",
            "value": "shared@example.com",
            "accounts": [{"id": a2["id"], "name": "A2"}, {"id": a3["id"], "name": "A3"}],
            "contacts": [],
        }
    ]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = (await t.owner.data(api, REPORT, {"first": 5, "after": page["pageInfo"]["endCursor"]}))["duplicates"]
    assert rest["nodes"] == [
        {
            "kind": "PHONE",
            "value": "+380671234567",
            "accounts": [{"id": a1["id"], "name": "A1"}, {"id": a2["id"], "name": "A2"}],
            "contacts": [],
        }
    ]
    assert rest["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": rest["pageInfo"]["endCursor"],
    }
    contacts = (await t.owner.data(api, REPORT, {"type": "CONTACTS"}))["duplicates"]["nodes"]
    assert contacts == [
        {
            "kind": "PHONE",
            "value": "+380501112233",
            "accounts": [],
            "contacts": [{"id": c1["id"], "name": "К1"}, {"id": c2["id"], "name": "К2"}],
        }
    ]
    # The analyst sees the groups with the values masked; sales sees none of the owner's accounts.
    masked = (await t.analyst.data(api, REPORT, {}))["duplicates"]["nodes"]
    assert [n["value"] for n in masked] == ["s***@example.com", "+38067*****67"]
    assert (await t.sales.data(api, REPORT, {}))["duplicates"]["nodes"] == []
    # Logistics may not see e-mails at all: no e-mail groups for them, phones masked.
    assert [n["value"] for n in (await t.logistics.data(api, REPORT, {}))["duplicates"]["nodes"]] == ["+38067*****67"]
    # Another organization's owner sees only their own account: no group.
    assert (await other.owner.data(api, REPORT, {}))["duplicates"]["nodes"] == []


async def test_merge_contacts_moves_deals_and_tickets_and_is_audited(api, tenants):
    t = await tenants.create(("owner", "sales"))
    company = (await create_account(t.owner, api, "ТОВ Ромашка"))["account"]
    keep = (await create_contact(t.owner, api, company["id"], "Ірина", ["0671234567"]))["contact"]
    dup = (await create_contact(t.owner, api, company["id"], "Ірина К.", ["0501112233"], ["iryna@example.com"]))[
        "contact"
    ]
    deal = await t.owner.data(
        api,
        "mutation($i: CreateDealInput!) { createDeal(input: $i) { deal { id } errors { code } } }",
        {"i": {"accountId": company["id"], "title": "Опт", "contactId": dup["id"]}},
    )
    ticket = await t.owner.data(
        api,
        "mutation($i: CreateTicketInput!) { createTicket(input: $i) { ticket { id } errors { code } } }",
        {"i": {"subject": "Питання", "accountId": company["id"], "contactId": dup["id"]}},
    )
    deal_id, ticket_id = deal["createDeal"]["deal"]["id"], ticket["createTicket"]["ticket"]["id"]

    # Merging deletes a contact: a role without accounts:delete may not.
    refused = await t.sales.execute(
        api, MERGE_CONTACTS, {"i": {"id": keep["id"], "version": keep["version"], "mergeId": dup["id"]}}
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    merged = await t.owner.data(
        api, MERGE_CONTACTS, {"i": {"id": keep["id"], "version": keep["version"], "mergeId": dup["id"]}}
    )
    assert merged["mergeContacts"]["errors"] == []
    assert merged["mergeContacts"]["contact"] == {
        "id": keep["id"],
        "version": keep["version"] + 1,
        "phones": ["+380671234567", "+380501112233"],
        "emails": ["iryna@example.com"],
    }
    moved_deal = await t.owner.data(api, "query($id: ID!) { deal(id: $id) { contact { name } } }", {"id": deal_id})
    assert moved_deal["deal"]["contact"] == {"name": "Ірина"}
    moved_ticket = await t.owner.data(
        api, "query($id: ID!) { ticket(id: $id) { contact { name } } }", {"id": ticket_id}
    )
    assert moved_ticket["ticket"]["contact"] == {"name": "Ірина"}
    dup_pk, keep_pk = ids.decode(dup["id"])[1], ids.decode(keep["id"])[1]
    assert not await Contact.filter(id=dup_pk).exists()
    # The duplicate's identifiers now point at the survivor (the report and the check use them).
    assert sorted(await ContactIdentifier.filter(contact_id=keep_pk).values_list("value", flat=True)) == [
        "+380501112233",
        "+380671234567",
        "iryna@example.com",
    ]
    entries = {e.action: e for e in await AuditEntry.filter(entity_id__in=[keep_pk, dup_pk])}
    assert entries["contact.merge"].changes["moved"] == [None, {"deals": 1, "tickets": 1}]
    assert entries["contact.merge"].changes["merged"] == [None, str(dup_pk)]
    assert entries["contact.merged_into"].changes["merged_into"] == [None, str(keep_pk)]
    assert entries["contact.merged_into"].changes["name"] == ["Ірина К.", None]


async def test_merge_contacts_refuses_contacts_of_other_accounts_and_itself(api, tenants):
    t = await tenants.create(("owner",))
    a = (await create_account(t.owner, api, "A"))["account"]
    b = (await create_account(t.owner, api, "B"))["account"]
    ca = (await create_contact(t.owner, api, a["id"], "Ка"))["contact"]
    cb = (await create_contact(t.owner, api, b["id"], "Кб"))["contact"]
    other = await t.owner.data(
        api, MERGE_CONTACTS, {"i": {"id": ca["id"], "version": ca["version"], "mergeId": cb["id"]}}
    )
    assert other["mergeContacts"]["errors"] == [
        {
            "field": "mergeId",
            "code": "INVALID",
            "message": "Контакти належать різним клієнтам: спершу об'єднайте клієнтів.",
        }
    ]
    itself = await t.owner.data(
        api, MERGE_CONTACTS, {"i": {"id": ca["id"], "version": ca["version"], "mergeId": ca["id"]}}
    )
    assert itself["mergeContacts"]["errors"][0]["code"] == "INVALID"
    assert await Contact.filter(id__in=[ids.decode(ca["id"])[1], ids.decode(cb["id"])[1]]).count() == 2


async def test_merge_accounts_moves_deals_tickets_and_timeline_and_audits_the_counts(api, tenants):
    t = await tenants.create(("owner",))
    keep = (await create_account(t.owner, api, "Олена", ["0671234567"]))["account"]
    dup = (await create_account(t.owner, api, "Олена К.", ["0671234567"]))["account"]
    await t.owner.data(
        api,
        "mutation($i: CreateDealInput!) { createDeal(input: $i) { errors { code } } }",
        {"i": {"accountId": dup["id"], "title": "Опт"}},
    )
    await t.owner.data(
        api,
        "mutation($i: CreateTicketInput!) { createTicket(input: $i) { errors { code } } }",
        {"i": {"subject": "Питання", "accountId": dup["id"]}},
    )
    merged = await t.owner.data(
        api,
        """mutation($i: MergeAccountsInput!) { mergeAccounts(input: $i) { account {
            deals { totalCount } tickets { totalCount } timeline { edges { node { kind } } } } errors { code } } }""",
        {"i": {"id": keep["id"], "version": keep["version"], "mergeId": dup["id"]}},
    )
    account = merged["mergeAccounts"]["account"]
    assert account["deals"]["totalCount"] == 1
    assert account["tickets"]["totalCount"] == 1
    assert {e["node"]["kind"] for e in account["timeline"]["edges"]} >= {"DEAL", "TICKET"}
    entry = await AuditEntry.get(entity_id=ids.decode(keep["id"])[1], action="account.merge")
    moved = entry.changes["moved"][1]
    assert (moved["deals"], moved["tickets"]) == (1, 1)
    assert moved["activities"] >= 2
    # The report no longer lists them: the duplicate is deleted and its phone moved to the survivor.
    assert (await t.owner.data(api, REPORT, {}))["duplicates"]["nodes"] == []
