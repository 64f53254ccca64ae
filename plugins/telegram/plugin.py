"""The Telegram bot plugin: customers write to the shop's bot, agents answer from the inbox.

- Webhook: when the CRM issues the installation's webhook URL, the plugin registers it with
  ``setWebhook`` and a ``secret_token``. The token is derived from the bot token and the URL
  (HMAC-SHA256, hex), so nothing extra is stored and rotating the URL rotates the secret.
  Every update must carry it in ``X-Telegram-Bot-Api-Secret-Token`` (compared in constant
  time); a missing or wrong one is rejected (403) and nothing is recorded.
- Incoming: one ``Update`` per request, deduplicated on ``update_id`` (Telegram retries a
  webhook that did not answer 2xx). Private text, photo, document and contact messages become
  ``InboundMessage`` values; everything else is acknowledged and ignored.
- Share-phone: ``/start`` (also a deep link ``/start <payload>``) is answered in the webhook
  response with a keyboard whose button has ``request_contact``. The shared contact is accepted
  only if ``contact.user_id == from.id`` (a forwarded contact of someone else links nothing);
  its number, with or without ``+``, becomes the message's phone and links the chat.
- Sending: ``sendMessage`` with ``chat_id`` = the conversation's address. ``400 chat not found``
  and ``403 bot was blocked by the user`` refuse this recipient (a failed ``SentMessage``);
  ``429`` is retryable and says Telegram's ``retry_after``; a timeout or a 5xx after the request
  went out is ``OUTCOME_UNKNOWN`` (never resent: Telegram has no idempotency key); a rejected
  token is an error for the admin.

The bot token is part of every API URL: it is a secret setting and never appears in a log or an
error message.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx

from server.i18n import N_, _, gettext_in
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.http import DEFAULT_TIMEOUT, ProviderClient, RetryableResponse
from server.plugins.types import (
    ConfigField,
    ConnectionResult,
    InboundMessage,
    OutgoingMessage,
    PluginError,
    PluginInfo,
    SentMessage,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

NAME = "telegram"
PROVIDER = "Telegram"
DEFAULT_API_URL = "https://api.telegram.org"
TIMEOUT = DEFAULT_TIMEOUT  # tests shorten it to exercise timeouts
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message"]
TEXT_MAX = 4096

SHARE_PHONE = N_("Share my phone number")
WELCOME = N_(
    "Hello! Write your question here and we will answer. To see your orders, share your phone number "
    "with the button below."
)
THANKS = N_("Thank you! We have your number now.")


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="Telegram bot",
        version="1.0.0",
        capabilities=("messaging", "webhooks"),
        api_version=API_VERSION,
        channels=("telegram",),
        description="Two-way chat with customers through your Telegram bot: the inbox, the share-phone button, "
        "and order notifications to customers who agreed to them.",
        homepage="https://core.telegram.org/bots/api",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("bot_token", secret=True, required=True, label="Bot token", help="From @BotFather: 123456:ABC…"),
        ConfigField(
            "language",
            type="choice",
            choices=("uk", "en"),
            default="uk",
            label="Bot language",
            help="The language of the bot's own texts (the welcome and the share-phone button).",
        ),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL"),
    ]


# -- talking to Telegram -----------------------------------------------------------------


def _token(secrets: dict) -> str:
    token = (secrets.get("bot_token") or "").strip()
    if not token or "/" in token or ":" not in token:
        raise PluginError(
            _("Enter the bot token from @BotFather (123456:ABC…) in the plugin settings."), code="SETTINGS"
        )
    return token


def _client(config: dict) -> ProviderClient:
    return ProviderClient(PROVIDER, base_url=config.get("api_url") or DEFAULT_API_URL, timeout=TIMEOUT)


def _envelope(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "ok" not in body:
        return {"ok": False, "error_code": response.status_code, "description": f"HTTP {response.status_code}"}
    return body


def _settings_error(body: dict) -> PluginError:
    code = int(body.get("error_code") or 0)
    if code in (401, 404):
        return PluginError(_("Telegram rejected the bot token: check it in the plugin settings."), code=str(code))
    return PluginError(
        _("Telegram refused the request: %(description)s.", description=body.get("description") or code),
        code=str(code or "ERROR"),
    )


async def _call(config: dict, secrets: dict, method: str, params: dict, *, retry: bool = False) -> dict:
    token = _token(secrets)
    async with _client(config) as client:
        response = await client.request("POST", f"/bot{token}/{method}", json=params, retry=retry)
    return _envelope(response)


def webhook_secret(bot_token: str, url: str) -> str:
    """The ``secret_token`` for a webhook URL: 64 hex characters, within Telegram's 1-256 of A-Za-z0-9_-."""
    return hmac.new(bot_token.encode(), b"crm-telegram-webhook\n" + url.encode(), hashlib.sha256).hexdigest()


