"""Bounce reports of the e-mail plugin: a DSN piped to ``/hooks/email/<token>/bounce`` becomes
the outbox event ``plugin.email.bounced``; a permanent one marks the address undeliverable.
(The message's own notification is failed by its ``message.status`` event: notifications/jobs.py.)"""

from __future__ import annotations

from server.email import service
from server.jobs.registry import Event, on_event


@on_event("plugin.email.bounced", name="email.on_bounce")
async def on_bounce(event: Event) -> None:
    if not event.payload.get("hard"):
        return  # a transient failure (4.x.x): the address may work tomorrow
    await service.mark_undeliverable(
        event.organization_id,
        event.payload.get("address") or "",
        event.payload.get("status") or "",
        event.payload.get("diagnostic") or "",
        "dsn",
    )
