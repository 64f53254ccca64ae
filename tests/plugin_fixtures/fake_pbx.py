"""A telephony plugin speaking a Binotel-like protocol: form-encoded webhooks without a
signature (the URL token and the IP allow-list protect them), ``{"status": "success"}``
answers, one ``generalCallID`` per call. Registered in-process by the tests."""

from __future__ import annotations

from datetime import UTC, datetime

from server.plugins.hookspecs import hookimpl
from server.plugins.types import (
    CallEvent,
    ConfigField,
    ConnectionResult,
    PluginError,
    PluginEvent,
    PluginInfo,
    WebhookRejected,
    WebhookResponse,
    WebhookResult,
)

NAME = "fake-pbx"
GOOD_KEY = "good-key"
SEEN_EVENTS: list = []  # crm_domain_event calls, for the tests
BUSY_FOR: set[str] = set()  # ids of events crm_domain_event refuses for now (a retryable error)
SEEN_URLS: list = []  # crm_webhook_url_issued calls

DISPOSITIONS = {"ANSWER": "answered", "BUSY": "busy", "NOANSWER": "no_answer", "CANCEL": "cancelled"}


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="Fake PBX",
        version="1.2.3",
        capabilities=("telephony", "webhooks", "domain_events"),
        api_version="1.0",  # the plugin API this was written for (server.plugins.hookspecs.API_VERSION)
        description="Binotel-like test PBX.",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("api_key", secret=True, required=True, label="API key", help="From the PBX cabinet."),
        ConfigField("api_secret", secret=True, label="API secret"),
        ConfigField("company_id", type="integer", required=True, help="Your PBX company id."),
        ConfigField("region", type="choice", choices=("ua", "pl"), default="ua"),
        ConfigField("api_url", type="url"),
        ConfigField("record_calls", type="boolean", default=True),
        ConfigField("office_phone", type="phone"),
    ]


@hookimpl
async def crm_test_connection(config, secrets):
    if secrets.get("api_key") != GOOD_KEY:
        raise PluginError("Fake PBX rejected the API key: check it in the PBX cabinet.")
    return ConnectionResult(ok=True, message=f"Connected to company {config['company_id']} ({config['region']}).")


@hookimpl
def crm_webhook_url_issued(installation, url):
    SEEN_URLS.append((installation.id, url))
    return "Registered with Fake PBX."


@hookimpl
async def crm_domain_event(installation, config, secrets, event):
    SEEN_EVENTS.append((installation.id, event.topic, secrets.get("api_key")))
    if event.id in BUSY_FOR:
        raise PluginError("The PBX is busy: try again later.", retryable=True)


def _time(value: str | None):
    return datetime.fromtimestamp(int(value), UTC) if value else None


@hookimpl
async def crm_webhook(config, request):
    form = request.form
    if str(form.get("companyID", "")) != str(config["company_id"]):
        raise WebhookRejected("companyID does not match the installation", status=403)
    kind = form.get("requestType", "")
    call_id = form.get("generalCallID", "")
    if kind == "misconfigured":  # a plugin error whose words are for the admin, not the caller
        raise PluginError(
            f"Fake PBX company {config['company_id']} has no API access.", retryable=form.get("retry") == "1"
        )
    ok = WebhookResponse(200, {"status": "success"})
    if kind == "receivedTheCall":
        event = CallEvent(
            call_id=call_id,
            state="ringing",
            direction="inbound",
            caller=form.get("externalNumber", ""),
            callee=form.get("didNumber", ""),
            employee=form.get("internalNumber", ""),
        )
        return WebhookResult([event], f"{kind}:{call_id}", ok)
    if kind == "apiCallCompleted":
        details = {k[len("callDetails[") : -1]: v for k, v in form.items() if k.startswith("callDetails[")}
        outgoing = details.get("callType") == "1"
        external = details.get("externalNumber", "")
        event = CallEvent(
            call_id=details.get("generalCallID", call_id),
            state="ended",
            direction="outbound" if outgoing else "inbound",
            caller=form.get("pbxNumber", "") if outgoing else external,
            callee=external if outgoing else form.get("pbxNumber", ""),
            employee=details.get("employeeName", ""),
            started_at=_time(details.get("startTime")),
            duration_seconds=int(details.get("billsec") or 0),
            wait_seconds=int(details.get("waitsec") or 0),
            disposition=DISPOSITIONS.get(details.get("disposition", ""), details.get("disposition", "").lower()),
        )
        return WebhookResult([event], f"{kind}:{event.call_id}", ok)
    if kind == "custom":
        return WebhookResult([PluginEvent("fake.custom", {"n": form.get("n")})], None, ok)
    if kind == "explode":
        raise RuntimeError("plugin bug")
    return WebhookResult([], None, ok)
