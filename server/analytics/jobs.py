"""The nightly RFM recompute: a periodic job queues one job per organization per UTC day;
each of those claims its day in the database, so it runs once however many workers, retries
or reruns there are (server/analytics/service.py ``nightly_rfm``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from server.analytics.service import nightly_rfm
from server.jobs.registry import enqueue, job, periodic
from server.organizations.models import Organization

CHECK_EVERY_SECONDS = 3600  # hourly: a day missed while workers were down is caught up within the hour


@periodic(seconds=CHECK_EVERY_SECONDS, name="analytics.schedule_rfm")
async def schedule_rfm(*, now: datetime | None = None) -> int:
    """Queue today's recompute of every organization (job id per organization and day)."""
    now = now or datetime.now(UTC)
    day = now.astimezone(UTC).date().isoformat()
    organization_ids = await Organization.all().values_list("id", flat=True)
    for organization_id in organization_ids:
        await enqueue(
            "analytics.recompute_rfm",
            job_id=f"analytics.rfm:{organization_id}:{day}",
            organization_id=str(organization_id),
            day=day,
        )
    return len(organization_ids)


@job("analytics.recompute_rfm")
async def recompute_rfm_job(organization_id: str, day: str | None = None, *, now: datetime | None = None) -> dict:
    """The organization's recompute for ``day`` (ISO date; default today, UTC)."""
    organization = await Organization.get_or_none(id=organization_id)
    if organization is None:
        return {"skipped": "The organization was removed."}
    scored = await nightly_rfm(organization, date.fromisoformat(day) if day else None, now)
    return {"skipped": "Already done that day."} if scored is None else {"scored": scored}
