"""Keeping the bookkeeping tables small: finished jobs, relayed outbox events and webhook
delivery records are kept for a while (to answer "did this run?", and as the memory that
makes a redelivered webhook a no-op), then deleted, and so are partners' expired access
tokens, their used or expired authorization codes and expired or revoked refresh tokens, and
persisted queries (without Redis), and exports' expired files. Failed jobs stay until someone looks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.config import Settings
from server.core.models import OutboxEvent
from server.exports.service import fail_stale_exports, forget_expired_exports
from server.graphql.persisted import forget_expired
from server.jobs.models import JobRun
from server.jobs.registry import periodic
from server.oauth.housekeeping import forget_oauth_rows
from server.oauth.models import OAuthAccessToken
from server.plugins.models import WebhookDelivery

KEEP_DONE_JOBS = timedelta(days=7)
KEEP_OUTBOX = timedelta(days=7)
KEEP_WEBHOOK_DELIVERIES = timedelta(days=30)  # providers redeliver for hours, not weeks


@periodic(seconds=3600, name="jobs.housekeeping")
async def housekeeping(now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    return {
        # "retried": a failure someone ran again with `crm jobs retry` (a new failure is a new row).
        "jobs": await JobRun.filter(state__in=("done", "retried"), finished_at__lt=now - KEEP_DONE_JOBS).delete(),
        # created_at too: it is indexed (dispatched_at only where still NULL, for the relay),
        # and an event is dispatched after it was created.
        "outbox": await OutboxEvent.filter(
            created_at__lt=now - KEEP_OUTBOX, dispatched_at__lt=now - KEEP_OUTBOX
        ).delete(),
        "webhook_deliveries": await WebhookDelivery.filter(last_received_at__lt=now - KEEP_WEBHOOK_DELIVERIES).delete(),
        "oauth_tokens": await OAuthAccessToken.filter(expires_at__lt=now).delete(),  # useless once expired
        **await forget_oauth_rows(now),
        # Clients register a forgotten persisted query again by themselves (docs/api.md).
        "persisted_queries": await forget_expired(Settings(), now),
        # Exports' files once their link expired (docs/import-export.md), a batch at a time.
        "export_files": await forget_expired_exports(now),
        "stale_exports": await fail_stale_exports(now),
    }
