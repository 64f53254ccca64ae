"""The self-service bot: answers "where is my order?" in a customer's chat, hands the rest to agents.

A customer's message in a chat conversation (Telegram, Viber, the web channel; not e-mail or SMS)
raises ``conversation.message_received``; the job in jobs.py calls
``take_turn``, which, in one transaction with the conversation locked:

- does nothing unless the organization turned the bot on, the conversation's ``bot_state`` is
  ``active`` (not handed over, no agent answering) and it is within the bot's hours;
- records one ``BotTurn`` per customer message (unique: a redelivered event, a second worker
  answer nothing more);
- "where is my order" (uk/ru/en phrasings, the organization's own, an order or waybill number, the
  quick-reply button): when the conversation's account is confirmed (Telegram's own contact, or an
  agent linked it) the status, waybill and tracking link of that account's latest orders, and only
  of that account's; otherwise it asks for the phone (the share-phone button);
- "a person" / "operator" and anything else it cannot answer: hands the conversation over to the
  agents (``conversation.handed_over``) and says so to the customer.

Its replies are ``conversations.bot_reply`` messages: queued with ``conversation.reply_queued`` in
the same transaction, sent once by the job that sends agents' replies."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.scope import Scope
from server.conversations import service as conversations
from server.conversations.models import ConversationMessage
from server.core.errors import ErrorCode, UserInputError, UserInputErrors, version_conflict
from server.i18n import N_, _, gettext_in
from server.notifications import templates
from server.notifications.service import TRACKING_LINK
from server.orders.models import Order
from server.organizations.models import Organization
from server.selfservice.models import BotSettings, BotTurn
from server.shipments.models import Shipment

APP_ID = "selfservice-bot"
CHANNELS = ("telegram", "viber", "web")  # chats; e-mail and SMS conversations are the agents' alone
PHRASES_MAX = 50
PHRASE_MAX = 100
ORDERS_MAX = 10
TEMPLATE_MAX = 1000

# Words (or their beginnings) that ask about an order, in Ukrainian, Russian and English. A
# phrase matches when each of its words begins a word of the message.
ORDER_WORDS = (
    # uk
    "замовлен", "посилк", "ттн", "накладн", "відстеж", "трекінг", "доставк",
    # ru
    "заказ", "посылк", "отслед", "трекинг",
    # en
    "order", "parcel", "package", "track", "shipment", "waybill", "delivery",
)  # fmt: skip
# A person, please; or something the bot cannot do (cancel, return, exchange, complain).
HANDOVER_WORDS = (
    # uk
    "оператор", "людин", "менеджер", "консультант", "скасу", "відмін", "поверн", "обмін", "скарг",
    # ru
    "человек", "отмен", "вернут", "возврат", "обмен", "жалоб",
    # en
    "operator", "human", "person", "agent", "manager", "cancel", "return", "refund", "exchange", "complain",
)  # fmt: skip

BUTTON_ORDERS = N_("Where is my order?")
BUTTON_PERSON = N_("Talk to a person")
ASK_PHONE = N_("To show your orders, share your phone number with the button below.")
AWAITING_LINK = N_(
    "Thank you! An operator will check the number and link it to your chat. Then ask me about your order again."
)
HANDED_OVER = N_("I am passing your question to our team: an operator will answer here soon.")
NO_ORDERS = N_("We do not see any orders for your number yet.")
NOT_YOURS = N_("I did not find order %(numbers)s among your orders.")
LATEST = N_("Your latest orders:")
ORDER_LINE = N_(
    "Order №{{ order_number }} of {{ order_date }}: {{ status }}."
    "{% if waybill %} Waybill {{ waybill }}, tracking: {{ tracking_link }}{% endif %}"
)
TEMPLATE_VARIABLES = (
    "order_number",
    "order_date",
    "status",
    "total",
    "currency",
    "waybill",
    "tracking_link",
    "delivery_status",
    "expected_delivery",
)


# -- settings ----------------------------------------------------------------------------------


async def settings_of(organization_id: UUID) -> BotSettings:
    await BotSettings.bulk_create([BotSettings(organization_id=organization_id)], ignore_conflicts=True)
    return await BotSettings.get(organization_id=organization_id)


def normalize(text: str) -> str:
    """Lower case, apostrophes and ``ё`` unified, punctuation dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text or "").casefold().replace("ё", "е")
    text = re.sub(r"[’ʼ`´']", "'", text)
    return " ".join(re.sub(r"[^\w']+", " ", text).split())


