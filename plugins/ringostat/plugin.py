"""The Ringostat plugin: call webhooks with their call-tracking source, a call-log poll that
catches the webhooks Ringostat never repeats, and click-to-call.

Protocol (/work/shared/providers/ringostat.md): webhooks are configured in the Ringostat
cabinet, one per call moment (incoming: before the call, on answer, after the call, after the
rating menu, on forwarding; outgoing: before, after), each with the HTTP method, the format
(query/form or JSON) and the parameter names chosen there. So:

* the moment is the path the admin appends to the webhook URL (``.../start``, ``/answer``,
  ``/end``, ``/rated``, ``/forward``; ``out/start`` and ``out/end`` for outgoing calls), and
  the body is read from the query string, a form or JSON, whichever came;
* parameter names are accepted in both sets seen in the wild: classic (``call_id``,
  ``callee``, ``status``) and Webhooks 2.0 / call-log names (``cdr_id``, ``uniqueid``,
  ``dst``, ``disposition``), numbers and flags as strings or numbers.

Ringostat signs nothing and never repeats a webhook that failed (it only marks it "with
error" in the cabinet). The webhook URL's unguessable token (and, if set, the IP allow-list)
keep others out; ``crm_telephony_listen`` polls ``GET /calls/list`` every few minutes and
applies the ended calls with the same dedupe key as the ``end`` webhook (``end:<id>``), so a
lost webhook still lands on the timeline and a received one is not logged twice.

REST: header ``Auth-key`` on every request. Click-to-call is the extended JSON-RPC method
``Api\\V2\\Callback.external`` on ``POST /a/v2`` with ``manager_dst: 0`` (the employee's phone
rings first); its failures come back as HTTP 200 with a JSON-RPC ``error`` member.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from plugins.binotel.plugin import to_e164
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
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

log = logging.getLogger("crm.plugins.ringostat")

NAME = "ringostat"
PROVIDER = "Ringostat"
TIMEOUT = DEFAULT_TIMEOUT
DEFAULT_API_URL = "https://api.ringostat.net"
DEFAULT_TIMEZONE = "Europe/Kyiv"
CALLS_PER_REQUEST = 6500  # Ringostat's cap on calls/list: a full page means "split the period"
POLL_LOOKBACK = timedelta(hours=2)
OK = {"status": "ok"}

MOMENTS = {"start": "ringing", "answer": "answered", "end": "ended", "rated": "rated", "forward": "forward"}
ANSWERED = frozenset({"ANSWERED", "PROPER", "REPEATED"})
DISPOSITIONS = {
    "ANSWERED": "answered",
    "PROPER": "answered",
    "REPEATED": "answered",
    "NO ANSWER": "no_answer",
    "CLIENT NO ANSWER": "no_answer",
    "BUSY": "busy",
    "FAILED": "failed",
    "NO-FORWARD": "failed",
    "VOICEMAIL": "voicemail",
    "DECLINE": "cancelled",
}
TRACKING_FIELDS = {
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_content": "utm_content",
    "utm_term": "utm_term",
    "landing": "landing",
    "refferrer": "referrer",  # sic, Ringostat's spelling
    "referrer": "referrer",
    "client_id": "client_id",
    "pool_name": "pool_name",
}
LOG_FIELDS = (
    "uniqueid,calldate,caller,caller_number,dst,call_type,disposition,billsec,waittime,"
    "utm_source,utm_medium,utm_campaign,utm_content,utm_term,client_id,landing,refferrer,pool_name,"
    "has_recording,recording,employee_number,employee_fio,connected_with"
)


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="Ringostat",
        version="1.0.0",
        capabilities=("telephony",),
        api_version=API_VERSION,
        description="Ringostat calls on the timeline with where the caller came from (UTM), screen pops, "
        "recordings, click-to-call.",
        homepage="https://ringostat.com",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField(
            "auth_key", secret=True, required=True, label="Auth-key", help="Ringostat cabinet: Integrations > API."
        ),
        ConfigField("project_id", required=True, label="Project ID", help="Your Ringostat project's id."),
        ConfigField(
            "timezone",
            default=DEFAULT_TIMEZONE,
            label="Project time zone",
            help="The time zone of your Ringostat project: call times are sent without one.",
        ),
        ConfigField(
            "poll_minutes",
            type="integer",
            default=5,
            label="Check the call log every (minutes)",
            help="Ringostat never repeats a failed webhook: calls missing from the timeline are taken from "
            "the call log. 0 turns it off.",
        ),
        ConfigField("api_url", type="url", default=DEFAULT_API_URL, label="API URL"),
    ]


# -- parsing (tolerant: strings or numbers, both name sets) ------------------------------


def _first(data: dict, *names: str) -> str:
    for name in names:
        value = data.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _int(value) -> int | None:
    try:
        return int(float(str(value)))
    except (TypeError, ValueError):
        return None


def disposition_code(value: str) -> str:
    """``NO+ANSWER``, ``NO_ANSWER`` and ``no answer`` are all ``NO ANSWER``; ``NO-FORWARD`` keeps its dash."""
    return " ".join(str(value or "").replace("+", " ").replace("_", " ").upper().split())


def _zone(config: dict):
    try:
        return ZoneInfo(str(config.get("timezone") or DEFAULT_TIMEZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def _calldate(value: str, config: dict) -> datetime | None:
    text = str(value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(config))
    return moment.astimezone(UTC)


def _direction(call_type: str, outgoing_path: bool) -> str:
    # callback: a visitor asked the site's widget to be called back: the customer's call to us.
    if call_type in ("out", "transitout"):
        return "outbound"
    if call_type in ("in", "callback", "transitin"):
        return "inbound"
    return "outbound" if outgoing_path else "inbound"


def call_event(data: dict, state: str, config: dict, *, outgoing_path: bool = False) -> CallEvent:
    call_id = _first(data, "uniqueid", "cdr_id", "call_id")
    direction = _direction(_first(data, "call_type").lower(), outgoing_path)
    customer = to_e164(_first(data, "caller", "caller_number"))
    ours = to_e164(_first(data, "dst", "callee"))
    if direction == "outbound":  # an employee called out: the customer is the called number
        customer, ours = to_e164(_first(data, "dst", "callee")), to_e164(_first(data, "caller", "caller_number"))
    code = disposition_code(_first(data, "disposition", "status"))
    recording = _first(data, "recording", "recording_wav")
    recorded = _first(data, "has_recording") in ("1", "true", "True") or (bool(recording) and code in ANSWERED)
    tracking = {}
    for name, key in TRACKING_FIELDS.items():
        value = _first(data, name)
        if value and key not in tracking:
            tracking[key] = value[:500]
    return CallEvent(
        call_id=call_id,
        state=state,
        direction=direction,
        caller=ours if direction == "outbound" else customer,
        callee=customer if direction == "outbound" else ours,
        employee=_first(data, "employee_fio", "employee_number", "connected_with"),
        extension=_first(data, "employee_number", "connected_with"),
        started_at=_calldate(_first(data, "calldate", "call_date", "date"), config),
        duration_seconds=_int(_first(data, "billsec")) if state == "ended" else None,
        wait_seconds=_int(_first(data, "waittime", "wait_time")) if state == "ended" else None,
        disposition=DISPOSITIONS.get(code, code.lower().replace(" ", "_")) if state == "ended" else "",
        recording_url=recording if recorded else "",
        recording_ref=call_id if recorded else "",
        tracking=tracking,
        raw=data,
    )


def _fields(request: WebhookRequest) -> dict:
    """The webhook's parameters wherever the cabinet put them: query, form or JSON."""
    data: dict = dict(request.query)
    if request.form_items:
        data.update(request.form)
    elif isinstance(request.json, dict):
        data.update(request.json)
    return data


