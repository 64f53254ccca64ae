"""Retention campaigns end to end: the scheduler picks who is due a step, each step reaches each
customer once (twice run, two workers at once), marketing consent and the frequency cap hold,
messages go through the notification cascade (the TurboSMS simulator over real HTTP) with an
opt-out link that works, and results and A/B verdicts are exact on hand-made data."""

from __future__ import annotations

import asyncio
import math
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator
from server.campaigns import jobs as campaign_jobs
from server.campaigns import results as campaign_results
from server.campaigns.models import Campaign, CampaignMessage, CampaignStep, CustomerMarketing
from server.campaigns.service import add_months
from server.graphql import ids
from server.i18n import use_locale
from server.notifications.models import Notification
from tests.provider_plugins import install
from tests.test_notifications import Shop
from tests.test_orders import create_order, make_account

LINK = re.compile(r"http://127\.0\.0\.1:8000/u/([A-Za-z0-9_-]+)")
CAMPAIGN = """mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) {
  campaign { id kind enabled steps { position delay variants { key } } } errors { field code message } } }"""
STEP = """mutation($i: UpdateCampaignStepInput!) { updateCampaignStep(input: $i) {
  step { position delay variants { key textUk } } errors { field code message } } }"""
SETTINGS = """mutation($i: UpdateCampaignSettingsInput!) { updateCampaignSettings(input: $i) {
  settings { marketingDefaultOptIn frequencyCapDays conversionWindowDays } errors { field code message } } }"""
MARKETING = """mutation($i: SetCustomerMarketingInput!) { setCustomerMarketing(input: $i) {
  marketing { optedIn birthday } errors { field code message } } }"""
CONSENT = """mutation($i: SetChannelConsentInput!) { setChannelConsent(input: $i) { errors { code } } }"""
CLICKS = """query($k: CampaignKind) { campaignResults(kind: $k) {
  total { sent delivered clicked } steps { total { sent delivered clicked } variants { key sent delivered clicked } } } }"""
TRACKED = re.compile(r"http://127\.0\.0\.1:8000/c/([A-Za-z0-9_-]+)")
RESULTS = """query($k: CampaignKind) { campaignResults(kind: $k) { kind
  total { sent delivered converted revenue currency }
  steps { step { position } total { sent delivered converted conversion revenue }
          variants { key sent delivered converted conversion revenue } pValue verdict } } }"""


@pytest.fixture(scope="module")
def turbo_server():
    with TurboSMSSimulator() as sim:
        yield sim


@pytest.fixture
async def shop(api, tenants, database, turbo_server):
    turbo_server.reset()
    tenant = await tenants.create(("owner", "manager", "analyst"))
    config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": turbo_server.url, "viber_sms_fallback": False}
    assert (await install(tenant.owner, api, "turbosms", config, {"token": TEST_TOKEN}))["errors"] == []
    shop = Shop(tenant.owner, api, database, turbo_server)
    shop.tenant = tenant
    settings = await shop.owner.data(
        api,
        """mutation { updateNotificationSettings(input: {quietStart: "00:00", quietEnd: "00:00",
        sendDelaySeconds: 0}) { errors { code } } }""",
    )
    assert settings["updateNotificationSettings"]["errors"] == []
    return shop


async def mutate(shop: Shop, query: str, values: dict) -> dict:
    data = await shop.owner.data(shop.api, query, {"i": values})
    [payload] = data.values()
    assert payload["errors"] == [], payload
    return payload


async def customer(shop: Shop, phone: str, *, marketing: bool | None = True, order: bool = True) -> dict:
    """A customer (with one order unless told otherwise) and their marketing choice."""
    if order:
        made = await shop.order(phone=phone, name=f"Клієнт {phone[-2:]}")
        account = made["accountId"]
    else:
        account = await make_account(shop.owner, shop.api, name=f"Клієнт {phone[-2:]}", phones=(phone,))
    if marketing is not None:
        await mutate(shop, MARKETING, {"accountId": account, "optedIn": marketing})
    return {"id": account, "pk": ids.decode(account)[1], "phone": phone}


def campaign_texts(shop: Shop, phone: str) -> list[str]:
    """This shop's campaign messages to the phone (other tests' shops may share the phone)."""
    return [text for _, text in shop.received(phone) if "/u/" in text and shop.tenant.slug in text]


async def run_and_send(shop: Shop, at: datetime) -> None:
    await campaign_jobs.run(now=at)
    await shop.drain()


PHONES = [f"+38067123450{i}" for i in range(4)]


