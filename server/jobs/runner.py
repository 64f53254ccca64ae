"""Running one job the same way whatever runs it (arq on Redis, or the in-process worker):
find the function by name, turn an outbox event back into ``Event``, pass ``settings`` to
functions that take it, and decide whether a failure is worth another try."""

from __future__ import annotations

import inspect
import random
from datetime import datetime
from typing import Any
from uuid import UUID

from server.config import Settings
from server.core.models import OutboxEvent
from server.i18n import undecided
from server.jobs.registry import REGISTRY, Event
from server.organizations.language import speaking_for
from server.plugins.types import PluginError


def event_kwargs(event: OutboxEvent) -> dict[str, Any]:
    """An outbox event as plain JSON job arguments."""
    return {
        "event": {
            "id": str(event.id),
            "organization_id": str(event.organization_id),
            "topic": event.topic,
            "payload": event.payload,
            "created_at": event.created_at.isoformat(),
        }
    }


def _event(value: dict) -> Event:
    return Event(
        id=UUID(value["id"]),
        organization_id=UUID(value["organization_id"]),
        topic=value["topic"],
        payload=value["payload"],
        created_at=datetime.fromisoformat(value["created_at"]),
    )


async def execute(name: str, kwargs: dict[str, Any], settings: Settings) -> Any:
    fn = REGISTRY.jobs.get(name)
    if fn is None:
        raise LookupError(f"no job named {name!r} is registered in this process")
    call = dict(kwargs)
    if isinstance(call.get("event"), dict):
        call["event"] = _event(call["event"])
    if isinstance(call.get("events"), list):
        call["events"] = [_event(e) for e in call["events"]]
    if "settings" in inspect.signature(fn).parameters:
        call["settings"] = settings
    with undecided():
        organizations = {e.organization_id for e in event_of(call.get("event"), call.get("events"))}
        if len(organizations) != 1:
            return await fn(**call)  # a job of many tenants (or none) says per item whose it is
        async with speaking_for(organizations.pop()):
            return await fn(**call)


def describe_failure(exc: BaseException, settings: Settings) -> str:
    """What a failed try's record says (a timeout names the limit: its message is empty)."""
    if isinstance(exc, TimeoutError) and not str(exc):
        return f"TimeoutError: the job ran longer than JOB_TIMEOUT_SECONDS ({settings.job_timeout_seconds} s)"
    return f"{type(exc).__name__}: {exc}"[:2000]


def retryable(exc: BaseException) -> bool:
    """A provider refusal marked permanent is not tried again; anything else may pass later."""
    return not (isinstance(exc, PluginError) and not exc.retryable)


def backoff_seconds(attempt: int, settings: Settings, failure: BaseException | None = None) -> float:
    """Exponential backoff with jitter (attempt 1 -> base/2..base, 2 -> base..2*base, ...), capped;
    never sooner than the provider asked (``PluginError.retry_after``, e.g. a 429's wait)."""
    ceiling = min(settings.job_retry_max_seconds, settings.job_retry_base_seconds * 2 ** (attempt - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    asked = failure.retry_after if isinstance(failure, PluginError) else None
    return max(delay, min(float(asked), settings.job_retry_max_seconds)) if asked else delay


def event_of(event: Event | None, events: list[Event] | None) -> list[Event]:
    """The events a batch handler got: ``events`` from the relay, or one ``event`` (a job of one
    event retried on its own, or a job queued before the handler took batches)."""
    return list(events or ()) + ([event] if event is not None else [])


async def retry_alone(name: str, event: Event) -> None:
    """Queue one event of a batch on a job of its own (``<name>:alone:<event id>``), which the
    job system retries with backoff like any job: a batch whose item failed retries only that
    item. If it cannot be queued (Redis away) this raises, and the whole batch runs again
    (batch handlers are idempotent per event)."""
    from server.jobs.registry import enqueue

    await enqueue(name, job_id=f"{name}:alone:{event.id}", **event_kwargs(event))  # type: ignore[arg-type]
