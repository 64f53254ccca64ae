"""The embedded default: with no REDIS_URL, jobs queue in the database (``JobRun``) and one
asyncio task in the server process relays the outbox, runs due jobs and the periodic ones.

The same job functions as under arq, the same deterministic job ids (a row per id, so the same
id twice runs once), the same retries with backoff. Jobs survive a restart: a job that was
running when the process died is taken again once its lock expires. One server process only:
for several, use Redis and ``crm worker`` (docs/jobs.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q

from server.config import Settings
from server.jobs import registry
from server.jobs.models import JobRun
from server.jobs.relay import relay_once
from server.jobs.runner import backoff_seconds, describe_failure, execute, retryable

log = logging.getLogger("crm.jobs")


class DatabaseBackend:
    """``enqueue`` inserts a JobRun row; an existing job id makes it a no-op."""

    async def enqueue(self, name: str, *, job_id: str, defer_until: datetime | None = None, **kwargs: Any) -> None:
        row = JobRun(
            job_id=job_id, name=name, kwargs=kwargs, run_after=defer_until or datetime.now(UTC), state="queued"
        )
        await JobRun.bulk_create([row], ignore_conflicts=True)

    async def enqueue_many(self, jobs: list[tuple[str, str, dict]]) -> list[BaseException | None]:
        """``(name, job id, kwargs)`` each, in one insert (the relay's batch)."""
        now = datetime.now(UTC)
        rows = [
            JobRun(job_id=job_id, name=name, kwargs=kwargs, run_after=now, state="queued")
            for name, job_id, kwargs in jobs
        ]
        try:
            await JobRun.bulk_create(rows, ignore_conflicts=True)
        except Exception as exc:
            return [exc] * len(jobs)
        return [None] * len(jobs)


async def _claim(row: JobRun, now: datetime, settings: Settings) -> bool:
    """Take the job unless someone else did (a conditional update: exactly one taker)."""
    taken = await JobRun.filter(Q(id=row.id) & (Q(state="queued") | Q(state="running", locked_until__lt=now))).update(
        state="running",
        attempts=F("attempts") + 1,
        locked_until=now + timedelta(seconds=settings.job_timeout_seconds),
    )
    return taken == 1


async def _run_one(row: JobRun, settings: Settings) -> None:
    attempt = row.attempts + 1
    try:
        await asyncio.wait_for(execute(row.name, row.kwargs, settings), timeout=settings.job_timeout_seconds)
    except Exception as exc:
        error = describe_failure(exc, settings)
        if retryable(exc) and attempt < settings.job_max_tries:
            delay = backoff_seconds(attempt, settings, exc)
            log.warning(
                "job %s failed (try %d of %d), again in %.0f s: %s",
                row.job_id,
                attempt,
                settings.job_max_tries,
                delay,
                error,
            )
            await JobRun.filter(id=row.id).update(
                state="queued", run_after=datetime.now(UTC) + timedelta(seconds=delay), last_error=error
            )
        else:
            log.error("job %s failed for good after %d tries: %s", row.job_id, attempt, error)
            await JobRun.filter(id=row.id).update(state="failed", last_error=error, finished_at=datetime.now(UTC))
        return
    await JobRun.filter(id=row.id).update(state="done", finished_at=datetime.now(UTC), locked_until=None)


async def run_due(settings: Settings, *, now: datetime | None = None, limit: int = 50) -> int:
    """Run the jobs due at ``now`` (default: the present); returns how many ran."""
    now = now or datetime.now(UTC)
    rows = (
        await JobRun.filter(Q(state="queued", run_after__lte=now) | Q(state="running", locked_until__lt=now))
        .order_by("run_after", "id")
        .limit(limit)
    )
    ran = 0
    for row in rows:
        if await _claim(row, now, settings):
            await _run_one(row, settings)
            ran += 1
    return ran


async def run_until_idle(settings: Settings, *, now: datetime | None = None, max_rounds: int = 100) -> int:
    """Relay and run until nothing is left that is due at ``now``: for tests and scripts.
    Periodic jobs are not started; call them yourself. Returns how many jobs ran."""
    backend = DatabaseBackend()
    total = 0
    for _ in range(max_rounds):
        relayed = await relay_once(settings, backend)
        ran = await run_due(settings, now=now)
        total += ran
        if not relayed and not ran:
            return total
    raise RuntimeError(f"jobs still coming after {max_rounds} rounds: a job enqueues jobs without end?")


class InProcessWorker:
    """The loop ``crm serve`` runs when there is no REDIS_URL."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.backend = DatabaseBackend()
        self._task: asyncio.Task | None = None
        self._next_periodic: dict[str, float] = {}

    def start(self) -> None:
        registry.set_backend(self.backend)
        start = time.monotonic()
        self._next_periodic = {name: start + every for name, every in registry.REGISTRY.schedules.items()}
        self._task = asyncio.create_task(self._loop(), name="crm-jobs")
        # PBX connections (Asterisk AMI...): here because the embedded setup has one process.
        from server.telephony.listeners import Listeners

        self._listeners = asyncio.create_task(Listeners(self.settings).run(), name="crm-telephony")

    async def stop(self) -> None:
        listeners = getattr(self, "_listeners", None)
        if listeners is not None:
            listeners.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listeners
            self._listeners = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _periodic(self) -> None:
        now = time.monotonic()
        for name, due in self._next_periodic.items():
            if now >= due:
                self._next_periodic[name] = now + registry.REGISTRY.schedules[name]
                slot = int(time.time() // registry.REGISTRY.schedules[name])
                await self.backend.enqueue(name, job_id=f"periodic:{name}:{slot}")

    async def _loop(self) -> None:
        while True:
            try:
                await self._periodic()
                await relay_once(self.settings, self.backend)
                while await run_due(self.settings):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("in-process job loop failed; going on")
            await asyncio.sleep(self.settings.relay_interval_seconds)
