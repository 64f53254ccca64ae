"""Background work of partner webhooks (registered through server/jobs/__init__.py).

- ``fan_out``: an outbox event becomes one message per endpoint that subscribed to its type
  and whose filters it passes; unique per (endpoint, event), so running it twice adds nothing.
  Messages are recorded for disabled endpoints too (their backlog), and sent to enabled ones.
- ``deliver``: one try of one message (server/webhooks/delivery.py).
- ``sweep``: every minute, hands on tries that are due but whose job was lost (Redis went
  away between recording a message and enqueueing its try); the job id makes it a no-op
  for tries already queued.
- ``cleanup``: deletes finished messages (and their attempts) older than
  ``WEBHOOK_RETENTION_DAYS``, ``WEBHOOK_CLEANUP_BATCH`` rows per statement.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from server.config import Settings
from server.jobs.registry import Event, job, on_event, periodic
from server.organizations.models import Organization
from server.webhooks import delivery, events
from server.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage

log = logging.getLogger("crm.webhooks")

SWEEP_BATCH = 500
CLEANUP_MAX_BATCHES = 100  # per run; the next run goes on


@on_event(*events.EVENT_TYPES, name="webhooks.fan_out")
async def fan_out(event: Event) -> int:
    endpoints = [
        e
        for e in await WebhookEndpoint.filter(organization_id=event.organization_id)
        if not e.event_types or event.topic in e.event_types
    ]
    if not endpoints:
        return 0
    organization = await Organization.get(id=event.organization_id)
    payload = await events.build_payload(delivery.app_scope(organization), event.topic, event.payload, event.created_at)
    if payload is None:
        return 0
    chosen = [e for e in endpoints if events.matches(e.filters, payload)]
    rows = [
        WebhookMessage(
            organization_id=event.organization_id,
            endpoint_id=endpoint.id,
            event_id=event.id,
            event_type=event.topic,
            payload=payload if endpoint.include_pii else events.mask_payload(payload),
            next_attempt_at=datetime.now(UTC),
        )
        for endpoint in chosen
    ]
    if rows:
        await WebhookMessage.bulk_create(rows, ignore_conflicts=True)
    enabled = [e.id for e in chosen if e.enabled]
    for message in await WebhookMessage.filter(
        event_id=event.id, endpoint_id__in=enabled, status="pending", attempt_count=0
    ):
        await delivery.schedule(message)
    return len(rows)


@job(name=delivery.DELIVER_JOB)
async def deliver(message_id: str, tries: int, settings: Settings, due: int | None = None) -> str:
    return await delivery.deliver(message_id, tries, settings, due)


@periodic(seconds=60, name="webhooks.sweep")
async def sweep(now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    due = (
        await WebhookMessage.filter(status="pending", next_attempt_at__lte=now, endpoint__enabled=True)
        .order_by("next_attempt_at", "id")
        .limit(SWEEP_BATCH)
    )
    for message in due:
        await delivery.schedule(message)
    return len(due)


@periodic(seconds=3600, name="webhooks.cleanup")
async def cleanup(settings: Settings, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    before = now - timedelta(days=settings.webhook_retention_days)
    deleted = 0
    for _ in range(CLEANUP_MAX_BATCHES):
        batch = (
            await WebhookMessage.filter(status__in=("succeeded", "failed"), updated_at__lt=before)
            .order_by("updated_at")
            .limit(settings.webhook_cleanup_batch)
            .values_list("id", flat=True)
        )
        if not batch:
            break
        await WebhookAttempt.filter(message_id__in=batch).delete()
        deleted += await WebhookMessage.filter(id__in=batch).delete()
        if len(batch) < settings.webhook_cleanup_batch:
            break
    return deleted
