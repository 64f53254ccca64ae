"""Search (docs/search.md): the `search` root field and the lists' `where.search`, on the engine
under test (SQLite FTS5 or PostgreSQL pg_trgm): partial phones, Ukrainian names typed in Latin
letters and back, case and accents, order, waybill and marketplace numbers, ranking, tenancy,
row scope, hidden and masked fields, and a statement count that does not grow with the hits."""

from __future__ import annotations

import pytest

from server.organizations.models import Organization
from server.search.index import reindex_organization
from server.search.models import SearchTerm
from tests.helpers import QueryCounter
from tests.test_accounts import make_account, make_contact, make_order

SEARCH = """query($q: String!, $first: Int, $types: [SearchType!]) {
  search(query: $q, first: $first, types: $types) {
    type matchedField score
    node {
      __typename
      ... on Account { id name phone emails }
      ... on Contact { id name phones }
      ... on Order { id number externalId delivery { waybillNumber recipientPhone } }
      ... on Deal { id title }
      ... on Ticket { id number subject }
    }
  }
}"""
# Logistics may not see e-mails at all (asking for them is FORBIDDEN): its searches leave them out.
SEARCH_WITHOUT_EMAILS = SEARCH.replace(" phone emails }", " phone }")
ACCOUNTS = "query($w: AccountWhere) { accounts(first: 50, where: $w) { edges { node { name } } } }"
CONTACTS = "query($w: ContactWhere) { contacts(first: 50, where: $w) { edges { node { name } } } }"
ORDERS = "query($w: OrderWhere) { orders(first: 50, where: $w) { edges { node { number } } } }"
DEALS = "query($w: DealWhere) { deals(first: 50, where: $w) { edges { node { title } } } }"
TICKETS = "query($w: TicketWhere) { tickets(first: 50, where: $w) { edges { node { subject } } } }"
CREATE_DEAL = """mutation($i: CreateDealInput!) { createDeal(input: $i) { deal { id } errors { field code } } }"""
CREATE_TICKET = (
    """mutation($i: CreateTicketInput!) { createTicket(input: $i) { ticket { id } errors { field code } } }"""
)
UPDATE_ACCOUNT = """mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { errors { code } } }"""
DELETE_ACCOUNT = """mutation($i: DeleteInput!) { deleteAccount(input: $i) { errors { code } } }"""


async def _search(member, api, q: str, **variables) -> list[dict]:
    query = SEARCH_WITHOUT_EMAILS if member.role == "logistics" else SEARCH
    return (await member.data(api, query, {"q": q, **variables}))["search"]


def _names(hits: list[dict]) -> list[str]:
    return [h["node"].get("name") or h["node"].get("title") or h["node"].get("subject") or h["node"]["number"]
            for h in hits]  # fmt: skip


async def _list(member, api, query: str, key: str, text: str, field: str = "name") -> set:
    data = await member.data(api, query, {"w": {"search": {"contains": text}}})
    return {e["node"][field] for e in data[key]["edges"]}


@pytest.fixture
async def shop(api, tenants):
    """An organization with Ukrainian and Latin names, phones, e-mails, an order from a
    marketplace with a waybill, a deal and a ticket; and a second organization with a namesake."""
    t = await tenants.create(("owner", "analyst", "logistics"))
    await tenants.add(t, "sales", "sales")
    taras = await make_account(
        t.owner, api, "Тарас Шевченко", phones=["+380671234567"], emails=["Taras.Poet@Example.com"]
    )
    company = await make_account(t.owner, api, "Shevchenko Design", kind="COMPANY", phones=["+380442223344"])
    olena = await make_account(t.owner, api, "Олена ПЕТРЕНКО-Коваль", phones=["+380509994567"])
    await make_account(t.owner, api, "Zoë Müller")
    contact = await make_contact(t.owner, api, company["id"], "Юрій Згурський", phones=["+380931110099"])
    order = await make_order(
        t.owner,
        api,
        taras["id"],
        source="rozetka",
        externalId="RZ-778899",
        delivery={
            "recipientName": "Ярина Коваль",
            "recipientPhone": "+380675550011",
            "waybillNumber": "20450098765432",
        },
    )
    deal = await t.owner.data(api, CREATE_DEAL, {"i": {"accountId": company["id"], "title": "Опт для Шевченко"}})
    assert deal["createDeal"]["errors"] == []
    ticket = await t.owner.data(api, CREATE_TICKET, {"i": {"subject": "Пошкоджена посилка", "accountId": olena["id"]}})
    assert ticket["createTicket"]["errors"] == []
    other = await tenants.create(("owner",))
    await make_account(other.owner, api, "Тарас Шевченко", phones=["+380671234567"], emails=["taras.poet@example.com"])
    return t, other, {"taras": taras, "company": company, "olena": olena, "contact": contact, "order": order}


