"""Partner webhook endpoints: register, change, remove, rotate their secret, and look at and
redeliver what was sent (docs/webhooks.md). Needs ``settings:write`` (owners and admins).

Every write runs in one transaction with its audit entry. Delivery jobs are handed to the
job backend after the commit (a job that ran before it would not see the rows); a job lost
on the way (Redis down) is handed on again by the sweeper (server/webhooks/jobs.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.roles import RowScope
from server.auth.scope import Scope
from server.config import Settings
from server.core.errors import ErrorCode, Problems, UserInputError, version_conflict
from server.core.text import limited_text
from server.core.versioning import update_versioned
from server.i18n import N_, _
from server.plugins.egress import check_url
from server.webhooks import delivery, events
from server.webhooks.models import MESSAGE_STATES, WebhookEndpoint, WebhookMessage
from server.webhooks.secrets import new_secret, seal, signing_secrets

MAX_OVERLAP_HOURS = 7 * 24
MAX_FILTER_VALUES = 50
URL_MAX = 2000
# server/plugins/egress.py's reasons, as sentences for the admin in their language.
EGRESS_REASONS = {
    "must be an https:// address": N_("The URL must be an https:// address."),
    "must be a public address, not a local name": N_("The URL must be a public address, not a local name."),
    "must be a public address, not a loopback, private or link-local one": N_(
        "The URL must be a public address, not a loopback, private or link-local one."
    ),
}


def _check_reader(scope: Scope, event_types: list[str], problems: Problems) -> None:
    """An endpoint receives whole objects of every row (built as an owner reads them): whoever
    sets one up must read those objects, on all rows and with every field, themselves."""
    role = scope.principal.role
    if role is None or role.scope is not RowScope.ALL or role.hidden_fields:
        problems.add(
            ErrorCode.FORBIDDEN,
            _("Only a role that reads all rows and every field may send them to a webhook."),
            "eventTypes",
        )
        return
    chosen = [events.EVENT_TYPES[t] for t in event_types or events.EVENT_TYPES if t in events.EVENT_TYPES]
    resources = sorted({subject.model.resource for subject in chosen})
    missing = [f"{r}:read" for r in resources if not scope.can(f"{r}:read")]
    if missing:
        problems.add(
            ErrorCode.FORBIDDEN,
            _(
                "Your role does not have %(permissions)s: choose event types you may read.",
                permissions=", ".join(missing),
            ),
            "eventTypes",
        )


def _clean(scope: Scope, settings: Settings, data: dict, problems: Problems) -> dict:
    values: dict = {}
    if data.get("include_pii") is not None:
        # Only someone who sees customers' data in full may send it to a partner in full.
        if data["include_pii"] and not scope.can("pii:read"):
            problems.add(
                ErrorCode.FORBIDDEN,
                _("Only a role with pii:read may send customers' phones, e-mails and addresses in full."),
                "includePii",
            )
        values["include_pii"] = bool(data["include_pii"])
    if "url" in data:
        url = (data["url"] or "").strip()
        if not url:
            problems.add(ErrorCode.REQUIRED, _("url is required."), "url")
        elif len(url) > URL_MAX:
            problems.add(ErrorCode.INVALID, _("The URL is too long."), "url")
        else:
            # The egress rules of plugins: public https addresses only (server/plugins/egress.py).
            why = check_url(url, allow_local=settings.allow_local_providers)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                problems.add(ErrorCode.INVALID, _("The URL must be an https:// address."), "url")
            elif why:
                problems.add(ErrorCode.INVALID, _(EGRESS_REASONS.get(why, N_("The URL is not allowed."))), "url")
            values["url"] = url
    if data.get("description") is not None:
        with problems:
            values["description"] = limited_text(data["description"], "description", 300) or ""
    if data.get("event_types") is not None:
        unknown = sorted(set(data["event_types"]) - set(events.EVENT_TYPES))
        if unknown:
            problems.add(
                ErrorCode.INVALID,
                _("Unknown event types: %(types)s.", types=", ".join(unknown)),
                "eventTypes",
            )
        values["event_types"] = sorted(set(data["event_types"]))
    if data.get("filters") is not None:
        filters = data["filters"]
        valid = isinstance(filters, dict) and all(
            isinstance(k, str)
            and isinstance(v, list)
            and 0 < len(v) <= MAX_FILTER_VALUES
            and all(isinstance(x, str | int | bool) for x in v)
            for k, v in filters.items()
        )
        if not valid:
            problems.add(
                ErrorCode.INVALID,
                _('Filters are an object of field name to a list of allowed values, e.g. {"source": ["rozetka"]}.'),
                "filters",
            )
        elif any(key in fields for fields in events.PII_DATA.values() for key in filters):
            # A filter on a phone or an address would tell, delivery by delivery, whether a guess is right.
            problems.add(
                ErrorCode.INVALID, _("Filters cannot be on customers' phones, e-mails or addresses."), "filters"
            )
        values["filters"] = filters
    return values


async def create_endpoint(scope: Scope, settings: Settings, data: dict) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its signing secret (shown this once)."""
    scope.require("settings:write")
    problems = Problems()
    values = _clean(scope, settings, {"url": data.get("url")} | data, problems)
    _check_reader(scope, values.get("event_types") or [], problems)
    problems.raise_if_any()
    secret = new_secret()
    endpoint_id = uuid4()
    async with in_transaction():
        endpoint = await WebhookEndpoint.create(
            id=endpoint_id,
            organization_id=scope.organization_id,
            secrets=seal(settings, endpoint_id, secret),
            enabled=data.get("enabled") is not False,
            **values,
        )
        await audit.record(scope, "webhook_endpoint.create", endpoint, {k: [None, v] for k, v in values.items()})
    return endpoint, secret


