"""Domain events go to the outbox in the transaction of the change that caused them,
so an event is never lost if the change commits, and never sent if it rolls back."""

from __future__ import annotations

from uuid import UUID

from server.core.models import OutboxEvent
from server.core.serialize import jsonable


async def emit(organization_id: UUID, topic: str, payload: dict) -> OutboxEvent:
    return await OutboxEvent.create(organization_id=organization_id, topic=topic, payload=jsonable(payload))


async def emit_many(events: list[tuple[UUID, str, dict]], using_db=None) -> None:
    """``(organization id, topic, payload)`` each, in one insert (a batch job's events)."""
    if events:
        rows = [OutboxEvent(organization_id=org, topic=topic, payload=jsonable(body)) for org, topic, body in events]
        await OutboxEvent.bulk_create(rows, using_db=using_db)