async def test_four_digits_of_a_phone_find_the_account_and_rank_below_exact_matches(api, shop):
    t, _, _ = shop
    hits = await _search(t.owner, api, "4567")
    # "4567" is in Taras's phone and Olena's; and it is no order number here.
    assert {(h["type"], h["matchedField"]) for h in hits} == {("ACCOUNT", "PHONE")}
    assert sorted(_names(hits)) == ["Олена ПЕТРЕНКО-Коваль", "Тарас Шевченко"]
    assert {h["score"] for h in hits} == {20}
    # Digits are also part of a waybill: "5432" is the end of the order's.
    [hit] = await _search(t.owner, api, "5432")
    assert (hit["type"], hit["matchedField"], hit["score"]) == ("ORDER", "WAYBILL", 20)
    # The whole number, in any format: an exact hit, first.
    [hit] = await _search(t.owner, api, "(067) 123-45-67")
    assert (hit["node"]["name"], hit["matchedField"], hit["score"]) == ("Тарас Шевченко", "PHONE", 100)
    # Three digits are not a phone part (too many hits to mean anything).
    assert await _search(t.owner, api, "567") == []
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "99 4567") == {"Олена ПЕТРЕНКО-Коваль"}
    assert await _list(t.owner, api, CONTACTS, "contacts", "1110099") == {"Юрій Згурський"}


async def test_latin_finds_cyrillic_and_back_in_any_case_and_accents(api, shop):
    t, _, _ = shop
    accounts = {
        "Shevchenko": {"Тарас Шевченко", "Shevchenko Design"},
        "шевченко": {"Тарас Шевченко", "Shevchenko Design"},
        "SHEVCH": {"Тарас Шевченко", "Shevchenko Design"},
        "Taras": {"Тарас Шевченко"},
        "петренко": {"Олена ПЕТРЕНКО-Коваль"},
        "Olena Petrenko": {"Олена ПЕТРЕНКО-Коваль"},
        "koval": {"Олена ПЕТРЕНКО-Коваль"},
        "Мюллер": set(),  # KMU writes "miuller": transliteration is not phonetic matching
        "muller": {"Zoë Müller"},
        "ZOE": {"Zoë Müller"},
        "Зое": {"Zoë Müller"},  # "zoe" both ways
    }
    for text, names in accounts.items():
        assert await _list(t.owner, api, ACCOUNTS, "accounts", text) == names, text
    # KMU 2010's letters that depend on their place: "Юрій" is "Yurii", "Згурський" "Zghurskyi".
    for text in ("Yurii", "zghurs", "юрій", "ЗГУРСЬКИЙ", "урій"):
        assert await _list(t.owner, api, CONTACTS, "contacts", text) == {"Юрій Згурський"}, text
    assert await _list(t.owner, api, DEALS, "deals", "shevchenko", "title") == {"Опт для Шевченко"}
    assert await _list(t.owner, api, TICKETS, "tickets", "POSYLKA", "subject") == {"Пошкоджена посилка"}


