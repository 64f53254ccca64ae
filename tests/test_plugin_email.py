"""E-mail notifications through the e-mail plugin and a REAL local SMTP server (aiosmtpd, in a
thread, reached over TCP): what the customer's mailbox receives (headers, both MIME parts, the
subject in the organization's language), the one-click unsubscribe (RFC 8058), hard bounces at
RCPT and as DSN reports, and what each SMTP failure means (docs/messaging.md)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
import ssl
import tempfile
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from plugins.email import plugin as email_plugin
from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator
from server.activities.models import Activity
from server.email.models import EmailUnsubscribeLink, UndeliverableEmail
from server.graphql import ids
from server.notifications.models import ChannelConsent, Notification
from server.plugins.models import PluginInstallation
from server.plugins.types import OutgoingMessage, PluginError
from tests.provider_plugins import call, check_connection, hook_path, install
from tests.test_notifications import CREATE, SETTINGS
from tests.test_orders import ITEMS

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

ADDRESS = "olena@example.org"
RULE = """mutation($i: UpdateNotificationRuleInput!) { updateNotificationRule(input: $i) {
  rule { trigger channels } errors { field code message } } }"""
ORGANIZATION = """mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { errors { message } } }"""
ACCOUNT = """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }"""
NOTIFICATIONS = """query($id: ID!) { orderNotifications(orderId: $id) {
  trigger channel state reason recipient attempts } }"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """The aiosmtpd handler: keeps every message it accepts; a test can make it refuse a
    recipient with any reply, or drop the connection after the message's data arrived."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.messages: list = []  # (envelope sender, recipients, parsed message)
        self.refuse: dict[str, str] = {}
        self.data_reply: str | None = None
        self.drop_after_data = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        if self.drop_after_data:  # the message is in, the "250" never reaches the client
            server.transport.close()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for _, rcpts, m in self.messages if address in rcpts]


@pytest.fixture(scope="module")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    smtp_server.handler.reset()
    return smtp_server.handler


def smtp_config(server, **extra) -> dict:
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "from_address": "shop@example.com",
        "from_name": "Квітка",
        "bounce_address": "bounce@example.com",
        **extra,
    }


class EmailShop:
    def __init__(self, owner, api, database, installed, organization):
        self.owner, self.api, self.database, self.installed = owner, api, database, installed
        self.organization = organization  # the Organization row

    async def customer(self, address: str = ADDRESS, phone: str = "+380671234567") -> str:
        variables = {"i": {"name": "Олена Коваль", "phones": [phone], "emails": [address]}}
        return (await self.owner.data(self.api, ACCOUNT, variables))["createAccount"]["account"]["id"]

    async def order(self, account_id: str) -> dict:
        data = await self.owner.data(self.api, CREATE, {"input": {"accountId": account_id, "items": ITEMS}})
        return data["createOrder"]["order"]

    async def drain(self) -> None:
        from server.jobs.inprocess import run_until_idle

        await run_until_idle(self.database, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))

    async def notifications(self, order: dict) -> list[dict]:
        return (await self.owner.data(self.api, NOTIFICATIONS, {"id": order["id"]}))["orderNotifications"]


@pytest.fixture
async def shop(api, tenants, database, smtp_server, mailbox):
    owner = (await tenants.create(("owner",))).owner
    installed = await install(owner, api, "email", smtp_config(smtp_server), {})
    settings = {"quietStart": "00:00", "quietEnd": "00:00", "sendDelaySeconds": 0}
    assert (await owner.data(api, SETTINGS, {"i": settings}))["updateNotificationSettings"]["errors"] == []
    rule = await owner.data(api, RULE, {"i": {"trigger": "new", "channels": ["email"]}})
    assert rule["updateNotificationRule"]["errors"] == []
    row = await PluginInstallation.get(id=ids.decode(installed["installation"]["id"])[1]).prefetch_related(
        "organization"
    )
    return EmailShop(owner, api, database, installed, row.organization)


