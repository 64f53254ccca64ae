"""The public survey page as a customer meets it: the link from the message opened in headless
Chromium, a score chosen, the thank-you page; the answer in NPS, a task for a detractor; a link
that works once; unknown and expired links; Ukrainian and English; bad input shown on the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.organizations.models import Organization
from server.surveys import service
from server.surveys.models import Survey
from tests.provider_plugins import install
from tests.test_notifications import Shop
from tests.test_orders import ITEMS, make_account

CREATE = (
    """mutation($input: CreateOrderInput!) { createOrder(input: $input) { order { id number } errors { code } } }"""
)
FIGURES = """query($p: SurveyPeriod!) { surveyFigures(period: $p) {
  nps { score responses promoters detractors } } }"""
ORDER_SURVEY = """query($id: ID!) { order(id: $id) { manager { id } survey {
  state nps comment detractor followUpTask { kind subject doneAt dueAt actor { id } } } } }"""


@pytest.fixture(scope="module")
def turbo_server():
    with TurboSMSSimulator() as sim:
        yield sim


async def test_a_customer_answers_the_survey_in_chromium_and_it_counts_in_nps(
    api, tenants, database, turbo_server, live_server, browser_page
):
    turbo_server.reset()
    owner = (await tenants.create(("owner",))).owner
    config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": turbo_server.url, "viber_sms_fallback": False}
    assert (await install(owner, api, "turbosms", config, {"token": TEST_TOKEN}))["errors"] == []
    shop = Shop(owner, api, database, turbo_server)
    await shop.settings(quietStart="00:00", quietEnd="00:00", sendDelaySeconds=0)
    order = await shop.order(phone="+380501112233")
    await shop.move(order, "processing", "picking", "packed", "shipped", "delivered")
    # Four days later, with the CRM's public address pointing at the live server.
    public = database.model_copy(update={"public_url": live_server})
    await run_until_idle(public, now=datetime.now(UTC) + timedelta(days=4))
    [link] = [re.search(r"http://\S+/s/[\w-]+", t).group(0) for _, t in shop.received("+380501112233") if "/s/" in t]
    assert link.startswith(live_server + "/s/")

    response = await browser_page.goto(link)
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'none'" in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    page = browser_page
    assert await page.locator("legend").first.inner_text() == (
        "Наскільки ймовірно, що ви порекомендуєте нас другу чи колезі?"
    )
    assert await page.locator("input[name=nps]").count() == 11  # 0 to 10
    await page.locator("label", has_text="3").first.click()
    await page.fill("textarea[name=comment]", "Кур'єр запізнився на два дні")
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    assert await page.locator("h1").inner_text() == "Дякуємо!"
    assert "зв\u02bcяжеться з вами" in await page.content()
    assert page.blocked_requests == []  # nothing but the CRM: no CDN, no fonts

    # The shop sees it: NPS of today's answers, and the order's survey with its follow-up task.
    today = datetime.now(ZoneInfo("Europe/Kyiv")).date().isoformat()
    [figures] = (await owner.data(api, FIGURES, {"p": {"from": today, "to": today}}))["surveyFigures"]
    assert figures["nps"] == {"score": -100.0, "responses": 1, "promoters": 0, "detractors": 1}
    shown = (await owner.data(api, ORDER_SURVEY, {"id": order["id"]}))["order"]
    survey = shown["survey"]
    assert (survey["state"], survey["nps"], survey["comment"]) == ("ANSWERED", 3, "Кур'єр запізнився на два дні")
    task = survey["followUpTask"]
    assert (
        task["kind"] == "TASK"
        and task["doneAt"] is None
        and task["dueAt"]
        and task["actor"]["id"] == shown["manager"]["id"]
    )
    assert task["subject"] == f"Передзвоніть клієнту: низька оцінка за замовлення №{order['number']} (NPS 3 з 10)"

    # The link works once: opening it again says so, and a second answer changes nothing.
    again = await browser_page.goto(link)
    assert again.status == 200 and await page.locator("h1").inner_text() == "Відповідь уже надіслано"
    token = link.rsplit("/", 1)[1]
    second = await api.http.post(f"/s/{token}", data={"nps": "10"})
    assert second.status_code == 409 and "Відповідь уже надіслано" in second.text
    assert (await Survey.get(order_id=ids.decode(order["id"])[1])).nps == 3


async def open_survey(owner, api, *, locale: str = "uk", token: str = "t-" + "x" * 40, sent: datetime | None = None):
    """A delivered order's survey whose message (with ``token``) just went out."""
    org = await Organization.get(slug=owner.org)
    await Organization.filter(id=org.id).update(locale=locale)
    account = await make_account(owner, api)
    data = await owner.data(api, CREATE, {"input": {"accountId": account, "items": ITEMS}})
    order_pk = ids.decode(data["createOrder"]["order"]["id"])[1]
    survey = await service.open_for_order(org.id, order_pk, "delivered", datetime.now(UTC))
    await service.link_sent(survey.id, token, "sms", sent or datetime.now(UTC))
    return survey


