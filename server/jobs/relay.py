"""The outbox relay: every domain event becomes one job per handler, with the job id
``<handler>:<event id>``, so relaying an event twice (a crash between enqueueing and marking
it dispatched, or two relays at once) enqueues nothing twice.

Batches. A pass claims up to ``RELAY_BATCH_SIZE`` events at once, hands their jobs to the
backend together (one insert in process; concurrent enqueues on Redis) and marks them
dispatched in one UPDATE. A *batch* handler (``@on_events``, e.g. the notifications') gets one
job per event while fewer than ``JOB_BATCH_MIN`` of its events came in the pass, so a trickle
spreads over every free worker slot at once; from ``JOB_BATCH_MIN`` on it gets
``JOB_BATCH_SIZE`` events per job, with the id ``<handler>:batch:<digest of the event ids>``.
A relay that runs twice over the same events enqueues each batch once; over a different set
(new events came meanwhile) a batch handler may see an event twice, which its idempotency
(the same as any handler's) makes harmless.

On PostgreSQL several relays run at once (each worker process has one): rows are claimed with
``FOR UPDATE SKIP LOCKED``, so they split the backlog instead of racing for it. An event whose
jobs could not be enqueued (Redis down) stays in the outbox, its ``attempts`` counted, and goes
on a later pass, with every event after it. Events are taken oldest first; jobs of different
events may still run in any order and in parallel, so handlers re-read current state instead
of trusting event order."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.config import Settings
from server.core.models import OutboxEvent
from server.jobs.registry import Backend, handlers_for, takes_batches
from server.jobs.runner import event_kwargs
from server.realtime import bus

log = logging.getLogger("crm.jobs.relay")


@dataclass
class PlannedJob:
    name: str
    job_id: str
    kwargs: dict[str, Any]
    first: int  # the index (in the pass) of the earliest event it carries
    rank: int = 0  # the handler's place among that event's handlers


def plan(events: list[OutboxEvent], settings: Settings) -> list[PlannedJob]:
    """The jobs of a pass, ordered by their earliest event, then as its handlers are registered
    (jobs queued together start in that order)."""
    jobs: list[PlannedJob] = []
    batched: dict[str, list[tuple[int, int]]] = {}  # batch handler -> (event index, rank) of its events
    for index, event in enumerate(events):
        for rank, name in enumerate(handlers_for(event.topic)):
            if takes_batches(name):
                batched.setdefault(name, []).append((index, rank))
            else:
                jobs.append(PlannedJob(name, f"{name}:{event.id}", event_kwargs(event), index, rank))
    for name, places in batched.items():
        size = max(1, settings.job_batch_size if len(places) >= settings.job_batch_min else 1)
        for start in range(0, len(places), size):
            chunk = places[start : start + size]
            if len(chunk) == 1:
                job_id = f"{name}:{events[chunk[0][0]].id}"
            else:
                digest = hashlib.sha256(",".join(str(events[i].id) for i, _ in chunk).encode()).hexdigest()[:32]
                job_id = f"{name}:batch:{digest}"
            payload = {"events": [event_kwargs(events[i])["event"] for i, _ in chunk]}
            jobs.append(PlannedJob(name, job_id, payload, *chunk[0]))
    jobs.sort(key=lambda job: (job.first, job.rank))
    return jobs


async def _enqueue_all(backend: Backend, jobs: list[PlannedJob]) -> list[BaseException | None]:
    """Each job's failure, or None; all of them handed over together when the backend can."""
    many = getattr(backend, "enqueue_many", None)
    if many is not None:
        return await many([(job.name, job.job_id, job.kwargs) for job in jobs])
    outcome: list[BaseException | None] = []
    for job in jobs:
        try:
            await backend.enqueue(job.name, job_id=job.job_id, **job.kwargs)
            outcome.append(None)
        except Exception as exc:  # the backend is down: the rest would fail too
            outcome.append(exc)
            outcome += [exc] * (len(jobs) - len(outcome))
            break
    return outcome


async def relay_once(settings: Settings, backend: Backend, limit: int | None = None) -> int:
    """Hand at most ``limit`` (``RELAY_BATCH_SIZE``) undispatched events to ``backend``;
    returns how many went."""
    limit = limit or settings.relay_batch_size
    async with in_transaction() as connection:
        query = OutboxEvent.filter(dispatched_at=None).order_by("created_at", "id").limit(limit)
        if settings.is_postgres:
            query = query.select_for_update(skip_locked=True)
        events = await query.using_db(connection)
        if not events:
            return 0
        jobs = plan(events, settings)
        outcome = await _enqueue_all(backend, jobs)
        failed = [(job.first, exc) for job, exc in zip(jobs, outcome, strict=True) if exc is not None]
        # Every event before the earliest failed job had all its jobs handed over.
        went = min((first for first, _ in failed), default=len(events))
        relayed = events[:went]
        if failed:
            stuck = events[went]
            error = min(failed, key=lambda f: f[0])[1]
            log.warning("outbox event %s (%s) not relayed yet: %s", stuck.id, stuck.topic, error)
            await OutboxEvent.filter(id=stuck.id).using_db(connection).update(attempts=F("attempts") + 1)
        if relayed:
            await (
                OutboxEvent.filter(id__in=[e.id for e in relayed])
                .using_db(connection)
                .update(dispatched_at=datetime.now(UTC), attempts=F("attempts") + 1)
            )
    # Subscribers hear of an event once it is committed and handed on; never before.
    await bus.publish(
        settings,
        [bus.LiveEvent(str(e.id), str(e.organization_id), e.topic, e.payload or {}) for e in relayed],
    )
    return len(relayed)
