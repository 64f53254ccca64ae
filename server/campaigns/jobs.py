"""The campaign scheduler (hourly; each run is safe to repeat or to run on two workers at once:
CampaignMessage is unique per step, customer and occasion) and the handler that turns a claimed
campaign message into a notification of the cascade (Viber, then SMS; consent, quiet hours)."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from server.campaigns import service
from server.campaigns.models import Campaign, CampaignMessage, CampaignStep
from server.jobs.registry import Event, on_event, periodic
from server.notifications import service as notifications
from server.notifications.jobs import schedule
from server.notifications.models import Notification, NotificationRule
from server.organizations.models import Organization

RUN_EVERY_SECONDS = 3600


@periodic(seconds=RUN_EVERY_SECONDS, name="campaigns.run")
async def run(*, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    ids = await Campaign.filter(enabled=True).distinct().values_list("organization_id", flat=True)
    claimed = 0
    for organization in await Organization.filter(id__in=list(ids)).order_by("id"):
        claimed += await service.run_organization(organization, now)
    return claimed


async def _rule(message: CampaignMessage) -> NotificationRule | None:
    step = await CampaignStep.get(id=message.step_id).prefetch_related("campaign")
    await notifications.ensure_defaults(message.organization_id)
    return await NotificationRule.get_or_none(
        organization_id=message.organization_id, trigger=service.trigger(step.campaign.kind), enabled=True
    )


async def _insert(message: CampaignMessage, rule: NotificationRule, position: int, when: datetime) -> None:
    await Notification.create(
        organization_id=message.organization_id,
        account_id=message.account_id,
        source_event_id=message.id,
        trigger=rule.trigger,
        position=position,
        channel=rule.channels[position],
        urgent=False,  # marketing never goes out in quiet hours
        scheduled_for=when,
    )


async def _schedule(message: CampaignMessage, position: int) -> None:
    created = await Notification.filter(source_event_id=message.id, position=position).first()
    if created is not None and created.state == "queued":
        await schedule(created, created.scheduled_for)


async def next_channel(message: CampaignMessage, position: int, when: datetime) -> None:
    """The fallback: the message on the rule's next channel (called in the failing
    notification's transaction, after its conditional state change, so once)."""
    rule = await _rule(message)
    if rule is None or position >= len(rule.channels):
        return
    if not await Notification.filter(source_event_id=message.id, position=position).exists():
        await _insert(message, rule, position, when)
    await _schedule(message, position)


@on_event(service.TOPIC, name="campaigns.on_message")
async def on_message(event: Event) -> None:
    message = await CampaignMessage.get_or_none(id=event.payload["message_id"], organization_id=event.organization_id)
    if message is None:
        return
    rule = await _rule(message)
    if rule is None or not rule.channels:
        return
    async with in_transaction():
        # Of two runs of this handler only the one that flips ``notified`` creates the notification.
        if await CampaignMessage.filter(id=message.id, notified=False).update(notified=True):
            await _insert(message, rule, 0, datetime.now(UTC))
    await _schedule(message, 0)
