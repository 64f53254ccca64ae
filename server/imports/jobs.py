"""The import's background work: a slice of rows per job, and the undo."""

from __future__ import annotations

from uuid import UUID

from server.imports import service
from server.jobs.registry import Event, on_event


@on_event(service.REQUESTED, name="imports.run")
async def on_requested(event: Event) -> None:
    start_at = event.payload.get("start_at")
    await service.run(UUID(str(event.payload["batch_id"])), None if start_at is None else int(start_at))


@on_event(service.UNDO_REQUESTED, name="imports.undo")
async def on_undo(event: Event) -> None:
    by = event.payload.get("by")
    await service.undo(UUID(str(event.payload["batch_id"])), UUID(str(by)) if by else None)
