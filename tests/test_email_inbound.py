"""Inbound e-mail as a conversation channel, over REAL SMTP both ways: a customer's mail client
(aiosmtplib) delivers to the CRM's own receiver (``crm mail-in``, aiosmtpd, listening in this event
loop), the mail becomes a conversation on the customer's account and timeline, the agent's reply
leaves through the e-mail plugin and arrives at a real aiosmtpd server with the threading headers.
Also: a redelivered message is filed once, unknown recipients and oversized mail are refused, one
organization's address never files into another, DSNs stay bounces, auto-replies start nothing."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from server.email import receiver
from server.jobs.inprocess import run_until_idle
from tests.provider_plugins import events, install, row
from tests.test_accounts import CREATE_CONTACT, make_account
from tests.test_cli import crm, failed, fresh_db, new_org, ok, python  # noqa: F401 - fresh_db is a fixture
from tests.test_plugin_email import Mailbox, _dsn, _free_port, _self_signed, smtp_config

ISSUE = """mutation($i: IssueInboundEmailAddressInput!) { issueInboundEmailAddress(input: $i) {
    address issuedAt errors { field code message } } }"""
LIST = """query { conversations(first: 20) { edges { node {
    id channel status unreadCount displayName firstResponseDueAt account { id name tags emails }
    messages { direction text state } } } } }"""
REPLY = """mutation($i: ReplyToConversationInput!) { replyToConversation(input: $i) {
    message { id state } errors { field code message } } }"""
CLOSE = """mutation($i: ConversationVersionInput!) { closeConversation(input: $i) {
    conversation { status version } errors { code } } }"""
VERSION = """query($id: ID!) { conversation(id: $id) { version } }"""
TIMELINE = """query($id: ID!) { account(id: $id) { timeline(first: 20) { edges { node { kind subject body } } } } }"""
CUSTOMER = "olena@example.org"


@pytest.fixture(scope="module")
def outgoing():
    """The customers' side: a real SMTP server the e-mail plugin submits replies to."""
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
async def mail_in(settings, database):
    """The CRM's receiver in the tests' event loop (where the database connections live), with a
    small size limit so "too large" is quick to show."""
    port = _free_port()
    server = await receiver.start(settings.model_copy(update={"mail_in_max_bytes": 200_000}), "127.0.0.1", port)
    yield port
    server.close()
    await server.wait_closed()


class Shop:
    def __init__(self, tenant, installation, address):
        self.tenant, self.installation, self.address = tenant, installation, address
        self.owner, self.support = tenant.owner, tenant.support


@pytest.fixture
def make_shop(api, tenants, outgoing):
    async def make() -> Shop:
        tenant = await tenants.create(("owner", "support"))
        payload = await install(tenant.owner, api, "email", smtp_config(outgoing, from_address="help@shop.test"), {})
        issued = await tenant.owner.data(api, ISSUE, {"i": {"installationId": payload["installation"]["id"]}})
        assert issued["issueInboundEmailAddress"]["errors"] == []
        return Shop(tenant, await row(payload), issued["issueInboundEmailAddress"]["address"])

    return make


@pytest.fixture
async def shop(make_shop, outgoing):
    outgoing.handler.reset()
    return await make_shop()


def mail(
    to: str,
    text: str = "Добрий день! Де моє замовлення №1042?",
    *,
    sender: str = f"Олена Коваль <{CUSTOMER}>",
    subject: str = "Де моє замовлення?",
    message_id: str | None = None,
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = message_id or make_msgid(domain="example.org")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


async def send(port: int, message: EmailMessage | bytes, **kw):
    """What the customer's (or the forwarding) mail server does: an SMTP delivery."""
    if isinstance(message, bytes):
        kw.setdefault("sender", "mailer@example.org")
    return await aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=10, **kw)


async def inbox(member, api) -> list[dict]:
    return [e["node"] for e in (await member.data(api, LIST))["conversations"]["edges"]]


async def drain(database) -> None:
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(seconds=5))