async def test_each_winback_step_reaches_each_customer_once_however_often_and_wherever_the_scheduler_runs(shop):
    people = [await customer(shop, phone) for phone in PHONES[:3]]
    await mutate(shop, CAMPAIGN, {"kind": "WINBACK", "enabled": True})
    now = datetime.now(UTC)
    await shop.drain()
    shop.sim.reset()

    at = now + timedelta(days=200)  # not yet 9 months
    await run_and_send(shop, at)
    assert all(campaign_texts(shop, p["phone"]) == [] for p in people)

    nine = datetime.combine(add_months(now.date(), 9), now.time(), UTC) + timedelta(days=1)
    await campaign_jobs.run(now=nine)
    await campaign_jobs.run(now=nine)  # run twice
    await asyncio.gather(campaign_jobs.run(now=nine), campaign_jobs.run(now=nine))  # on two workers at once
    await shop.drain()
    for person in people:
        [text] = campaign_texts(shop, person["phone"])
        assert "Знижка 5%" in text and "Відписатися: http://127.0.0.1:8000/u/" in text
    assert await CampaignMessage.filter(account_id__in=[p["pk"] for p in people]).count() == 3
    # The stored copy never holds a working opt-out link.
    stored = await Notification.filter(account_id=people[0]["pk"], trigger="campaign_winback").first()
    assert "/u/…" in stored.text

    twelve = datetime.combine(add_months(now.date(), 12), now.time(), UTC) + timedelta(days=1)
    await asyncio.gather(campaign_jobs.run(now=twelve), campaign_jobs.run(now=twelve))
    await campaign_jobs.run(now=twelve)
    await shop.drain()
    for person in people:
        texts = campaign_texts(shop, person["phone"])
        assert len(texts) == 2 and "знижка 10%" in texts[1]

    # Three years without an order: churned, nothing more even with every step due.
    churned = datetime.combine(add_months(now.date(), 36), now.time(), UTC) + timedelta(days=1)
    await run_and_send(shop, churned)
    assert [len(campaign_texts(shop, p["phone"])) for p in people] == [2, 2, 2]


async def test_marketing_consent_is_its_own_and_opted_out_customers_get_nothing(shop):
    yes = await customer(shop, PHONES[0], marketing=True)
    no = await customer(shop, PHONES[1], marketing=False)
    silent = await customer(shop, PHONES[2], marketing=None)  # no choice recorded
    channel_only = await customer(shop, PHONES[3], marketing=None)
    # Agreeing to order messages on Viber is not agreeing to marketing.
    consent = await shop.owner.data(
        shop.api, CONSENT, {"i": {"accountId": channel_only["id"], "channel": "viber", "optedIn": True}}
    )
    assert consent["setChannelConsent"]["errors"] == []
    await mutate(shop, CAMPAIGN, {"kind": "WINBACK", "enabled": True})
    at = datetime.combine(add_months(date.today(), 9), datetime.now(UTC).time(), UTC) + timedelta(days=1)
    await run_and_send(shop, at)
    assert len(campaign_texts(shop, yes["phone"])) == 1
    for person in (no, silent, channel_only):
        assert campaign_texts(shop, person["phone"]) == []

    # The organization may choose that no recorded choice means yes; an explicit no stays no.
    await mutate(shop, SETTINGS, {"marketingDefaultOptIn": True})
    await run_and_send(shop, at)
    assert campaign_texts(shop, no["phone"]) == []
    assert len(campaign_texts(shop, silent["phone"])) == 1
    assert len(campaign_texts(shop, channel_only["phone"])) == 1
    assert len(campaign_texts(shop, yes["phone"])) == 1


async def test_the_frequency_cap_holds_back_a_second_campaign_for_a_week(shop):
    person = await customer(shop, PHONES[0])
    now = datetime.now(UTC)
    at = datetime.combine(add_months(now.date(), 9), now.time(), UTC) + timedelta(days=1)
    # The birthday falls so that the birthday step is due on the same day as the win-back step:
    # days are the shop's (Kyiv's), which from 21:00 UTC on is already tomorrow.
    birthday = (at + timedelta(days=7)).astimezone(ZoneInfo("Europe/Kyiv")).date().replace(year=1990)
    await mutate(shop, MARKETING, {"accountId": person["id"], "birthday": birthday.isoformat()})
    await mutate(shop, CAMPAIGN, {"kind": "WINBACK", "enabled": True})
    await mutate(shop, CAMPAIGN, {"kind": "BIRTHDAY", "enabled": True})
    await asyncio.gather(campaign_jobs.run(now=at), campaign_jobs.run(now=at))
    await shop.drain()
    assert len(campaign_texts(shop, person["phone"])) == 1  # one of the two, not both
    await run_and_send(shop, at + timedelta(days=6))
    assert len(campaign_texts(shop, person["phone"])) == 1
    await run_and_send(shop, at + timedelta(days=7, minutes=1))
    assert len(campaign_texts(shop, person["phone"])) == 2  # the other one, a week later
    assert await CampaignMessage.filter(account_id=person["pk"]).count() == 2