@hookimpl
def crm_webhook(config, request: WebhookRequest):
    path = request.path.strip("/").lower()
    outgoing = path.startswith("out/")
    moment = path.removeprefix("out/").removeprefix("in/")
    data = _fields(request)
    call_id = _first(data, "uniqueid", "cdr_id", "call_id")
    if not call_id:
        raise PluginError(_("Not a Ringostat call: uniqueid, cdr_id or call_id is required."), code="INVALID")
    if not moment:  # a webhook pasted without a moment: an after-call one if it has a result
        moment = "end" if _first(data, "disposition", "status") else "start"
    state = MOMENTS.get(moment)
    if state is None:
        raise PluginError(
            _(
                "Unknown Ringostat webhook path %(path)s: use start, answer, end, rated or forward (out/start, "
                "out/end for outgoing calls).",
                path=repr(path),
            ),
            code="INVALID",
        )
    if state in ("ringing", "answered", "ended"):
        events: list = [call_event(data, state, config, outgoing_path=outgoing)]
    else:
        event = call_event(data, "ended", config, outgoing_path=outgoing)
        events = [
            PluginEvent(
                f"call_{state}",
                {
                    "call_id": call_id,
                    "direction": event.direction,
                    "caller": event.caller,
                    "callee": event.callee,
                    "employee": event.employee,
                    "rating": _first(data, "rating", "call_rating", "rate"),
                },
            )
        ]
    return WebhookResult(events=events, dedupe_key=f"{moment}:{call_id}", response=WebhookResponse(200, OK))