def _phrases(values: list[str], field: str, problems: list[UserInputError]) -> list[str]:
    out: list[str] = []
    if len(values) > PHRASES_MAX:
        problems.append(
            UserInputError(ErrorCode.INVALID, _("At most %(phrases_max)s phrases.", phrases_max=PHRASES_MAX), field)
        )
    for i, value in enumerate(values[:PHRASES_MAX]):
        phrase = normalize(value)
        if not 2 <= len(phrase) <= PHRASE_MAX:
            problems.append(
                UserInputError(
                    ErrorCode.INVALID,
                    _("A phrase is 2 to %(phrase_max)s letters.", phrase_max=PHRASE_MAX),
                    f"{field}.{i}",
                )
            )
        elif phrase not in out:
            out.append(phrase)
    return out


def _clock(value: str, field: str, problems: list[UserInputError]) -> str | None:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", (value or "").strip())
    if not match:
        problems.append(UserInputError(ErrorCode.INVALID, _("A time as HH:MM (00:00 to 23:59)."), field))
        return None
    return match.group(0)


async def update_settings(scope: Scope, data: dict) -> BotSettings:
    """Change the organization's bot (``settings:write``); every problem reported at once, audited."""
    scope.require("settings:write")
    current = await settings_of(scope.organization_id)
    problems: list[UserInputError] = []
    values: dict = {}
    if data.get("enabled") is not None:
        values["enabled"] = bool(data["enabled"])
    for key, field in (("order_phrases", "orderPhrases"), ("handover_phrases", "handoverPhrases")):
        if data.get(key) is not None:
            values[key] = _phrases(list(data[key]), field, problems)
    for key, field in (("template_uk", "templateUk"), ("template_en", "templateEn")):
        if data.get(key) is not None:
            body = data[key].strip()
            if body:
                try:
                    body = templates.check(body, field)
                    if len(body) > TEMPLATE_MAX:
                        raise UserInputError(
                            ErrorCode.INVALID,
                            _("At most %(template_max)s characters.", template_max=TEMPLATE_MAX),
                            field,
                        )
                except UserInputError as exc:
                    problems.append(exc)
            values[key] = body
    if data.get("always") is True:
        values["hours_from"] = values["hours_to"] = None
    elif data.get("hours_from") is not None or data.get("hours_to") is not None:
        start = _clock(data.get("hours_from") or "", "hoursFrom", problems)
        end = _clock(data.get("hours_to") or "", "hoursTo", problems)
        if start and end and start == end:
            problems.append(
                UserInputError(ErrorCode.INVALID, _("The hours must not start and end at once."), "hoursTo")
            )
        values["hours_from"], values["hours_to"] = start, end
    if data.get("max_orders") is not None:
        if not 1 <= data["max_orders"] <= ORDERS_MAX:
            problems.append(
                UserInputError(ErrorCode.INVALID, _("From 1 to %(orders_max)s.", orders_max=ORDERS_MAX), "maxOrders")
            )
        values["max_orders"] = data["max_orders"]
    if problems:
        raise UserInputErrors(problems)  # nothing saved
    async with in_transaction():
        current = await BotSettings.filter(id=current.id).select_for_update().get()
        if data.get("version") is not None and data["version"] != current.version:
            raise version_conflict()
        changes = {k: [getattr(current, k), v] for k, v in values.items() if getattr(current, k) != v}
        if changes:
            values["version"] = current.version + 1
            await BotSettings.filter(id=current.id).update(**values)
            for k, v in values.items():
                setattr(current, k, v)
            await audit.record(scope, "selfservice_bot.update", current, changes)
    return current


# -- understanding a message ---------------------------------------------------------------------


def _matches(words: list[str], phrase: str) -> bool:
    return all(any(word.startswith(part) for word in words) for part in phrase.split())


def intent(text: str, settings: BotSettings) -> str:
    """``handover``, ``orders`` (a question about orders, or just a number) or ``unknown``."""
    normalized = normalize(text)
    words = normalized.split()
    if not words:
        return "unknown"
    if any(_matches(words, p) for p in (*HANDOVER_WORDS, *settings.handover_phrases)):
        return "handover"
    if any(_matches(words, p) for p in (*ORDER_WORDS, *settings.order_phrases)):
        return "orders"
    if all(re.fullmatch(r"(?:no|n|nr)?\d+", w) or w in ("no", "n", "nr") for w in words):  # NFKC made № "no"
        return "orders"  # an order or waybill number alone
    return "unknown"


