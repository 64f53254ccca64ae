"""Inbound provider webhooks: ``/hooks/<plugin>/<token>/<path>``.

1. The installation is found by the SHA-256 of the URL token. An unknown token, a token of
   another plugin, a disabled installation and a plugin missing from this server all get
   the same 404, after the same single indexed lookup, so probing tells nothing.
2. The installation's IP allow-list, if set, is checked against the caller's address
   (behind a proxy, run uvicorn with ``--proxy-headers --forwarded-allow-ips``).
3. The plugin's ``crm_webhook`` hook verifies the provider's signature and normalizes the
   request into events plus a dedupe key.
4. In ONE transaction: the ``WebhookDelivery`` row (unique per installation and dedupe key)
   and the events applied through the domain services, as a system principal of the
   installation's organization. A redelivery finds the row, is answered like the first time
   and applies nothing; if applying fails, nothing is kept and the provider's retry applies it.
5. The plugin's response goes back to the provider (Binotel expects ``{"status": "success"}``).

Applying events (``apply_event``): a ``CallEvent`` that has ``ended`` becomes a ``call``
activity on the account found by the customer's phone (E.164), or on a new lead account
for an unknown number, one per call id. Other call states, message delivery statuses and
``PluginEvent`` values become outbox events for the rest of the system. An ``InboundMessage``
(a customer wrote in a chat) is filed in the customer's conversation, once per provider message
id (server/conversations/service.receive_message).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.accounts import service as accounts
from server.activities import service as activities
from server.auth.scope import Scope
from server.config import Settings
from server.core import idempotency, outbox
from server.core.errors import UserInputError
from server.core.phones import try_e164
from server.http.body import BadJSON, BodyTooLarge, loads, read_body
from server.organizations.models import Organization
from server.plugins import service
from server.plugins.manager import get_manager
from server.plugins.models import PluginInstallation, WebhookDelivery
from server.plugins.types import (
    CallEvent,
    InboundMessage,
    MessageStatus,
    PaymentUpdate,
    PluginError,
    PluginEvent,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)
from server.telephony import missed

log = logging.getLogger("crm.plugins.webhooks")

MAX_BODY_BYTES = 1_000_000
DEDUPE_KEY_MAX = 200


def system_scope(installation: PluginInstallation, organization: Organization) -> Scope:
    """Webhook events are applied as ``app plugin:<name>``: accounts and timeline entries only."""
    return Scope.for_app(organization, f"plugin:{installation.plugin}", "plugin-webhook")


# -- the endpoint --------------------------------------------------------------------------


def _not_found() -> JSONResponse:
    return JSONResponse({"error": "not found"}, status_code=404)


def _settings(request: Request) -> Settings:
    """The settings the app was built with, so secrets decrypt with the same SECRET_KEY."""
    return request.app.state.settings


async def _find(plugin_name: str, token: str) -> PluginInstallation | None:
    digest = service.token_hash(token)
    installation = await PluginInstallation.get_or_none(webhook_token_hash=digest)
    manager = get_manager()
    if (
        installation is None
        or not hmac.compare_digest(installation.webhook_token_hash, digest)
        or installation.plugin != plugin_name
        or not installation.enabled
        or manager.get(plugin_name) is None
        or not manager.implements(plugin_name, "crm_webhook")
    ):
        return None
    return installation


def ip_allowed(client_ip: str | None, allowed: list[str]) -> bool:
    if not allowed:
        return True
    if not client_ip:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        # A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; the list says a.b.c.d.
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)


def public_url(request: Request, settings: Settings) -> str:
    """The URL as the provider called it: what Twilio signs.

    With PUBLIC_URL (``settings.public_url``, ``https://crm.example.com`` or with a path prefix
    ``https://example.com/crm``) it is rebuilt exactly as the webhook URL was issued
    (``service.webhook_url``): the base, ``/hooks/<plugin>/<token>/``, the path the provider
    added, and the query string byte for byte. Without it, the URL the server was reached at
    (behind a proxy, run uvicorn with ``--proxy-headers`` so scheme and host are the public ones)."""
    base = settings.public_url
    if not base:
        return str(request.url)
    params = request.path_params
    if "plugin" in params and "token" in params:
        url = service.webhook_url(base, params["plugin"], params["token"]) + params.get("path", "")
    else:
        url = base.rstrip("/") + request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return url + (f"?{query}" if query else "")


def webhook_request(request: Request, body: bytes, path: str, settings: Settings) -> WebhookRequest:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    content_type = headers.get("content-type", "").lower()
    form_items: list[tuple[str, str]] = []
    parsed_json = None
    if content_type.startswith("application/x-www-form-urlencoded"):
        form_items = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    elif "json" in content_type and body:
        try:
            parsed_json = loads(body)
        except BadJSON:  # the plugin still gets the raw body and decides
            parsed_json = None
    return WebhookRequest(
        method=request.method,
        url=public_url(request, settings),
        path=path,
        headers=headers,
        query=dict(request.query_params),
        body=body,
        form=dict(form_items),
        form_items=form_items,
        json=parsed_json,
        client_ip=request.client.host if request.client else None,
    )


def to_response(answer: WebhookResponse) -> Response:
    body = answer.body
    if isinstance(body, dict | list):
        return JSONResponse(body, status_code=answer.status, headers=answer.headers)
    if isinstance(body, str):
        return PlainTextResponse(
            body, status_code=answer.status, headers=answer.headers, media_type=answer.content_type
        )
    return Response(body or b"", status_code=answer.status, headers=answer.headers, media_type=answer.content_type)


async def handle(request: Request) -> Response:
    plugin_name = request.path_params.get("plugin", "")
    token = request.path_params.get("token", "")
    path = request.path_params.get("path", "")
    installation = await _find(plugin_name, token)
    if installation is None:
        return _not_found()
    client_ip = request.client.host if request.client else None
    if not ip_allowed(client_ip, installation.allowed_ips):
        log.warning("webhook %s installation %s: refused address %s", plugin_name, installation.id, client_ip)
        return JSONResponse({"error": "forbidden"}, status_code=403)
    try:
        body = await read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        return JSONResponse({"error": "request body too large"}, status_code=413)
    settings = _settings(request)
    incoming = webhook_request(request, body, path, settings)
    try:
        result = await service.call(settings, installation, "crm_webhook", request=incoming)
    except WebhookRejected as exc:
        log.warning("webhook %s installation %s rejected: %s", plugin_name, installation.id, exc.reason)
        return JSONResponse({"error": "rejected"}, status_code=exc.status)
    except PluginError as exc:
        # The caller is not authenticated (a token in a URL, maybe leaked): the plugin's message
        # may describe settings or the provider's answers, so it goes to the log only.
        log.warning("webhook %s installation %s: %s", plugin_name, installation.id, exc.message)
        if exc.retryable:
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return JSONResponse({"error": "bad request"}, status_code=400)
    except Exception:
        return _internal_error(plugin_name, installation, "the plugin failed to handle the request")
    if not isinstance(result, WebhookResult):
        return _internal_error(plugin_name, installation, f"crm_webhook returned {type(result).__name__}")
    key = dedupe_key(result.dedupe_key, body)
    try:
        outcome = await record_and_apply(installation, key, path, result.events)
    except Exception:
        return _internal_error(plugin_name, installation, "applying the events failed")
    log.info("webhook %s installation %s: %s (%d events)", plugin_name, installation.id, outcome, len(result.events))
    return to_response(result.response)


def _internal_error(plugin_name: str, installation: PluginInstallation, what: str) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    log.exception("webhook %s installation %s: %s (error id %s)", plugin_name, installation.id, what, error_id)
    # 5xx: providers retry, and nothing was kept, so the retry applies the delivery.
    return JSONResponse({"error": "internal error", "errorId": error_id}, status_code=500)


def dedupe_key(given: str | None, body: bytes) -> str:
    if not given:
        return "sha256:" + hashlib.sha256(body).hexdigest()
    if len(given) > DEDUPE_KEY_MAX:
        return "sha256:" + hashlib.sha256(given.encode()).hexdigest()
    return given


# -- recording and applying ------------------------------------------------------------


async def _redelivered(installation: PluginInstallation, key: str) -> bool:
    updated = await WebhookDelivery.filter(installation_id=installation.id, dedupe_key=key).update(
        attempts=F("attempts") + 1, last_received_at=datetime.now(UTC)
    )
    return bool(updated)


async def record_and_apply(installation: PluginInstallation, key: str, path: str, events: list) -> str:
    """``"applied"``, or ``"duplicate"`` for a delivery already recorded (nothing applied)."""
    if await _redelivered(installation, key):
        return "duplicate"
    organization = await Organization.get(id=installation.organization_id)  # type: ignore[attr-defined]
    scope = system_scope(installation, organization)
    now = datetime.now(UTC)
    try:
        async with in_transaction():
            delivery = await WebhookDelivery.create(
                organization_id=organization.id,
                installation_id=installation.id,
                dedupe_key=key,
                path=path[:200],
                event_count=len(events),
                last_received_at=now,
            )
            applied = [await apply_event(scope, installation, event) for event in events]
            delivery.result = {"events": applied}
            await delivery.save(update_fields=["result"])
    except IntegrityError:
        # A concurrent delivery with the same key committed first: it applied the events.
        if await _redelivered(installation, key):
            return "duplicate"
        raise
    except UserInputError as exc:
        # The events are wrong (the plugin mapped something a service refuses): a retry would
        # fail the same way, so keep the delivery with the reason and do not ask for one.
        log.warning("plugin %s: events refused: %s (%s)", installation.plugin, exc.message, exc.field)
        await WebhookDelivery.create(
            organization_id=organization.id,
            installation_id=installation.id,
            dedupe_key=key,
            path=path[:200],
            event_count=len(events),
            last_received_at=now,
            result={"error": exc.message, "field": exc.field},
        )
        return "refused"
    return "applied"


async def apply_event(scope: Scope, installation: PluginInstallation, event) -> dict:
    if isinstance(event, CallEvent):
        return await apply_call(scope, installation, event)
    if isinstance(event, InboundMessage):
        from server.conversations import service as conversations  # it imports the plugin types

        return await conversations.receive_message(scope, installation.id, installation.plugin, event)
    if isinstance(event, MessageStatus):
        await outbox.emit(
            scope.organization_id,
            "message.status",
            {
                "installation_id": installation.id,
                "plugin": installation.plugin,
                "provider_message_id": event.provider_message_id,
                "status": event.status,
                "provider_status": event.provider_status,
                "error_code": event.error_code,
                "changed_at": event.changed_at,
            },
        )
        return {"type": "message_status", "id": event.provider_message_id, "status": event.status}
    if isinstance(event, PaymentUpdate):
        from server.payments import service as payments  # it imports the plugin service

        return await payments.apply_update(scope, installation, event)
    if isinstance(event, PluginEvent):
        topic = f"plugin.{event.topic}"[:64]
        await outbox.emit(
            scope.organization_id,
            topic,
            {**event.payload, "installation_id": installation.id, "plugin": installation.plugin},
        )
        return {"type": "event", "topic": topic}
    log.warning("plugin %s produced an unknown event type %s", installation.plugin, type(event).__name__)
    return {"type": "unknown", "class": type(event).__name__}


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 60}:{seconds % 60:02d}"


def _call_subject(event: CallEvent, phone: str) -> str:
    direction = "Outgoing call to" if event.direction == "outbound" else "Incoming call from"
    details = ", ".join(x for x in (event.disposition, _duration(event.duration_seconds)) if x)
    return f"{direction} {phone}" + (f" ({details})" if details else "")


def _aware(moment: datetime | None) -> datetime | None:
    """Plugins should send aware times; a naive one is taken as UTC rather than refused."""
    if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
        return moment.replace(tzinfo=UTC)
    return moment


def _call_key(installation: PluginInstallation, call_id: str) -> str:
    """One activity per call, whichever of the provider's events reported its end."""
    return "call:" + hashlib.sha256(f"{installation.id}:{call_id}".encode()).hexdigest()[:64]


def _call_payload(installation: PluginInstallation, event: CallEvent) -> dict:
    return {
        "provider": installation.plugin,
        "installation_id": str(installation.id),
        "call_id": event.call_id,
        "state": event.state,
        "direction": event.direction,
        "caller": event.caller,
        "callee": event.callee,
        "employee": event.employee,
        "duration_seconds": event.duration_seconds,
        "wait_seconds": event.wait_seconds,
        "disposition": event.disposition,
        "recording_ref": event.recording_ref,
        "recording_url": event.recording_url,
        "extension": event.extension,
        "tracking": {k: v for k, v in (event.tracking or {}).items() if v not in (None, "")},
    }


async def apply_call(scope: Scope, installation: PluginInstallation, event: CallEvent) -> dict:
    payload = _call_payload(installation, event)
    if event.state != "ended":
        # A live call: for a screen pop, not for the timeline.
        await outbox.emit(scope.organization_id, f"call.{event.state}"[:64], payload)
        return {"type": "call", "state": event.state, "call_id": event.call_id}
    phone = try_e164(event.customer_phone or "")
    key = _call_key(installation, event.call_id)
    logged = await idempotency.find(scope.organization_id, "createActivity", key)
    if logged is not None:
        # Reported before by another event (Ringostat's webhook and its call log, Binotel's
        # hang-up and its summary, a second worker): the first report stands, nothing twice.
        return {"type": "call", "state": "ended", "call_id": event.call_id, "activity_id": str(logged), "again": True}
    if phone is None:
        await outbox.emit(scope.organization_id, "call.ended", payload)
        return {"type": "call", "state": "ended", "call_id": event.call_id, "skipped": "no customer phone number"}
    found = await accounts.find_by_phone(scope, phone)
    created = not found
    if found:
        account = found[0]
    else:
        pretty = phonenumbers.format_number(phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        # Call tracking knows where a new customer came from (utm_source): the account's
        # acquisition source, which analytics groups by (LTV:CAC per source).
        source = str((event.tracking or {}).get("utm_source") or installation.plugin)[:64]
        account = await accounts.create_account(
            scope, {"name": pretty, "phones": [phone], "tags": ["lead"], "source": source}
        )
    activity = await activities.create_activity(
        scope,
        {
            "kind": "call",
            "account_id": account.id,
            "subject": _call_subject(event, phone),
            "data": {k: v for k, v in payload.items() if v not in (None, "", {})},
            "occurred_at": _aware(event.started_at) or datetime.now(UTC),
        },
        idempotency_key=key,
    )
    task = None
    if missed.is_missed(event):
        task, _ = await missed.call_back_task(scope.organization_id, key, event, phone, account, activity)
    # The call is over: a screen pop can close and show where it was logged.
    await outbox.emit(
        scope.organization_id,
        "call.ended",
        {
            **payload,
            "account_id": account.id,
            "activity_id": activity.id,
            "task_id": task.id if task is not None else None,
        },
    )
    return {
        "type": "call",
        "state": "ended",
        "call_id": event.call_id,
        "account_id": str(account.id),
        "account_created": created,
        "activity_id": str(activity.id),
        **({"task_id": str(task.id)} if task is not None else {}),
    }