async def test_orders_by_number_waybill_marketplace_id_and_recipient(api, shop):
    t, _, made = shop
    number = made["order"]["number"]
    for text in (str(number), "20450098765432", "2045 0098 7654 32", "98765432", "rz-778899", "778899", "Ярина"):
        assert await _list(t.owner, api, ORDERS, "orders", text, "number") == {number}, text
    [hit] = await _search(t.owner, api, "20450098765432")
    assert (hit["type"], hit["matchedField"], hit["score"]) == ("ORDER", "WAYBILL", 100)
    [hit] = await _search(t.owner, api, "RZ-778899")
    assert (hit["matchedField"], hit["node"]["externalId"]) == ("EXTERNAL_ID", "RZ-778899")
    [hit] = await _search(t.owner, api, str(number), types=["ORDER"])
    assert (hit["matchedField"], hit["score"]) == ("NUMBER", 100)


async def test_ranking_exact_then_name_prefix_then_partial(api, shop):
    t, _, made = shop
    await make_account(t.owner, api, "Шевченкова Хата")  # "shevchenkova khata": a name start, longer
    await make_account(t.owner, api, "Кафе Ушевченко")  # "ushevchenko": only a part
    hits = await _search(t.owner, api, "Shevchenko")
    ranked = [(h["type"], _names([h])[0], h["score"]) for h in hits]
    assert ranked == [
        ("ACCOUNT", "Тарас Шевченко", 60),  # ties at a word start: the shorter value first
        ("ACCOUNT", "Shevchenko Design", 60),
        ("ACCOUNT", "Шевченкова Хата", 60),
        ("DEAL", "Опт для Шевченко", 60),
        ("ACCOUNT", "Кафе Ушевченко", 20),
    ]
    exact = await _search(t.owner, api, "taras.poet@example.com")
    assert [(h["matchedField"], h["score"]) for h in exact] == [("EMAIL", 100)]
    whole = await _search(t.owner, api, "Тарас Шевченко")
    assert (whole[0]["node"]["id"], whole[0]["score"]) == (made["taras"]["id"], 90)
    assert [h["type"] for h in await _search(t.owner, api, "shevchenko", types=["DEAL"])] == ["DEAL"]
    assert len(await _search(t.owner, api, "shevchenko", first=2)) == 2


async def test_another_organization_and_row_scope(api, shop):
    t, other, made = shop
    # The namesake of the other organization never shows: one Taras each.
    [mine] = [h for h in await _search(t.owner, api, "Тарас") if h["type"] == "ACCOUNT"]
    [theirs] = await _search(other.owner, api, "Тарас")
    assert mine["node"]["id"] == made["taras"]["id"] and theirs["node"]["id"] != mine["node"]["id"]
    assert await _list(other.owner, api, ORDERS, "orders", "20450098765432", "number") == set()
    assert len(await _search(other.owner, api, "4567")) == 1
    # A sales member sees only their own rows: none of the owner's, but their own account.
    assert await _search(t.sales, api, "Shevchenko") == []
    await make_account(t.sales, api, "Шевченко Мій Клієнт")
    assert _names(await _search(t.sales, api, "Shevchenko")) == ["Шевченко Мій Клієнт"]
    # Types the role cannot read: left out, or FORBIDDEN when asked for by name.
    assert {h["type"] for h in await _search(t.logistics, api, "shevchenko")} == {"ACCOUNT"}
    body = await t.logistics.execute(api, SEARCH_WITHOUT_EMAILS, {"q": "shevchenko", "types": ["DEAL"]})
    assert body["data"]["search"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Soft-deleted records disappear from search.
    taras = made["taras"]
    await t.owner.data(api, DELETE_ACCOUNT, {"i": {"id": taras["id"], "version": taras["version"]}})
    assert {h["node"].get("id") for h in await _search(t.owner, api, "Taras")} == set()


async def test_hidden_and_masked_fields_are_not_searched_and_stay_masked(api, shop):
    t, _, _ = shop
    # Logistics may not see e-mails at all: no hit by e-mail, whole or part.
    assert await _search(t.logistics, api, "taras.poet@example.com") == []
    assert await _list(t.logistics, api, ACCOUNTS, "accounts", "poet") == set()
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "poet") == {"Тарас Шевченко"}
    # The analyst sees phones masked: the whole number finds the account (shown masked), a part does not.
    [hit] = await _search(t.analyst, api, "+380671234567")
    assert hit["node"]["phone"] == "+38067*****67"
    assert hit["node"]["emails"] == ["t***@example.com"]
    assert await _search(t.analyst, api, "1234567") == []
    # Logistics sees an order's recipient phone in full (to ship it): found by its part.
    [hit] = await _search(t.logistics, api, "5550011")
    assert (hit["matchedField"], hit["node"]["delivery"]["recipientPhone"]) == ("RECIPIENT_PHONE", "+380675550011")
    assert await _search(t.analyst, api, "5550011") == []
    # A ticket's subject is masked for the analyst (it may hold a phone or an address): not matched
    # at all, or it could be read word by word; the owner finds it.
    assert await _list(t.owner, api, TICKETS, "tickets", "посилка", "subject") == {"Пошкоджена посилка"}
    assert await _list(t.analyst, api, TICKETS, "tickets", "посилка", "subject") == set()


