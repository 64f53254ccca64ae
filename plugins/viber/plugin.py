"""The Viber bot plugin: customers write to the shop's Viber bot, agents answer from the inbox.

- Webhook: registered with ``set_webhook`` when the CRM issues the URL (Viber first checks it
  with a signed ``{"event": "webhook"}`` callback, which this plugin answers 200).
- Every callback is verified: ``X-Viber-Content-Signature`` must be the hex HMAC-SHA256 of the
  raw body keyed with the auth token (constant-time compare); otherwise 403, nothing recorded.
- ``message`` callbacks become ``InboundMessage`` values (the address is ``sender.id``; the
  ``message_token``, larger than 2^53, is kept as a string and deduplicates retries);
  ``delivered`` / ``seen`` / ``failed`` become ``MessageStatus`` values for the replies;
  ``conversation_started`` (the user opened the chat, not subscribed yet) is answered in the HTTP
  response with the welcome and the share-phone keyboard, the only way to talk to them then.
- Share-phone: the keyboard message carries ``tracking_data`` ``crm:share-phone``, which Viber
  returns with the user's answer; a ``contact`` message with it is the user's own number and links
  the chat. A contact sent otherwise is filed as a message and links nothing.
- Sending: ``send_message`` (always HTTP 200, the outcome in ``status``): 5, 6 and 7 refuse this
  recipient, 12 is retryable, 2 is a wrong token for the admin; a timeout or a 5xx after the
  request went out is ``OUTCOME_UNKNOWN`` (never resent).
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
    MessageStatus,
    OutgoingMessage,
    PluginError,
    PluginEvent,
    PluginInfo,
    SentMessage,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

NAME = "viber"
PROVIDER = "Viber"
DEFAULT_API_URL = "https://chatapi.viber.com"
TIMEOUT = DEFAULT_TIMEOUT
SIGNATURE_HEADER = "x-viber-content-signature"
EVENT_TYPES = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]
SHARE_PHONE_TRACKING = "crm:share-phone"
SENDER_MAX = 28
RECIPIENT_STATUSES = {
    5: "The customer is not a Viber user any more (receiverNotRegistered).",
    6: "The customer has not subscribed to the bot or unsubscribed (receiverNotSubscribed).",
    7: "The bot is blocked (publicAccountBlocked).",
}
STATUSES = {"delivered": "delivered", "seen": "read", "failed": "failed"}

SHARE_PHONE = N_("Share my phone number")
WELCOME = N_(
    "Hello! Write your question here and we will answer. To see your orders, share your phone number "
    "with the button below."
)


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="Viber bot",
        version="1.0.0",
        capabilities=("messaging", "webhooks"),
        api_version=API_VERSION,
        channels=("viber_bot",),
        description="Two-way chat with customers through your Viber bot: the inbox, the share-phone button, "
        "delivered and seen reports.",
        homepage="https://developers.viber.com/docs/api/rest-bot-api/",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField(
            "auth_token", secret=True, required=True, label="Auth token", help="From the Viber bot's settings."
        ),
        ConfigField("sender_name", required=True, label="Bot name", help="Shown as the sender, at most 28 characters."),
        ConfigField("language", type="choice", choices=("uk", "en"), default="uk", label="Bot language"),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL"),
    ]


def _token(secrets: dict) -> str:
    token = (secrets.get("auth_token") or "").strip()
    if not token:
        raise PluginError(_("Enter the Viber auth token in the plugin settings."), code="SETTINGS")
    return token


def _sender(config: dict) -> dict:
    name = (config.get("sender_name") or "").strip()
    if not name or len(name) > SENDER_MAX:
        raise PluginError(
            _("The bot name must be 1 to %(sender_max)s characters.", sender_max=SENDER_MAX), code="SETTINGS"
        )
    return {"name": name}


async def _call(config: dict, secrets: dict, path: str, body: dict, *, retry: bool = False) -> dict:
    headers = {"X-Viber-Auth-Token": _token(secrets)}
    async with ProviderClient(PROVIDER, base_url=config.get("api_url") or DEFAULT_API_URL, timeout=TIMEOUT) as client:
        response = await client.request("POST", path, json=body, headers=headers, retry=retry)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or "status" not in answer:
        raise PluginError(
            _("Viber answered HTTP %(status_code)s without a status.", status_code=response.status_code),
            code="PROVIDER_ERROR",
        )
    return answer


def _admin_error(answer: dict) -> PluginError:
    code = answer.get("status")
    if code == 2:
        return PluginError(_("Viber rejected the auth token: check it in the plugin settings."), code="2")
    return PluginError(
        _(
            "Viber refused the request: %(status_message)s (status %(code)s).",
            status_message=answer.get("status_message"),
            code=code,
        ),
        code=str(code),
    )


@hookimpl
async def crm_test_connection(config, secrets):
    answer = await _call(config, secrets, "/pa/get_account_info", {}, retry=True)
    if answer.get("status") != 0:
        raise _admin_error(answer)
    return ConnectionResult(ok=True, message=_("Connected to Viber as %(name)s.", name=answer.get("name") or "?"))


@hookimpl
async def crm_webhook_url_issued(config, secrets, url: str):
    body = {"url": url, "event_types": EVENT_TYPES, "send_name": True, "send_photo": True}
    answer = await _call(config, secrets, "/pa/set_webhook", body, retry=True)  # the same URL twice is harmless
    if answer.get("status") == 1:
        raise PluginError(
            _("Viber could not reach the webhook URL: the CRM's PUBLIC_URL must be a public https:// address."),
            code="1",
        )
    if answer.get("status") != 0:
        raise _admin_error(answer)
    return "Viber will send the bot's messages to the CRM (set_webhook done)."


def _keyboard(language: str, buttons: list[str] | tuple = (), phone: bool = True) -> dict:
    """The share-phone button (``phone``) and quick replies (``reply`` buttons: tapping one sends
    its ActionBody, here its text, as the user's message)."""
    rows: list[dict] = []
    if phone:
        rows.append({"ActionType": "share-phone", "ActionBody": "phone", "Text": gettext_in(language, SHARE_PHONE)})
    rows += [{"ActionType": "reply", "ActionBody": text[:250], "Text": text[:250]} for text in buttons if text]
    return {"Type": "keyboard", "Buttons": rows}


def _not_sent(exc: PluginError) -> bool:
    cause = exc.__context__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
        return True
    return isinstance(cause, RetryableResponse) and cause.response.status_code in (429, 503)


@hookimpl
async def crm_messaging_send(config, secrets, message: OutgoingMessage):
    if message.channel != "viber":
        raise PluginError(
            _("The Viber bot plugin sends Viber chat messages, not '%(channel)s'.", channel=message.channel),
            code="UNSUPPORTED_CHANNEL",
        )
    links = [a.get("url", "") for a in message.attachments if a.get("url")]
    body: dict[str, Any] = {
        "receiver": message.to,
        "type": "text",
        "text": "\n".join(part for part in (message.text, *links) if part),
        "sender": _sender(config),
        "min_api_version": 1,
    }
    if message.request_phone:
        body.update(
            keyboard=_keyboard(config.get("language") or "uk", message.buttons),
            min_api_version=3,
            tracking_data=SHARE_PHONE_TRACKING,
        )
    elif message.buttons:
        body["keyboard"] = _keyboard(config.get("language") or "uk", message.buttons, phone=False)
    try:
        answer = await _call(config, secrets, "/pa/send_message", body)
    except PluginError as exc:
        if _not_sent(exc):
            raise PluginError(exc.message, code=exc.code, retryable=True) from None
        raise PluginError(
            _(
                "%(message)s The message may or may not have been sent: check the chat before sending it again.",
                message=exc.message,
            ),
            code="OUTCOME_UNKNOWN",
        ) from None
    status = answer.get("status")
    if status == 0:
        return SentMessage(str(answer["message_token"]), status="sent", raw=answer)
    if status in RECIPIENT_STATUSES:
        return SentMessage(
            None, status="failed", error_code=str(status), error_message=RECIPIENT_STATUSES[status], raw=answer
        )
    if status == 12:
        raise PluginError(
            _("Viber is rate limiting the bot (tooManyRequests); try again later."), code="12", retryable=True
        )
    raise _admin_error(answer)


# -- callbacks ----------------------------------------------------------------------------


def verify(request: WebhookRequest, auth_token: str) -> None:
    given = request.header(SIGNATURE_HEADER)
    if not given:
        raise WebhookRejected("missing X-Viber-Content-Signature")
    if not auth_token:
        raise WebhookRejected("no auth token configured")
    expected = hmac.new(auth_token.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise WebhookRejected("X-Viber-Content-Signature does not match")


def _phone(raw: str) -> str:
    raw = raw.strip()
    return raw if raw.startswith("+") else "+" + raw


def _inbound(event: dict) -> InboundMessage | None:
    sender = event.get("sender") or {}
    message = event.get("message") or {}
    if not sender.get("id") or "message_token" not in event:
        return None
    base: dict[str, Any] = {
        "channel": "viber",
        "address": str(sender["id"]),
        "provider_message_id": str(event["message_token"]),
        "sender_name": str(sender.get("name") or ""),
        "raw": event,
    }
    kind = message.get("type")
    if kind == "contact":
        contact = message.get("contact") or {}
        number = str(contact.get("phone_number") or "")
        if number and message.get("tracking_data") == SHARE_PHONE_TRACKING:
            # Shown to the agent, not trusted to link the chat: Viber echoes tracking_data on
            # whatever the user sends next, so any contact card could claim someone else's
            # account (Telegram, unlike Viber, says whose number it is). The agent links it.
            return InboundMessage(**base, kind="contact", text=_phone(number))
        return InboundMessage(**base, kind="contact", text=" ".join(x for x in (contact.get("name"), number) if x))
    if kind == "text":
        return InboundMessage(**base, kind="text", text=str(message.get("text") or ""))
    if kind in ("picture", "video", "file"):
        url = str(message.get("media") or "")
        attachments = [{"url": url, "name": str(message.get("file_name") or ""), "mimeType": ""}] if url else []
        return InboundMessage(
            **base,
            kind="image" if kind == "picture" else "file",
            text=str(message.get("text") or ""),
            attachments=attachments,
        )
    if kind in ("sticker", "location"):
        return InboundMessage(**base, kind=kind)
    return InboundMessage(**base, kind="other", text=str(message.get("text") or ""))


@hookimpl
def crm_webhook(config, secrets, request: WebhookRequest):
    verify(request, (secrets.get("auth_token") or "").strip())
    event = request.json if isinstance(request.json, dict) else None
    if event is None or not isinstance(event.get("event"), str):
        raise PluginError(_("The request is not a Viber callback."))
    kind = event["event"]
    token = str(event.get("message_token") or event.get("timestamp") or "")
    dedupe = f"{kind}:{token}"
    empty = WebhookResponse(200, {})
    if kind == "message":
        inbound = _inbound(event)
        return WebhookResult(events=[inbound] if inbound else [], dedupe_key=dedupe, response=empty)
    if kind in STATUSES and event.get("message_token") is not None:
        status = MessageStatus(
            str(event["message_token"]),
            STATUSES[kind],
            provider_status=kind,
            error_code=str(event.get("desc") or ""),
            raw=event,
        )
        return WebhookResult(events=[status], dedupe_key=dedupe, response=empty)
    if kind == "conversation_started":
        language = config.get("language") or "uk"
        welcome = {
            "sender": _sender(config),
            "type": "text",
            "text": gettext_in(language, WELCOME),
            "min_api_version": 3,
            "tracking_data": SHARE_PHONE_TRACKING,
            "keyboard": _keyboard(language),
        }
        return WebhookResult(events=[], dedupe_key=dedupe, response=WebhookResponse(200, welcome))
    if kind in ("subscribed", "unsubscribed"):
        user = event.get("user_id") or (event.get("user") or {}).get("id") or ""
        return WebhookResult(
            events=[PluginEvent(f"viber.{kind}", {"user_id": str(user)})], dedupe_key=dedupe, response=empty
        )
    return WebhookResult(events=[], dedupe_key=dedupe, response=empty)  # "webhook" check and others