@hookimpl
async def crm_test_connection(config, secrets):
    body = await _call(config, secrets, "getMe", {}, retry=True)
    if not body.get("ok"):
        raise _settings_error(body)
    username = (body.get("result") or {}).get("username") or "?"
    return ConnectionResult(ok=True, message=_("Connected to Telegram as @%(username)s.", username=username))


@hookimpl
async def crm_webhook_url_issued(config, secrets, url: str):
    params = {
        "url": url,
        "secret_token": webhook_secret(_token(secrets), url),
        "allowed_updates": ALLOWED_UPDATES,
        "max_connections": 40,
    }
    body = await _call(config, secrets, "setWebhook", params, retry=True)  # setting the same URL twice is harmless
    if not body.get("ok"):
        if body.get("error_code") == 400:
            raise PluginError(
                _(
                    "Telegram did not accept the webhook: %(description)s. The CRM's PUBLIC_URL must be a public "
                    "https:// address.",
                    description=body.get("description"),
                ),
                code="400",
            )
        raise _settings_error(body)
    return "Telegram will send the bot's messages to the CRM (setWebhook done)."


def _keyboard(language: str, buttons: list[str] | tuple = (), phone: bool = True) -> dict:
    """A reply keyboard: the share-phone button (``phone``) and quick replies, one per row
    (tapping one sends its text as the user's message)."""
    rows: list[list[dict]] = []
    if phone:
        rows.append([{"text": gettext_in(language, SHARE_PHONE), "request_contact": True}])
    rows += [[{"text": text[:100]}] for text in buttons if text]
    return {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}


def _text_with_links(message: OutgoingMessage) -> str:
    links = [a.get("url", "") for a in message.attachments if a.get("url")]
    return "\n".join(part for part in (message.text, *links) if part)


def _not_sent(exc: PluginError) -> bool:
    """Telegram certainly did not take it: no connection, or a 429."""
    cause = exc.__context__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
        return True
    return isinstance(cause, RetryableResponse) and cause.response.status_code == 429


def _retry_after(exc: PluginError) -> int | None:
    cause = exc.__context__
    if isinstance(cause, RetryableResponse):
        body = _envelope(cause.response)
        value = (body.get("parameters") or {}).get("retry_after")
        return int(value) if isinstance(value, int | float) else None
    return None


@hookimpl
async def crm_messaging_send(config, secrets, message: OutgoingMessage):
    if message.channel != "telegram":
        raise PluginError(
            _("The Telegram plugin sends Telegram messages, not '%(channel)s'.", channel=message.channel),
            code="UNSUPPORTED_CHANNEL",
        )
    chat_id: Any = message.to.strip()
    if chat_id.lstrip("-").isdigit():
        chat_id = int(chat_id)  # JSON integer: chat ids may exceed 32 bits, Python ints are exact
    params: dict[str, Any] = {"chat_id": chat_id, "text": _text_with_links(message)}
    if message.request_phone or message.buttons:
        params["reply_markup"] = _keyboard(config.get("language") or "uk", message.buttons, message.request_phone)
    try:
        body = await _call(config, secrets, "sendMessage", params)
    except PluginError as exc:
        if _not_sent(exc):
            wait = _retry_after(exc)
            note = f" Telegram asks to wait {wait} s." if wait is not None else ""
            raise PluginError(exc.message + note, code=exc.code, retryable=True, retry_after=wait) from None
        raise PluginError(
            _(
                "%(message)s The message may or may not have been sent: check the chat before sending it again.",
                message=exc.message,
            ),
            code="OUTCOME_UNKNOWN",
        ) from None
    if body.get("ok"):
        result = body.get("result") or {}
        return SentMessage(str(result.get("message_id")), status="sent", raw=result)
    code = int(body.get("error_code") or 0)
    description = str(body.get("description") or "")
    if code == 403 or (
        code == 400
        and (
            "chat not found" in description
            or "text is empty" in description
            or "too long" in description
            or "user not found" in description
        )
    ):
        return SentMessage(None, status="failed", error_code=str(code), error_message=description, raw=body)
    raise _settings_error(body)


