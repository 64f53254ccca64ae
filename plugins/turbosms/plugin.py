"""The TurboSMS plugin: SMS, Viber with SMS fallback, and delivery statuses.

Protocol (https://turbosms.ua/api.html): JSON over HTTPS, ``Authorization: Bearer <token>``,
always HTTP 200 with ``{"response_code", "response_status", "response_result"}``.

- ``POST /message/send.json`` ``{"recipients": [...], "sms": {...}, "viber": {...}}``; with both
  ``sms`` and ``viber`` TurboSMS tries Viber first and falls back to SMS itself (hybrid send).
  One result per recipient: ``response_code`` 0 and a ``message_id``, or a refusal code.
- ``POST /message/status.json`` ``{"messages": [ids]}``: one item per id (414 for an unknown one).
- ``POST /user/balance.json``: the account's balance (the connection test).

TurboSMS has no idempotency key, so a send is never repeated blindly: a rate limit (429) or an
answer saying the service is unavailable (503) means nothing was sent and may be retried; a
timeout or another server error leaves the outcome unknown, and the error says so instead of
risking a customer getting the same SMS twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import phonenumbers

from server.i18n import N_, _
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.http import DEFAULT_TIMEOUT, ProviderClient, RetryableResponse
from server.plugins.types import (
    ConfigField,
    ConnectionResult,
    MessageStatus,
    OutgoingMessage,
    PluginError,
    PluginInfo,
    SentMessage,
)

NAME = "turbosms"
PROVIDER = "TurboSMS"
# Below the 30 s a hook may take; tests shorten it to exercise timeouts.
TIMEOUT = DEFAULT_TIMEOUT
DEFAULT_API_URL = "https://api.turbosms.ua"
STATUS_BATCH = 100

# The documented response codes (docs: "response codes"), with what they mean for us.
CODES = {
    0: "OK",
    103: "REQUIRED_TOKEN",
    104: "REQUIRED_CONTENT",
    105: "REQUIRED_AUTH",
    106: "REQUIRED_ACTIVE_USER",
    200: "REQUIRED_MESSAGE_SENDER",
    201: "REQUIRED_MESSAGE_TEXT",
    202: "REQUIRED_MESSAGE_RECIPIENT",
    203: "REQUIRED_BALANCE",
    205: "REQUIRED_MESSAGE_BUTTON_CAPTION",
    206: "REQUIRED_MESSAGE_BUTTON_ACTION",
    300: "INVALID_REQUEST",
    301: "INVALID_TOKEN",
    302: "INVALID_MESSAGE_SENDER",
    303: "INVALID_START_TIME",
    304: "INVALID_MESSAGE_TEXT",
    305: "INVALID_PHONE",
    306: "INVALID_TTL",
    404: "NOT_ALLOWED_NUMBER_STOPLIST",
    405: "NOT_ALLOWED_RECIPIENTS_LIMIT",
    406: "NOT_ALLOWED_RECIPIENT_COUNTRY",
    407: "NOT_ALLOWED_RECIPIENT_DUPLICATE",
    409: "NOT_ALLOWED_MESSAGE_TTL",
    414: "NOT_ALLOWED_MESSAGE_ID",
    502: "FAILED_PARSE_BODY",
    800: "SUCCESS_MESSAGE_ACCEPTED",
    801: "SUCCESS_MESSAGE_SENT",
    802: "SUCCESS_MESSAGE_PARTIAL_ACCEPTED",
    803: "SUCCESS_MESSAGE_PARTIAL_SENT",
    999: "FATAL_ERROR",
}
SUCCESS = frozenset({0, 800, 801, 802, 803})

# Account-level problems: the admin must act; trying again will not help.
ACCOUNT_ERRORS = {
    103: N_("TurboSMS got no API token: enter it in the plugin settings."),
    105: N_("TurboSMS did not accept the authorization: check the API token in the plugin settings."),
    106: N_("The TurboSMS account is blocked or inactive: contact TurboSMS."),
    301: N_("TurboSMS rejected the API token: copy it again from the TurboSMS cabinet (Settings > API)."),
    200: N_("No sender name is set: fill in the sender in the plugin settings."),
    302: N_("TurboSMS does not know the sender name '%(sender)s': use a sender approved in your TurboSMS cabinet."),
    203: N_("The TurboSMS balance is too low: top up the account."),
    405: N_("TurboSMS refused the number of recipients (account limit)."),
    306: N_("The Viber message lifetime (viber_ttl) is not a whole number of seconds."),
    409: N_("The Viber message lifetime (viber_ttl) must be between 60 and 86400 seconds."),
    205: N_("The Viber button needs a caption: set viber_button_caption."),
    206: N_("The Viber button needs a link: set viber_button_url."),
}
# Problems of this one message (its recipient or its text): SentMessage(status="failed").
MESSAGE_ERRORS = {
    104: N_("The message was empty."),
    201: N_("The message has no text."),
    202: N_("The message has no recipient."),
    303: N_("The scheduled time is invalid."),
    304: N_("The message text is invalid."),
    305: N_("The recipient's phone number is invalid."),
    404: N_("The recipient is on the stop list (they unsubscribed)."),
    406: N_("TurboSMS does not send to the recipient's country on this account."),
    407: N_("The recipient appears twice in the request."),
    502: N_("TurboSMS could not read the request."),
}
# status.json "status" -> our delivery status.
STATUSES = {
    "queued": "queued",
    "accepted": "queued",
    "enroute": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "expired": "undelivered",
    "undelivered": "undelivered",
    "rejected": "failed",
    "failed": "failed",
    "cancelled": "failed",
    "canceled": "failed",
    "deleted": "failed",
    "unknown": "unknown",
}


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="TurboSMS",
        version="1.0.0",
        capabilities=("messaging",),
        api_version=API_VERSION,
        channels=("sms", "viber"),
        description="SMS and Viber (with SMS fallback) through TurboSMS, with delivery statuses.",
        homepage="https://turbosms.ua",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("token", secret=True, required=True, label="API token", help="TurboSMS cabinet: Settings > API."),
        ConfigField(
            "sender", required=True, label="SMS sender", help="The alpha name approved in your TurboSMS cabinet."
        ),
        ConfigField(
            "viber_sender",
            label="Viber sender",
            help="The Viber sender name approved by TurboSMS; needed for Viber messages.",
        ),
        ConfigField(
            "viber_sms_fallback",
            type="boolean",
            default=True,
            label="SMS when Viber fails",
            help="Viber messages fall back to SMS (TurboSMS hybrid send) when the recipient has no Viber.",
        ),
        ConfigField(
            "viber_ttl",
            type="integer",
            default=3600,
            label="Viber lifetime, seconds",
            help="How long TurboSMS waits for Viber delivery before the SMS fallback (60 to 86400).",
        ),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL"),
        ConfigField(
            "timezone",
            default="Europe/Kyiv",
            label="Time zone of TurboSMS times",
            help="TurboSMS reports times without a zone; they are read in this one.",
        ),
    ]


# -- talking to TurboSMS -----------------------------------------------------------------


def _client(config: dict) -> ProviderClient:
    return ProviderClient(PROVIDER, base_url=config.get("api_url") or DEFAULT_API_URL, timeout=TIMEOUT)


def _auth(secrets: dict) -> dict:
    token = (secrets.get("token") or "").strip()
    if not token:
        raise PluginError(_(ACCOUNT_ERRORS[103]), code="103")
    return {"Authorization": f"Bearer {token}"}


def _not_sent(exc: PluginError) -> bool:
    """Whether a failed send certainly did not reach TurboSMS: a connection never made, a 429,
    or a 503 (the service said it is unavailable). ``exc.__context__`` keeps what happened."""
    cause = exc.__context__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
        return True
    return isinstance(cause, RetryableResponse) and cause.response.status_code in (429, 503)


async def _post(config: dict, secrets: dict, path: str, body: dict, *, idempotent: bool) -> dict:
    headers = _auth(secrets)
    try:
        async with _client(config) as client:
            response = await client.request("POST", path, json=body, headers=headers, retry=idempotent)
    except PluginError as exc:
        if idempotent or _not_sent(exc):
            raise
        raise PluginError(
            _(
                "%(message)s The message may or may not have been sent: check the TurboSMS cabinet before sending it "
                "again.",
                message=exc.message,
            ),
            code="OUTCOME_UNKNOWN",
            retryable=False,
        ) from None
    try:
        answer = response.json()
    except ValueError:
        raise PluginError(
            _(
                "TurboSMS answered HTTP %(status_code)s with something that is not JSON.",
                status_code=response.status_code,
            ),
            code="BAD_RESPONSE",
            retryable=response.status_code >= 500,
        ) from None
    if not isinstance(answer, dict) or "response_code" not in answer:
        raise PluginError(_("TurboSMS answered in an unexpected format."), code="BAD_RESPONSE")
    return answer


def _code(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 999


def _raise_for_request(answer: dict, sender: str = "") -> None:
    """A request-level error (``response_result`` is null): the account or the settings."""
    code = _code(answer.get("response_code"))
    if code in SUCCESS:
        return
    status = answer.get("response_status") or CODES.get(code, "")
    if code in ACCOUNT_ERRORS:
        raise PluginError(_(ACCOUNT_ERRORS[code], sender=sender), code=str(code))
    if code == 999:
        raise PluginError(
            _("TurboSMS had an internal error (FATAL_ERROR); try again later."), code="999", retryable=True
        )
    raise PluginError(_("TurboSMS refused the request: %(code)s %(status)s.", code=code, status=status), code=str(code))


# -- hooks --------------------------------------------------------------------------------


@hookimpl
async def crm_test_connection(config, secrets):
    answer = await _post(config, secrets, "/user/balance.json", {}, idempotent=True)
    _raise_for_request(answer)
    result = answer.get("response_result") or {}
    balance = result.get("balance") if isinstance(result, dict) else None
    return ConnectionResult(ok=True, message=_("Connected to TurboSMS. Balance: %(balance)s UAH.", balance=balance))


def _recipient(phone: str) -> str:
    """TurboSMS takes international numbers without the plus: 380671234567. The CRM passes
    E.164; a national Ukrainian number (067...) is accepted too."""
    try:
        parsed = phonenumbers.parse(phone, "UA")
    except phonenumbers.NumberParseException:
        return phone.strip().lstrip("+").replace(" ", "")  # TurboSMS answers 305 INVALID_PHONE
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def _send_body(config: dict, message: OutgoingMessage) -> tuple[dict, str]:
    sms_sender = (message.sender or config.get("sender") or "").strip()
    text = message.text
    if message.channel == "sms":
        return {"recipients": [_recipient(message.to)], "sms": {"sender": sms_sender, "text": text}}, sms_sender
    if message.channel == "viber":
        viber_sender = (config.get("viber_sender") or "").strip()
        if not viber_sender:
            raise PluginError(
                _("Viber messages need a Viber sender: fill in viber_sender in the TurboSMS plugin settings."),
                code="VIBER_SENDER_MISSING",
            )
        body: dict = {
            "recipients": [_recipient(message.to)],
            "viber": {"sender": viber_sender, "text": text, "ttl": config.get("viber_ttl", 3600)},
        }
        if config.get("viber_sms_fallback", True):
            body["sms"] = {"sender": sms_sender, "text": text}
        return body, viber_sender
    raise PluginError(
        _("TurboSMS sends SMS and Viber messages, not '%(channel)s'.", channel=message.channel),
        code="UNSUPPORTED_CHANNEL",
    )


@hookimpl
async def crm_messaging_send(config, secrets, message: OutgoingMessage):
    body, sender = _send_body(config, message)
    answer = await _post(config, secrets, "/message/send.json", body, idempotent=False)
    results = answer.get("response_result")
    if not isinstance(results, list) or not results:
        code = _code(answer.get("response_code"))
        if code in MESSAGE_ERRORS:
            return SentMessage(
                None,
                status="failed",
                error_code=str(code),
                error_message=f"{_(MESSAGE_ERRORS[code])} ({CODES.get(code, code)})",
                raw=answer,
            )
        _raise_for_request(answer, sender)
        raise PluginError(
            _("TurboSMS accepted the request but returned no result for the recipient."), code="BAD_RESPONSE"
        )
    item = results[0] if isinstance(results[0], dict) else {}
    code = _code(item.get("response_code"))
    if code == 0 and item.get("message_id"):
        return SentMessage(str(item["message_id"]), status="queued", raw=answer)
    status = item.get("response_status") or CODES.get(code, "")
    if code in ACCOUNT_ERRORS:  # e.g. the balance ran out for this recipient
        raise PluginError(_(ACCOUNT_ERRORS[code], sender=sender), code=str(code))
    reason = _(MESSAGE_ERRORS.get(code, N_("TurboSMS refused the recipient.")))
    return SentMessage(None, status="failed", error_code=str(code), error_message=f"{reason} ({status})", raw=answer)


def _zone(config: dict):
    try:
        return ZoneInfo(config.get("timezone") or "Europe/Kyiv")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _time(value, zone) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).astimezone(UTC)
    except ValueError:
        return None


def map_status(provider_status: str | None) -> str:
    return STATUSES.get((provider_status or "").strip().lower(), "unknown")


@hookimpl
async def crm_messaging_statuses(config, secrets, message_ids: list[str]):
    zone = _zone(config)
    out: list[MessageStatus] = []
    ids = [str(i) for i in message_ids if i]
    for start in range(0, len(ids), STATUS_BATCH):
        batch = ids[start : start + STATUS_BATCH]
        answer = await _post(config, secrets, "/message/status.json", {"messages": batch}, idempotent=True)
        items = answer.get("response_result")
        if not isinstance(items, list):
            _raise_for_request(answer)
            raise PluginError(_("TurboSMS returned no statuses."), code="BAD_RESPONSE")
        for item in items:
            if not isinstance(item, dict) or not item.get("message_id"):
                continue
            code = _code(item.get("response_code"))
            if code != 0:
                out.append(
                    MessageStatus(
                        str(item["message_id"]),
                        "unknown",
                        provider_status=str(item.get("response_status") or CODES.get(code, "")),
                        error_code=str(code),
                        raw=item,
                    )
                )
                continue
            provider_status = str(item.get("status") or "")
            out.append(
                MessageStatus(
                    str(item["message_id"]),
                    map_status(provider_status),
                    provider_status=provider_status,
                    error_code=str(item.get("rejected_status") or ""),
                    changed_at=_time(item.get("updated"), zone),
                    raw=item,
                )
            )
    return out
