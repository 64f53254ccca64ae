"""The Example SMS plugin: every hook the CRM calls, in one module.

The (fictional) Example SMS API:

- ``GET  /v1/account``          -> ``{"balance": "12.50", "currency": "UAH"}``
- ``POST /v1/messages``         ``{"to", "from", "text"}`` -> 201 ``{"id": "msg_...", "status": "queued"}``
- ``POST /v1/messages/status``  ``{"ids": [...]}`` -> ``{"messages": [{"id", "status"}]}``
- errors: ``{"error": {"code": "...", "message": "..."}}`` with 4xx/5xx
- auth: ``Authorization: Bearer <api token>``
- delivery reports: a JSON POST to our webhook URL, ``{"id", "status", "error_code"}``, signed
  with ``X-Example-Signature``: hex HMAC-SHA256 of the raw body keyed with the webhook secret.
"""

from __future__ import annotations

import hashlib
import hmac

from server.plugins.hookspecs import hookimpl
from server.plugins.http import ProviderClient
from server.plugins.types import (
    ConfigField,
    ConnectionResult,
    MessageStatus,
    PluginError,
    PluginInfo,
    SentMessage,
    WebhookRejected,
    WebhookResponse,
    WebhookResult,
)

NAME = "example-sms"
DEFAULT_API_URL = "https://api.example-sms.test"

STATUSES = {"queued": "queued", "sent": "sent", "delivered": "delivered", "failed": "failed", "expired": "undelivered"}


# -- who we are and what we need ------------------------------------------------------------


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="Example SMS",
        version="0.1.0",
        capabilities=("messaging", "webhooks"),
        api_version="1.0",  # the plugin API this was written for (server.plugins.hookspecs.API_VERSION)
        channels=("sms",),
        description="Send SMS through Example SMS and follow their delivery.",
        homepage="https://example-sms.test",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("sender", required=True, label="Sender name", help="The alpha name approved by Example SMS."),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL", help="Change only for testing."),
        ConfigField("api_token", secret=True, required=True, label="API token", help="Settings → API in your cabinet."),
        ConfigField(
            "webhook_secret",
            secret=True,
            required=True,
            label="Webhook secret",
            help="Settings → Delivery reports; paste the CRM's webhook URL there too.",
        ),
    ]


# -- talking to the gateway -----------------------------------------------------------------


async def _request(config: dict, secrets: dict, method: str, path: str, **kwargs) -> dict:
    # ProviderClient: timeouts, retries of idempotent calls on 5xx/429 (Retry-After honoured),
    # only public https addresses whatever an admin types into api_url, and for a send (a POST
    # without retry=True): a timeout or a 500 after the request went out is OUTCOME_UNKNOWN,
    # never retried, because the gateway may have sent the SMS.
    async with ProviderClient(
        "Example SMS",
        base_url=config["api_url"],
        headers={"Authorization": f"Bearer {secrets['api_token']}"},
    ) as client:
        response = await client.request(method, path, **kwargs)
    if response.status_code == 401:
        raise PluginError("Example SMS rejected the API token: check it in the plugin settings.", code="unauthorized")
    try:
        body = response.json()
    except ValueError:
        # A 2xx without JSON took the request (the SMS may be out); anything else is a plain error.
        raise PluginError(
            f"Example SMS answered HTTP {response.status_code} without JSON.",
            code="OUTCOME_UNKNOWN" if response.is_success else "bad_response",
        ) from None
    if response.status_code >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise PluginError(f"Example SMS: {error.get('message', 'error')}", code=error.get("code", ""))
    return body


@hookimpl
async def crm_test_connection(config, secrets):
    account = await _request(config, secrets, "GET", "/v1/account")
    return ConnectionResult(ok=True, message=f"Connected. Balance: {account['balance']} {account['currency']}.")


@hookimpl
async def crm_messaging_send(config, secrets, message):
    try:
        body = await _request(
            config,
            secrets,
            "POST",
            "/v1/messages",
            json={"to": message.to, "from": message.sender or config["sender"], "text": message.text},
        )
    except PluginError as exc:
        if exc.code == "invalid_number":  # this recipient only: not a reason to stop sending
            return SentMessage(
                provider_message_id=None, status="failed", error_code=exc.code, error_message=exc.message
            )
        raise
    return SentMessage(provider_message_id=body["id"], status=STATUSES.get(body["status"], "unknown"), raw=body)


@hookimpl
async def crm_messaging_statuses(config, secrets, message_ids):
    # A POST that only reads: safe to retry, so say so (POSTs are tried once by default).
    body = await _request(config, secrets, "POST", "/v1/messages/status", json={"ids": message_ids}, retry=True)
    return [
        MessageStatus(
            provider_message_id=m["id"], status=STATUSES.get(m["status"], "unknown"), provider_status=m["status"]
        )
        for m in body["messages"]
    ]


# -- delivery reports -----------------------------------------------------------------------


@hookimpl
def crm_webhook(secrets, request):
    expected = hmac.new(secrets["webhook_secret"].encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.header("x-example-signature") or ""):
        raise WebhookRejected("bad X-Example-Signature")
    report = request.json or {}
    if "id" not in report or "status" not in report:
        raise WebhookRejected("not a delivery report", status=400)
    status = MessageStatus(
        provider_message_id=str(report["id"]),
        status=STATUSES.get(report["status"], "unknown"),
        provider_status=str(report["status"]),
        error_code=str(report.get("error_code") or ""),
    )
    # One report per message and status: a redelivered report changes nothing.
    return WebhookResult(
        events=[status],
        dedupe_key=f"{status.provider_message_id}:{status.provider_status}",
        response=WebhookResponse(200, {"ok": True}),
    )