async def test_birthday_greeting_goes_seven_days_before_with_an_offer_for_a_week_after(shop):
    person = await customer(shop, PHONES[0], order=False)
    now = datetime.now(UTC).replace(hour=12)
    day = (now + timedelta(days=30)).date()
    await mutate(shop, MARKETING, {"accountId": person["id"], "birthday": day.replace(year=1985).isoformat()})
    await mutate(shop, CAMPAIGN, {"kind": "BIRTHDAY", "enabled": True})
    await run_and_send(shop, datetime.combine(day - timedelta(days=8), now.time(), UTC))
    assert campaign_texts(shop, person["phone"]) == []
    await run_and_send(shop, datetime.combine(day - timedelta(days=7), now.time(), UTC))
    [text] = campaign_texts(shop, person["phone"])
    assert f"знижка 10% до {(day + timedelta(days=7)).strftime('%d.%m.%Y')}" in text
    await run_and_send(shop, datetime.combine(day - timedelta(days=3), now.time(), UTC))
    assert len(campaign_texts(shop, person["phone"])) == 1  # once a year


async def test_the_opt_out_link_records_the_opt_out_and_stops_further_campaigns(shop, api):
    person = await customer(shop, PHONES[0])
    await mutate(shop, CAMPAIGN, {"kind": "WINBACK", "enabled": True})
    now = datetime.now(UTC)
    await run_and_send(shop, datetime.combine(add_months(now.date(), 9), now.time(), UTC) + timedelta(days=1))
    [text] = campaign_texts(shop, person["phone"])
    token = LINK.search(text).group(1)

    page = await api.http.get(f"/u/{token}")
    assert page.status_code == 200 and "Відписатися від пропозицій" in page.text
    assert (await CustomerMarketing.get(account_id=person["pk"])).opted_in is True  # opening is not confirming
    done = await api.http.post(f"/u/{token}?lang=en")
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert (await CustomerMarketing.get(account_id=person["pk"])).opted_in is False
    assert (await api.http.post(f"/u/{token}")).status_code == 200  # a second click is fine
    assert (await api.http.get("/u/not-a-token")).status_code == 404

    await run_and_send(shop, datetime.combine(add_months(now.date(), 12), now.time(), UTC) + timedelta(days=1))
    assert len(campaign_texts(shop, person["phone"])) == 1


async def _hand_made(shop: Shop, sent_at: datetime, variant: str, state: str, person: dict, step: CampaignStep):
    message = await CampaignMessage.create(
        organization_id=step.organization_id,
        step_id=step.id,
        account_id=person["pk"],
        occurrence="x",
        variant=variant,
        notified=True,
        sent_at=sent_at,
    )
    await Notification.create(
        organization_id=step.organization_id,
        account_id=person["pk"],
        source_event_id=message.id,
        trigger="campaign_winback",
        channel="viber",
        state=state,
        scheduled_for=sent_at,
    )


async def test_conversion_and_revenue_are_counted_exactly_per_variant(shop):
    await mutate(
        shop,
        STEP,
        {
            "kind": "WINBACK",
            "position": 0,
            "variants": [
                {"key": "A", "textUk": "А {{ customer_name }}", "textEn": "A"},
                {"key": "B", "textUk": "Б {{ customer_name }}", "textEn": "B"},
            ],
        },
    )
    [campaign] = await Campaign.filter(organization__slug=shop.tenant.slug, kind="winback")
    step = await CampaignStep.get(campaign_id=campaign.id, position=0)
    now = datetime.now(UTC)
    a1, a2, b1, b2 = [await customer(shop, p) for p in PHONES]  # each has one order now, 2849.48 UAH
    await _hand_made(shop, now - timedelta(days=2), "A", "delivered", a1, step)  # ordered 2 days later: converted
    await _hand_made(shop, now - timedelta(days=10), "A", "sent", a2, step)  # 10 days: outside the 7-day window
    await _hand_made(shop, now - timedelta(days=1), "B", "delivered", b1, step)  # converted
    await _hand_made(shop, now + timedelta(minutes=5), "B", "failed", b2, step)  # never sent: not counted
    data = await shop.tenant.analyst.data(shop.api, RESULTS, {"k": "WINBACK"})
    [result] = data["campaignResults"]
    first = result["steps"][0]
    assert first["total"] == {
        "sent": 3,
        "delivered": 2,
        "converted": 2,
        "conversion": pytest.approx(2 / 3),
        "revenue": "5698.96",
    }
    assert [(v["key"], v["sent"], v["delivered"], v["converted"], v["revenue"]) for v in first["variants"]] == [
        ("A", 2, 1, 1, "2849.48"),
        ("B", 1, 1, 1, "2849.48"),
    ]
    assert first["verdict"].startswith("Ще зарано робити висновки")  # the caller's language
    assert result["total"]["revenue"] == "5698.96" and result["total"]["currency"] == "UAH"
    # A wider window counts the second customer of A too.
    await mutate(shop, SETTINGS, {"conversionWindowDays": 14})
    data = await shop.tenant.analyst.data(shop.api, RESULTS, {"k": "WINBACK"})
    assert data["campaignResults"][0]["steps"][0]["variants"][0]["converted"] == 2


