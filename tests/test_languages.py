"""The language of the API's texts: the person's own setting, else the request's
Accept-Language, else the organization's locale, else Ukrainian (docs/i18n.md). Apps and API
keys have no setting of their own. Each message is checked in both languages."""

from __future__ import annotations

import uuid

from server.activities.models import Activity
from server.deals.models import Pipeline, Stage
from server.graphql import ids
from server.orders.models import OrderStatus
from server.organizations.service import create_organization
from tests.test_api_keys import make_key
from tests.test_orders import create_order, make_account

CREATE_ACCOUNT = """mutation($i: CreateAccountInput!) { createAccount(input: $i) {
    account { id } errors { field code message } } }"""
SET_LOCALE = """mutation($l: String) { updateMyLocale(input: {locale: $l}) {
    me { locale language } errors { field code message } } }"""
ME = "{ me { locale language } }"
ORG_LOCALE = """mutation($l: String!) { updateOrganization(input: {locale: $l}) {
    organization { locale } errors { message } } }"""
FOREIGN_NODE = 'query { node(id: "nonsense") { id } }'

NAME_REQUIRED = {"uk": "name — обов’язкове поле.", "en": "name is required."}


async def post(http, member_or_key, query: str, variables: dict | None = None, language: str | None = None) -> dict:
    """A GraphQL request as a member (session token) or with an API key, with or without Accept-Language."""
    if isinstance(member_or_key, str):
        headers = {"X-API-Key": member_or_key}
    else:
        headers = {"Authorization": f"Bearer {member_or_key.token}", "X-Organization": member_or_key.org}
    if language is not None:
        headers["Accept-Language"] = language
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    return response.json()


async def name_required_message(http, member_or_key, language: str | None = None) -> str:
    body = await post(http, member_or_key, CREATE_ACCOUNT, {"i": {"name": " "}}, language)
    errors = body["data"]["createAccount"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("name", "REQUIRED")], body
    return errors[0]["message"]


async def test_a_validation_error_in_ukrainian_by_default_and_in_english_when_asked(api, tenants):
    shop = await tenants.create(("owner",))
    assert await name_required_message(api.http, shop.owner) == NAME_REQUIRED["uk"]
    assert await name_required_message(api.http, shop.owner, "en-GB,en;q=0.9") == NAME_REQUIRED["en"]
    assert await name_required_message(api.http, shop.owner, "uk-UA") == NAME_REQUIRED["uk"]
    # A GraphQL error (not a payload error) follows the same choice.
    assert (await post(api.http, shop.owner, FOREIGN_NODE))["errors"][0]["message"] == "«nonsense» — недійсний ID."
    english = await post(api.http, shop.owner, FOREIGN_NODE, language="en")
    assert english["errors"][0]["message"] == "'nonsense' is not a valid ID."


async def test_the_persons_setting_beats_accept_language_and_can_be_cleared(api, tenants):
    shop = await tenants.create(("owner", "manager"))
    assert (await post(api.http, shop.manager, ME))["data"]["me"] == {"locale": None, "language": "uk"}

    chosen = (await post(api.http, shop.manager, SET_LOCALE, {"l": "en"}))["data"]["updateMyLocale"]
    # The answer to the change already speaks the new language.
    assert chosen == {"me": {"locale": "en", "language": "en"}, "errors": []}
    assert await name_required_message(api.http, shop.manager) == NAME_REQUIRED["en"]
    assert await name_required_message(api.http, shop.manager, "uk") == NAME_REQUIRED["en"]
    # Only their own: a colleague in the same organization still gets Ukrainian.
    assert await name_required_message(api.http, shop.owner) == NAME_REQUIRED["uk"]

    cleared = (await post(api.http, shop.manager, SET_LOCALE, {"l": None}, language="uk"))["data"]["updateMyLocale"]
    assert cleared == {"me": {"locale": None, "language": "uk"}, "errors": []}
    assert await name_required_message(api.http, shop.manager, "en") == NAME_REQUIRED["en"]
    assert await name_required_message(api.http, shop.manager) == NAME_REQUIRED["uk"]


async def test_an_unsupported_language_is_a_clear_error_in_the_callers_language(api, tenants):
    shop = await tenants.create(("manager",))
    refused = (await post(api.http, shop.manager, SET_LOCALE, {"l": "de"}))["data"]["updateMyLocale"]
    assert refused == {
        "me": None,
        "errors": [{"field": "locale", "code": "INVALID", "message": "API розмовляє мовами uk, en, а не «de»."}],
    }
    english = (await post(api.http, shop.manager, SET_LOCALE, {"l": "de"}, language="en"))["data"]["updateMyLocale"]
    assert english["errors"][0]["message"] == "The API speaks uk, en, not 'de'."
    assert (await post(api.http, shop.manager, ME))["data"]["me"]["locale"] is None
    # "EN" and " en " are the same choice.
    assert (await post(api.http, shop.manager, SET_LOCALE, {"l": " EN "}))["data"]["updateMyLocale"]["errors"] == []
    assert (await post(api.http, shop.manager, ME))["data"]["me"] == {"locale": "en", "language": "en"}