async def test_a_customers_mail_becomes_a_conversation_and_the_agents_reply_threads_in_their_client(
    api, shop, mail_in, outgoing, database
):
    account = await make_account(shop.owner, api, name="Олена Коваль", emails=[CUSTOMER])
    first = mail(shop.address, message_id="<q1.olena@example.org>", sender="Олена Коваль <Olena@Example.org>")
    await send(mail_in, first)

    [conversation] = await inbox(shop.support, api)
    assert conversation["channel"] == "EMAIL"
    assert conversation["account"]["id"] == account["id"]
    assert conversation["displayName"] == "Олена Коваль"
    assert (conversation["status"], conversation["unreadCount"]) == ("OPEN", 1)
    assert conversation["firstResponseDueAt"] is not None
    assert conversation["messages"] == [
        {"direction": "IN", "text": "Де моє замовлення?\n\nДобрий день! Де моє замовлення №1042?", "state": "RECEIVED"}
    ]
    timeline = (await shop.owner.data(api, TIMELINE, {"id": account["id"]}))["account"]["timeline"]["edges"]
    assert next((n["node"]["kind"], n["node"]["body"]) for n in timeline) == (
        "MESSAGE",
        "Де моє замовлення?\n\nДобрий день! Де моє замовлення №1042?",
    )

    answer = await shop.support.data(
        api, REPLY, {"i": {"conversationId": conversation["id"], "text": "Вже в дорозі, завтра буде."}}
    )
    assert answer["replyToConversation"]["errors"] == []
    await drain(database)
    await drain(database)  # a second run of the jobs sends nothing more
    [reply] = outgoing.handler.to(CUSTOMER)
    assert str(reply["Subject"]) == "Re: Де моє замовлення?"
    assert reply["In-Reply-To"] == "<q1.olena@example.org>"
    assert reply["References"] == "<q1.olena@example.org>"
    assert reply.get_content().strip() == "Вже в дорозі, завтра буде."
    [conversation] = await inbox(shop.support, api)
    assert conversation["messages"][-1] == {"direction": "OUT", "text": "Вже в дорозі, завтра буде.", "state": "SENT"}

    # The customer answers the reply: same conversation; the next reply carries the whole thread.
    await send(
        mail_in,
        mail(
            shop.address,
            "Дякую!\n\nOn Sun, 6 Dec 2026 at 10:00, Квітка <help@shop.test>\nwrote:\n\n> Вже в дорозі, завтра буде.\n",
            subject="Re: Де моє замовлення?",
            message_id="<q2.olena@example.org>",
            In_Reply_To=reply["Message-ID"],
            References=f"<q1.olena@example.org> {reply['Message-ID']}",
        ),
    )
    [conversation] = await inbox(shop.support, api)
    assert [m["direction"] for m in conversation["messages"]] == ["IN", "OUT", "IN"]
    assert conversation["messages"][-1]["text"] == "Re: Де моє замовлення?\n\nДякую!"  # without the quote
    await shop.support.data(api, REPLY, {"i": {"conversationId": conversation["id"], "text": "Будь ласка!"}})
    await drain(database)
    second = outgoing.handler.to(CUSTOMER)[-1]
    assert str(second["Subject"]) == "Re: Де моє замовлення?"
    assert second["In-Reply-To"] == "<q2.olena@example.org>"
    assert second["References"].split() == ["<q1.olena@example.org>", reply["Message-ID"], "<q2.olena@example.org>"]
    assert len(outgoing.handler.to(CUSTOMER)) == 2


async def test_the_same_message_delivered_twice_is_filed_once(api, shop, mail_in):
    message = mail(shop.address, message_id="<twice@example.org>")
    await send(mail_in, message)
    message["Received"] = "from relay.example.net by mx.example.net; Sun, 6 Dec 2026 10:00:00 +0000"
    await send(mail_in, message)  # a forwarding server retrying after a lost "250"
    [conversation] = await inbox(shop.support, api)
    assert len(conversation["messages"]) == 1
    assert conversation["unreadCount"] == 1