def numbers(text: str) -> list[str]:
    return re.findall(r"\d{1,20}", text or "")


def language(text: str, previous: str | None, organization_locale: str) -> str:
    """The customer's language: Cyrillic is answered in Ukrainian (Russian too), Latin in English;
    no letters (a number, a contact): as before in this chat."""
    if re.search(r"[а-яіїєґё]", text or "", re.IGNORECASE):
        return "uk"
    if re.search(r"[a-z]", text or "", re.IGNORECASE):
        return "en"
    if previous in ("uk", "en"):
        return previous
    return organization_locale if organization_locale in ("uk", "en") else "uk"


def within_hours(settings: BotSettings, timezone: str, now: datetime) -> bool:
    if not settings.hours_from or not settings.hours_to:
        return True
    local = now.astimezone(ZoneInfo(timezone or "Europe/Kyiv")).time()
    start, end = time.fromisoformat(settings.hours_from), time.fromisoformat(settings.hours_to)
    return start <= local < end if start < end else local >= start or local < end


# -- answering -----------------------------------------------------------------------------------


@dataclass
class Answer:
    outcome: str
    text: str = ""
    buttons: tuple[str, ...] = ()
    ask_phone: bool = False
    reason: str = ""  # why it handed over


def _buttons(locale: str) -> tuple[str, ...]:
    return (gettext_in(locale, BUTTON_ORDERS), gettext_in(locale, BUTTON_PERSON))


async def orders_text(settings: BotSettings, organization_id: UUID, account_id: UUID, text: str, locale: str) -> str:
    """The status, waybill and tracking link of the account's latest orders (or of the ones whose
    number or waybill the customer wrote), only ever of this account in this organization."""
    mine = Order.filter(organization_id=organization_id, account_id=account_id, deleted_at=None)
    asked = numbers(text)
    chosen: list[Order] = []
    if asked:
        as_ints = [int(n) for n in asked if len(n) <= 9]
        if as_ints:
            chosen = await mine.filter(number__in=as_ints).order_by("-created_at").limit(settings.max_orders)
        if not chosen:
            waybills = await Shipment.filter(
                organization_id=organization_id, waybill_number__in=asked, order__account_id=account_id
            ).values_list("order_id", flat=True)
            chosen = await mine.filter(id__in=list(waybills)).order_by("-created_at").limit(settings.max_orders)
            if not chosen:
                chosen = await mine.filter(waybill_number__in=asked).order_by("-created_at").limit(settings.max_orders)
        if not chosen:
            return gettext_in(locale, NOT_YOURS, numbers=", ".join(asked[:3]))
    else:
        chosen = await mine.order_by("-created_at", "-number").limit(settings.max_orders)
    if not chosen:
        return gettext_in(locale, NO_ORDERS)
    for order in chosen:
        await order.fetch_related("status")
    shipments: dict = {}
    for shipment in await Shipment.filter(order_id__in=[o.id for o in chosen], cancelled_at=None).order_by(
        "created_at"
    ):
        shipments[shipment.order_id] = shipment  # type: ignore[attr-defined]  # the latest one wins
    body = (settings.template_en if locale == "en" else settings.template_uk) or gettext_in(locale, ORDER_LINE)
    lines = []
    for order in chosen:
        shipment = shipments.get(order.id)
        waybill = order.waybill_number or (shipment.waybill_number if shipment else "") or ""
        context = {
            "order_number": order.number,
            "order_date": order.created_at.strftime("%d.%m.%Y"),
            "status": order.status.name,
            "total": f"{order.total:.2f}",
            "currency": order.currency,
            "waybill": waybill,
            "tracking_link": TRACKING_LINK.format(waybill=waybill) if waybill else "",
            "delivery_status": shipment.carrier_status_text if shipment else "",
            "expected_delivery": shipment.estimated_delivery.strftime("%d.%m.%Y")
            if shipment and shipment.estimated_delivery
            else "",
        }
        try:
            lines.append(templates.render(body, context))
        except UserInputError:
            lines.append(templates.render(gettext_in(locale, ORDER_LINE), context))
    head = [gettext_in(locale, LATEST)] if len(lines) > 1 else []
    return "\n".join(head + lines)


