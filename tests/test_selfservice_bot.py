"""The self-service bot end to end: customers write to the Telegram and Viber simulators over real
HTTP, the app's webhooks file their messages, the worker runs the bot's turn and sends its answer
through the simulators; what the customer reads is checked in the simulators' chats. Also the
hand-over to an agent, the bot's silence while an agent has the chat, other customers' and other
organizations' orders never shown, the per-organization rules, and the Viber bot as a
notification channel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from plugins.simulators.telegram import BOT_TOKEN, TelegramSimulator
from plugins.simulators.viber import AUTH_TOKEN, ViberSimulator
from server.app import create_app
from server.conversations.models import ConversationMessage
from server.jobs.inprocess import run_until_idle
from server.selfservice import service as selfservice
from tests.helpers import Client, TenantFactory
from tests.provider_plugins import app_transport, install

PUBLIC = "https://crm.example.com"
CHAT = 5_000_000_321
VIBER_USER = "01234567890A="
PHONE = "380671112233"

BOT = """mutation($i: UpdateSelfServiceBotInput!) { updateSelfServiceBot(input: $i) {
    bot { enabled orderPhrases handoverPhrases templateUk templateEn hoursFrom hoursTo maxOrders version }
    errors { field code message } } }"""
READ_BOT = "{ selfServiceBot { enabled orderPhrases maxOrders hoursFrom hoursTo version } }"
INBOX = """query($w: ConversationWhere) { conversations(first: 10, where: $w) { edges { node {
    id version botState handedOverAt accountConfirmed unreadCount account { id }
    messages { direction text bot buttons state } } } } }"""
CREATE_ACCOUNT = (
    """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { message } } }"""
)
CREATE_ORDER = (
    """mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id number } errors { message } } }"""
)
REPLY = """mutation($i: ReplyToConversationInput!) { replyToConversation(input: $i) { errors { message } } }"""
CLOSE = """mutation($i: ConversationVersionInput!) { closeConversation(input: $i) {
    conversation { botState } errors { message } } }"""
LINK = """mutation($i: LinkConversationInput!) { linkConversationToAccount(input: $i) {
    conversation { accountConfirmed } errors { message } } }"""
AUDIT = """{ auditEntries(first: 20) { edges { node { action } } } }"""
ITEMS = [{"sku": "KETTLE-1", "title": "Чайник", "quantity": "1", "unitPrice": "999"}]


@pytest.fixture(scope="module")
def telegram_server():
    with TelegramSimulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def viber_server():
    with ViberSimulator() as sim:
        yield sim


@pytest.fixture
async def proxied(database):
    settings = database.model_copy(update={"public_url": PUBLIC})
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
def api(proxied) -> Client:
    return Client(proxied)


@pytest.fixture
async def shop(api):
    return await TenantFactory(api).create(("owner", "support"))


@pytest.fixture
def tg(telegram_server):
    telegram_server.reset()
    telegram_server.add_user(CHAT, "Олена", "Коваль", phone=PHONE)
    return telegram_server


@pytest.fixture
async def vb(viber_server, proxied):
    viber_server.reset()
    viber_server.bind_loop(app_transport(proxied), asyncio.get_running_loop())
    viber_server.add_user(VIBER_USER, "John McClane", phone=PHONE)
    return viber_server


async def drain(database, minutes: float = 0.05) -> None:
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(minutes=minutes))


async def bot_on(shop, api, **values) -> dict:
    payload = (await shop.owner.data(api, BOT, {"i": {"enabled": True, **values}}))["updateSelfServiceBot"]
    assert payload["errors"] == [], payload
    return payload["bot"]


async def customer_with_orders(
    shop, api, phone: str = "+" + PHONE, orders: int = 4, waybill: str = "20450000012345"
) -> tuple[str, list[dict]]:
    """A customer with ``orders`` orders, the latest with a waybill; returns (account id, orders oldest first)."""
    created = await shop.owner.data(api, CREATE_ACCOUNT, {"i": {"name": "Олена Коваль", "phones": [phone]}})
    account_id = created["createAccount"]["account"]["id"]
    made = []
    for i in range(orders):
        values: dict = {"accountId": account_id, "items": ITEMS}
        if i == orders - 1:
            values["delivery"] = {"method": "novaposhta", "waybillNumber": waybill}
        made.append((await shop.owner.data(api, CREATE_ORDER, {"i": values}))["createOrder"]["order"])
    return account_id, made


async def inbox(shop, api, where=None) -> list[dict]:
    return [e["node"] for e in (await shop.support.data(api, INBOX, {"w": where}))["conversations"]["edges"]]


async def say(tg, proxied, database, text: str, chat: int = CHAT) -> None:
    assert (await tg.adeliver_update(tg.user_says(chat, text), transport=app_transport(proxied))).status_code == 200
    await drain(database)
    await drain(database, minutes=1)  # the worker's next minute (a job retried after a passing fault)


def texts(tg, chat: int = CHAT) -> list[str]:
    return [m["text"] for m in tg.messages_to(chat)]


# -- Telegram -----------------------------------------------------------------------------------


async def test_telegram_asks_for_the_phone_then_tells_the_latest_orders_and_never_others(
    shop, api, tg, proxied, database
):
    await install(shop.owner, api, "telegram", {"api_url": tg.url, "language": "uk"}, {"bot_token": BOT_TOKEN})
    await bot_on(shop, api)
    _account, orders = await customer_with_orders(shop, api)
    # Another customer of this shop, and a customer with the same phone in another shop.
    _neighbour, [theirs] = await customer_with_orders(
        shop, api, phone="+380501112299", orders=1, waybill="20450000099999"
    )
    other = await TenantFactory(api).create(("owner",))
    other_account = await other.owner.data(api, CREATE_ACCOUNT, {"i": {"name": "Двійник", "phones": ["+" + PHONE]}})
    delivery = {"method": "novaposhta", "waybillNumber": "59000999888777"}
    order_input = {"accountId": other_account["createAccount"]["account"]["id"], "items": ITEMS, "delivery": delivery}
    await other.owner.data(api, CREATE_ORDER, {"i": order_input})

    # Not linked yet: the bot asks for the phone with Telegram's contact button.
    await say(tg, proxied, database, "Де моє замовлення?")
    asked = tg.messages_to(CHAT)[-1]
    assert asked["text"] == "Щоб показати ваші замовлення, поділіться номером телефону кнопкою нижче."
    assert asked["reply_markup"]["keyboard"][0][0]["request_contact"] is True

    # The customer shares their own number: the question they asked is answered right away.
    await tg.adeliver_update(tg.user_shares_contact(CHAT, PHONE), transport=app_transport(proxied))
    await drain(database)
    await drain(database, minutes=10)  # a second pass (a retried job, another worker) sends nothing more
    answer = texts(tg)[-1]
    assert texts(tg)[-2] == "Дякуємо! Ми отримали ваш номер."  # the plugin's own thanks
    lines = answer.split("\n")
    assert lines[0] == "Ваші останні замовлення:"
    latest = orders[::-1][:3]  # the latest three, newest first; the oldest is left out
    assert [line.split(" від ")[0] for line in lines[1:]] == [f"Замовлення №{o['number']}" for o in latest]
    assert lines[1].endswith(": Новий. ТТН 20450000012345, відстеження: "
                             "https://novaposhta.ua/tracking/?cargo_number=20450000012345")  # fmt: skip
    assert "59000999888777" not in answer and "20450000099999" not in answer and f"№{theirs['number']}:" not in answer
    assert texts(tg).count(answer) == 1
    keyboard = tg.messages_to(CHAT)[-1]["reply_markup"]["keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Де моє замовлення?", "Зв'язатися з оператором"]

    # Someone else's order number is not told, not even whether it exists.
    await say(tg, proxied, database, str(theirs["number"]))
    assert texts(tg)[-1] == f"Я не знайшов замовлення {theirs['number']} серед ваших замовлень."
    # Their own number: that order alone; Russian is understood and answered in Ukrainian.
    await say(tg, proxied, database, f"где мой заказ {orders[0]['number']}")
    assert texts(tg)[-1].startswith(f"Замовлення №{orders[0]['number']} від ")

    [conversation] = await inbox(shop, api)
    assert conversation["botState"] == "ACTIVE" and conversation["accountConfirmed"] is True
    bot_messages = [m for m in conversation["messages"] if m["bot"]]
    assert len(bot_messages) == 4 and all(m["direction"] == "OUT" and m["state"] == "SENT" for m in bot_messages)
    assert conversation["unreadCount"] == 0  # answered by the bot: nothing waits for an agent


async def test_english_questions_are_answered_in_english(shop, api, tg, proxied, database):
    await install(shop.owner, api, "telegram", {"api_url": tg.url, "language": "uk"}, {"bot_token": BOT_TOKEN})
    await bot_on(shop, api, maxOrders=1)
    _account, orders = await customer_with_orders(shop, api, orders=2)
    await tg.adeliver_update(tg.user_shares_contact(CHAT, PHONE), transport=app_transport(proxied))
    await say(tg, proxied, database, "Hi! Where is my order?")
    answer = texts(tg)[-1]
    assert answer.startswith(f"Order №{orders[-1]['number']} of ")
    assert answer.endswith(
        ": Новий. Waybill 20450000012345, tracking: https://novaposhta.ua/tracking/?cargo_number=20450000012345"
    )
    keyboard = tg.messages_to(CHAT)[-1]["reply_markup"]["keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Where is my order?", "Talk to a person"]
    # The button's text comes back as the customer's message and is understood.
    await say(tg, proxied, database, "Where is my order?")
    assert texts(tg)[-1] == answer
    # The same event delivered again (the outbox is at-least-once): the turn was taken, nothing more is said.
    question = await ConversationMessage.filter(direction="in", text="Where is my order?").get()
    assert await selfservice.take_turn(question.organization_id, question.id) == "done"  # type: ignore[attr-defined]
    await drain(database, minutes=10)
    assert texts(tg).count(answer) == 2


async def test_what_the_bot_cannot_answer_goes_to_an_agent_and_the_bot_keeps_quiet(shop, api, tg, proxied, database):
    await install(shop.owner, api, "telegram", {"api_url": tg.url}, {"bot_token": BOT_TOKEN})
    await bot_on(shop, api)
    await customer_with_orders(shop, api, orders=1)
    await tg.adeliver_update(tg.user_shares_contact(CHAT, PHONE), transport=app_transport(proxied))
    await say(tg, proxied, database, "Чи можна оплатити частинами?")
    assert texts(tg)[-1] == "Передаю ваше питання нашій команді: оператор скоро відповість тут."
    [handed] = await inbox(shop, api, {"botState": {"eq": "HANDED_OVER"}})
    assert handed["handedOverAt"] is not None and handed["unreadCount"] == 2  # waits for an agent
    assert handed["messages"][-1]["bot"] is True
    audit = [e["node"]["action"] for e in (await shop.owner.data(api, AUDIT))["auditEntries"]["edges"]]
    assert "conversation.handed_over" in audit

    # The agent answers; while the agent has the chat the bot says nothing, even to its own questions.
    reply = {"i": {"conversationId": handed["id"], "text": "Так, через Monobank."}}
    assert (await shop.support.data(api, REPLY, reply))["replyToConversation"]["errors"] == []
    await drain(database)
    before = len(texts(tg))
    await say(tg, proxied, database, "Дякую! А де моє замовлення?")
    await drain(database, minutes=10)
    assert texts(tg)[before - 1 :] == ["Так, через Monobank."]
    [conversation] = await inbox(shop, api)
    assert conversation["botState"] == "AGENT"
    # Closed: the next question is the bot's again.
    closed = await shop.support.data(api, CLOSE, {"i": {"id": conversation["id"], "version": conversation["version"]}})
    assert closed["closeConversation"]["conversation"]["botState"] == "ACTIVE"
    await say(tg, proxied, database, "статус замовлення")
    assert texts(tg)[-1].startswith("Замовлення №")


async def test_asking_for_a_person_hands_over_at_once(shop, api, tg, proxied, database):
    await install(shop.owner, api, "telegram", {"api_url": tg.url}, {"bot_token": BOT_TOKEN})
    await bot_on(shop, api)
    for i, text in enumerate(("оператор", "Покличте людину, де моє замовлення", "I want to talk to a human")):
        chat = CHAT + 1 + i
        tg.add_user(chat, "Олена", "Коваль")
        await say(tg, proxied, database, text, chat)
        expected = "I am passing your question" if i == 2 else "Передаю ваше питання нашій команді"
        assert len(texts(tg, chat)) == 1 and texts(tg, chat)[0].startswith(expected)
    handed = await inbox(shop, api, {"botState": {"eq": "HANDED_OVER"}})
    assert len(handed) == 3


# -- the organization's rules ---------------------------------------------------------------------


async def test_rules_are_the_organizations_own_checked_and_audited(shop, api, tg, proxied, database):
    await install(shop.owner, api, "telegram", {"api_url": tg.url}, {"bot_token": BOT_TOKEN})
    # Off by default: nobody answers but the agents.
    await say(tg, proxied, database, "де моє замовлення")
    assert texts(tg) == []
    assert (await shop.owner.data(api, READ_BOT))["selfServiceBot"]["enabled"] is False
    # Only who may change settings changes the bot.
    denied = await shop.support.execute(api, BOT, {"i": {"enabled": True}})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Every problem at once, nothing saved.
    bad = {"orderPhrases": ["ok phrase", "x"], "templateUk": "{% if %}", "hoursFrom": "25:00", "maxOrders": 0}
    payload = (await shop.owner.data(api, BOT, {"i": bad}))["updateSelfServiceBot"]
    assert sorted(e["field"] for e in payload["errors"]) == [
        "hoursFrom",
        "hoursTo",
        "maxOrders",
        "orderPhrases.1",
        "templateUk",
    ]
    assert (await shop.owner.data(api, READ_BOT))["selfServiceBot"]["orderPhrases"] == []

    template = "№{{ order_number }} — {{ status }}{% if waybill %} ({{ waybill }}){% endif %}"
    bot = await bot_on(shop, api, orderPhrases=["Куди поділась покупка"], templateUk=template)
    assert bot["orderPhrases"] == ["куди поділась покупка"] and bot["version"] == 2
    audit = [e["node"]["action"] for e in (await shop.owner.data(api, AUDIT))["auditEntries"]["edges"]]
    assert "selfservice_bot.update" in audit
    _account, [order] = await customer_with_orders(shop, api, orders=1)
    await tg.adeliver_update(tg.user_shares_contact(CHAT, PHONE), transport=app_transport(proxied))
    await say(tg, proxied, database, "Куди поділась моя покупка?")
    assert texts(tg)[-1] == f"№{order['number']} — Новий (20450000012345)"

    # Outside its hours the bot keeps quiet (the agents answer then).
    kyiv = ZoneInfo("Europe/Kyiv")  # the organization's time zone
    start = (datetime.now(UTC) + timedelta(hours=3)).astimezone(kyiv).strftime("%H:%M")
    end = (datetime.now(UTC) + timedelta(hours=5)).astimezone(kyiv).strftime("%H:%M")
    await bot_on(shop, api, hoursFrom=start, hoursTo=end)
    before = len(texts(tg))
    await say(tg, proxied, database, "де моє замовлення")
    assert len(texts(tg)) == before
    await bot_on(shop, api, always=True)
    await say(tg, proxied, database, "де моє замовлення")
    assert texts(tg)[-1].startswith(f"№{order['number']}")


# -- Viber ----------------------------------------------------------------------------------------

VIBER_CONFIG = {"sender_name": "Sim Shop", "language": "uk"}


async def test_viber_asks_for_the_phone_an_agent_confirms_it_and_the_bot_answers(shop, api, vb, database):
    await install(shop.owner, api, "viber", {"api_url": vb.url, **VIBER_CONFIG}, {"auth_token": AUTH_TOKEN})
    await bot_on(shop, api)
    account_id, orders = await customer_with_orders(shop, api, orders=2)

    await vb.adeliver_event(vb.user_says(VIBER_USER, "де моє замовлення"))
    await drain(database)
    asked = vb.messages_to(VIBER_USER)[-1]
    assert asked["text"] == "Щоб показати ваші замовлення, поділіться номером телефону кнопкою нижче."
    assert asked["keyboard"]["Buttons"][0]["ActionType"] == "share-phone" and asked["min_api_version"] == 3

    # Viber cannot prove whose number a contact is: the bot says an operator will check it.
    await vb.adeliver_event(vb.user_shares_phone(VIBER_USER))
    await drain(database)
    assert vb.messages_to(VIBER_USER)[-1]["text"].startswith("Дякуємо! Оператор перевірить номер")
    [conversation] = await inbox(shop, api)
    assert conversation["accountConfirmed"] is False and conversation["unreadCount"] == 2

    linked = {"i": {"id": conversation["id"], "version": conversation["version"], "accountId": account_id}}
    assert (await shop.support.data(api, LINK, linked))["linkConversationToAccount"]["conversation"][
        "accountConfirmed"
    ] is True
    # The customer taps the bot's quick reply: Viber sends the button's ActionBody as a text message.
    await vb.adeliver_event(vb.user_says(VIBER_USER, "Де моє замовлення?"))
    await drain(database)
    await drain(database, minutes=10)
    answer = vb.messages_to(VIBER_USER)[-1]
    assert answer["text"].split("\n")[0] == "Ваші останні замовлення:"
    assert f"Замовлення №{orders[1]['number']} від " in answer["text"] and "20450000012345" in answer["text"]
    assert [b["ActionType"] for b in answer["keyboard"]["Buttons"]] == ["reply", "reply"]
    assert answer["keyboard"]["Buttons"][0]["ActionBody"] == "Де моє замовлення?"
    assert [m["text"] for m in vb.messages_to(VIBER_USER)].count(answer["text"]) == 1


CONSENT = """mutation($i: SetChannelConsentInput!) { setChannelConsent(input: $i) { errors { code } } }"""
RULE = """mutation($i: UpdateNotificationRuleInput!) { updateNotificationRule(input: $i) { errors { message } } }"""
SETTINGS = """mutation($i: UpdateNotificationSettingsInput!) {
    updateNotificationSettings(input: $i) { errors { message } } }"""
NOTIFICATIONS = """query($id: ID!) { orderNotifications(orderId: $id) { channel state reason recipient } }"""


async def test_order_notices_go_to_the_viber_bot_chat_only_with_consent(shop, api, vb, database):
    await install(shop.owner, api, "viber", {"api_url": vb.url, **VIBER_CONFIG}, {"auth_token": AUTH_TOKEN})
    owner = shop.owner
    rule = {"i": {"trigger": "new", "channels": ["viber_bot", "sms"], "enabled": True}}
    assert (await owner.data(api, RULE, rule))["updateNotificationRule"]["errors"] == []
    await owner.data(api, SETTINGS, {"i": {"quietStart": "00:00", "quietEnd": "00:00", "sendDelaySeconds": 0}})
    account_id, _ = await customer_with_orders(shop, api, orders=0)
    await vb.adeliver_event(vb.user_says(VIBER_USER, "Привіт"))
    [conversation] = await inbox(shop, api)
    linked = {"i": {"id": conversation["id"], "version": conversation["version"], "accountId": account_id}}
    await shop.support.data(api, LINK, linked)
    before = len(vb.messages_to(VIBER_USER))

    first = (await owner.data(api, CREATE_ORDER, {"i": {"accountId": account_id, "items": ITEMS}}))["createOrder"]
    await drain(database, minutes=5)
    skipped = (await owner.data(api, NOTIFICATIONS, {"id": first["order"]["id"]}))["orderNotifications"][0]
    assert skipped["state"] == "skipped" and "не погодився на повідомлення в viber_bot" in skipped["reason"]
    assert len(vb.messages_to(VIBER_USER)) == before

    consent = {"i": {"accountId": account_id, "channel": "viber_bot", "optedIn": True}}
    assert (await owner.data(api, CONSENT, consent))["setChannelConsent"]["errors"] == []
    second = (await owner.data(api, CREATE_ORDER, {"i": {"accountId": account_id, "items": ITEMS}}))["createOrder"]
    await drain(database, minutes=5)
    await drain(database, minutes=15)
    [sent] = (await owner.data(api, NOTIFICATIONS, {"id": second["order"]["id"]}))["orderNotifications"]
    assert sent == {"channel": "viber_bot", "state": "sent", "reason": "", "recipient": VIBER_USER}
    arrived = vb.messages_to(VIBER_USER)[before:]
    assert len(arrived) == 1 and str(second["order"]["number"]) in arrived[0]["text"]
    assert arrived[0]["sender"] == {"name": "Sim Shop"}


# -- understanding phrasings ------------------------------------------------------------------------


class _Rules:
    order_phrases = ["куди поділась покупка"]
    handover_phrases = ["претензі"]


@pytest.mark.parametrize(
    ("text", "wanted", "language"),
    [
        ("Де моє замовлення?", "orders", "uk"),
        ("статус замовлення", "orders", "uk"),
        ("Де моя посилка???", "orders", "uk"),
        ("ТТН 20450000012345", "orders", "uk"),
        ("где мой заказ", "orders", "uk"),  # Russian is understood and answered in Ukrainian
        ("Статус заказа 1042", "orders", "uk"),
        ("Where is my order?", "orders", "en"),
        ("track my parcel please", "orders", "en"),
        ("№1042", "orders", "uk"),
        ("#1042", "orders", "uk"),
        ("Куди поділась моя покупка", "orders", "uk"),  # the organization's own phrase
        ("оператор", "handover", "uk"),
        ("Покличте людину", "handover", "uk"),
        ("позовите человека", "handover", "uk"),
        ("I want a human", "handover", "en"),
        ("Хочу скасувати замовлення", "handover", "uk"),  # cancelling is for an agent, not the bot
        ("У мене претензія", "handover", "uk"),
        ("Чи можна оплатити частинами?", "unknown", "uk"),
    ],
)
def test_phrasings_in_three_languages(text, wanted, language):
    assert selfservice.intent(text, _Rules()) == wanted
    assert selfservice.language(text, None, "uk") == language
