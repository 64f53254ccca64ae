"""Where domains declare their background work, independent of what runs it.

- ``@on_event("order.status_changed", ...)`` marks an async handler of outbox events. The relay
  turns each outbox event into one job per subscribed handler, with the deterministic job id
  ``<handler name>:<event id>``, so a relay that runs twice enqueues nothing twice.
- ``@on_events("order.status_changed", ...)`` marks a *batch* handler: it receives
  ``events: list[Event]``. The relay gives it one event per job while events trickle in, and
  ``JOB_BATCH_SIZE`` per job once a pass finds ``JOB_BATCH_MIN`` or more (server/jobs/relay.py).
- ``@job()`` marks an async job function that code enqueues itself with ``enqueue`` (for
  example "send notification N"); the caller picks a deterministic ``job_id``.
- ``@periodic(seconds=...)`` marks an async function the worker runs on a schedule.

Every function here runs at least once, maybe more (a worker killed mid-job runs it again), so
each must be idempotent: check what is already done in the database before doing it.

The backend that ``enqueue`` hands jobs to is installed by the worker or the app at startup
(``set_backend``): arq on Redis, or the in-process worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

JobFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Event:
    """An outbox event as handlers receive it (ids are UUIDs, payload is JSON)."""

    id: UUID
    organization_id: UUID
    topic: str
    payload: dict
    created_at: datetime


@dataclass
class Registry:
    jobs: dict[str, JobFunction] = field(default_factory=dict)
    handlers: dict[str, list[str]] = field(default_factory=dict)  # topic -> job names
    schedules: dict[str, float] = field(default_factory=dict)  # job name -> every N seconds
    batch_handlers: set[str] = field(default_factory=set)  # handlers taking ``events`` (a list)


REGISTRY = Registry()


def _name(fn: JobFunction, name: str | None) -> str:
    return name or f"{fn.__module__}.{fn.__qualname__}"


def job(name: str | None = None) -> Callable[[JobFunction], JobFunction]:
    def register(fn: JobFunction) -> JobFunction:
        REGISTRY.jobs[_name(fn, name)] = fn
        return fn

    return register


def on_event(*topics: str, name: str | None = None) -> Callable[[JobFunction], JobFunction]:
    """``async def handler(event: Event) -> None`` for each of ``topics``."""

    def register(fn: JobFunction) -> JobFunction:
        job_name = _name(fn, name)
        REGISTRY.jobs[job_name] = fn
        for topic in topics:
            names = REGISTRY.handlers.setdefault(topic, [])
            if job_name not in names:
                names.append(job_name)
        return fn

    return register


def on_events(*topics: str, name: str | None = None) -> Callable[[JobFunction], JobFunction]:
    """``async def handler(events: list[Event]) -> None`` for each of ``topics``: the same
    contract as ``on_event`` (idempotent per event), for many events in one job."""

    def register(fn: JobFunction) -> JobFunction:
        on_event(*topics, name=name)(fn)
        REGISTRY.batch_handlers.add(_name(fn, name))
        return fn

    return register


def periodic(*, seconds: float, name: str | None = None) -> Callable[[JobFunction], JobFunction]:
    def register(fn: JobFunction) -> JobFunction:
        job_name = _name(fn, name)
        REGISTRY.jobs[job_name] = fn
        REGISTRY.schedules[job_name] = seconds
        return fn

    return register


def handlers_for(topic: str) -> list[str]:
    """The handlers of ``topic``, then those of every topic (``@on_event("*")``)."""
    return [*REGISTRY.handlers.get(topic, ()), *REGISTRY.handlers.get("*", ())]


def takes_batches(name: str) -> bool:
    return name in REGISTRY.batch_handlers


class Backend(Protocol):
    async def enqueue(self, name: str, *, job_id: str, defer_until: datetime | None = None, **kwargs: Any) -> None: ...


_backend: Backend | None = None


def set_backend(backend: Backend | None) -> None:
    global _backend
    _backend = backend


async def enqueue(name: str, *, job_id: str, defer_until: datetime | None = None, **kwargs: Any) -> None:
    """Hand a job to the running backend. Same ``job_id`` twice: the job runs once (while
    the first is queued or its result kept)."""
    if name not in REGISTRY.jobs:
        raise KeyError(f"no job named {name!r}")
    if _backend is None:
        raise RuntimeError("no job backend: the app or `crm worker` installs one at startup")
    await _backend.enqueue(name, job_id=job_id, defer_until=defer_until, **kwargs)
