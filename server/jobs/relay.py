"""The outbox relay: every domain event becomes one job per handler, with the job id
``<handler>:<event id>``, so relaying an event twice (a crash between enqueueing and marking
it dispatched, or two relays at once) enqueues nothing twice.

On PostgreSQL several relays run at once (each worker process has one): rows are claimed with
``FOR UPDATE SKIP LOCKED``, so they split the backlog instead of racing for it. An event whose
jobs could not be enqueued (Redis down) stays in the outbox, its ``attempts`` counted, and goes
on a later pass. Events are taken oldest first; jobs of different events may still run in any
order and in parallel, so handlers re-read current state instead of trusting event order."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from server.config import Settings
from server.core.models import OutboxEvent
from server.jobs.registry import Backend, handlers_for
from server.jobs.runner import event_kwargs
from server.realtime import bus

log = logging.getLogger("crm.jobs.relay")


async def relay_once(settings: Settings, backend: Backend, limit: int = 100) -> int:
    """Hand at most ``limit`` undispatched events to ``backend``; returns how many went."""
    relayed: list[OutboxEvent] = []
    async with in_transaction() as connection:
        query = OutboxEvent.filter(dispatched_at=None).order_by("created_at", "id").limit(limit)
        if settings.is_postgres:
            query = query.select_for_update(skip_locked=True)
        events = await query.using_db(connection)
        for event in events:
            try:
                for name in handlers_for(event.topic):
                    await backend.enqueue(name, job_id=f"{name}:{event.id}", **event_kwargs(event))
            except Exception as exc:  # the backend is down: keep the event, try again later
                log.warning("outbox event %s (%s) not relayed yet: %s", event.id, event.topic, exc)
                await OutboxEvent.filter(id=event.id).using_db(connection).update(attempts=event.attempts + 1)
                break  # keep the order: the events after it wait too
            await (
                OutboxEvent.filter(id=event.id)
                .using_db(connection)
                .update(dispatched_at=datetime.now(UTC), attempts=event.attempts + 1)
            )
            relayed.append(event)
    # Subscribers hear of an event once it is committed and handed on; never before.
    await bus.publish(
        settings,
        [bus.LiveEvent(str(e.id), str(e.organization_id), e.topic, e.payload or {}) for e in relayed],
    )
    return len(relayed)
