"""The Binotel plugin: call webhooks become call events; click-to-call through the REST API.

Binotel POSTs form-encoded call events ("API CALL SETTINGS" in the Binotel cabinet) to the
installation's webhook URL: ``receivedTheCall`` (ringing), ``answeredTheCall``,
``transferredTheCall``, ``hangupTheCall`` and ``apiCallCompleted`` (the call's full details as
PHP-style keys ``callDetails[...]``). The receiver must answer ``{"status": "success"}``, or
Binotel repeats the request (about 7 times over 38 hours), so every event carries a dedupe key
``<requestType>:<generalCallID>``.

Binotel signs nothing. The webhook URL holds an unguessable token and the installation's IP
allow-list (set it to Binotel's server addresses) is checked before this plugin is called; a
configured company ID must also match the ``companyID`` Binotel sends.

The call activity is written from ``apiCallCompleted`` (it has the employee, wait and talk
time); set ``log_calls_on`` to ``hangupTheCall`` for PBXs that do not send it. Recording links
expire after about 15 minutes, so the activity keeps the ``generalCallID`` as the recording
reference (``stats/call-record`` gives a fresh link), never a link.

REST: ``POST /api/4.0/{section}/{method}.json`` with ``key`` and ``secret`` in the JSON body;
HTTP 200 with ``{"status": "success", ...}`` or ``{"status": "error", "code", "message"}``.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import phonenumbers

from server.i18n import _
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.http import DEFAULT_TIMEOUT, ProviderClient
from server.plugins.types import (
    CallEvent,
    ConfigField,
    ConnectionResult,
    PluginError,
    PluginEvent,
    PluginInfo,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

NAME = "binotel"
PROVIDER = "Binotel"
# Below the 30 s a hook may take; tests shorten it to exercise timeouts.
TIMEOUT = DEFAULT_TIMEOUT
DEFAULT_API_URL = "https://api.binotel.com"
SUCCESS = {"status": "success"}

DISPOSITIONS = {
    "ANSWER": "answered",
    "SUCCESS": "answered",
    "TRANSFER": "transferred",
    "ONLINE": "in_progress",
    "BUSY": "busy",
    "NOANSWER": "no_answer",
    "CANCEL": "cancelled",
    "CONGESTION": "failed",
    "CHANUNAVAIL": "failed",
    "FAILED": "failed",
    "VM": "voicemail",
    "VM-SUCCESS": "voicemail",
}
RECORDED = frozenset({"ANSWER", "TRANSFER", "VM-SUCCESS", "SUCCESS"})
REST_ERRORS = {
    102: "Binotel does not know this API method.",
    103: "Binotel needs more data for this request.",
    104: "Binotel refused the data (check the phone number and the extension).",
    106: "Binotel says requests are too frequent; try again in a minute.",
    121: "Binotel rejected the API key or secret: check them in the plugin settings.",
    150: "Binotel cannot call this extension (is the employee's phone online?).",
}
_KEY = re.compile(r"\[([^\]]*)\]")


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="Binotel",
        version="1.0.0",
        capabilities=("telephony",),
        api_version=API_VERSION,
        description="Calls from the Binotel cloud PBX on the customer's timeline, screen pops, click-to-call.",
        homepage="https://www.binotel.ua",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("key", secret=True, required=True, label="API key", help="Binotel cabinet: Settings > API."),
        ConfigField("secret", secret=True, required=True, label="API secret"),
        ConfigField(
            "company_id",
            label="Company ID",
            help="Your Binotel company ID; when set, events for another company are refused.",
        ),
        ConfigField(
            "log_calls_on",
            type="choice",
            choices=("apiCallCompleted", "hangupTheCall"),
            default="apiCallCompleted",
            label="Log calls on",
            help="Which Binotel event writes the call to the timeline (apiCallCompleted has the most details).",
        ),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL"),
    ]


# -- REST ---------------------------------------------------------------------------------


async def _rest(config: dict, secrets: dict, method: str, params: dict, *, idempotent: bool) -> dict:
    key, secret = secrets.get("key") or "", secrets.get("secret") or ""
    if not key or not secret:
        raise PluginError(REST_ERRORS[121], code="121")
    async with ProviderClient(PROVIDER, base_url=config.get("api_url") or DEFAULT_API_URL, timeout=TIMEOUT) as client:
        response = await client.request(
            "POST", f"/api/4.0/{method}.json", json={**params, "key": key, "secret": secret}, retry=idempotent
        )
    try:
        body = response.json()
    except ValueError:
        raise PluginError(
            _(
                "Binotel answered HTTP %(status_code)s with something that is not JSON.",
                status_code=response.status_code,
            )
        ) from None
    if not isinstance(body, dict):
        raise PluginError(_("Binotel answered in an unexpected format."))
    if body.get("status") == "success":
        return body
    try:
        code = int(body.get("code") or 0)
    except (TypeError, ValueError):
        code = 0
    # The provider's own words, short; never the whole body (it may hold anything).
    said = str(body.get("message") or "no reason given")[:200]
    message = REST_ERRORS.get(code) or f"Binotel refused the request: {said}."
    raise PluginError(message, code=str(code or response.status_code), retryable=code == 106)


@hookimpl
async def crm_test_connection(config, secrets):
    await _rest(config, secrets, "stats/all-incoming-calls-since", {"timestamp": int(time.time())}, idempotent=True)
    return ConnectionResult(ok=True, message=_("Connected to Binotel."))


def binotel_number(phone: str) -> str:
    """Binotel's dialling format: Ukrainian numbers as 0XXXXXXXXX, others as digits."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("380") and len(digits) == 12:
        return "0" + digits[3:]
    return digits


