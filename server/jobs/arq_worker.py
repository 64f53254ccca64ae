"""Jobs on Redis with arq: ``crm worker`` runs this; API processes only enqueue.

- Every registered job becomes an arq function of the same name; ``@periodic`` ones become
  cron jobs (arq makes each cron run unique across workers).
- Each worker process also relays the outbox (a loop started on startup). Several workers at
  once are fine: relays split the outbox (SKIP LOCKED on PostgreSQL) and arq refuses a second
  job with an id it still knows, queued or finished (results are kept a day for that).
- A job that raises is retried with exponential backoff and jitter up to ``job_max_tries``; a
  permanent provider refusal is not retried. After the last try the failure is recorded in
  ``JobRun`` (state ``failed``) and logged.
- A worker killed mid-job: arq's in-progress lock on the job is a short lease the running
  worker keeps extending (server/jobs/leases.py), so another worker runs the job again a few
  seconds after the kill; job functions are idempotent, so the effect happens once. arq is
  given one try more than ``job_max_tries``: when a worker died during the last try, that
  extra try records the failure in ``JobRun`` instead of running the job again.
- ``crm worker`` survives Redis or the database going away: server/jobs/supervisor.py
  reconnects with backoff and reports the worker's health (server/jobs/health.py).
- A job running longer than ``job_timeout_seconds`` is cancelled by our own time limit, so it
  is retried or recorded like any failure (arq's limit, a few seconds later, is the backstop).
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.cron import cron
from arq.worker import Retry, Worker, func

from server.config import Settings
from server.jobs import load_job_modules, registry
from server.jobs.health import Health
from server.jobs.leases import Leases
from server.jobs.models import JobRun
from server.jobs.relay import relay_once
from server.jobs.runner import backoff_seconds, describe_failure, execute, retryable

log = logging.getLogger("crm.jobs")
KEEP_RESULT_SECONDS = 24 * 3600  # how long arq remembers a job id after it finished
ARQ_TIMEOUT_MARGIN_SECONDS = 5  # arq's own time limit comes after ours
ENQUEUE_AT_ONCE = 16  # the relay's concurrent enqueues per pass


class ArqBackend:
    def __init__(self, pool: ArqRedis, queue_name: str):
        self.pool = pool
        self.queue_name = queue_name

    async def enqueue(self, name: str, *, job_id: str, defer_until: datetime | None = None, **kwargs: Any) -> None:
        # None means arq knows the id already (queued, running or finished recently): nothing to do.
        await self.pool.enqueue_job(
            name, _job_id=job_id, _defer_until=defer_until, _queue_name=self.queue_name, **kwargs
        )

    async def enqueue_many(self, jobs: list[tuple[str, str, dict]]) -> list[BaseException | None]:
        """``(name, job id, kwargs)`` each, ENQUEUE_AT_ONCE at a time over the pool's
        connections (each enqueue is a round trip or two: one after another they would make
        the relay the bottleneck); each job's error or None."""
        gate = asyncio.Semaphore(ENQUEUE_AT_ONCE)

        async def one(name: str, job_id: str, kwargs: dict) -> None:
            async with gate:
                await self.enqueue(name, job_id=job_id, **kwargs)

        outcome = await asyncio.gather(*(one(*job) for job in jobs), return_exceptions=True)
        for result in outcome:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result  # cancelled: not a Redis failure
        return [result if isinstance(result, BaseException) else None for result in outcome]


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


async def connect(settings: Settings) -> ArqBackend:
    pool = await create_pool(redis_settings(settings), default_queue_name=settings.arq_queue_name)
    return ArqBackend(pool, settings.arq_queue_name)


def _job(name: str):
    async def run(ctx: dict, **kwargs: Any) -> Any:
        settings: Settings = ctx["settings"]
        tries = ctx["job_try"]
        if tries > settings.job_max_tries:
            # The extra try arq was given: the worker running the last one died before finishing.
            error = "The worker running the job's last try stopped before it finished (killed or restarted)."
            log.error("job %s failed for good after %d tries: %s", ctx["job_id"], settings.job_max_tries, error)
            await _record_failure(ctx["job_id"], name, kwargs, settings.job_max_tries, error)
            return {"failed": error}
        try:
            async with ctx["leases"].hold(ctx["job_id"]), asyncio.timeout(settings.job_timeout_seconds):
                return await execute(name, kwargs, settings)
        except Exception as exc:
            error = describe_failure(exc, settings)
            if retryable(exc) and tries < settings.job_max_tries:
                log.warning("job %s failed (try %d of %d): %s", ctx["job_id"], tries, settings.job_max_tries, error)
                raise Retry(defer=backoff_seconds(tries, settings, exc)) from exc
            log.error("job %s failed for good after %d tries: %s", ctx["job_id"], tries, error)
            await _record_failure(ctx["job_id"], name, kwargs, tries, error)
            return {"failed": error}

    run.__qualname__ = run.__name__ = name.replace(".", "_")
    return run


