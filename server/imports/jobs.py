"""The import's background work: a slice of rows per job, and the undo."""

from __future__ import annotations

from uuid import UUID

from server.i18n import use_locale
from server.imports import service
from server.imports.models import ImportBatch
from server.jobs.registry import Event, on_event


async def _locale(batch_id: UUID) -> str | None:
    """The organization's language: the problems a job writes are read later, in the app."""
    return await ImportBatch.filter(id=batch_id).first().values_list("organization__locale", flat=True)


@on_event(service.REQUESTED, name="imports.run")
async def on_requested(event: Event) -> None:
    start_at = event.payload.get("start_at")
    batch_id = UUID(str(event.payload["batch_id"]))
    with use_locale(await _locale(batch_id)):
        await service.run(batch_id, None if start_at is None else int(start_at))


@on_event(service.UNDO_REQUESTED, name="imports.undo")
async def on_undo(event: Event) -> None:
    by = event.payload.get("by")
    batch_id = UUID(str(event.payload["batch_id"]))
    with use_locale(await _locale(batch_id)):
        await service.undo(batch_id, UUID(str(by)) if by else None)
