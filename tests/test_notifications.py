"""Customer notifications through the TurboSMS plugin and its simulator (real HTTP): what the
customer gets, when, on which channel, once; what the order and the timeline show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugins.simulators.turbosms import STOPLISTED_PHONE, TEST_TOKEN, TurboSMSSimulator
from server.accounts.models import Account
from server.activities.models import Activity
from server.graphql import ids
from server.i18n import undecided, use_locale
from server.jobs.inprocess import run_until_idle
from server.jobs.models import JobRun
from server.jobs.registry import Event
from server.notifications import jobs as notification_jobs
from server.notifications.models import Notification
from server.orders.models import Order
from server.plugins import service as plugins
from server.plugins.models import PluginInstallation
from server.plugins.types import OutgoingMessage
from tests.provider_plugins import install
from tests.test_orders import ITEMS, STATUS, make_account

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

PHONE = "+380671234567"
CREATE = """mutation($input: CreateOrderInput!) { createOrder(input: $input) {
  order { id number version } errors { field code message } } }"""
SETTINGS = """mutation($i: UpdateNotificationSettingsInput!) { updateNotificationSettings(input: $i) {
  settings { quietStart quietEnd sendDelaySeconds supportPhone } errors { field code message } } }"""
NOTIFICATIONS = """query($id: ID!) { orderNotifications(orderId: $id) {
  id trigger channel state reason text recipient attempts } }"""


@pytest.fixture(scope="module")
def turbo_server():
    with TurboSMSSimulator() as sim:
        yield sim


@pytest.fixture
def sim(turbo_server):
    turbo_server.reset()
    return turbo_server


class Shop:
    def __init__(self, owner, api, database, sim, installation_id: str | None = None):
        self.owner, self.api, self.database, self.sim = owner, api, database, sim
        self.installation_id = installation_id

    async def settings(self, **values) -> dict:
        data = await self.owner.data(self.api, SETTINGS, {"i": values})
        return data["updateNotificationSettings"]

    async def order(self, phone: str = PHONE, name: str = "Олена Коваль") -> dict:
        account = await make_account(self.owner, self.api, name=name, phones=(phone,))
        data = await self.owner.data(self.api, CREATE, {"input": {"accountId": account, "items": ITEMS}})
        order = data["createOrder"]["order"]
        order["accountId"] = account
        return order

    async def move(self, order: dict, *codes: str, reason: str | None = None) -> dict:
        for code in codes:
            variables = {"input": {"id": order["id"], "version": order["version"], "status": code, "reason": reason}}
            data = await self.owner.data(self.api, STATUS, variables)
            assert data["changeOrderStatus"]["errors"] == [], data
            order["version"] = data["changeOrderStatus"]["order"]["version"]
        return order

    async def drain(self, minutes: float = 5) -> None:
        """What the worker does over the next minutes (send delays included)."""
        await run_until_idle(self.database, now=datetime.now(UTC) + timedelta(minutes=minutes))

    async def notifications(self, order: dict) -> list[dict]:
        return (await self.owner.data(self.api, NOTIFICATIONS, {"id": order["id"]}))["orderNotifications"]

    def received(self, phone: str = PHONE) -> list[tuple[str, str]]:
        """(channel, text) of what the simulator got for this phone, in order."""
        digits = phone.lstrip("+")
        with self.sim.lock:
            return [(m.type, m.text) for m in self.sim.messages.values() if m.recipient == digits]


async def poll_statuses_of(*shops: Shop, now: datetime | None = None) -> int:
    """The periodic poll, keeping only the jobs it queued for these shops' installations: the
    shared test database also holds earlier tests' installations, whose simulators have
    stopped, and asking each of them (a refused connection, retried) is not what these tests
    check. How many jobs it queued for these shops."""
    await notification_jobs.poll_statuses(now=now)
    polls = JobRun.filter(name="notifications.poll_installation", state="queued")
    ours = {str(shop.installation_id) for shop in shops}
    theirs = [job.id for job in await polls if job.kwargs.get("installation_id") not in ours]
    await JobRun.filter(id__in=theirs).delete()
    return await polls.count()


@pytest.fixture
async def shop(api, tenants, database, sim):
    # What earlier tests left due later (a send delay, a retry) runs now, not into this test's
    # simulator: the messages a test reads are its own.
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(days=4))
    sim.reset()
    owner = (await tenants.create(("owner",))).owner
    config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": sim.url, "viber_sms_fallback": False}
    installed = await install(owner, api, "turbosms", config, {"token": TEST_TOKEN})
    assert installed["errors"] == []
    shop = Shop(owner, api, database, sim, ids.decode(installed["installation"]["id"])[1])
    # No quiet hours, no send delay unless a test says so: tests run at any hour.
    assert (await shop.settings(quietStart="00:00", quietEnd="00:00", sendDelaySeconds=0, supportPhone="0800300545"))[
        "errors"
    ] == []
    return shop


async def test_an_order_from_creation_to_shipping_sends_exactly_the_expected_messages(shop):
    order = await shop.order()
    await shop.drain()
    await shop.move(order, "processing", "picking", "packed")
    await shop.drain()
    received = shop.received()
    assert len(received) == 1  # processing, picking and packed are off by default
    channel, text = received[0]
    assert channel == "viber"
    assert text.startswith(f"Олена, дякуємо! Замовлення №{order['number']} на 2849.48 UAH прийнято.")
    rows = await shop.notifications(order)
    assert [(n["trigger"], n["channel"], n["state"], n["recipient"]) for n in rows] == [("new", "viber", "sent", PHONE)]
    # The account's timeline shows it.
    account_id = ids.decode(order["accountId"])[1]
    timeline = await Activity.filter(account_id=account_id, kind="message")
    assert [a.subject for a in timeline] == ["VIBER клієнтові надіслано"]
    assert timeline[0].body == text


async def test_running_the_jobs_again_sends_nothing_twice(shop):
    order = await shop.order()
    await shop.drain()
    row = await Notification.get(order_id=ids.decode(order["id"])[1])
    # The handler and the send job run again (a redelivery, a second worker): no new message.
    again = Event(
        id=row.source_event_id,
        organization_id=row.organization_id,
        topic="order.created",
        payload={"order_id": str(row.order_id)},
        created_at=datetime.now(UTC),
    )
    await notification_jobs.on_order_event(again)
    assert await notification_jobs.send(str(row.id), settings=shop.database) == "sent"
    await shop.drain()
    assert len(shop.received()) == 1
    assert await Notification.filter(order_id=row.order_id).count() == 1


async def test_a_status_flipped_back_within_the_send_delay_sends_nothing(shop):
    await shop.settings(sendDelaySeconds=120)
    order = await shop.order()
    await shop.drain(minutes=10)  # the order confirmation goes after the delay
    await shop.move(order, "processing", "delayed", "processing", reason="Чекаємо постачання")
    await shop.drain(minutes=10)
    rows = await shop.notifications(order)
    delayed = [n for n in rows if n["trigger"] == "delayed"]
    assert [n["state"] for n in delayed] == ["skipped"]
    assert delayed[0]["reason"] == "замовлення перейшло в статус «processing» до надсилання"
    assert [t for _, t in shop.received()] == [rows[0]["text"]]  # only the order confirmation


async def test_an_opt_out_of_viber_falls_back_to_sms(shop):
    order = await shop.order()
    consent = await shop.owner.data(
        shop.api,
        "mutation($i: SetChannelConsentInput!) { setChannelConsent(input: $i) { consent { channel optedIn } errors { code } } }",
        {"i": {"accountId": order["accountId"], "channel": "viber", "optedIn": False}},
    )
    assert consent["setChannelConsent"]["consent"] == {"channel": "viber", "optedIn": False}
    await shop.drain()
    assert [c for c, _ in shop.received()] == ["sms"]
    states = [(n["channel"], n["state"]) for n in await shop.notifications(order)]
    assert states == [("viber", "skipped"), ("sms", "sent")]


async def test_a_refused_recipient_fails_on_every_channel_visibly_and_can_be_retried(shop):
    phone = "+" + STOPLISTED_PHONE
    order = await shop.order(phone=phone)
    await shop.drain()
    rows = await shop.notifications(order)
    assert [(n["channel"], n["state"]) for n in rows] == [("viber", "failed"), ("sms", "failed")]
    assert all(n["reason"] for n in rows)
    assert shop.received(phone) == []
    # Support takes the number off the stop list at the provider and retries from the order.
    with shop.sim.lock:
        shop.sim.stoplist.discard(STOPLISTED_PHONE)
    retried = await shop.owner.data(
        shop.api,
        "mutation($id: ID!) { retryNotification(id: $id) { notification { state } errors { code message } } }",
        {"id": rows[1]["id"]},
    )
    assert retried["retryNotification"] == {"notification": {"state": "queued"}, "errors": []}
    await shop.drain()
    assert [c for c, _ in shop.received(phone)] == ["sms"]
    assert [n["state"] for n in await shop.notifications(order)] == ["failed", "sent"]


async def test_a_provider_outage_is_retried_with_backoff_and_sends_once(shop):
    order = await shop.order()
    shop.sim.fail(count=3, status=503)  # TurboSMS is down for three tries
    await shop.drain(minutes=0.02)  # now: the first try fails, the next waits for its backoff
    [row] = await shop.notifications(order)
    assert (row["state"], row["attempts"]) == ("queued", 1)
    await shop.drain(minutes=10)
    [row] = await shop.notifications(order)
    assert (row["state"], row["attempts"]) == ("sent", 4)
    assert len(shop.received()) == 1  # one message, not four


async def test_when_the_provider_stays_down_the_notification_fails_visibly(shop):
    order = await shop.order()
    shop.sim.fail(count=50, status=503)
    await run_until_idle(shop.database, now=datetime.now(UTC) + timedelta(days=1))
    rows = await shop.notifications(order)
    assert rows[0]["state"] == "failed" and "503" in rows[0]["reason"]
    assert rows[0]["attempts"] == shop.database.job_max_tries
    assert shop.received() == []


async def test_a_job_writes_its_reasons_in_the_shops_language_not_in_the_language_around_it(
    shop, api, tenants, database, sim
):
    """A job works for no request: what it stores for people to read (here the provider's
    refusal kept as the failure reason) is in the organization's language, whoever's request
    or worker context started it (docs/i18n.md)."""
    english_owner = (await tenants.create(("owner",))).owner
    config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": sim.url, "viber_sms_fallback": False}
    assert (await install(english_owner, api, "turbosms", config, {"token": TEST_TOKEN}))["errors"] == []
    english = Shop(english_owner, api, database, sim)
    await english.settings(quietStart="00:00", quietEnd="00:00", sendDelaySeconds=0)
    changed = await english_owner.data(
        api, 'mutation { updateOrganization(input: {locale: "en"}) { errors { message } } }'
    )
    assert changed["updateOrganization"]["errors"] == []
    stoplisted = "+" + STOPLISTED_PHONE
    orders = {"uk": await shop.order(phone=stoplisted), "en": await english.order(phone=stoplisted)}
    with use_locale("en"):  # a worker started from an English request or test: the shops still speak their own
        await shop.drain()
    reasons = {
        lang: [n["reason"] for n in await s.notifications(orders[lang])] for lang, s in (("uk", shop), ("en", english))
    }
    # TurboSMS answered with its code; the sentence around it is the CRM's, in each shop's language.
    assert reasons == {
        "uk": ["Одержувач у стоп-списку (відписався). (NOT_ALLOWED_NUMBER_STOPLIST)"] * 2,
        "en": ["The recipient is on the stop list (they unsubscribed). (NOT_ALLOWED_NUMBER_STOPLIST)"] * 2,
    }
    # The plugin's own words when a job calls it (no language around it): each shop's.
    stoplisted_sms = OutgoingMessage(to=stoplisted, text="Ваше замовлення готове", channel="sms")
    with undecided():
        for lang, owner in (("uk", shop.owner), ("en", english_owner)):
            installation = await PluginInstallation.get(organization__slug=owner.org, plugin="turbosms")
            refused = await plugins.call(database, installation, "crm_messaging_send", message=stoplisted_sms)
            assert (refused.status, refused.error_message) == ("failed", reasons[lang][0]), lang
    # A customer with no phone: the reason is the CRM's own text, in each shop's language.
    no_phone = {}
    for lang, s in (("uk", shop), ("en", english)):
        order = await s.order(phone=stoplisted)
        await Order.filter(id=ids.decode(order["id"])[1]).update(recipient_phone="")
        await Account.filter(id=ids.decode(order["accountId"])[1]).update(phones=[])
        await s.drain()
        no_phone[lang] = next(n["reason"] for n in await s.notifications(order))
    assert no_phone == {"uk": "у клієнта немає номера телефону", "en": "no phone number for the customer"}


async def test_quiet_hours_hold_non_urgent_messages_until_the_morning(shop):
    kyiv = datetime.now(ZoneInfo("Europe/Kyiv"))
    start, end = (kyiv - timedelta(hours=1)).strftime("%H:%M"), (kyiv + timedelta(hours=1)).strftime("%H:%M")
    await shop.settings(quietStart=start, quietEnd=end)
    order = await shop.order()
    await shop.drain(minutes=1)
    [row] = await Notification.filter(order_id=ids.decode(order["id"])[1])
    assert row.state == "queued"
    assert row.scheduled_for.astimezone(ZoneInfo("Europe/Kyiv")).strftime("%H:%M") == end
    assert shop.received() == []
    await shop.settings(quietStart="00:00", quietEnd="00:00")  # morning came (or the shop changed its mind)
    await run_until_idle(shop.database, now=datetime.now(UTC) + timedelta(hours=2))
    assert len(shop.received()) == 1


async def test_preview_and_template_validation(shop):
    order = await shop.order()
    preview = await shop.owner.data(
        shop.api,
        'query($id: ID!) { previewNotification(orderId: $id, trigger: "cancelled", channel: "sms", locale: "en") { text errors { code } } }',
        {"id": order["id"]},
    )
    assert preview["previewNotification"]["text"] == (f"Order #{order['number']} is cancelled. Questions: 0800300545")
    update = """mutation($i: UpdateNotificationTemplateInput!) { updateNotificationTemplate(input: $i) {
      template { body } errors { field code message } } }"""
    broken = await shop.owner.data(
        shop.api, update, {"i": {"trigger": "new", "channel": "sms", "locale": "uk", "body": "Привіт\n{{ name "}}
    )
    assert broken["updateNotificationTemplate"]["errors"][0]["code"] == "INVALID"
    assert "line 2" in broken["updateNotificationTemplate"]["errors"][0]["message"]
    attack = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    saved = await shop.owner.data(
        shop.api, update, {"i": {"trigger": "new", "channel": "sms", "locale": "uk", "body": attack}}
    )
    assert saved["updateNotificationTemplate"]["errors"] == []
    shown = await shop.owner.data(
        shop.api,
        'query($id: ID!) { previewNotification(orderId: $id, trigger: "new", channel: "sms") { text errors { code message } } }',
        {"id": order["id"]},
    )
    result = shown["previewNotification"]
    assert result["text"] is None or "class" not in result["text"]
    assert result["text"] is None and result["errors"][0]["code"] == "INVALID"


async def test_another_organization_sees_and_changes_nothing(shop, api, tenants):
    order = await shop.order()
    await shop.drain()
    [row] = await shop.notifications(order)
    other = (await tenants.create(("owner",))).owner
    body = await other.execute(api, NOTIFICATIONS, {"id": order["id"]})
    assert body["data"] is None or body["data"]["orderNotifications"] in (None, [])
    retried = await other.data(
        api, "mutation($id: ID!) { retryNotification(id: $id) { errors { code } } }", {"id": row["id"]}
    )
    assert retried["retryNotification"]["errors"][0]["code"] == "NOT_FOUND"
    node = await other.data(api, "query($id: ID!) { node(id: $id) { id } }", {"id": row["id"]})
    assert node["node"] is None


async def test_a_worker_that_died_during_the_provider_call_never_causes_a_second_message(shop):
    """The job runs again after its worker was killed mid-send: the provider may have the message,
    so the CRM does not send it again; it marks it failed and says why, for a person to check."""
    await shop.settings(sendDelaySeconds=600)
    order = await shop.order()
    await shop.drain(minutes=0.1)  # the notification exists, its send is not due yet
    row = await Notification.get(order_id=ids.decode(order["id"])[1])
    await Notification.filter(id=row.id).update(
        state="sending", attempts=1, updated_at=datetime.now(UTC) - timedelta(hours=1)
    )
    state = await notification_jobs.send(str(row.id), settings=shop.database)
    assert state == "failed"
    [shown] = await shop.notifications(order)
    assert shown["state"] == "failed" and "may or may not have received it" in shown["reason"]
    assert shop.received() == []
    # A send still in progress elsewhere (recent claim) is left alone.
    other = await shop.order(phone="+380671234568")
    await shop.drain(minutes=0.1)
    row = await Notification.get(order_id=ids.decode(other["id"])[1])
    await Notification.filter(id=row.id).update(state="sending", attempts=1, updated_at=datetime.now(UTC))
    assert await notification_jobs.send(str(row.id), settings=shop.database) == "taken"
    # ...and looked at again once such a sender would have hit its time limit (a dead worker's job
    # comes back sooner than that): still "sending" then, nobody is sending it, it is failed.
    [check] = await JobRun.filter(job_id__startswith=f"notify:{row.id}:sending-since-")
    assert check.run_after > datetime.now(UTC) + timedelta(seconds=shop.database.job_timeout_seconds - 5)
    assert await notification_jobs.send(str(row.id), settings=shop.database, now=check.run_after) == "failed"
    [shown] = await shop.notifications(other)
    assert shown["state"] == "failed" and "may or may not have received it" in shown["reason"]
    assert shop.received("+380671234568") == []


async def test_a_send_with_an_unknown_outcome_is_not_repeated_on_another_channel(shop):
    """TurboSMS answered 500 after taking the request: it may have sent the Viber message. Neither
    a retry nor the SMS fallback: the customer must not get it twice. It is failed, with why."""
    order = await shop.order()
    shop.sim.fail(count=1, status=500)
    await shop.drain()
    rows = await shop.notifications(order)
    assert [(n["channel"], n["state"]) for n in rows] == [("viber", "failed")]
    assert rows[0]["attempts"] == 1
    assert len(shop.sim.requests_to("/message/send.json")) == 1


async def test_delivery_reports_are_polled_from_turbosms(shop):
    order = await shop.order()
    await shop.drain()
    [row] = await shop.notifications(order)
    assert row["state"] == "sent"
    sent = await Notification.get(id=ids.decode(row["id"])[1])
    shop.sim.set_status(sent.provider_message_id, "Delivered")
    assert await poll_statuses_of(shop) == 1  # one job per installation to ask
    await shop.drain()
    [row] = await shop.notifications(order)
    assert row["state"] == "delivered"
    # The next period: nothing left to ask this installation about.
    assert await poll_statuses_of(shop, now=datetime.now(UTC) + timedelta(minutes=5)) == 0
    await shop.drain(minutes=10)
    assert (await Notification.get(id=sent.id)).state == "delivered"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-11-23 23:30", "2026-11-24 09:00"),  # evening: until tomorrow morning
        ("2026-11-24 07:15", "2026-11-24 09:00"),  # early morning: until this morning
        ("2026-11-24 09:00", None),  # quiet hours are over
        ("2026-11-24 14:00", None),
        ("2026-11-24 21:00", "2026-11-25 09:00"),
    ],
)
def test_quiet_hours_across_midnight_in_the_organization_timezone(local, expected):
    from server.notifications.models import NotificationSettings
    from server.notifications.service import in_quiet_hours

    kyiv = ZoneInfo("Europe/Kyiv")
    options = NotificationSettings(quiet_start="21:00", quiet_end="09:00")
    now = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=kyiv).astimezone(UTC)
    until = in_quiet_hours(options, "Europe/Kyiv", now)
    assert (until.astimezone(kyiv).strftime("%Y-%m-%d %H:%M") if until else None) == expected


async def test_a_gateway_that_hangs_does_not_hold_up_another_tenants_reports(api, tenants, database, sim):
    # Delivery reports are asked for per installation, one job each: the first tenant's gateway
    # hanging past the job's time limit does not keep the second tenant's reports from arriving.
    async def new_shop(simulator) -> Shop:
        owner = (await tenants.create(("owner",))).owner
        config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": simulator.url, "viber_sms_fallback": False}
        installed = await install(owner, api, "turbosms", config, {"token": TEST_TOKEN})
        assert installed["errors"] == []
        shop = Shop(owner, api, database, simulator, ids.decode(installed["installation"]["id"])[1])
        await shop.settings(quietStart="00:00", quietEnd="00:00", sendDelaySeconds=0, supportPhone="0800300545")
        return shop

    with TurboSMSSimulator() as hanging:
        slow, fast = await new_shop(hanging), await new_shop(sim)
        slow_order, fast_order = await slow.order(), await fast.order()
        await fast.drain()
        [fast_row], [slow_row] = await fast.notifications(fast_order), await slow.notifications(slow_order)
        assert (fast_row["state"], slow_row["state"]) == ("sent", "sent")
        sent = await Notification.get(id=ids.decode(fast_row["id"])[1])
        sim.set_status(sent.provider_message_id, "Delivered")
        hanging.delay(30, count=20, path="/message/status.json")

        assert await poll_statuses_of(slow, fast) == 2
        await run_until_idle(database.model_copy(update={"job_timeout_seconds": 2}))

        assert [n["state"] for n in await fast.notifications(fast_order)] == ["delivered"]
        assert [n["state"] for n in await slow.notifications(slow_order)] == ["sent"]  # asked again next time