async def test_unknown_recipients_and_oversized_mail_are_refused(api, shop, mail_in):
    fake = f"in+{secrets.token_hex(20)}@mail.crm.test"
    other_domain = shop.address.replace("mail.crm.test", "elsewhere.test")
    for address in (fake, other_domain, "postmaster@mail.crm.test"):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await send(mail_in, mail(address))
        [error] = refused.value.recipients
        assert (error.code, error.message) == (550, "5.1.1 No such mailbox here")

    # Issuing a new address retires the old one at once.
    old = shop.address
    issued = await shop.owner.data(api, ISSUE, {"i": {"installationId": _gid(shop)}})
    new = issued["issueInboundEmailAddress"]["address"]
    assert new != old and new.startswith("in+") and new.endswith("@mail.crm.test")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await send(mail_in, mail(old))
    await send(mail_in, mail(new))

    with pytest.raises(aiosmtplib.SMTPResponseException) as too_large:
        await send(mail_in, mail(new, "x" * 300_000, message_id="<big@example.org>"))
    assert too_large.value.code == 552
    [conversation] = await inbox(shop.support, api)
    assert len(conversation["messages"]) == 1  # only the mail to the new address

    # Members without plugins:admin cannot issue one.
    refused = await shop.support.execute(api, ISSUE, {"i": {"installationId": _gid(shop)}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def _gid(shop: Shop) -> str:
    from server.graphql import ids

    return ids.encode("PluginInstallation", shop.installation.id)


async def test_another_organizations_address_never_files_into_it_and_a_forged_sender_reaches_nothing_there(
    api, make_shop, mail_in, outgoing
):
    outgoing.handler.reset()
    victim, attacker_target = await make_shop(), await make_shop()
    ivan = await make_account(victim.owner, api, name="Іван", emails=["ivan@example.org"])
    await send(mail_in, mail(victim.address, "Справжній лист", sender="ivan@example.org", message_id="<real@ex.org>"))

    # Someone mails the other shop's address pretending to be Ivan and quoting his thread.
    forged = mail(
        attacker_target.address,
        "Підроблений лист",
        sender="Іван <ivan@example.org>",
        message_id="<forged@evil.test>",
        In_Reply_To="<real@ex.org>",
        References="<real@ex.org>",
    )
    await send(mail_in, forged)
    [real] = await inbox(victim.support, api)
    assert real["account"]["id"] == ivan["id"]
    assert [m["text"] for m in real["messages"]] == ["Де моє замовлення?\n\nСправжній лист"]
    [other] = await inbox(attacker_target.support, api)
    assert other["account"]["id"] != ivan["id"]
    assert other["account"]["tags"] == ["lead"] and other["account"]["emails"] == ["ivan@example.org"]
    # And one mail to both addresses is filed in each organization on its own.
    await send(
        mail_in,
        mail(victim.address, "Обом", message_id="<both@ex.org>"),
        recipients=[victim.address, attacker_target.address],
    )
    assert len(await inbox(victim.support, api)) == 2
    assert len(await inbox(attacker_target.support, api)) == 2


async def test_a_contacts_address_html_only_mail_and_attachments(api, shop, mail_in):
    company = await make_account(shop.owner, api, name="ТОВ Квітка")
    contact = await shop.owner.data(
        api, CREATE_CONTACT, {"i": {"accountId": company["id"], "name": "Петро", "emails": ["petro@kvitka.ua"]}}
    )
    assert contact["createContact"]["errors"] == []
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Петро <petro@kvitka.ua>", shop.address, "Рахунок"
    message["Message-ID"] = make_msgid()
    message.set_content(
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head>"
        "<body><p>Надішліть, будь ласка,<br>рахунок.</p><p>Дякую &amp; гарного дня</p></body></html>",
        subtype="html",
    )
    message.add_attachment(b"%PDF-1.4 " + b"0" * 2038, maintype="application", subtype="pdf", filename="замовлення.pdf")
    await send(mail_in, message)
    [conversation] = await inbox(shop.support, api)
    assert conversation["account"]["id"] == company["id"]
    assert conversation["messages"][0]["text"] == (
        "Рахунок\n\nНадішліть, будь ласка,\nрахунок.\nДякую & гарного дня\n\n"
        "Вкладення не збережено: замовлення.pdf (2 KB)"
    )


async def test_auto_replies_are_filed_but_start_nothing(api, shop, mail_in):
    await send(mail_in, mail(shop.address, "Питання", message_id="<ask@example.org>"))
    [conversation] = await inbox(shop.support, api)
    version = (await shop.support.data(api, VERSION, {"id": conversation["id"]}))["conversation"]["version"]
    closed = await shop.support.data(api, CLOSE, {"i": {"id": conversation["id"], "version": version}})
    assert closed["closeConversation"]["errors"] == []
    await send(
        mail_in,
        mail(shop.address, "Я у відпустці до понеділка.", subject="Автовідповідь", Auto_Submitted="auto-replied"),
    )
    await send(mail_in, mail(shop.address, "Знижки тижня!", subject="Розсилка", Precedence="bulk"))
    [conversation] = await inbox(shop.support, api)
    assert (conversation["status"], conversation["unreadCount"]) == ("CLOSED", 0)
    assert len(conversation["messages"]) == 3
    received = await events(shop.installation.organization_id, "conversation.message_received")
    assert len(received) == 1  # the customer's question only


async def test_a_delivery_report_to_the_inbound_address_is_a_bounce_not_a_conversation(api, shop, mail_in):
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=mail_in, timeout=10) as smtp:
        await smtp.sendmail("", [shop.address], _dsn("<notification-1@shop.test>", shop.address))  # MAIL FROM:<>
    assert await inbox(shop.support, api) == []
    [bounce] = await events(shop.installation.organization_id, "plugin.email.bounced")
    assert (bounce["address"], bounce["status"], bounce["hard"]) == ("olena@example.org", "5.1.1", True)


async def test_the_receiver_offers_starttls_with_a_certificate(api, shop, settings, tmp_path):
    _self_signed(tmp_path)  # writes cert.pem and key.pem
    tls = {"mail_in_tls_cert": str(tmp_path / "cert.pem"), "mail_in_tls_key": str(tmp_path / "key.pem")}
    port = _free_port()
    server = await receiver.start(settings.model_copy(update=tls), "127.0.0.1", port)
    try:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False) as client:
            await client.ehlo()
            assert client.supports_extension("starttls")
            await client.starttls(validate_certs=False)
            assert client.get_transport_info("sslcontext") is not None
            await client.send_message(mail(shop.address, "Зашифровано"))
    finally:
        server.close()
        await server.wait_closed()
    [conversation] = await inbox(shop.support, api)
    assert conversation["messages"][0]["text"].endswith("Зашифровано")


