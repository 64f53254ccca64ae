"""Periodic work split into one job per plugin installation.

A periodic job that walked every organization's installations in one run let one tenant's
slow or hanging provider use up the run's time limit (``JOB_TIMEOUT_SECONDS``) and starve
everyone after it. Instead, the periodic job only lists the installations that have work and
queues one job per installation; each has its own time limit and retries, and workers run
them side by side.

Job ids are ``<job name>:<installation id>:<slot>``, the slot being the number of the
schedule's period since the epoch: two workers scheduling at the same moment, or a rerun of
the periodic job, queue each installation's work once per period.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from server.jobs.registry import enqueue


def slot(every_seconds: float, now: datetime | None = None) -> int:
    return int((now or datetime.now(UTC)).timestamp() // every_seconds)


async def enqueue_per_installation(
    job_name: str, installation_ids: Iterable[UUID], *, every_seconds: float, now: datetime | None = None
) -> list[str]:
    """Queue ``job_name(installation_id=...)`` once per installation for this period; the job ids."""
    period = slot(every_seconds, now)
    queued = []
    for installation_id in dict.fromkeys(installation_ids):
        job_id = f"{job_name}:{installation_id}:{period}"
        await enqueue(job_name, job_id=job_id, installation_id=str(installation_id))
        queued.append(job_id)
    return queued