async def test_index_follows_changes(api, shop):
    t, _, made = shop
    olena = made["olena"]
    payload = await t.owner.data(
        api, UPDATE_ACCOUNT, {"i": {"id": olena["id"], "version": olena["version"], "name": "Олена Бондар"}}
    )
    assert payload["updateAccount"]["errors"] == []
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "bondar") == {"Олена Бондар"}
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "petrenko") == set()
    org = await Organization.get(slug=t.slug)
    # The terms are normalized text: what both engines index.
    values = set(await SearchTerm.filter(organization_id=org.id, kind="account").values_list("value", flat=True))
    assert {"olena bondar", "taras shevchenko", "380671234567", "taras.poet@example.com"} <= values
    # Records written around the services (a bulk load, data from before migration 0022) are
    # findable after a rebuild, which is what `crm demo-data` and the migration run.
    await SearchTerm.filter(organization_id=org.id).delete()
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "bondar") == set()
    assert await reindex_organization(org.id) == len(values) + 10  # + contact 2, order 5, deal 1, ticket 2
    assert await _list(t.owner, api, ACCOUNTS, "accounts", "bondar") == {"Олена Бондар"}
    assert await _list(t.owner, api, ORDERS, "orders", "rz-778899", "number") == {made["order"]["number"]}


async def test_bad_queries_are_refused_clearly(api, shop):
    t, _, _ = shop
    for q, first in (("a", None), ("  - ", None), ("shevchenko", 0), ("shevchenko", 51)):
        body = await t.owner.execute(api, SEARCH, {"q": q, "first": first})
        assert body["data"]["search"] is None, q
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    body = await api.execute(SEARCH, {"q": "shevchenko"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_statement_count_does_not_grow_with_the_hits(api, tenants):
    t = await tenants.create(("owner",))
    for i in range(12):
        account = await make_account(t.owner, api, f"Коваль {i}", phones=[f"+38067555{i:04d}"])
        await make_order(t.owner, api, account["id"], delivery={"recipientName": f"Коваль {i}"})
    counts = {}
    for first in (12, 24):  # both: ten accounts "koval 0".."koval 9" first, then orders
        with QueryCounter() as q:
            hits = await _search(t.owner, api, "koval", first=first)
        assert len(hits) == first
        counts[first] = q.count
    assert counts[12] == counts[24], counts
    # Auth (token, membership), the ranked terms, then one load per kind found.
    assert counts[24] <= 6, counts


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("uk", "Щоб шукати, введіть щонайменше дві літери або цифри."),
        ("en", "Type at least two letters or digits to search."),
    ],
)
async def test_a_too_short_query_is_explained_in_the_callers_language(api, tenants, language, message):
    t = await tenants.create(("owner",))
    headers = {"Authorization": f"Bearer {t.owner.token}", "X-Organization": t.slug, "Accept-Language": language}
    response = await api.http.post("/graphql", json={"query": SEARCH, "variables": {"q": "a"}}, headers=headers)
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["message"]) == ("BAD_REQUEST", message)
