"""Click tracking: the links of a message go out as short /c/<token> links of the CRM (the
TurboSMS simulator over real HTTP receives them), opening one redirects to the address and counts
the click (once per message for "clicked", every time in the count), unknown links get a small
page, and message engagement in `analytics` and the CSV is exact on hand-made data."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator
from server.accounts.models import Account
from server.clicks import service as clicks
from server.clicks.models import TrackedLink
from server.graphql import ids
from server.logging_redaction import redact
from server.notifications.models import Notification
from server.organizations.models import Organization
from tests.provider_plugins import install
from tests.test_notifications import Shop

BASE = "http://127.0.0.1:8000"  # the CRM's public address in tests (no PUBLIC_URL)
TRACKED = re.compile(re.escape(BASE) + r"/c/([A-Za-z0-9_-]+)")
TEMPLATE = """mutation($i: UpdateNotificationTemplateInput!) { updateNotificationTemplate(input: $i) {
  errors { field code message } } }"""
MESSAGES = """query($p: PeriodInput!, $f: AnalyticsFilter) { analytics(period: $p, filter: $f) { messages {
  total { channel sent delivered deliveredRate clicked clickRate withLinks }
  byChannel { channel sent delivered deliveredRate clicked clickRate withLinks } } } }"""
FEBRUARY = {"from": "2026-02-01", "to": "2026-02-28"}


def tokens(*values: str):
    values = iter(values)
    return lambda: next(values)


# -- rewriting ---------------------------------------------------------------------------------


def test_every_foreign_address_becomes_one_tracked_link_per_distinct_address():
    text = (
        "Знижка: https://shop.example/sale?x=1&y=2. Деталі (https://shop.example/info) і знову "
        "https://shop.example/sale?x=1&y=2, відписка http://127.0.0.1:8000/u/abc, "
        "вікі http://example.com/wiki/Foo_(bar)!"
    )
    rewritten, links = clicks.rewrite(text, BASE, tokens("T1", "T2", "T3"))
    assert rewritten == (
        f"Знижка: {BASE}/c/T1. Деталі ({BASE}/c/T2) і знову {BASE}/c/T1, відписка http://127.0.0.1:8000/u/abc, "
        f"вікі {BASE}/c/T3!"
    )
    assert links == [
        clicks.Link("T1", "https://shop.example/sale?x=1&y=2"),
        clicks.Link("T2", "https://shop.example/info"),
        clicks.Link("T3", "http://example.com/wiki/Foo_(bar)"),
    ]


def test_a_text_without_links_or_with_only_crm_links_stays_as_it_is():
    assert clicks.rewrite("Замовлення №12 відправлено.", BASE) == ("Замовлення №12 відправлено.", [])
    own = f"Оцініть нас: {BASE}/s/Xy_9 або відпишіться: {BASE.upper()}/u/Ab-1 — {BASE}/c/old"
    assert clicks.rewrite(own, BASE) == (own, [])
    # With PUBLIC_URL set, that address is the CRM's own.
    survey = "Оцініть: https://crm.shop.example/s/abc"
    assert clicks.rewrite(survey, "https://crm.shop.example/") == (survey, [])
    assert clicks.rewrite("Сайт: https:// і http://", BASE) == ("Сайт: https:// і http://", [])


def test_real_tokens_are_short_and_url_safe():
    rewritten, [link] = clicks.rewrite("https://shop.example/a", BASE)
    assert re.fullmatch(r"[A-Za-z0-9_-]{11}", link.token)
    assert rewritten == f"{BASE}/c/{link.token}"
    _, [other] = clicks.rewrite("https://shop.example/a", BASE)
    assert other.token != link.token


def test_access_logs_hide_the_token():
    assert redact('"GET /c/AbC-12_x9 HTTP/1.1" 302') == '"GET /c/*** HTTP/1.1" 302'


# -- sending and following -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def turbo_server():
    with TurboSMSSimulator() as sim:
        yield sim


@pytest.fixture
async def shop(api, tenants, database, turbo_server):
    turbo_server.reset()
    tenant = await tenants.create(("owner", "analyst"))
    config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": turbo_server.url, "viber_sms_fallback": False}
    assert (await install(tenant.owner, api, "turbosms", config, {"token": TEST_TOKEN}))["errors"] == []
    shop = Shop(tenant.owner, api, database, turbo_server)
    shop.tenant = tenant
    assert (await shop.settings(quietStart="00:00", quietEnd="00:00", sendDelaySeconds=0))["errors"] == []
    body = (
        "{{ customer_name }}, новинки: https://shop.example/new?utm_source=viber і https://shop.example/sale. "
        f"Відписка: {BASE}/u/keep"
    )
    saved = await shop.owner.data(
        api, TEMPLATE, {"i": {"trigger": "new", "channel": "viber", "locale": "uk", "body": body}}
    )
    assert saved["updateNotificationTemplate"]["errors"] == []
    return shop


def today() -> dict:
    day = datetime.now(ZoneInfo("Europe/Kyiv")).date().isoformat()
    return {"from": day, "to": day}


async def test_a_message_goes_out_with_tracked_links_and_opening_one_redirects_and_counts(shop, api):
    order = await shop.order(phone="+380671110001")
    await shop.drain()
    [(channel, text)] = shop.received("+380671110001")
    assert channel == "viber"
    first, second = TRACKED.findall(text)
    assert text == f"Олена, новинки: {BASE}/c/{first} і {BASE}/c/{second}. Відписка: {BASE}/u/keep"
    # The stored copy shows the addresses the template wrote.
    notification = await Notification.get(order_id=ids.decode(order["id"])[1])
    assert notification.text == (
        f"Олена, новинки: https://shop.example/new?utm_source=viber і https://shop.example/sale. Відписка: {BASE}/u/keep"
    )
    rows = await TrackedLink.filter(notification_id=notification.id).order_by("url")
    assert [(r.url, r.clicks, r.first_clicked_at, r.account_id) for r in rows] == [
        ("https://shop.example/new?utm_source=viber", 0, None, notification.account_id),
        ("https://shop.example/sale", 0, None, notification.account_id),
    ]
    assert all(r.organization_id == notification.organization_id and r.campaign_message_id is None for r in rows)
    assert all(first not in r.token_hash for r in rows)  # only the hash is kept

    opened = await api.http.get(f"/c/{first}")
    assert opened.status_code == 302
    assert opened.headers["location"] == "https://shop.example/new?utm_source=viber"
    assert opened.headers["cache-control"] == "no-store"
    link = await TrackedLink.get(url="https://shop.example/new?utm_source=viber", notification_id=notification.id)
    assert link.clicks == 1 and link.first_clicked_at is not None
    again = await api.http.get(f"/c/{first}", follow_redirects=False)
    assert again.status_code == 302
    assert (await api.http.get(f"/c/{second}")).headers["location"] == "https://shop.example/sale"
    # A link preview and a HEAD request lead on too, but are not a person clicking.
    preview = await api.http.get(f"/c/{second}", headers={"User-Agent": "TelegramBot (like TwitterBot)"})
    assert preview.status_code == 302 and preview.headers["location"] == "https://shop.example/sale"
    assert (await api.http.head(f"/c/{second}")).status_code == 302
    counted = {r.url: (r.clicks, r.first_clicked_at) for r in await TrackedLink.filter(notification_id=notification.id)}
    assert counted["https://shop.example/new?utm_source=viber"] == (2, link.first_clicked_at)  # the first stays
    assert counted["https://shop.example/sale"][0] == 1

    # Three clicks on one message: one clicked message. Not reported delivered yet, but a click proves it.
    data = await shop.tenant.analyst.data(api, MESSAGES, {"p": today()})
    viber = {"channel": "viber", "sent": 1, "delivered": 1, "deliveredRate": "100.00", "clicked": 1}
    viber |= {"clickRate": "100.00", "withLinks": 1}
    assert data["analytics"]["messages"] == {"total": {**viber, "channel": None}, "byChannel": [viber]}


async def test_unknown_links_get_a_small_page_in_the_customers_language(api):
    page = await api.http.get("/c/NoSuchToken", headers={"Accept-Language": "uk"})
    assert page.status_code == 404 and "Посилання не знайдено" in page.text
    assert "location" not in page.headers
    english = await api.http.get("/c/NoSuchToken?lang=en")
    assert english.status_code == 404 and "Link not found" in english.text
    assert (await api.http.get("/c/" + "x" * 200)).status_code == 404
    # Nothing in the request decides where a link goes: an address passed along is ignored.
    assert (await api.http.get("/c/NoSuchToken?url=https://evil.example")).status_code == 404


async def test_another_organization_sees_nothing_of_the_clicks(shop, api, tenants):
    await shop.order(phone="+380671110002")
    await shop.drain()
    [(_, text)] = shop.received("+380671110002")
    assert (await api.http.get(f"/c/{TRACKED.findall(text)[0]}")).status_code == 302
    other = (await tenants.create(("owner",))).owner
    data = await other.data(api, MESSAGES, {"p": today()})
    empty = {"sent": 0, "delivered": 0, "deliveredRate": None, "clicked": 0, "clickRate": None, "withLinks": 0}
    assert data["analytics"]["messages"] == {"total": {"channel": None, **empty}, "byChannel": []}


async def test_with_tracking_off_the_links_go_out_as_written(shop, api):
    changed = await shop.owner.data(
        api,
        "mutation { updateNotificationSettings(input: {trackLinks: false}) { settings { trackLinks } errors { code } } }",
    )
    assert changed["updateNotificationSettings"] == {"settings": {"trackLinks": False}, "errors": []}
    order = await shop.order(phone="+380671110003")
    await shop.drain()
    [(_, text)] = shop.received("+380671110003")
    assert "https://shop.example/new?utm_source=viber" in text and "/c/" not in text
    notification = await Notification.get(order_id=ids.decode(order["id"])[1])
    assert not await TrackedLink.filter(notification_id=notification.id).exists()


# -- message engagement on hand-made data ---------------------------------------------------------


async def _message(org, account, channel: str, state: str, sent_at, link_clicks: list[int] = ()) -> Notification:
    row = await Notification.create(
        organization_id=org.id,
        account_id=account.id if account else None,
        source_event_id=uuid4(),
        trigger="new",
        channel=channel,
        state=state,
        scheduled_for=sent_at or datetime(2026, 2, 10, tzinfo=UTC),
        sent_at=sent_at,
    )
    for i, count in enumerate(link_clicks):
        await TrackedLink.create(
            organization_id=org.id,
            notification_id=row.id,
            account_id=row.account_id,
            token_hash=uuid4().hex + uuid4().hex,
            url=f"https://shop.example/{i}",
            clicks=count,
            first_clicked_at=sent_at + timedelta(hours=1) if count else None,
        )
    return row


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
async def engagement(api, tenants, database):
    """February 2026 in Kyiv (UTC+2): local midnight of 1 February is 31 January 22:00 UTC."""
    tenant = await tenants.create(("owner", "manager", "analyst", "support"))
    org = await Organization.get(slug=tenant.slug)
    manager_pk = ids.decode(tenant.manager.user_id)[1]
    insta = await Account.create(organization_id=org.id, name="А", phones=["+380671110010"], source="instagram")
    insta.owner_id = manager_pk
    await insta.save()
    plain = await Account.create(organization_id=org.id, name="Б", phones=["+380671110011"])
    await _message(org, insta, "viber", "delivered", utc(2026, 2, 3, 10), [3, 0])  # delivered, clicked
    await _message(org, plain, "viber", "delivered", utc(2026, 2, 4, 10), [0])  # delivered, link not opened
    await _message(org, plain, "viber", "failed", utc(2026, 2, 5, 10))  # sent, reported undelivered
    await _message(org, plain, "sms", "sent", utc(2026, 2, 6, 10), [1])  # no report, but clicked
    await _message(org, plain, "sms", "delivered", utc(2026, 2, 7, 10))  # delivered, no links
    await _message(org, None, "sms", "delivered", utc(2026, 1, 31, 22))  # 00:00 on 1 February in Kyiv: in
    await _message(org, plain, "sms", "delivered", utc(2026, 1, 31, 21, 59), [5])  # 23:59 on 31 January: out
    await _message(org, plain, "sms", "delivered", utc(2026, 2, 28, 22), [1])  # 00:00 on 1 March: out
    await _message(org, plain, "viber", "queued", None)  # not sent
    other_tenant = await tenants.create(("owner",))
    other = await Organization.get(slug=other_tenant.slug)
    await _message(other, None, "viber", "delivered", utc(2026, 2, 10, 10), [2])  # another organization
    return tenant


async def test_message_engagement_of_february_is_exact(engagement, api):
    data = await engagement.analyst.data(api, MESSAGES, {"p": FEBRUARY})
    # viber: 3 sent, 2 delivered (2/3 = 66.67%), 1 clicked (1/2 = 50%), 2 carried links.
    # sms: 3 sent, 3 delivered (one by its click), 1 clicked (1/3 = 33.33%), 1 carried a link.
    viber = {"channel": "viber", "sent": 3, "delivered": 2, "deliveredRate": "66.67", "clicked": 1}
    viber |= {"clickRate": "50.00", "withLinks": 2}
    sms = {"channel": "sms", "sent": 3, "delivered": 3, "deliveredRate": "100.00", "clicked": 1}
    sms |= {"clickRate": "33.33", "withLinks": 1}
    total = {"channel": None, "sent": 6, "delivered": 5, "deliveredRate": "83.33", "clicked": 2}
    total |= {"clickRate": "40.00", "withLinks": 3}
    assert data["analytics"]["messages"] == {"total": total, "byChannel": [sms, viber]}

    # The acquisition source filter: only the Instagram customer's message.
    data = await engagement.analyst.data(api, MESSAGES, {"p": FEBRUARY, "f": {"source": "instagram"}})
    one = {"sent": 1, "delivered": 1, "deliveredRate": "100.00", "clicked": 1, "clickRate": "100.00", "withLinks": 1}
    assert data["analytics"]["messages"] == {
        "total": {"channel": None, **one},
        "byChannel": [{"channel": "viber", **one}],
    }
    # A manager sees the messages of their own customers and orders only.
    data = await engagement.manager.data(api, MESSAGES, {"p": FEBRUARY})
    assert data["analytics"]["messages"]["total"] == {"channel": None, **one}


async def test_message_engagement_csv_and_permissions(engagement, api):
    headers = {"Authorization": f"Bearer {engagement.owner.token}", "X-Organization": engagement.owner.org}
    response = await api.http.get("/analytics/messages.csv?from=2026-02-01&to=2026-02-28", headers=headers)
    assert response.status_code == 200
    assert list(csv.reader(io.StringIO(response.text))) == [
        ["channel", "sent", "delivered", "delivered_rate_percent", "clicked", "click_rate_percent", "with_links"],
        ["all", "6", "5", "83.33", "2", "40.00", "3"],
        ["sms", "3", "3", "100.00", "1", "33.33", "1"],
        ["viber", "3", "2", "66.67", "1", "50.00", "2"],
    ]
    refused = await engagement.support.execute(api, MESSAGES, {"p": FEBRUARY})
    assert refused["data"] is None or refused["data"]["analytics"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
