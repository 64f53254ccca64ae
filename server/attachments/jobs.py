"""Attachments' background work: when an object is deleted its files go too (on its event),
merged accounts keep each other's files, and an hourly sweep removes the bytes of files whose
removal failed before or whose object vanished without an event."""

from __future__ import annotations

from uuid import UUID

from server.attachments import service
from server.config import Settings
from server.jobs.registry import Event, on_event, periodic

DELETED = {
    "account.deleted": ("Account", "account_id"),
    "order.deleted": ("Order", "order_id"),
    "deal.deleted": ("Deal", "deal_id"),
    "ticket.deleted": ("Ticket", "ticket_id"),
}


@on_event(*DELETED, name="attachments.object_deleted")
async def object_deleted(event: Event, *, settings: Settings) -> dict:
    type_name, key = DELETED[event.topic]
    removed = await service.forget_object(settings, event.organization_id, type_name, UUID(str(event.payload[key])))
    return {"removed": removed}


@on_event("account.merged", name="attachments.account_merged")
async def account_merged(event: Event, *, settings: Settings) -> dict:
    moved = await service.move(
        event.organization_id, "Account", UUID(str(event.payload["merged_id"])), UUID(str(event.payload["account_id"]))
    )
    return {"moved": moved}


@periodic(seconds=3600, name="attachments.cleanup")
async def cleanup(*, settings: Settings) -> dict:
    return await service.cleanup(settings)