def _unsubscribe_url(message) -> str:
    return re.fullmatch(r"<(\S+)>", message["List-Unsubscribe"].strip()).group(1)


# -- what the customer receives -------------------------------------------------------------


async def test_an_order_e_mail_arrives_over_smtp_with_both_parts_and_one_click_unsubscribe(shop, mailbox):
    account = await shop.customer()
    order = await shop.order(account)
    await shop.drain()
    [(sender, rcpts, message)] = mailbox.messages
    assert rcpts == [ADDRESS]
    assert message["To"] == ADDRESS
    assert message["From"].addresses[0].addr_spec == "shop@example.com"
    assert message["From"].addresses[0].display_name == "Квітка"
    assert message["Subject"] == f"{shop.organization.name}: замовлення №{order['number']} отримано"
    # RFC 8058: an https (here the test's public URL) link and the one-click POST marker.
    url = _unsubscribe_url(message)
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/e/[\w-]{40,}", url)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The Message-ID is what the CRM keeps; the envelope sender carries it (VERP) for bounces.
    [row] = await Notification.filter(order_id=ids.decode(order["id"])[1])
    assert (row.channel, row.state, row.recipient) == ("email", "sent", ADDRESS)
    assert row.provider_message_id == message["Message-ID"]
    token = re.fullmatch(r"<([0-9a-f]{32})@example\.com>", message["Message-ID"]).group(1)
    assert sender == f"bounce+{token}@example.com"
    # Both parts, the same text, the unsubscribe link in each.
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"Олена, дякуємо! Замовлення №{order['number']}" in plain and url in plain
    assert f"Олена, дякуємо! Замовлення №{order['number']}" in html and f'href="{url}"' in html
    assert "Відписатися від цих листів" in plain
    # The stored text never holds a working unsubscribe link; the timeline shows the e-mail.
    assert "/e/" not in row.text
    [entry] = await Activity.filter(account_id=ids.decode(account)[1], kind="email")
    assert entry.subject == "EMAIL клієнтові надіслано"


async def test_the_subject_and_footer_follow_the_organization_language(shop, mailbox):
    assert (await shop.owner.data(shop.api, ORGANIZATION, {"i": {"locale": "en"}}))["updateOrganization"][
        "errors"
    ] == []
    order = await shop.order(await shop.customer())
    await shop.drain()
    [message] = mailbox.to(ADDRESS)
    assert message["Subject"].endswith(f": order №{order['number']} received")
    plain = message.get_body(("plain",)).get_content()
    assert plain.startswith(f"Олена, thank you! Order #{order['number']}")
    assert "Unsubscribe from these e-mails" in plain


# -- unsubscribe -----------------------------------------------------------------------------


async def test_one_click_unsubscribe_stops_e_mail_and_the_next_channel_is_used(api, shop, mailbox):
    account = await shop.customer()
    await shop.order(account)
    await shop.drain()
    [message] = mailbox.to(ADDRESS)
    path = _unsubscribe_url(message).removeprefix("http://127.0.0.1:8000")

    # A link scanner opening it changes nothing.
    page = await api.http.get(path)
    assert page.status_code == 200 and "Відписатися від листів" in page.text and ADDRESS in page.text
    assert not await ChannelConsent.filter(account_id=ids.decode(account)[1], channel="email").exists()
    # The mailbox provider's one-click POST (RFC 8058), no cookies, no confirmation.
    done = await api.http.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "Ви відписалися від листів" in done.text
    consent = await ChannelConsent.get(account_id=ids.decode(account)[1], channel="email")
    assert consent.opted_in is False
    assert (await EmailUnsubscribeLink.get(address=ADDRESS, account_id=consent.account_id)).used_at is not None
    assert (await api.http.post(path)).status_code == 200  # twice is fine
    assert (await api.http.get("/e/not-a-token")).status_code == 404

    # The next order: no e-mail; with SMS after e-mail in the rule, the SMS goes instead.
    with TurboSMSSimulator() as sms:
        config = {"sender": "MyShop", "api_url": sms.url}
        await install(shop.owner, api, "turbosms", config, {"token": TEST_TOKEN})
        await shop.owner.data(api, RULE, {"i": {"trigger": "new", "channels": ["email", "sms"]}})
        order = await shop.order(account)
        await shop.drain()
        assert len(mailbox.to(ADDRESS)) == 1
        rows = await shop.notifications(order)
        assert [(n["channel"], n["state"], n["reason"]) for n in rows] == [
            ("email", "skipped", "клієнт відмовився від email"),  # the shop's language (docs/i18n.md)
            ("sms", "sent", ""),
        ]
        assert [m.recipient for m in sms.messages.values()] == ["380671234567"]


