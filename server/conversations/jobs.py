"""Sending agents' replies, delivery reports, waking snoozed conversations.

Exactly once: the reply row is claimed with a conditional update (``queued`` -> ``sending``)
before the plugin is called, so of two workers running the same job only one sends. A reply
whose send may or may not have reached the provider (a timeout, a 500 after the request went
out, a worker dying mid-call) is marked ``failed`` with that explanation, never sent again
by itself: Telegram and Viber cannot deduplicate a send."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F

from server.config import Settings
from server.conversations import service
from server.conversations.models import Conversation, ConversationMessage
from server.core import outbox
from server.email import inbound as email_inbound
from server.i18n import N_, _
from server.jobs.registry import Event, enqueue, job, on_event, periodic
from server.organizations.language import speaking_for
from server.plugins import service as plugins
from server.plugins.models import PluginInstallation
from server.plugins.types import OutgoingMessage, PluginError, SentMessage

log = logging.getLogger("crm.conversations")
CHECK = "conversations.check_sending"
INTERRUPTED = N_(
    "Sending was interrupted (the worker stopped during the provider call): the customer may or may not have "
    "received it. Check the chat before sending it again."
)


async def _fail(message: ConversationMessage, reason: str) -> None:
    await ConversationMessage.filter(id=message.id).update(state="failed", error=reason[:2000])
    await outbox.emit(
        message.organization_id,
        "conversation.reply_failed",
        {"conversation_id": message.conversation_id, "message_id": message.id, "reason": reason[:500]},
    )


async def _interrupted(message: ConversationMessage, settings: Settings) -> str:
    """Still ``sending``: another worker is at it, or one died during the provider call. Once a
    live sender would have hit its time limit it is the second case: failed, never resent."""
    limit = message.updated_at + timedelta(seconds=settings.job_timeout_seconds)
    if datetime.now(UTC) < limit:
        await enqueue(
            CHECK,
            job_id=f"{CHECK}:{message.id}:{message.updated_at.timestamp():.0f}",
            defer_until=limit + timedelta(seconds=1),
            message_id=str(message.id),
        )
        return "taken"
    if await ConversationMessage.filter(id=message.id, state="sending", updated_at=message.updated_at).update(
        state="failed", error=_(INTERRUPTED)
    ):
        return "failed"
    return "taken"


async def _locale(message: ConversationMessage) -> str:
    from server.organizations.models import Organization

    organization = await Organization.get(id=message.organization_id)  # type: ignore[attr-defined]
    return organization.locale if organization.locale in ("uk", "en") else "uk"


@job(CHECK)
async def check_sending(message_id: str, *, settings: Settings) -> str:
    message = await ConversationMessage.get_or_none(id=message_id)
    if message is None or message.state != "sending":
        return message.state if message else "missing"
    async with speaking_for(message.organization_id):  # type: ignore[attr-defined]
        return await _interrupted(message, settings)


@on_event("conversation.reply_queued", name="conversations.send_reply")
async def send_reply(event: Event, settings: Settings) -> str:
    """Send one agent reply through the conversation's channel plugin; returns its state."""
    message = await ConversationMessage.get_or_none(id=event.payload.get("message_id"))
    if message is None:
        return "missing"
    if message.state == "sending":
        return await _interrupted(message, settings)
    if message.state != "queued":
        return message.state  # sent, failed...: done before
    conversation = await Conversation.get(id=message.conversation_id)
    installation = (
        await PluginInstallation.get_or_none(id=conversation.installation_id, enabled=True)
        if conversation.installation_id
        else None
    )
    if installation is None:
        await _fail(
            message,
            _("No enabled plugin installation sends %(channel)s messages any more.", channel=conversation.channel),
        )
        return "failed"
    claimed = await ConversationMessage.filter(id=message.id, state="queued", attempts=message.attempts).update(
        state="sending", attempts=F("attempts") + 1, updated_at=datetime.now(UTC)
    )
    if not claimed:
        return "taken"
    outgoing = OutgoingMessage(
        to=conversation.address,
        text=message.text,
        channel=conversation.channel,
        reference=str(message.id),
        request_phone=message.ask_phone,
        attachments=list(message.attachments),
        buttons=list(message.buttons or []),
    )
    if conversation.channel == "email":  # "Re: <subject>", In-Reply-To and References (server/email)
        outgoing.subject, outgoing.headers = await email_inbound.reply_headers(conversation, await _locale(message))
    try:
        sent: SentMessage = await plugins.call(settings, installation, "crm_messaging_send", message=outgoing)
    except PluginError as exc:
        if exc.retryable and message.attempts + 1 < settings.job_max_tries:
            # The provider certainly did not take it: back in the queue, the runner retries later.
            await ConversationMessage.filter(id=message.id, state="sending").update(
                state="queued", error=exc.message[:2000]
            )
            raise
        await _fail(message, exc.message)
        return "failed"
    if sent.status == "failed" or not sent.provider_message_id:
        await _fail(message, sent.error_message or sent.error_code or _("refused by the provider"))
        return "failed"
    now = datetime.now(UTC)
    await ConversationMessage.filter(id=message.id, state="sending").update(
        state="sent", provider_message_id=str(sent.provider_message_id)[:64], sent_at=now, error=""
    )
    if conversation.channel == "email":
        await email_inbound.reply_sent(message, str(sent.provider_message_id), outgoing.subject, outgoing.headers)
    await outbox.emit(
        message.organization_id,
        "conversation.reply_sent",
        {"conversation_id": message.conversation_id, "message_id": message.id},
    )
    return "sent"


@on_event("message.status", name="conversations.on_message_status")
async def on_message_status(event: Event) -> None:
    """Delivery and read reports of replies (Viber ``delivered``/``seen``; Telegram reports none)."""
    payload = event.payload
    installation = await PluginInstallation.get_or_none(
        id=payload.get("installation_id"), organization_id=event.organization_id
    )
    if installation is not None and payload.get("provider_message_id"):
        await service.apply_status(
            installation.id,
            str(payload["provider_message_id"]),
            str(payload.get("status") or ""),
            str(payload.get("error_code") or ""),
        )


@periodic(seconds=60, name="conversations.wake_snoozed")
async def wake_snoozed() -> int:
    return await service.wake_snoozed()
