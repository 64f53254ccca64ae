"""The self-service bot's turn on each customer message (after the webhook's transaction)."""

from __future__ import annotations

from uuid import UUID

from server.jobs.registry import Event, on_event
from server.selfservice import service


@on_event("conversation.message_received", name="selfservice.take_turn")
async def take_turn(event: Event) -> str:
    message_id = event.payload.get("message_id")
    if not message_id:
        return "ignored"
    return await service.take_turn(event.organization_id, UUID(str(message_id)))