def test_ab_verdict_on_a_known_example():
    # 30 of 200 against 15 of 200: pooled 45/400 = 0.1125, se = sqrt(0.1125 * 0.8875 * 2/200)
    # = 0.031598, z = 0.075 / 0.031598 = 2.3736, two-sided p = erfc(z / sqrt 2) = 0.0176.
    p = campaign_results.two_proportion_p(30, 200, 15, 200)
    assert p == pytest.approx(math.erfc(2.3736 / math.sqrt(2)), abs=1e-4)
    assert p == pytest.approx(0.0176, abs=1e-4)
    a = campaign_results.Counts("A", sent=200, converted=30)
    b = campaign_results.Counts("B", sent=200, converted=15)
    with use_locale("en"):
        p, text = campaign_results.verdict([b, a])
        assert text.startswith("Variant A converts better than B (15.0% against 7.5%), and the difference is more")
        # 22 of 200 against 15 of 200: pooled 0.0925, se 0.028973, z 1.2080, p = 0.2270: could be chance.
        p, text = campaign_results.verdict([campaign_results.Counts("A", sent=200, converted=22), b])
        assert p == pytest.approx(0.2270, abs=1e-4) and "could be chance" in text
    with use_locale("uk"):
        _, text = campaign_results.verdict([a, b])
        assert text.startswith("Варіант A")