async def _record_failure(job_id: str, name: str, kwargs: dict, tries: int, error: str) -> None:
    now = datetime.now(UTC)
    row = JobRun(job_id=job_id, name=name, kwargs=kwargs, state="failed", attempts=tries, run_after=now)
    row.last_error, row.finished_at = error, now
    await JobRun.bulk_create([row], ignore_conflicts=True)
    await JobRun.filter(job_id=job_id).update(state="failed", attempts=tries, last_error=error, finished_at=now)


def _cron_fields(seconds: float) -> dict:
    every = max(1, int(seconds))
    if every < 60:
        return {"second": set(range(0, 60, every))}
    if every < 3600:
        return {"minute": set(range(0, 60, max(1, every // 60))), "second": 0}
    return {"hour": set(range(0, 24, max(1, every // 3600))), "minute": 0, "second": 0}


async def relay_loop(settings: Settings, backend: ArqBackend, health: Health) -> None:
    """Relay the outbox until cancelled; each pass that reaches the database is a heartbeat.
    While the database is away, passes back off like reconnects do, and only the first failure
    is logged with its traceback."""
    failures = 0
    while True:
        try:
            while relayed := await relay_once(settings, backend):
                health.ok("database")  # a steady stream keeps this loop going: each pass is a heartbeat
                if relayed < settings.relay_batch_size:
                    # Events are coming in, not piled up: let more of them arrive before the
                    # next pass, so a steady stream reaches the batch handlers in batches
                    # instead of one job per event (docs/jobs.md, "Batches").
                    await asyncio.sleep(settings.relay_linger_seconds)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            problem = f"{type(exc).__name__}: {exc}"
            if failures == 1:
                log.exception("outbox relay failed; trying again")
            else:
                log.warning("outbox relay failed again (%d in a row): %s", failures, problem)
            health.down("database", f"the outbox relay failed: {problem}")
        else:
            if failures:
                log.info("outbox relay works again")
            failures = 0
            health.ok("database")
        await asyncio.sleep(_relay_pause(settings, failures))


def _relay_pause(settings: Settings, failures: int) -> float:
    """The relay interval, or after failures a doubling, jittered pause of at most ten intervals
    (a pass is one cheap query: the database's return is noticed soon)."""
    interval = settings.relay_interval_seconds
    if not failures:
        return interval
    ceiling = min(10 * interval, interval * 2 ** (failures - 1))
    return random.uniform(max(interval, ceiling / 2), max(interval, ceiling))


class CrmWorker(Worker):
    """arq's worker with two changes: each poll of the queue is a heartbeat, and the lock on a
    running job is a short lease (``Leases``) instead of the job's whole time limit."""

    def __init__(self, *args: Any, health: Health, lease_seconds: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.health = health
        self.in_progress_timeout_s = lease_seconds  # arq's default: the job time limit + 10 s

    async def _poll_iteration(self) -> None:
        await super()._poll_iteration()
        self.health.ok("redis")


def build_worker(
    settings: Settings, pool: ArqRedis, *, health: Health, leases: Leases, burst: bool = False
) -> CrmWorker:
    """One arq worker over an open connection; a new one after each reconnect (supervisor.py)."""
    load_job_modules()
    jobs = registry.REGISTRY.jobs
    tries = settings.job_max_tries + 1  # the extra one records a failure (see above)
    functions = [func(_job(name), name=name, max_tries=tries) for name in jobs]
    crons = [
        cron(_job(name), name=f"cron:{name}", **_cron_fields(seconds), run_at_startup=False)
        for name, seconds in registry.REGISTRY.schedules.items()
    ]
    return CrmWorker(
        functions=functions,
        cron_jobs=crons,
        redis_pool=pool,
        queue_name=settings.arq_queue_name,
        ctx={"settings": settings, "leases": leases},
        handle_signals=False,  # the supervisor handles SIGTERM/SIGINT across reconnects
        max_jobs=settings.worker_concurrency,
        job_timeout=settings.job_timeout_seconds + ARQ_TIMEOUT_MARGIN_SECONDS,
        keep_result=KEEP_RESULT_SECONDS,
        max_tries=tries,
        burst=burst,
        health=health,
        lease_seconds=settings.worker_lease_seconds,
    )
