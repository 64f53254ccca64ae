"""Every domain event reaches the plugins that asked for them (the ``domain_events``
capability), after the change committed, at least once.

A batch handler: the relay gives it many events per job under load (server/jobs/relay.py), and
handing a batch over costs one query (the installations), whatever its size. An event a plugin
refused for now (a retryable ``PluginError``) is queued again on a job of its own, so only that
event is handed over again, with the job system's backoff."""

from __future__ import annotations

from server.config import Settings
from server.jobs.registry import Event, on_events
from server.jobs.runner import event_of, retry_alone
from server.plugins.service import deliver_domain_events
from server.plugins.types import PluginError

JOB = "plugins.domain_event"


@on_events("*", name=JOB)
async def hand_to_plugins(event: Event | None = None, events: list[Event] | None = None, *, settings: Settings) -> dict:
    batch = event_of(event, events)
    results = await deliver_domain_events(settings, batch)
    failed = [e for e in batch if isinstance(results[str(e.id)], PluginError)]
    if failed and len(batch) == 1:
        raise results[str(failed[0].id)]  # type: ignore[misc]  # the job itself is that event: it retries
    for e in failed:
        await retry_alone(JOB, e)
    return {key: value.message if isinstance(value, PluginError) else value for key, value in results.items()}