async def test_an_english_organization_speaks_english_unless_the_request_or_person_says_otherwise(api, tenants):
    shop = await tenants.create(("owner", "manager"))
    changed = await post(api.http, shop.owner, ORG_LOCALE, {"l": "en"})
    assert changed["data"]["updateOrganization"] == {"organization": {"locale": "en"}, "errors": []}
    assert await name_required_message(api.http, shop.manager) == NAME_REQUIRED["en"]
    assert (await post(api.http, shop.manager, ME))["data"]["me"]["language"] == "en"
    # Accept-Language names a language the API speaks: it beats the organization's default...
    assert await name_required_message(api.http, shop.manager, "uk") == NAME_REQUIRED["uk"]
    # ...one it does not speak leaves the organization's default.
    assert await name_required_message(api.http, shop.manager, "de-DE") == NAME_REQUIRED["en"]
    # The person's own choice beats both.
    await post(api.http, shop.manager, SET_LOCALE, {"l": "uk"})
    assert await name_required_message(api.http, shop.manager) == NAME_REQUIRED["uk"]


async def test_an_api_key_gets_accept_language_else_its_organizations_locale(api, tenants):
    shop = await tenants.create(("owner",))
    key = (await make_key(shop.owner, api, role="admin"))["key"]
    assert await name_required_message(api.http, key) == NAME_REQUIRED["uk"]
    assert await name_required_message(api.http, key, "en") == NAME_REQUIRED["en"]
    await post(api.http, shop.owner, ORG_LOCALE, {"l": "en"})
    assert await name_required_message(api.http, key) == NAME_REQUIRED["en"]
    assert await name_required_message(api.http, key, "uk") == NAME_REQUIRED["uk"]
    # A key has no person behind it, so no language of its own to set.
    refused = (await post(api.http, key, SET_LOCALE, {"l": "uk"}))["data"]["updateMyLocale"]
    assert refused["me"] is None
    assert refused["errors"] == [
        {
            "field": None,
            "code": "FORBIDDEN",
            "message": "Apps and API keys have no language of their own: send Accept-Language with each request.",
        }
    ]


async def test_signing_in_first_is_said_in_the_requests_language(api):
    body = await api.http.post("/graphql", json={"query": SET_LOCALE, "variables": {"l": "en"}})
    assert body.json()["errors"][0]["message"] == "Спершу увійдіть: надішліть 'Authorization: Bearer <token>'."
    english = await api.http.post(
        "/graphql", json={"query": SET_LOCALE, "variables": {"l": "en"}}, headers={"Accept-Language": "en"}
    )
    assert english.json()["errors"][0]["message"] == "Sign in first: send 'Authorization: Bearer <token>'."


async def test_a_new_organization_starts_with_statuses_and_a_pipeline_in_its_language(database):
    names = {}
    for locale in ("uk", "en"):
        org = await create_organization(
            f"defaults-{locale}-{uuid.uuid4().hex[:8]}", f"Defaults {locale}", locale=locale
        )
        statuses = await OrderStatus.filter(organization=org).order_by("position").values_list("code", "name")
        pipeline = await Pipeline.get(organization=org, is_default=True)
        stages = await Stage.filter(pipeline=pipeline).order_by("position").values_list("name", flat=True)
        names[locale] = (pipeline.name, stages, dict(statuses))
    assert names["uk"][0] == "Продажі" and names["en"][0] == "Sales"
    assert names["uk"][1] == ["Новий лід", "Кваліфікація", "Пропозиція", "Переговори", "Виграно", "Програно"]
    assert names["en"][1] == ["New lead", "Qualification", "Proposal", "Negotiation", "Closed won", "Closed lost"]
    assert names["uk"][2]["new"] == "Новий" and names["en"][2]["new"] == "New"
    assert names["uk"][2]["arrived"] == "Прибуло у відділення" and names["en"][2]["arrived"] == "Arrived at the branch"
    # The same codes in both: only the names people read differ.
    assert names["uk"][2].keys() == names["en"][2].keys()


async def test_timeline_texts_are_written_in_the_organizations_language(api, tenants):
    """Stored once and read by everyone in the organization: its language, whoever caused them."""
    subjects = {}
    for locale in ("uk", "en"):
        shop = await tenants.create(("owner",))
        if locale == "en":
            await post(api.http, shop.owner, ORG_LOCALE, {"l": "en"})
        account = await make_account(shop.owner, api)
        # The person asks in the other language: the stored text still follows the organization.
        api.language = "uk" if locale == "en" else "en"
        order = (await create_order(shop.owner, api, account))["order"]
        api.language = None
        entries = await Activity.filter(account_id=ids.decode(account)[1], kind="order")
        subjects[locale] = [entry.subject for entry in entries]
        assert subjects[locale], order
    assert subjects["uk"] == ["Замовлення №1"]
    assert subjects["en"] == ["Order #1"]