async def test_the_page_speaks_the_organizations_language_and_switches_on_request(api, tenants):
    owner = (await tenants.create(("owner",))).owner
    await open_survey(owner, api, locale="en", token="english-shop-token-0123456789")
    page = await api.http.get("/s/english-shop-token-0123456789", headers={"accept-language": "uk"})
    assert page.status_code == 200
    assert 'lang="en"' in page.text and "How likely are you to recommend us" in page.text
    switched = await api.http.get("/s/english-shop-token-0123456789?lang=uk")
    assert 'lang="uk"' in switched.text and "Наскільки ймовірно" in switched.text
    assert 'action="?lang=uk"' in switched.text  # the answer keeps the chosen language


async def test_bad_answers_are_shown_on_the_page_and_nothing_is_saved(api, tenants):
    owner = (await tenants.create(("owner",))).owner
    survey = await open_survey(owner, api, token="validation-token-0123456789")
    response = await api.http.post("/s/validation-token-0123456789", data={"nps": "11", "comment": "Дуже " * 500})
    assert response.status_code == 400
    assert "Будь ласка, оберіть оцінку." in response.text
    assert "Коментар задовгий: щонайбільше 2000 символів." in response.text
    assert "Дуже Дуже" in response.text  # the comment is kept for fixing
    assert (await Survey.get(id=survey.id)).answered_at is None
    ok = await api.http.post("/s/validation-token-0123456789", data={"nps": "10", "comment": "Все чудово"})
    assert ok.status_code == 200 and "Дякуємо!" in ok.text


async def test_an_unknown_or_forged_link_gets_a_clear_page_in_the_browsers_language(api, tenants):
    owner = (await tenants.create(("owner",))).owner
    await open_survey(owner, api, token="the-real-token-0123456789")
    forged = await api.http.get("/s/the-real-token-012345678X")
    assert forged.status_code == 404 and "Посилання не знайдено" in forged.text
    assert forged.headers["content-security-policy"].startswith("default-src 'self'")
    english = await api.http.get("/s/the-real-token-012345678X", headers={"accept-language": "en-GB,en;q=0.9"})
    assert english.status_code == 404 and "Link not found" in english.text
    posted = await api.http.post("/s/nothing-here", data={"nps": "5"})
    assert posted.status_code == 404


async def test_an_expired_link_says_so(api, tenants):
    owner = (await tenants.create(("owner",))).owner
    survey = await open_survey(owner, api, token="old-token-0123456789", sent=datetime.now(UTC) - timedelta(days=31))
    page = await api.http.get("/s/old-token-0123456789")
    assert page.status_code == 410 and "Термін дії посилання минув" in page.text
    english = await api.http.get("/s/old-token-0123456789?lang=en")
    assert "This link has expired" in english.text
    answer = await api.http.post("/s/old-token-0123456789", data={"nps": "9"})
    assert answer.status_code == 410
    assert (await Survey.get(id=survey.id)).answered_at is None