async def _last_turn(conversation_id: UUID) -> BotTurn | None:
    return await BotTurn.filter(conversation_id=conversation_id).order_by("-created_at").first()


async def decide(settings: BotSettings, conversation, message: ConversationMessage, locale: str) -> Answer:
    confirmed = conversation.account_confirmed and conversation.account_id is not None
    if message.kind == "contact":
        if confirmed:
            last = await _last_turn(conversation.id)
            if last is not None and last.outcome == "asked_phone":
                # The customer shared their number because the bot asked: answer that question now.
                question = await ConversationMessage.get_or_none(id=last.message_id)  # type: ignore[attr-defined]
                text = await orders_text(
                    settings,
                    conversation.organization_id,
                    conversation.account_id,
                    question.text if question else "",
                    locale,
                )
                return Answer("answered", text, _buttons(locale))
            return Answer("ignored")  # the channel's plugin thanked them already
        return Answer("awaiting_link", gettext_in(locale, AWAITING_LINK))
    if message.kind != "text":
        return Answer("handed_over", gettext_in(locale, HANDED_OVER), reason=f"a {message.kind} message")
    if message.text.strip().startswith("/start"):
        return Answer("ignored")  # the Telegram plugin answered it with the welcome
    wanted = intent(message.text, settings)
    if wanted == "orders":
        if not confirmed and conversation.channel == "web":
            # A web visitor has no verified number to share: only an agent can say who they are.
            return Answer(
                "handed_over", gettext_in(locale, HANDED_OVER), reason="a web visitor the bot cannot identify"
            )
        if not confirmed:
            return Answer("asked_phone", gettext_in(locale, ASK_PHONE), ask_phone=True)
        text = await orders_text(settings, conversation.organization_id, conversation.account_id, message.text, locale)
        return Answer("answered", text, _buttons(locale))
    reason = "the customer asked for a person" if wanted == "handover" else "a question the bot cannot answer"
    return Answer("handed_over", gettext_in(locale, HANDED_OVER), reason=reason)


async def take_turn(organization_id: UUID, message_id: UUID, now: datetime | None = None) -> str:
    """The bot's turn on one customer message; what it did (or why it kept quiet)."""
    now = now or datetime.now(UTC)
    settings = await settings_of(organization_id)
    if not settings.enabled:
        return "off"
    async with in_transaction():
        message = await ConversationMessage.get_or_none(id=message_id, organization_id=organization_id)
        if message is None or message.direction != "in":
            return "ignored"
        conversation = await conversations.lock_for_bot(organization_id, message.conversation_id)  # type: ignore[attr-defined]
        if conversation is None or conversation.channel not in CHANNELS:
            return "ignored"
        if conversation.installation_id is None and conversation.channel != "web":  # its plugin is gone
            return "ignored"
        if await BotTurn.exists(message_id=message.id):
            return "done"
        if conversation.bot_state != "active":
            return "silent"  # an agent has it
        organization = await Organization.get(id=organization_id)
        last = await _last_turn(conversation.id)
        locale = language(message.text if message.kind == "text" else "", last.language if last else None,
                          organization.locale)  # fmt: skip
        if not within_hours(settings, organization.timezone, now):
            answer = Answer("outside_hours")
        else:
            answer = await decide(settings, conversation, message, locale)
        scope = Scope.for_app(organization, APP_ID, "selfservice-bot")
        try:
            async with in_transaction():
                turn = await BotTurn.create(
                    organization_id=organization_id,
                    conversation_id=conversation.id,
                    message_id=message.id,
                    outcome=answer.outcome,
                    language=locale,
                )
        except IntegrityError:
            return "done"  # another worker took this turn
        if answer.text:
            handing_over = answer.outcome == "handed_over"
            reply = await conversations.bot_reply(
                scope,
                conversation,
                answer.text,
                buttons=list(answer.buttons),
                ask_phone=answer.ask_phone,
                answered=answer.outcome == "answered",
            )
            await BotTurn.filter(id=turn.id).update(reply_id=reply.id)
            if handing_over:
                await conversations.hand_over(scope, conversation, answer.reason)
        return answer.outcome
