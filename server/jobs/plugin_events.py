"""Every domain event reaches the plugins that asked for them (the ``domain_events``
capability), after the change committed, at least once."""

from __future__ import annotations

from server.config import Settings
from server.core.models import OutboxEvent
from server.jobs.registry import Event, on_event
from server.plugins.service import deliver_domain_event


@on_event("*", name="plugins.domain_event")
async def hand_to_plugins(event: Event, *, settings: Settings) -> dict:
    row = OutboxEvent(
        id=event.id,
        organization_id=event.organization_id,
        topic=event.topic,
        payload=event.payload,
        created_at=event.created_at,
    )
    return await deliver_domain_event(settings, row)
