"""The Twilio plugin: SMS through the Messages API, delivery statuses through status callbacks.

- Send: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (HTTP Basic AccountSid:AuthToken,
  form body ``To``, ``From`` or ``MessagingServiceSid``, ``Body``, ``StatusCallback``). The status
  callback is the installation's webhook URL plus ``message-status``, so Twilio reports every
  status change to ``/hooks/twilio/<token>/message-status``.
- Callbacks are verified as Twilio documents: ``X-Twilio-Signature`` is the base64 HMAC-SHA1,
  keyed with the auth token, of the full URL Twilio called followed by every POST parameter's
  name and value, sorted by name; compared in constant time, also against the URL with the
  default port added or removed (as the official validators do). A missing or wrong signature
  is rejected (403) and nothing is recorded.
- A redelivered callback is harmless: its dedupe key is ``MessageSid:MessageStatus``.

Twilio has no idempotency key for creating messages, so a send is retried only when Twilio
certainly did not take it (no connection, 429, 503); after a timeout or another 5xx the error
says the outcome is unknown instead of risking a double SMS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from server.i18n import _
from server.plugins.hookspecs import API_VERSION as PLUGIN_API_VERSION
from server.plugins.hookspecs import hookimpl
from server.plugins.http import DEFAULT_TIMEOUT, ProviderClient, RetryableResponse
from server.plugins.types import (
    ConfigField,
    ConnectionResult,
    MessageStatus,
    OutgoingMessage,
    PluginError,
    PluginInfo,
    SentMessage,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

NAME = "twilio"
PROVIDER = "Twilio"
# Below the 30 s a hook may take; tests shorten it to exercise timeouts.
TIMEOUT = DEFAULT_TIMEOUT
DEFAULT_API_URL = "https://api.twilio.com"
API_VERSION = "2010-04-01"
CALLBACK_PATH = "message-status"
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

# Twilio message status -> ours.
STATUSES = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "partially_delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
    "receiving": "unknown",
    "received": "unknown",
}
# Error codes that refuse this recipient or this message: SentMessage(status="failed").
RECIPIENT_ERRORS = {
    21211: "The recipient's number is not a valid phone number.",
    21408: "Twilio may not send to the recipient's region on this account (Geo permissions).",
    21610: "The recipient unsubscribed (replied STOP).",
    21612: "Twilio cannot route a message to the recipient's number.",
    21614: "The recipient's number cannot receive SMS.",
    21602: "The message has no text.",
    21617: "The message is longer than 1600 characters.",
    21604: "The message has no recipient.",
}
# Error codes about the account or the settings: the admin must act.
SETTINGS_ERRORS = {
    20003: "Twilio rejected the Account SID or auth token: check them in the plugin settings.",
    20404: "Twilio does not know this Account SID: check it in the plugin settings.",
    21603: "Set a From number or a Messaging Service SID in the Twilio plugin settings.",
    21212: "Twilio does not accept the From number: use a number or sender ID of your Twilio account.",
    21606: "The From number cannot send SMS: use an SMS-capable number of your Twilio account.",
    21611: "The From number has too many queued messages; try again later.",
    21701: "Twilio does not know the Messaging Service SID: check it in the plugin settings.",
}
RETRYABLE_CODES = frozenset({21611})


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="Twilio SMS",
        version="1.0.0",
        capabilities=("messaging", "webhooks"),
        api_version=PLUGIN_API_VERSION,
        channels=("sms",),
        description="SMS through Twilio's Messages API, with signed delivery status callbacks.",
        homepage="https://www.twilio.com/docs/messaging",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("account_sid", required=True, label="Account SID", help="AC… from the Twilio console."),
        ConfigField(
            "auth_token", secret=True, required=True, label="Auth token", help="Signs the status callbacks too."
        ),
        ConfigField("from_number", label="From", help="A Twilio number in E.164 (+1…) or an alphanumeric sender ID."),
        ConfigField(
            "messaging_service_sid",
            label="Messaging Service SID",
            help="MG…; used instead of From when set (Twilio picks the sender from the service).",
        ),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL"),
    ]


# -- talking to Twilio --------------------------------------------------------------------


def _account(config: dict) -> str:
    sid = (config.get("account_sid") or "").strip()
    if not _ACCOUNT_SID.match(sid):
        raise PluginError(_("The Account SID must look like AC followed by 32 hex digits."), code="SETTINGS")
    return sid


def _client(config: dict, secrets: dict) -> ProviderClient:
    token = secrets.get("auth_token") or ""
    if not token:
        raise PluginError(_("Enter the Twilio auth token in the plugin settings."), code="SETTINGS")
    return ProviderClient(
        PROVIDER, base_url=config.get("api_url") or DEFAULT_API_URL, auth=(_account(config), token), timeout=TIMEOUT
    )


def _not_sent(exc: PluginError) -> bool:
    cause = exc.__context__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
        return True
    return isinstance(cause, RetryableResponse) and cause.response.status_code in (429, 503)


def _error(response: httpx.Response) -> tuple[int, str]:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    try:
        code = int(body.get("code") or 0)
    except (TypeError, ValueError):
        code = 0
    return code, str(body.get("message") or f"HTTP {response.status_code}")


def _settings_error(code: int, message: str, status: int) -> PluginError:
    if status == 401 and not code:
        code = 20003
    text = SETTINGS_ERRORS.get(code) or f"Twilio refused the request: {message} (error {code or status})."
    return PluginError(text, code=str(code or status), retryable=code in RETRYABLE_CODES)


@hookimpl
async def crm_test_connection(config, secrets):
    sid = _account(config)
    async with _client(config, secrets) as client:
        response = await client.request("GET", f"/{API_VERSION}/Accounts/{sid}/Messages.json", params={"PageSize": 1})
    if response.status_code != 200:
        code, message = _error(response)
        raise _settings_error(code, message, response.status_code)
    if not (config.get("from_number") or config.get("messaging_service_sid")):
        return ConnectionResult(
            ok=False, message=_("Credentials work, but set a From number or a Messaging Service SID.")
        )
    return ConnectionResult(ok=True, message=_("Connected to Twilio."))


def status_callback_url(webhook_url: str) -> str:
    return webhook_url + CALLBACK_PATH if webhook_url.endswith("/") else webhook_url + "/" + CALLBACK_PATH


@hookimpl
async def crm_messaging_send(installation, config, secrets, message: OutgoingMessage):
    if message.channel != "sms":
        raise PluginError(
            _("This Twilio plugin sends SMS, not '%(channel)s'.", channel=message.channel), code="UNSUPPORTED_CHANNEL"
        )
    sid = _account(config)
    form = {"To": message.to, "Body": message.text}
    service = (config.get("messaging_service_sid") or "").strip()
    sender = (message.sender or config.get("from_number") or "").strip()
    if service and not message.sender:
        if not _SERVICE_SID.match(service):
            raise PluginError(SETTINGS_ERRORS[21701], code="21701")
        form["MessagingServiceSid"] = service
    elif sender:
        form["From"] = sender
    else:
        raise PluginError(SETTINGS_ERRORS[21603], code="21603")
    if installation.webhook_url:
        form["StatusCallback"] = status_callback_url(installation.webhook_url)
    try:
        async with _client(config, secrets) as client:
            response = await client.request(
                "POST", f"/{API_VERSION}/Accounts/{sid}/Messages.json", data=form, retry=False
            )
    except PluginError as exc:
        if _not_sent(exc):
            raise
        raise PluginError(
            _(
                "%(message)s The SMS may or may not have been sent: check the Twilio message log before sending it "
                "again.",
                message=exc.message,
            ),
            code="OUTCOME_UNKNOWN",
        ) from None
    if response.status_code in (200, 201):
        body = response.json()
        error_code = body.get("error_code")
        return SentMessage(
            str(body["sid"]),
            status=STATUSES.get(str(body.get("status") or ""), "queued"),
            error_code=str(error_code) if error_code else "",
            error_message=str(body.get("error_message") or ""),
            raw=body,
        )
    code, text = _error(response)
    if response.status_code == 400 and code in RECIPIENT_ERRORS:
        return SentMessage(
            None,
            status="failed",
            error_code=str(code),
            error_message=f"{RECIPIENT_ERRORS[code]} ({text})",
            raw=response.json(),
        )
    raise _settings_error(code, text, response.status_code)


def _changed_at(body: dict):
    try:
        return parsedate_to_datetime(body["date_updated"])
    except (KeyError, TypeError, ValueError):
        return None


@hookimpl
async def crm_messaging_statuses(config, secrets, message_ids: list[str]):
    """Polling fallback (status callbacks are the normal way): one GET per message."""
    sid = _account(config)
    out: list[MessageStatus] = []
    async with _client(config, secrets) as client:
        for message_id in message_ids:
            response = await client.request("GET", f"/{API_VERSION}/Accounts/{sid}/Messages/{message_id}.json")
            if response.status_code == 404:
                code, text = _error(response)
                out.append(MessageStatus(str(message_id), "unknown", provider_status="not_found", error_code=str(code)))
                continue
            if response.status_code != 200:
                code, text = _error(response)
                raise _settings_error(code, text, response.status_code)
            body = response.json()
            status = str(body.get("status") or "")
            out.append(
                MessageStatus(
                    str(body.get("sid") or message_id),
                    STATUSES.get(status, "unknown"),
                    provider_status=status,
                    error_code=str(body.get("error_code") or ""),
                    changed_at=_changed_at(body),
                    raw=body,
                )
            )
    return out


# -- status callbacks ---------------------------------------------------------------------


def signature(url: str, params: list[tuple[str, str]], auth_token: str) -> str:
    """Twilio's X-Twilio-Signature for a request to ``url`` with POST ``params``."""
    payload = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as called, and with the default port added or removed (Twilio's validators
    accept both, as Twilio may sign either form)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if default is None or parts.hostname is None:
        return variants
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    if parts.port is None:
        variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
    elif parts.port == default:
        variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
    return variants