# -- REST --------------------------------------------------------------------------------


def _auth(secrets: dict) -> dict:
    key = str(secrets.get("auth_key") or "")
    if not key:
        raise PluginError(_("Enter the Ringostat Auth-key in the plugin settings."), code="AUTH")
    return {"Auth-key": key}


def _client(config: dict) -> ProviderClient:
    return ProviderClient(PROVIDER, base_url=config.get("api_url") or DEFAULT_API_URL, timeout=TIMEOUT)


def _stamp(moment: datetime, config: dict) -> str:
    return moment.astimezone(_zone(config)).strftime("%Y-%m-%d %H:%M:%S")


async def call_log(config: dict, secrets: dict, since: datetime, until: datetime) -> list[dict]:
    """Every call of the period, splitting it while a page comes back full (6,500 calls)."""
    headers = _auth(secrets)
    async with _client(config) as client:
        response = await client.request(
            "GET",
            "/calls/list",
            params={
                "export_type": "json",
                "from": _stamp(since, config),
                "to": _stamp(until, config),
                "fields": LOG_FIELDS,
                "order": "calldate asc",
            },
            headers=headers,
        )
    if response.status_code in (401, 403):
        raise PluginError(_("Ringostat refused the Auth-key: check it in the plugin settings."), code="AUTH")
    if response.status_code != 200:
        raise PluginError(
            _("Ringostat answered HTTP %(status_code)s to the call log request.", status_code=response.status_code),
            retryable=True,
        )
    try:
        rows = response.json()
    except ValueError:
        raise PluginError(_("Ringostat's call log is not JSON."), retryable=True) from None
    if not isinstance(rows, list):
        raise PluginError(_("Ringostat's call log came in an unexpected format."))
    if len(rows) >= CALLS_PER_REQUEST and until - since > timedelta(minutes=1):
        middle = since + (until - since) / 2
        return [*await call_log(config, secrets, since, middle), *await call_log(config, secrets, middle, until)]
    return [r for r in rows if isinstance(r, dict)]


@hookimpl
async def crm_test_connection(config, secrets):
    now = datetime.now(UTC)
    await call_log(config, secrets, now - timedelta(minutes=5), now)
    return ConnectionResult(ok=True, message=_("Connected to Ringostat."))


@hookimpl
async def crm_telephony_listen(config, secrets, emit):
    """Reconcile: the ended calls of the last two hours from the call log, every few minutes."""
    minutes = _int(config.get("poll_minutes"))
    if not minutes or minutes <= 0:
        await asyncio.Event().wait()  # polling turned off: idle until the CRM stops us
        return
    while True:
        now = datetime.now(UTC)
        for row in await call_log(config, secrets, now - POLL_LOOKBACK, now):
            event = call_event(row, "ended", config)
            if event.call_id:
                await emit([event], f"end:{event.call_id}")
        await asyncio.sleep(minutes * 60)


def ringostat_number(phone: str) -> str:
    """Ringostat's format: digits with the country code (380671112233)."""
    return "".join(ch for ch in phone if ch.isdigit())


@hookimpl
async def crm_telephony_click_to_call(config, secrets, employee: str, phone: str):
    callee = (employee or "").strip()
    if not callee:
        raise PluginError(_("Give the employee's Ringostat number or SIP login."), code="INVALID")
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "Api\\V2\\Callback.external",
        "params": {
            "caller": ringostat_number(phone),
            "callee": callee,
            "projectId": str(config.get("project_id") or ""),
            "direction": "out",
            "manager_dst": 0,  # ring the employee first, then the customer
            "caller_type": "default",
            "callee_type": "default",
        },
    }
    async with _client(config) as client:
        # It starts a call: never sent twice (ProviderClient does not repeat a POST).
        response = await client.request("POST", "/a/v2", json=body, headers=_auth(secrets))
    try:
        answer = response.json()
    except ValueError:
        raise PluginError(
            _(
                "Ringostat answered HTTP %(status_code)s with something that is not JSON.",
                status_code=response.status_code,
            )
        ) from None
    if not isinstance(answer, dict):
        raise PluginError(_("Ringostat answered in an unexpected format."))
    error = answer.get("error")
    if error:
        said = str(error.get("message") if isinstance(error, dict) else error)[:200]
        code = str(error.get("code") if isinstance(error, dict) else "") or "ERROR"
        raise PluginError(_("Ringostat refused the call: %(said)s.", said=said), code=code)
    if response.status_code != 200:
        raise PluginError(_("Ringostat answered HTTP %(status_code)s.", status_code=response.status_code))
    result = answer.get("result")
    if isinstance(result, dict):
        return str(result.get("uniqueid") or result.get("call_id") or result.get("id") or "")
    return ""
