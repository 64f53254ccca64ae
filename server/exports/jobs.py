"""The export build job: one per ``export.requested`` outbox event (job id
``exports.build:<event id>``); ``build_export`` itself makes a rerun or retry harmless."""

from __future__ import annotations

from uuid import UUID

from server.config import Settings
from server.exports import service
from server.jobs.registry import Event, on_event


@on_event(service.TOPIC, name="exports.build")
async def build(event: Event, *, settings: Settings) -> dict:
    return await service.build_export(UUID(event.payload["export_id"]), settings)
