"""Background work of partner webhooks (registered through server/jobs/__init__.py).

- ``fan_out``: a batch handler (server/jobs/registry.py ``on_events``): each outbox event
  becomes one message per endpoint that subscribed to its type and whose filters it passes;
  unique per (endpoint, event), so running it twice adds nothing. Messages are recorded for
  disabled endpoints too (their backlog), and sent to enabled ones. A batch of events costs a
  fixed number of SQL statements (``fan_out_many``).
- ``deliver``: one try of one message; ``deliver_batch``: one try of each of a batch of
  messages (up to ``JOB_BATCH_SIZE`` of one endpoint), sent concurrently
  (server/webhooks/delivery.py).
- ``sweep``: every minute, hands on tries overdue by more than 30 s whose job was lost (Redis
  went away between recording a message and enqueueing its try), in batches; the job id makes
  it a no-op for tries already queued, and the claim for tries another job took meanwhile.
- ``cleanup``: deletes finished messages (and their attempts) older than
  ``WEBHOOK_RETENTION_DAYS``, ``WEBHOOK_CLEANUP_BATCH`` rows per statement.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from server.config import Settings
from server.jobs.registry import Event, job, on_events, periodic
from server.jobs.runner import event_of
from server.organizations.models import Organization
from server.webhooks import delivery, events
from server.webhooks import events as events_of
from server.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage

log = logging.getLogger("crm.webhooks")

SWEEP_BATCH = 500
SWEEP_GRACE = timedelta(seconds=30)
CLEANUP_MAX_BATCHES = 100  # per run; the next run goes on


@on_events(*events.EVENT_TYPES, name="webhooks.fan_out")
async def fan_out(
    event: Event | None = None, events: list[Event] | None = None, *, settings: Settings | None = None
) -> int:
    """Record the messages of ``event`` (one) or ``events`` (the relay's batch) and schedule
    their tries; how many messages the events make (recorded before or now)."""
    return await fan_out_many(event_of(event, events), settings or Settings())


async def fan_out_many(batch: list[Event], settings: Settings) -> int:
    """A fixed number of SQL statements whatever the number of events: the endpoints, the
    organizations, the objects (one query per organization and kind of object), one INSERT of
    the messages, one read of those still to try; then one delivery job per endpoint and
    ``JOB_BATCH_SIZE`` messages (server/webhooks/delivery.py)."""
    if not batch:
        return 0
    org_ids = list({e.organization_id for e in batch})
    by_org: dict = {}
    for endpoint in await WebhookEndpoint.filter(organization_id__in=org_ids).order_by("created_at", "id"):
        by_org.setdefault(endpoint.organization_id, []).append(endpoint)  # type: ignore[attr-defined]
    wanted = [
        (e, [x for x in by_org.get(e.organization_id, ()) if not x.event_types or e.topic in x.event_types])
        for e in batch
    ]
    wanted = [(e, chosen) for e, chosen in wanted if chosen]
    if not wanted:
        return 0
    organizations = {o.id: o for o in await Organization.filter(id__in=list({e.organization_id for e, _ in wanted}))}
    per_org: dict = {}
    for e, chosen in wanted:
        per_org.setdefault(e.organization_id, []).append((e, chosen))
    now = datetime.now(UTC)
    rows: list[WebhookMessage] = []
    for organization_id, group in per_org.items():
        scope = delivery.app_scope(organizations[organization_id])
        payloads = await events_of.build_payloads(scope, [(e.topic, e.payload, e.created_at) for e, _ in group])
        for (e, chosen), payload in zip(group, payloads, strict=True):
            if payload is None:
                continue
            rows += [
                WebhookMessage(
                    organization_id=e.organization_id,
                    endpoint_id=endpoint.id,
                    event_id=e.id,
                    event_type=e.topic,
                    payload=payload if endpoint.include_pii else events_of.mask_payload(payload),
                    next_attempt_at=now,
                )
                for endpoint in chosen
                if events_of.matches(endpoint.filters, payload)
            ]
    if not rows:
        return 0
    await WebhookMessage.bulk_create(rows, ignore_conflicts=True)
    enabled = list({e.id for _, chosen in wanted for e in chosen if e.enabled})
    # By the messages' unique key (endpoint, event) only, their state checked here: with the
    # status in the query, a planner whose statistics predate a burst reads every pending
    # message of the endpoint through its status index, for every batch.
    found = (
        await WebhookMessage.filter(event_id__in=list({r.event_id for r in rows}), endpoint_id__in=enabled)
        .order_by("created_at", "id")
        .only("id", "endpoint_id", "attempt_count", "next_attempt_at", "status")  # what scheduling needs
    )
    await delivery.schedule_many([m for m in found if m.status == "pending" and m.attempt_count == 0], settings)
    return len(rows)


@job(name=delivery.DELIVER_JOB)
async def deliver(message_id: str, tries: int, settings: Settings, due: int | None = None) -> str:
    return await delivery.deliver(message_id, tries, settings, due)


@job(name=delivery.DELIVER_BATCH_JOB)
async def deliver_batch(items: list, settings: Settings) -> dict[str, str]:
    """One try of each ``[message id, tries, due ms]`` (server/webhooks/delivery.py)."""
    return await delivery.deliver_many([(str(i), int(t), d) for i, t, d in items], settings)


@periodic(seconds=60, name="webhooks.sweep")
async def sweep(now: datetime | None = None, settings: Settings | None = None) -> int:
    """Hand on, in batches, tries overdue by more than ``SWEEP_GRACE``: a try due more
    recently is most likely still waiting in the queue (a burst of thousands of messages), and
    a second job for it would only find it taken."""
    now = now or datetime.now(UTC)
    due = (
        await WebhookMessage.filter(status="pending", next_attempt_at__lte=now - SWEEP_GRACE, endpoint__enabled=True)
        .order_by("next_attempt_at", "id")
        .limit(SWEEP_BATCH)
    )
    await delivery.schedule_many(due, settings or Settings())
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
