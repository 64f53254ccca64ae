"""Domain events go to the outbox in the transaction of the change that caused them,
so an event is never lost if the change commits, and never sent if it rolls back."""

from __future__ import annotations

from uuid import UUID

from server.core.models import OutboxEvent
from server.core.serialize import jsonable


async def emit(organization_id: UUID, topic: str, payload: dict) -> OutboxEvent:
    return await OutboxEvent.create(organization_id=organization_id, topic=topic, payload=jsonable(payload))
