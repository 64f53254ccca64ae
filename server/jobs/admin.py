"""Failed jobs, for operators (``crm jobs ...``): list them, run them again, forget them.

A job is recorded as failed in ``job_run`` after its last try (both backends), or when a
provider refused for good. Jobs are idempotent, so running one again is safe: a notification
already sent is not sent twice, an order already imported is not imported twice.

Running again: without ``REDIS_URL`` the row goes back to the in-process queue; with it, the
job is queued to arq under a new id (arq still remembers the old one for a day) and the row
is marked ``retried``, so a new failure is a new row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from server.config import Settings
from server.core.errors import ErrorCode, UserInputError
from server.jobs.models import JobRun


def _as_row(job: JobRun) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "name": job.name,
        "attempts": job.attempts,
        "failed_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.last_error,
        "kwargs": job.kwargs,
    }


async def failed_jobs(limit: int = 100) -> list[dict[str, Any]]:
    """The most recent failures first."""
    rows = await JobRun.filter(state="failed").order_by("-finished_at", "-id").limit(limit)
    return [_as_row(r) for r in rows]


async def _chosen(job_ids: list[str], every: bool) -> list[JobRun]:
    if every:
        return await JobRun.filter(state="failed").order_by("finished_at", "id")
    if not job_ids:
        raise UserInputError(ErrorCode.REQUIRED, "Name the job ids (see `crm jobs failed`) or pass --all.")
    found = {j.job_id: j for j in await JobRun.filter(job_id__in=job_ids, state="failed")}
    missing = [i for i in job_ids if i not in found]
    if missing:
        raise UserInputError(ErrorCode.NOT_FOUND, f"No failed job with id {', '.join(missing)}.")
    return [found[i] for i in job_ids]


async def retry_failed(settings: Settings, job_ids: list[str], *, every: bool = False) -> list[str]:
    """Queue the failed jobs again; the ids they run under."""
    jobs = await _chosen(job_ids, every)
    now = datetime.now(UTC)
    if not settings.redis_url:
        await JobRun.filter(id__in=[j.id for j in jobs], state="failed").update(
            state="queued", attempts=0, run_after=now, locked_until=None, finished_at=None
        )
        return [j.job_id for j in jobs]
    from server.jobs.arq_worker import connect

    backend = await connect(settings)
    queued = []
    try:
        for job in jobs:
            new_id = f"{job.job_id}~retry-{int(now.timestamp())}"
            await backend.enqueue(job.name, job_id=new_id, **job.kwargs)
            await JobRun.filter(id=job.id, state="failed").update(state="retried")
            queued.append(new_id)
    finally:
        await backend.pool.aclose()
    return queued


async def forget_failed(job_ids: list[str], *, every: bool = False) -> int:
    """Delete failure records (housekeeping keeps them until someone does)."""
    jobs = await _chosen(job_ids, every)
    return await JobRun.filter(id__in=[j.id for j in jobs]).delete()