@hookimpl
async def crm_telephony_click_to_call(config, secrets, employee: str, phone: str):
    extension = (employee or "").strip()
    if not extension.isdigit():
        raise PluginError(_("Give the employee's Binotel extension (internal number, e.g. 901)."), code="104")
    body = await _rest(
        config,
        secrets,
        "calls/ext-to-phone",
        {"ext_number": extension, "phone_number": binotel_number(phone)},
        idempotent=False,  # it starts a call: never twice
    )
    return str(body.get("generalCallID") or "")


# -- webhooks -----------------------------------------------------------------------------


def nested_form(items: list[tuple[str, str]]) -> dict:
    """PHP-style keys (``callDetails[employeeData][name]``) as nested dicts."""
    out: dict = {}
    for name, value in items:
        head = name.split("[", 1)[0]
        keys = [head, *_KEY.findall(name[len(head) :])]
        node = out
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[keys[-1]] = value
    return out


def to_e164(number) -> str:
    """A customer's number in E.164 when it is one (Binotel sends 0671234567 or 380671234567);
    an extension or anything else as given."""
    text = str(number or "").strip()
    digits = re.sub(r"\D", "", text)
    if len(digits) < 9:
        return text
    try:
        parsed = phonenumbers.parse(text if text.startswith("+") else digits, "UA")
        if digits.startswith("380") and not text.startswith("+"):
            parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(parsed):
        return text
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _int(value) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _started(value) -> datetime | None:
    seconds = _int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _direction(call_type) -> str:
    return "outbound" if str(call_type) == "1" else "inbound"


def _parties(data: dict, direction: str) -> tuple[str, str]:
    external = to_e164(data.get("externalNumber") or data.get("srcNumber") or "")
    pbx = data.get("pbxNumberData")
    ours = to_e164(
        (pbx.get("number") if isinstance(pbx, dict) else None)
        or data.get("didNumber")
        or data.get("pbxNumber")
        or data.get("internalNumber")
        or ""
    )
    return (ours, external) if direction == "outbound" else (external, ours)


def _employee(data: dict) -> str:
    employee = data.get("employeeData")
    name = data.get("employeeName") or (employee.get("name") if isinstance(employee, dict) else "")
    return str(name or data.get("internalNumber") or "")


def _call(data: dict, state: str) -> CallEvent:
    direction = _direction(data.get("callType"))
    caller, callee = _parties(data, direction)
    disposition = str(data.get("disposition") or "").upper()
    return CallEvent(
        call_id=str(data["generalCallID"]),
        state=state,
        direction=direction,
        caller=caller,
        callee=callee,
        employee=_employee(data),
        started_at=_started(data.get("startTime")),
        duration_seconds=_int(data.get("billsec")),
        wait_seconds=_int(data.get("waitsec")),
        disposition=DISPOSITIONS.get(disposition, disposition.lower()),
        recording_ref=str(data["generalCallID"]) if disposition in RECORDED else "",
        extension=str(data.get("internalNumber") or ""),
        raw=data,
    )


@hookimpl
def crm_webhook(config, request: WebhookRequest):
    if request.form_items:
        form = nested_form(request.form_items)
    elif isinstance(request.json, dict):  # a JSON body (seen from some PBX proxies)
        form = request.json
    else:
        form = {}
    request_type = form.get("requestType", "")
    details = form.get("callDetails") if isinstance(form.get("callDetails"), dict) else None
    data = details if request_type == "apiCallCompleted" and details else form
    company = str(data.get("companyID") or form.get("companyID") or "")
    expected = str(config.get("company_id") or "").strip()
    if expected and company and company != expected:
        raise WebhookRejected(f"event for Binotel company {company}")
    ok = WebhookResponse(200, SUCCESS)
    if request_type == "apiCallSettings":
        # Binotel asks how to route the call; we leave the routing to the PBX.
        return WebhookResult(events=[], dedupe_key=None, response=ok)
    call_id = str(data.get("generalCallID") or "")
    if not request_type or not call_id:
        raise PluginError(_("Not a Binotel call event: requestType and generalCallID are required."), code="104")
    key = f"{request_type}:{call_id}"
    log_on = config.get("log_calls_on") or "apiCallCompleted"
    events: list = []
    if request_type == "receivedTheCall":
        events.append(_call(data, "ringing"))
    elif request_type == "answeredTheCall":
        events.append(_call(data, "answered"))
    elif request_type == "hangupTheCall":
        if log_on == "hangupTheCall":
            events.append(_call(data, "ended"))
        else:
            events.append(PluginEvent("call_hangup", _event_payload(data, request_type)))
    elif request_type == "apiCallCompleted":
        if log_on == "apiCallCompleted":
            events.append(_call(data, "ended"))
        else:
            events.append(PluginEvent("call_completed", _event_payload(data, request_type)))
    else:  # transferredTheCall and whatever Binotel adds later
        events.append(PluginEvent("call_event", _event_payload(data, request_type)))
    return WebhookResult(events=events, dedupe_key=key, response=ok)


def _event_payload(data: dict, request_type: str) -> dict:
    direction = _direction(data.get("callType"))
    caller, callee = _parties(data, direction)
    return {
        "request_type": request_type,
        "call_id": str(data.get("generalCallID") or ""),
        "direction": direction,
        "caller": caller,
        "callee": callee,
        "employee": _employee(data),
        "disposition": str(data.get("disposition") or ""),
    }