# -- updates -------------------------------------------------------------------------------


def verify(request: WebhookRequest, bot_token: str, url: str) -> None:
    given = request.header(SECRET_HEADER)
    if not given:
        raise WebhookRejected("missing X-Telegram-Bot-Api-Secret-Token")
    if not url or not bot_token:
        raise WebhookRejected("no webhook URL or bot token to check the secret against")
    if not hmac.compare_digest(given.encode(), webhook_secret(bot_token, url).encode()):
        raise WebhookRejected("X-Telegram-Bot-Api-Secret-Token does not match")


def _phone(raw: str) -> str:
    raw = raw.strip()
    return raw if raw.startswith("+") else "+" + raw


def _name(who: dict) -> str:
    return " ".join(x for x in (who.get("first_name"), who.get("last_name")) if x).strip()


def _inbound(message: dict) -> InboundMessage | None:
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    if chat.get("type") != "private" or sender.get("is_bot") or "id" not in chat or "message_id" not in message:
        return None
    base: dict[str, Any] = {
        "channel": "telegram",
        "address": str(chat["id"]),
        "provider_message_id": str(message["message_id"]),
        "sender_name": _name(sender) or _name(chat),
        "raw": message,
    }
    if "contact" in message:
        contact = message["contact"] or {}
        number = str(contact.get("phone_number") or "")
        own = contact.get("user_id") is not None and contact.get("user_id") == sender.get("id")
        if own and number:
            return InboundMessage(**base, kind="contact", text=_phone(number), phone=_phone(number), phone_shared=True)
        # Someone else's contact, forwarded: kept as text, links nothing.
        return InboundMessage(**base, kind="contact", text=" ".join(x for x in (_name(contact), number) if x))
    if "text" in message:
        return InboundMessage(**base, kind="text", text=str(message["text"]))
    if "photo" in message:
        return InboundMessage(**base, kind="image", text=str(message.get("caption") or ""))
    if "document" in message:
        document = message["document"] or {}
        text = str(message.get("caption") or document.get("file_name") or "")
        return InboundMessage(**base, kind="file", text=text)
    for kind in ("sticker", "location"):
        if kind in message:
            return InboundMessage(**base, kind=kind, text=str((message[kind] or {}).get("emoji") or ""))
    return InboundMessage(**base, kind="other")


@hookimpl
def crm_webhook(installation, config, secrets, request: WebhookRequest):
    verify(request, (secrets.get("bot_token") or "").strip(), installation.webhook_url)
    update = request.json if isinstance(request.json, dict) else None
    if update is None or not isinstance(update.get("update_id"), int):
        raise PluginError(_("The request is not a Telegram update."))
    dedupe = f"update:{update['update_id']}"
    message = update.get("message")
    event = _inbound(message) if isinstance(message, dict) else None
    if event is None:
        return WebhookResult(events=[], dedupe_key=dedupe, response=WebhookResponse(200, {"ok": True}))
    language = config.get("language") or "uk"
    answer: dict[str, Any] = {"ok": True}
    chat_id = message["chat"]["id"]
    if event.kind == "text" and (event.text == "/start" or event.text.startswith("/start ")):
        # Answered in the webhook response (Telegram runs it): the welcome and the share-phone button.
        answer = {
            "method": "sendMessage",
            "chat_id": chat_id,
            "text": gettext_in(language, WELCOME),
            "reply_markup": _keyboard(language),
        }
    elif event.phone_shared:
        answer = {
            "method": "sendMessage",
            "chat_id": chat_id,
            "text": gettext_in(language, THANKS),
            "reply_markup": {"remove_keyboard": True},
        }
    return WebhookResult(events=[event], dedupe_key=dedupe, response=WebhookResponse(200, answer))