async def test_only_owners_and_admins_change_campaigns_and_other_organizations_see_nothing(shop, tenants):
    manager = await shop.tenant.manager.execute(shop.api, CAMPAIGN, {"i": {"kind": "WINBACK", "enabled": True}})
    assert manager["errors"] and manager["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    person = await customer(shop, PHONES[0])
    other = await tenants.create(("owner", "analyst"))
    foreign = await other.owner.data(shop.api, MARKETING, {"i": {"accountId": person["id"], "optedIn": True}})
    assert foreign["setCustomerMarketing"]["errors"][0]["code"] == "NOT_FOUND"
    await mutate(shop, CAMPAIGN, {"kind": "WINBACK", "enabled": True})
    now = datetime.now(UTC)
    await run_and_send(shop, datetime.combine(add_months(now.date(), 9), now.time(), UTC) + timedelta(days=1))
    mine = await shop.tenant.analyst.data(shop.api, RESULTS, {"k": "WINBACK"})
    assert mine["campaignResults"][0]["total"]["sent"] == 1
    theirs = await other.analyst.data(shop.api, RESULTS, {"k": "WINBACK"})
    assert theirs["campaignResults"][0]["total"]["sent"] == 0
    listed = await other.owner.data(shop.api, "{ campaigns { kind enabled } }")
    assert {c["kind"]: c["enabled"] for c in listed["campaigns"]}["WINBACK"] is False


async def test_a_campaign_limited_to_a_segment_reaches_only_its_members(shop):
    loyal = await customer(shop, PHONES[0])
    await create_order(shop.owner, shop.api, loyal["id"])  # a second order: in the segment
    once = await customer(shop, PHONES[1])
    segment = await shop.owner.data(
        shop.api,
        """mutation($i: CreateSegmentInput!) { createSegment(input: $i) { segment { id } errors { code } } }""",
        {"i": {"name": "Two orders or more", "rules": {"orderCount": {"gte": 2}}}},
    )
    segment_id = segment["createSegment"]["segment"]["id"]
    await mutate(shop, CAMPAIGN, {"kind": "WINBACK", "enabled": True, "segmentId": segment_id})
    now = datetime.now(UTC)
    await run_and_send(shop, datetime.combine(add_months(now.date(), 9), now.time(), UTC) + timedelta(days=1))
    assert len(campaign_texts(shop, loyal["phone"])) == 1
    assert campaign_texts(shop, once["phone"]) == []


async def test_campaign_results_count_messages_whose_link_was_opened(shop, api):
    text = "{{ customer_name }}, знижка 5%: https://shop.example/winback до {{ offer_until }}. {{ shop_name }}"
    await mutate(
        shop,
        STEP,
        {
            "kind": "WINBACK",
            "position": 0,
            "variants": [{"key": "A", "textUk": text, "textEn": text}, {"key": "B", "textUk": text, "textEn": text}],
        },
    )
    people = [await customer(shop, phone) for phone in PHONES]
    await mutate(shop, CAMPAIGN, {"kind": "WINBACK", "enabled": True})
    now = datetime.now(UTC)
    await run_and_send(shop, datetime.combine(add_months(now.date(), 9), now.time(), UTC) + timedelta(days=1))
    # The split between variants is stable but not ours to choose: read it.
    variant = {p["phone"]: (await CampaignMessage.get(account_id=p["pk"])).variant for p in people}
    links = {}
    for person in people:
        [message] = campaign_texts(shop, person["phone"])
        [token] = TRACKED.findall(message)  # the shop's link is tracked, the opt-out link is not
        assert LINK.search(message)
        links[person["phone"]] = token
    # The first customer opens the link three times, the second once; the others not at all.
    for phone, times in ((PHONES[0], 3), (PHONES[1], 1)):
        for _ in range(times):
            opened = await api.http.get(f"/c/{links[phone]}")
            assert opened.status_code == 302 and opened.headers["location"] == "https://shop.example/winback"
    data = await shop.tenant.analyst.data(shop.api, CLICKS, {"k": "WINBACK"})
    [result] = data["campaignResults"]
    # No delivery report came yet: a click proves delivery.
    assert result["total"] == {"sent": 4, "delivered": 2, "clicked": 2}
    assert result["steps"][0]["total"] == {"sent": 4, "delivered": 2, "clicked": 2}
    expected = {key: {"key": key, "sent": 0, "delivered": 0, "clicked": 0} for key in ("A", "B")}
    for i, phone in enumerate(PHONES):
        counts = expected[variant[phone]]
        counts["sent"] += 1
        counts["delivered"] += i < 2
        counts["clicked"] += i < 2
    assert result["steps"][0]["variants"] == [expected["A"], expected["B"]]


async def test_the_demo_shop_shows_campaign_results(api, database):
    from server.demo.seed import DEMO_PASSWORD, DEMO_SLUG, demo_email, seed_demo
    from tests.helpers import Member

    result = await seed_demo(postgres=database.is_postgres)
    assert not result.created or result.campaign_messages > 20
    login = await api.data(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
        {"e": demo_email("analyst"), "p": DEMO_PASSWORD},
    )
    analyst = Member(demo_email("analyst"), "analyst", login["login"]["token"], "", DEMO_SLUG)
    found = {r["kind"]: r for r in (await analyst.data(api, RESULTS))["campaignResults"]}
    assert found["WINBACK"]["total"]["sent"] > 0 and found["REVIEW"]["total"]["sent"] > 0
    assert found["WINBACK"]["total"]["delivered"] > 0
    clicked = (await analyst.data(api, CLICKS, {"k": "WINBACK"}))["campaignResults"][0]["total"]
    assert 0 < clicked["clicked"] < clicked["delivered"]  # about one in five delivered messages
    first = found["WINBACK"]["steps"][0]
    assert [v["key"] for v in first["variants"]] == ["A", "B"] and first["verdict"]


async def test_a_review_request_goes_once_five_days_after_delivery(shop):
    order = await shop.order(phone=PHONES[0], name="Клієнт 00")
    await mutate(shop, MARKETING, {"accountId": order["accountId"], "optedIn": True})
    await shop.move(order, "processing", "picking", "packed", "shipped", "delivered")
    await mutate(shop, CAMPAIGN, {"kind": "REVIEW", "enabled": True})
    now = datetime.now(UTC)
    await run_and_send(shop, now + timedelta(days=4))
    assert campaign_texts(shop, PHONES[0]) == []
    await asyncio.gather(
        campaign_jobs.run(now=now + timedelta(days=5, minutes=1)),
        campaign_jobs.run(now=now + timedelta(days=5, minutes=1)),
    )
    await run_and_send(shop, now + timedelta(days=6))
    [text] = campaign_texts(shop, PHONES[0])
    assert "Залиште відгук" in text