def verify(request: WebhookRequest, auth_token: str) -> None:
    """Raise WebhookRejected unless the request carries Twilio's valid signature."""
    given = request.header("x-twilio-signature")
    if not given:
        raise WebhookRejected("missing X-Twilio-Signature")
    if not auth_token:
        raise WebhookRejected("no auth token configured")
    query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    if "bodySHA256" in query:
        # JSON bodies: only the URL is signed; the URL carries the body's SHA-256.
        params: list[tuple[str, str]] = []
        body_hash = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(body_hash, query["bodySHA256"].lower()):
            raise WebhookRejected("body does not match bodySHA256")
    elif request.method.upper() == "POST":
        params = list(request.form_items)
    else:
        params = []
    for url in _url_variants(request.url):
        if hmac.compare_digest(signature(url, params, auth_token).encode(), given.strip().encode()):
            return
    raise WebhookRejected("X-Twilio-Signature does not match")


@hookimpl
def crm_webhook(config, secrets, request: WebhookRequest):
    verify(request, secrets.get("auth_token") or "")
    params = dict(request.form_items) if request.method.upper() == "POST" else dict(request.query)
    account = params.get("AccountSid", "")
    if account and account != (config.get("account_sid") or ""):
        raise WebhookRejected("callback for another Twilio account")
    empty = WebhookResponse(200, "<?xml version='1.0' encoding='UTF-8'?><Response></Response>", "text/xml")
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = params.get("MessageStatus") or params.get("SmsStatus")
    if not sid or not status:
        # Not a message status callback (e.g. a voice callback): acknowledged, nothing to do.
        return WebhookResult(events=[], dedupe_key=None, response=empty)
    event = MessageStatus(
        provider_message_id=sid,
        status=STATUSES.get(status, "unknown"),
        provider_status=status,
        error_code=params.get("ErrorCode", ""),
        raw={k: v for k, v in params.items()},
    )
    return WebhookResult(events=[event], dedupe_key=f"twilio:{sid}:{status}", response=empty)
