"""Bounce reports of the e-mail plugin: a DSN piped to ``/hooks/email/<token>/bounce`` becomes
the outbox event ``plugin.email.bounced``; a permanent one marks the address undeliverable.
(The message's own notification is failed by its ``message.status`` event: notifications/jobs.py.)"""

from __future__ import annotations

from server.email import service
from server.jobs.registry import Event, on_event
from server.notifications.models import Notification


@on_event("plugin.email.bounced", name="email.on_bounce")
async def on_bounce(event: Event) -> None:
    if not event.payload.get("hard"):
        return  # a transient failure (4.x.x): the address may work tomorrow
    # Anyone can mail the bounce address a report naming any address: only a report about an
    # e-mail this organization sent, to the address it names, marks that address.
    message_id = event.payload.get("provider_message_id") or ""
    address = service.normalize(event.payload.get("address") or "")
    sent = (
        await Notification.get_or_none(
            organization_id=event.organization_id, channel="email", provider_message_id=message_id
        )
        if message_id
        else None
    )
    if sent is None or service.normalize(sent.recipient or "") != address:
        return
    await service.mark_undeliverable(
        event.organization_id,
        address,
        event.payload.get("status") or "",
        event.payload.get("diagnostic") or "",
        "dsn",
    )