async def list_endpoints(scope: Scope) -> list[WebhookEndpoint]:
    scope.require("settings:write")
    return await scope.queryset(WebhookEndpoint).order_by("created_at")


async def get_endpoint(scope: Scope, pk: UUID | None, field: str = "id") -> WebhookEndpoint:
    scope.require("settings:write")
    return await scope.get(WebhookEndpoint, pk, "write", what=_("Webhook endpoint"), field=field)


async def update_endpoint(scope: Scope, settings: Settings, pk: UUID, version: int, data: dict) -> WebhookEndpoint:
    """Change an endpoint. ``enabled: true`` on a disabled one clears the failure record and
    resumes its backlog, oldest first (``delivery.resume``)."""
    endpoint = await get_endpoint(scope, pk)
    problems = Problems()
    if endpoint.include_pii and not scope.can("pii:read"):
        # It sends customers' data in full: only someone who sees it may point it elsewhere.
        problems.add(
            ErrorCode.FORBIDDEN,
            _("This endpoint receives customers' data in full: only a role with pii:read may change it."),
            "includePii",
        )
    values = _clean(scope, settings, data, problems)
    _check_reader(scope, values.get("event_types", endpoint.event_types), problems)
    problems.raise_if_any()
    resumed = False
    if "enabled" in data and data["enabled"] is not None and data["enabled"] != endpoint.enabled:
        values["enabled"] = data["enabled"]
        if data["enabled"]:
            values |= {"disabled_reason": "", "disabled_at": None, "failure_streak": 0}
            resumed = True
        else:
            values |= {"disabled_reason": _("Disabled by a person."), "disabled_at": datetime.now(UTC)}
    async with in_transaction():
        changes = await update_versioned(endpoint, version, values)
        await audit.record(scope, "webhook_endpoint.update", endpoint, changes)
    if resumed:
        await delivery.resume(endpoint)
    return endpoint


async def delete_endpoint(scope: Scope, pk: UUID, version: int) -> WebhookEndpoint:
    """Stops deliveries at once; its messages and their attempts go with it."""
    endpoint = await get_endpoint(scope, pk)
    async with in_transaction():
        deleted = await WebhookEndpoint.filter(id=endpoint.id, version=version).delete()
        if not deleted:
            raise version_conflict()
        await audit.record(scope, "webhook_endpoint.delete", endpoint, {"url": [endpoint.url, None]})
    return endpoint


