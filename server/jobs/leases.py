"""Short, renewed locks on running jobs, so that a killed worker's jobs run again in seconds.

arq marks a running job with an "in progress" key whose lifetime is set once, at start, to the
job's whole time limit plus 10 s (over two minutes with the default limit): a worker killed
mid-job leaves its jobs locked that long. Here the key lives ``WORKER_LEASE_SECONDS`` (10 s)
and the worker running the job extends it every couple of seconds for as long as the job runs,
so a long job is never taken by a second worker, and a dead worker's jobs are free a few
seconds after it died.

A worker that cannot reach Redis cannot extend its leases. Before a lease can run out (and
another worker take the job), the worker stops that job itself: it will run again elsewhere,
and only one worker at a time ever runs it. Job functions are idempotent, so the stopped run
leaves nothing half done that the next run would repeat."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("crm.jobs.worker")


@dataclass
class _Held:
    task: asyncio.Task
    renewed_at: float  # monotonic time the last successful extension was sent


class Leases:
    def __init__(self, seconds: float):
        self.seconds = seconds
        # Extend five times per lease; stop a job when two extensions in a row are missing.
        self.every = min(2.0, max(0.2, seconds / 5))
        self.give_up_after = seconds - 2 * self.every
        self.redis: Redis | None = None  # the current connection (a new one after an outage)
        self.held: dict[str, _Held] = {}

    @asynccontextmanager
    async def hold(self, job_id: str) -> AsyncIterator[None]:
        """Keep the job's lease while the body runs (arq took it a moment ago)."""
        task = asyncio.current_task()
        assert task is not None
        self.held[job_id] = _Held(task, time.monotonic())
        try:
            yield
        finally:
            self.held.pop(job_id, None)

    async def keep(self) -> None:
        """Extend every held lease, for the life of the worker process."""
        while True:
            await asyncio.sleep(self.every)
            await self.extend()
            self.stop_lost()

    async def extend(self) -> None:
        if not self.held or self.redis is None:
            return
        ids = list(self.held)
        sent = time.monotonic()
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for job_id in ids:
                    pipe.pexpire(in_progress_key_prefix + job_id, int(self.seconds * 1000))
                extended = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.debug("could not extend job leases: %s", exc)
            return
        for job_id, done in zip(ids, extended, strict=True):
            held = self.held.get(job_id)
            if held is None:
                continue
            if done:
                held.renewed_at = sent
            else:  # the key is gone: arq removed it (job finished) or it expired; not ours any more
                self._stop(job_id, held, "its lease is gone")

    def stop_lost(self) -> None:
        now = time.monotonic()
        for job_id, held in list(self.held.items()):
            if now - held.renewed_at > self.give_up_after:
                self._stop(job_id, held, f"Redis has not answered for {now - held.renewed_at:.0f} s")

    def _stop(self, job_id: str, held: _Held, why: str) -> None:
        if held.task.done():
            return
        log.warning("stopping job %s: %s; another worker may take it, so it runs again later", job_id, why)
        self.held.pop(job_id, None)
        held.task.cancel()