async def test_the_unsubscribe_page_in_chromium(shop, mailbox, database, live_server, browser_page):
    from server.jobs.inprocess import run_until_idle

    account = await shop.customer()
    await shop.order(account)
    public = database.model_copy(update={"public_url": live_server})
    await run_until_idle(public, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
    [message] = mailbox.to(ADDRESS)
    url = _unsubscribe_url(message)
    assert url.startswith(live_server + "/e/")

    response = await browser_page.goto(url)
    assert response.status == 200
    assert "script-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    page = browser_page
    assert await page.locator("h1").inner_text() == "Відписатися від листів"
    await page.click("a[href='?lang=en']")
    assert await page.locator("h1").inner_text() == "Unsubscribe from e-mails"
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    assert await page.locator("h1").inner_text() == "You are unsubscribed from e-mails"
    assert ADDRESS in await page.locator("p").inner_text()
    assert page.blocked_requests == []
    assert (await ChannelConsent.get(account_id=ids.decode(account)[1], channel="email")).opted_in is False


# -- bounces ---------------------------------------------------------------------------------


async def test_a_hard_bounce_at_rcpt_marks_the_address_and_it_gets_no_more_e_mail(shop, mailbox):
    mailbox.refuse[ADDRESS] = "550 5.1.1 <olena@example.org>: Recipient address rejected: User unknown"
    account = await shop.customer()
    first = await shop.order(account)
    await shop.drain()
    assert mailbox.messages == []
    [row] = await shop.notifications(first)
    assert (row["state"], row["attempts"]) == ("failed", 1)
    assert "550 5.1.1" in row["reason"]
    bounced = await UndeliverableEmail.get(organization_id=shop.organization.id, address=ADDRESS)
    assert (bounced.status, bounced.source) == ("550", "smtp")
    timeline = await Activity.filter(account_id=ids.decode(account)[1], kind="email").order_by("occurred_at")
    assert any("позначено як недоставну" in a.subject for a in timeline)

    # The mailbox works again, but the address stays suppressed: the cascade skips e-mail.
    mailbox.refuse.clear()
    second = await shop.order(account)
    await shop.drain()
    assert mailbox.messages == []
    [row] = await shop.notifications(second)
    assert row["state"] == "skipped" and "не приймає листів" in row["reason"]  # the shop's language


DELIVERABILITY = """query($id: ID!) { emailDeliverability(accountId: $id) {
  address undeliverable bounceStatus bouncedAt unsubscribed } }"""
CLEAR = """mutation($i: ClearUndeliverableEmailInput!) { clearUndeliverableEmail(input: $i) {
  addresses { address undeliverable } errors { field code message } } }"""


async def test_managers_see_the_bounce_and_clear_it_once_the_mailbox_works(
    api, tenants, database, smtp_server, mailbox
):
    tenant = await tenants.create(("owner", "analyst", "logistics"))
    installed = await install(tenant.owner, api, "email", smtp_config(smtp_server), {})
    await tenant.owner.data(api, SETTINGS, {"i": {"quietStart": "00:00", "quietEnd": "00:00", "sendDelaySeconds": 0}})
    await tenant.owner.data(api, RULE, {"i": {"trigger": "new", "channels": ["email"]}})
    shop = EmailShop(tenant.owner, api, database, installed, None)
    mailbox.refuse[ADDRESS] = "550 5.1.1 User unknown"
    account = await shop.customer()
    await shop.order(account)
    await shop.drain()

    [row] = (await tenant.owner.data(api, DELIVERABILITY, {"id": account}))["emailDeliverability"]
    assert (row["address"], row["undeliverable"], row["bounceStatus"], row["unsubscribed"]) == (
        ADDRESS,
        True,
        "550",
        False,
    )
    assert row["bouncedAt"]
    # Without pii:read the address is masked; clearing needs accounts:update.
    [masked] = (await tenant.analyst.data(api, DELIVERABILITY, {"id": account}))["emailDeliverability"]
    assert masked["address"] == "o***@example.org" and masked["undeliverable"] is True
    refused = await tenant.logistics.execute(api, CLEAR, {"i": {"accountId": account, "address": ADDRESS}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    wrong = await tenant.owner.data(api, CLEAR, {"i": {"accountId": account, "address": "other@example.org"}})
    assert [(e["field"], e["code"]) for e in wrong["clearUndeliverableEmail"]["errors"]] == [("address", "NOT_FOUND")]
    cleared = await tenant.owner.data(api, CLEAR, {"i": {"accountId": account, "address": " Olena@Example.org "}})
    assert cleared["clearUndeliverableEmail"] == {
        "addresses": [{"address": ADDRESS, "undeliverable": False}],
        "errors": [],
    }
    # The mailbox works again: the next order's e-mail arrives.
    mailbox.refuse.clear()
    await shop.order(account)
    await shop.drain()
    assert len(mailbox.to(ADDRESS)) == 1


def _dsn(message_id: str, to: str, status: str = "5.1.1", action: str = "failed") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-0001@mx.example.net>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND"\r\n'
        "\r\n"
        "--B0UND\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at host mx.example.net. Your message could not be delivered.\r\n"
        "--B0UND\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n"
        "Arrival-Date: Sun, 6 Dec 2026 09:30:00 +0000\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {ADDRESS}\r\n"
        f"Original-Recipient: rfc822;{ADDRESS}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{ADDRESS}>: Recipient address rejected: User unknown\r\n"
        "\r\n"
        "--B0UND\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {message_id}\r\n"
        "From: shop@example.com\r\n"
        f"To: {ADDRESS}\r\n"
        "\r\n"
        "--B0UND--\r\n"
    ).encode()


async def test_a_dsn_bounce_fails_the_message_and_marks_the_address(api, shop, mailbox):
    account = await shop.customer()
    order = await shop.order(account)
    await shop.drain()
    [(sender, _, message)] = mailbox.messages
    path = hook_path(shop.installed) + "bounce"
    headers = {"Content-Type": "message/rfc822"}

    # A forged report about a message the shop never sent marks nothing.
    forged_dsn = _dsn("<forged-1@example.com>", sender).replace(b"dsn-0001@", b"dsn-forged@")
    forged = await api.http.post(path, content=forged_dsn, headers=headers)
    assert forged.status_code == 200
    await shop.drain()
    assert not await UndeliverableEmail.filter(organization_id=shop.organization.id).exists()
    answer = await api.http.post(path, content=_dsn(message["Message-ID"], sender), headers=headers)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    await shop.drain()
    [row] = await shop.notifications(order)
    assert (row["state"], row["reason"]) == ("failed", "Не доставлено (5.1.1)")
    bounced = await UndeliverableEmail.get(organization_id=shop.organization.id, address=ADDRESS)
    assert (bounced.status, bounced.source) == ("5.1.1", "dsn")
    assert "User unknown" in bounced.diagnostic
    # The mail server delivering the same DSN again changes nothing.
    again = await api.http.post(path, content=_dsn(message["Message-ID"], sender), headers=headers)
    assert again.status_code == 200
    await shop.drain()
    assert await UndeliverableEmail.filter(organization_id=shop.organization.id, address=ADDRESS).count() == 1
    marks = await Activity.filter(account_id=ids.decode(account)[1], subject__contains="недоставну")
    assert len(marks) == 1
    # Not a DSN (an auto-reply): accepted, nothing happens; an unknown token: 404.
    ignored = await api.http.post(path, content=b"Subject: Out of office\r\n\r\nBack on Monday.\r\n", headers=headers)
    assert ignored.json() == {"status": "ignored"}
    assert (await api.http.post("/hooks/email/not-a-token/bounce", content=b"x")).status_code == 404
    # The next order gets no e-mail.
    later = await shop.order(account)
    await shop.drain()
    assert len(mailbox.messages) == 1
    assert (await shop.notifications(later))[0]["state"] == "skipped"


def test_a_dsn_found_by_the_verp_return_path_alone_and_a_transient_one():
    config = smtp_config(type("S", (), {"port": 25})())
    body = _dsn("", "bounce+" + "ab" * 16 + "@example.com").replace(b"Message-ID: \r\n", b"")
    message_id, [item] = email_plugin.parse_dsn(body, config)
    assert message_id == "<" + "ab" * 16 + "@example.com>"
    assert (item["address"], item["action"], item["status"]) == (ADDRESS, "failed", "5.1.1")
    delayed = _dsn("<x@example.com>", "bounce@example.com", status="4.2.2", action="delayed")
    from server.plugins.types import WebhookRequest

    request = WebhookRequest("POST", "http://x/hooks/email/t/bounce", "bounce", {}, {}, delayed)
    assert email_plugin.crm_webhook(config, request).events == []  # a delay fails nothing


# -- what SMTP failures mean (the promise table in docs/messaging.md) -------------------------


def _message(to: str = ADDRESS) -> OutgoingMessage:
    return OutgoingMessage(to=to, text="Привіт", channel="email", subject="Тест", html="<p>Привіт</p>")


async def test_smtp_failures_map_to_retry_failed_or_outcome_unknown(database, shop, mailbox, smtp_server):
    mailbox.refuse[ADDRESS] = "451 4.7.1 Greylisted, try again later"
    with pytest.raises(PluginError) as deferred:
        await call(database, shop.installed, "crm_messaging_send", message=_message())
    assert deferred.value.retryable and deferred.value.code == "451"

    mailbox.refuse[ADDRESS] = "550 5.1.1 User unknown"
    refused = await call(database, shop.installed, "crm_messaging_send", message=_message())
    assert (refused.status, refused.error_code, refused.provider_message_id) == ("failed", "550", None)

    mailbox.refuse.clear()
    mailbox.data_reply = "452 4.3.1 Insufficient system storage"
    with pytest.raises(PluginError) as full:
        await call(database, shop.installed, "crm_messaging_send", message=_message())
    assert full.value.retryable

    mailbox.data_reply = "554 5.7.1 Message rejected as spam"
    spam = await call(database, shop.installed, "crm_messaging_send", message=_message())
    assert (spam.status, spam.error_code) == ("failed", "554")

    mailbox.data_reply = None
    mailbox.drop_after_data = True
    with pytest.raises(PluginError) as lost:
        await call(database, shop.installed, "crm_messaging_send", message=_message())
    assert (lost.value.code, lost.value.retryable) == ("OUTCOME_UNKNOWN", False)
    assert len(mailbox.messages) == 1  # the server did get it: a blind resend would double it

    refused_address = await call(database, shop.installed, "crm_messaging_send", message=_message("not-an-address"))
    assert (refused_address.status, refused_address.error_code) == ("failed", "INVALID_ADDRESS")


async def test_a_lost_connection_after_data_is_not_resent_by_the_cascade(shop, api, mailbox):
    english = await shop.owner.data(
        api, 'mutation { updateOrganization(input: {locale: "en"}) { errors { message } } }'
    )
    assert english["updateOrganization"]["errors"] == []  # the reason below is written in the shop's language
    mailbox.drop_after_data = True
    order = await shop.order(await shop.customer())
    await shop.drain()
    assert len(mailbox.messages) == 1
    [row] = await shop.notifications(order)
    assert (row["state"], row["attempts"]) == ("failed", 1)
    assert "may or may not have been accepted" in row["reason"]


async def test_a_server_that_is_down_is_retried_nothing_was_sent(api, tenants, database):
    owner = (await tenants.create(("owner",))).owner
    closed = type("S", (), {"port": _free_port()})()  # nothing listens there
    installed = await install(owner, api, "email", smtp_config(closed), {})
    with pytest.raises(PluginError) as down:
        await call(database, installed, "crm_messaging_send", message=_message())
    assert down.value.retryable and down.value.code == "CONNECT"


# -- STARTTLS and login ----------------------------------------------------------------------


def _self_signed(directory: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


class Login:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"shop",
            b"s3cret-app-password",
        )
        return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def tls_server():
    with tempfile.TemporaryDirectory() as directory:
        mailbox = Mailbox()
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=_free_port(),
            tls_context=_self_signed(Path(directory)),
            require_starttls=True,
            authenticator=Login(),
            auth_require_tls=True,
        )
        controller.start()
        yield controller
        controller.stop()


async def test_starttls_and_login_with_the_encrypted_password(api, tenants, database, tls_server):
    owner = (await tenants.create(("owner",))).owner
    config = smtp_config(tls_server, security="starttls", username="shop", validate_certs=False)
    installed = await install(owner, api, "email", config, {"password": "s3cret-app-password"})
    row = await PluginInstallation.get(id=ids.decode(installed["installation"]["id"])[1])
    assert "s3cret-app-password" not in row.secrets and "s3cret-app-password" not in str(row.config)
    result = await check_connection(owner, api, installed)
    assert result["ok"] is True and "STARTTLS" in result["message"] and "signed in as shop" in result["message"]

    sent = await call(database, installed, "crm_messaging_send", message=_message())
    assert sent.status == "sent"
    [(_, rcpts, message)] = tls_server.handler.messages
    assert rcpts == [ADDRESS] and message["Subject"] == "Тест"

    wrong = await install(owner, api, "email", config, {"password": "wrong"}, label="wrong password")
    with pytest.raises(PluginError) as refused:
        await call(database, wrong, "crm_messaging_send", message=_message())
    assert (refused.value.code, refused.value.retryable) == ("AUTH", False)
    # The certificate is checked unless the admin turned that off: a self-signed one fails.
    checked = await install(owner, api, "email", {**config, "validate_certs": True}, {"password": "x"}, label="v")
    with pytest.raises(PluginError) as tls:
        await call(database, checked, "crm_messaging_send", message=_message())
    assert tls.value.retryable is False
    assert len(tls_server.handler.messages) == 1


async def test_the_smtp_server_must_be_a_public_address_unless_local_providers_are_allowed(smtp_server, mailbox):
    from server.plugins import egress

    config = smtp_config(smtp_server)
    with egress.allowing_local(False), pytest.raises(PluginError) as refused:
        await email_plugin.crm_messaging_send(config, {}, _message())
    assert (refused.value.code, refused.value.retryable) == ("EGRESS", False)
    assert mailbox.messages == []


def test_an_e_mail_recipient_is_masked_as_an_e_mail_for_roles_without_pii():
    from server.auth.masking import mask_field

    assert mask_field("Notification", "recipient", ADDRESS) == "o***@example.org"
    assert mask_field("Notification", "recipient", "+380671234599") == "+38067*****99"