async def rotate_secret(
    scope: Scope, settings: Settings, pk: UUID, version: int, overlap_hours: int
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret; the old one keeps signing (a second signature) for
    ``overlap_hours`` so receivers can switch without losing a webhook."""
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise UserInputError(
            ErrorCode.INVALID,
            _("The overlap must be between 0 and %(max)s hours.", max=MAX_OVERLAP_HOURS),
            "overlapHours",
        )
    endpoint = await get_endpoint(scope, pk)
    now = datetime.now(UTC)
    current = signing_secrets(settings, endpoint, now)[0]
    secret = new_secret()
    values = {
        "secrets": seal(settings, endpoint.id, secret, current if overlap_hours else None),
        "previous_expires_at": now + timedelta(hours=overlap_hours) if overlap_hours else None,
    }
    async with in_transaction():
        await update_versioned(endpoint, version, values)
        # The audit trail says that it happened, never the secrets.
        await audit.record(
            scope,
            "webhook_endpoint.rotate_secret",
            endpoint,
            {"previous_expires_at": [None, values["previous_expires_at"]]},
        )
    return endpoint, secret


# -- deliveries ---------------------------------------------------------------------------


def messages_query(scope: Scope, endpoint_id: UUID | None, status: str | None, since: datetime | None):
    scope.require("settings:write")
    query = scope.queryset(WebhookMessage)
    if endpoint_id is not None:
        query = query.filter(endpoint_id=endpoint_id)
    if status is not None:
        if status not in MESSAGE_STATES:
            raise UserInputError(ErrorCode.INVALID, _("Unknown delivery status."), "status")
        query = query.filter(status=status)
    if since is not None:
        query = query.filter(created_at__gte=since)
    return query


async def redeliver(scope: Scope, pk: UUID) -> WebhookMessage:
    """Send one message again now, whatever became of it (a new round of tries)."""
    scope.require("settings:write")
    message = await scope.get(WebhookMessage, pk, "write", what=_("Webhook delivery"), field="id")
    async with in_transaction():
        await delivery.restart(message)
        await audit.record(scope, "webhook_message.redeliver", message, {"status": [message.status, "pending"]})
    await delivery.schedule_or_leave_to_sweeper(message)
    return message


async def redeliver_failed(scope: Scope, endpoint_id: UUID, since: datetime) -> int:
    """Send again every message of the endpoint that failed for good since ``since``."""
    endpoint = await get_endpoint(scope, endpoint_id, "endpointId")
    async with in_transaction():
        messages = (
            await messages_query(scope, endpoint.id, "failed", since).order_by("created_at", "id").select_for_update()
        )
        for message in messages:
            await delivery.restart(message)
        await audit.record(scope, "webhook_endpoint.redeliver_failed", endpoint, {"redelivered": [None, len(messages)]})
    for message in messages:
        await delivery.schedule_or_leave_to_sweeper(message)
    return len(messages)


async def send_test(scope: Scope, settings: Settings, endpoint_id: UUID) -> WebhookMessage:
    """A ``webhook.test`` event sent now, once, whatever the endpoint subscribed to (also to a
    disabled endpoint: it is how an admin checks the receiver before enabling it again)."""
    endpoint = await get_endpoint(scope, endpoint_id, "endpointId")
    now = datetime.now(UTC)
    async with in_transaction():
        message = await WebhookMessage.create(
            organization_id=scope.organization_id,
            endpoint=endpoint,
            event_id=uuid4(),
            event_type=events.TEST_EVENT,
            payload=events.test_payload(endpoint.id, now),
            status="pending",
        )
        await audit.record(scope, "webhook_endpoint.test", endpoint, {})
    await delivery.try_once(settings, message, endpoint, trigger="test")
    return message