# -- `crm mail-in`, the command, as its own process ---------------------------------------------

SEED = """
import asyncio, hashlib, sys
from datetime import UTC, datetime
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.conversations.models import ConversationMessage
        from server.email.models import InboundMailbox
        from server.organizations.models import Organization
        from server.plugins.models import PluginInstallation
        org = await Organization.get(slug="shop")
        if sys.argv[1] == "seed":
            installation = await PluginInstallation.create(
                organization_id=org.id, plugin="email", config={"from_address": "help@shop.test"},
                webhook_token_hash="0" * 64, webhook_token_issued_at=datetime.now(UTC))
            await InboundMailbox.create(organization_id=org.id, installation_id=installation.id,
                token_hash=hashlib.sha256(sys.argv[2].encode()).hexdigest(), issued_at=datetime.now(UTC))
        else:
            print([m.text for m in await ConversationMessage.filter(organization_id=org.id)])
    finally:
        await close_db()

asyncio.run(main())
"""


def test_crm_mail_in_receives_over_smtp_as_its_own_process(request, tmp_path):
    import smtplib
    import subprocess
    import sys
    import time

    env = request.getfixturevalue("fresh_db")()  # an empty database file (or PostgreSQL database)
    new_org(env)
    assert "MAIL_IN_DOMAIN" in failed(crm(["mail-in"], {**env, "MAIL_IN_DOMAIN": ""}))
    token = secrets.token_hex(20)
    ok(python(["-c", SEED, "seed", token], env))

    port = _free_port()
    log = tmp_path / "mail-in.log"
    with log.open("w") as handle:
        proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "server.cli", "mail-in", "--port", str(port)],
            env={**env, "MAIL_IN_DOMAIN": "mail.crm.test"},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        end = time.monotonic() + 60
        while "Receiving mail" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < end, log.read_text()
            time.sleep(0.2)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.sendmail(CUSTOMER, ["in+" + "0" * 40 + "@mail.crm.test"], b"Subject: x\r\n\r\nx\r\n")
            assert refused.value.recipients["in+" + "0" * 40 + "@mail.crm.test"][0] == 550
            message = mail(f"in+{token}@mail.crm.test", "Привіт з іншого процесу")
            client.sendmail(CUSTOMER, [f"in+{token}@mail.crm.test"], message.as_bytes())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "Привіт з іншого процесу" in ok(python(["-c", SEED, "show"], env))
