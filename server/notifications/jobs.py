"""Sending: an order event creates the notification, a job sends it, delivery reports update it.

Never doubled: the notification row is unique per (order, event, channel position), the send
job claims it with a conditional update (only one worker moves it out of ``queued``), and a
message is sent only while the order is still in the status that triggered it, so a status
flipping back and forth within the send delay produces no message for the abandoned status."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.accounts.models import Account
from server.activities.models import Activity
from server.campaigns import service as campaigns
from server.campaigns.models import CampaignMessage
from server.clicks import service as clicks
from server.config import Settings
from server.core import outbox
from server.core.public_links import new_token
from server.email import service as email
from server.fiscal import service as fiscal
from server.fiscal.models import FiscalReceipt
from server.i18n import N_, _, gettext_in
from server.jobs.per_installation import enqueue_per_installation
from server.jobs.registry import Event, enqueue, job, on_event, on_events, periodic
from server.notifications import routing, service
from server.notifications.models import Notification, NotificationRule, NotificationSettings
from server.orders.models import Order
from server.organizations.language import speaking_for
from server.organizations.models import Organization
from server.plugins import service as plugins
from server.plugins.manager import get_manager
from server.plugins.models import PluginInstallation
from server.plugins.types import OutgoingMessage, PluginError, SentMessage
from server.surveys import service as surveys
from server.surveys.models import Survey

log = logging.getLogger("crm.notifications")
SEND = "notifications.send"
SEND_BATCH = "notifications.send_batch"
POLL_EVERY_SECONDS = 300
POLL_DAYS = 3  # providers keep reports about this long; older messages are not asked about
# PluginError.code of a send whose outcome the provider left unknown (timeout, 500 after the
# request went out): neither retried nor followed by the next channel.
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"

# Channels addressed by a chat (the customer's conversation), not by a phone number: used only with
# the customer's explicit consent (setChannelConsent optedIn: true), through the bot they wrote to.
# notification channel -> the conversation channel of that chat.
CHAT_CHANNELS = {"telegram": "telegram", "viber_bot": "viber"}
# The message with the link to a fiscal receipt (sale or return) the shop issued for the order.
RECEIPT = "fiscal_receipt"


async def _chat(notification: Notification):
    """(why not, None) or ("", the customer's conversation on the chat channel)."""
    from server.conversations import service as conversations  # the inbox owns the chats

    channel = notification.channel
    if notification.account_id is None or not await service.opted_in(notification.account_id, channel):
        return _("the customer has not agreed to messages on %(channel)s", channel=channel), None
    chat = await conversations.chat_of(notification.account_id, CHAT_CHANNELS[channel])
    if chat is None:
        return _("the customer has no %(channel)s chat with the shop", channel=channel), None
    return "", chat


async def schedule(notification: Notification, when: datetime, tag: str = "") -> None:
    job_id = f"notify:{notification.id}" + (f":{tag}" if tag else "")
    await enqueue(SEND, job_id=job_id, defer_until=when, notification_id=str(notification.id))


async def _create(order: Order, event_id: UUID, rule: NotificationRule, position: int, now: datetime) -> None:
    """The notification for the rule's channel at ``position`` (idempotent on the event)."""
    options = await service.settings_of(order.organization_id)
    when = now + timedelta(seconds=options.send_delay_seconds if position == 0 else 0)
    subject = {"organization_id": order.organization_id, "order_id": order.id, "account_id": order.account_id}
    await _create_row(subject, event_id, rule, position, when, {"order_id": order.id, "source_event_id": event_id})


async def _create_row(subject: dict, event_id: UUID, rule: NotificationRule, position: int, when: datetime, key: dict):
    """Insert once (``key`` names the unique constraint), then schedule it while queued."""
    if position >= len(rule.channels):
        return
    row = Notification(
        **subject,
        source_event_id=event_id,
        trigger=rule.trigger,
        position=position,
        channel=rule.channels[position],
        urgent=rule.urgent,
        scheduled_for=when,
    )
    await Notification.bulk_create([row], ignore_conflicts=True)
    created = await Notification.get(**key, position=position)
    if created.state == "queued":
        await schedule(created, created.scheduled_for)


async def queue_survey(survey: Survey, trigger: str) -> bool:
    """The message carrying a survey's link, on the first channel of the ``trigger``'s rule, due
    when the survey is (idempotent: one per survey and channel). False when the rule is off."""
    await service.ensure_defaults(survey.organization_id)
    rule = await NotificationRule.get_or_none(organization_id=survey.organization_id, trigger=trigger, enabled=True)
    if rule is None or not rule.channels:
        return False
    await _create_row(_survey_subject(survey), survey.id, rule, 0, survey.due_at, {"survey_id": survey.id})
    return True


def _survey_subject(survey) -> dict:
    return {
        "organization_id": survey.organization_id,
        "order_id": survey.order_id,
        "account_id": survey.account_id,
        "survey_id": survey.id,
    }


async def on_order_event(event: Event) -> None:
    await on_order_events([event])


class _OrderKey(NamedTuple):
    id: UUID
    organization_id: UUID
    account_id: UUID | None


@on_events("order.created", "order.status_changed", name="notifications.on_order_event")
async def on_order_events(events: list[Event]) -> None:
    """The first channel's notification of each order event whose status has an enabled rule,
    created with a fixed number of statements however many events came. One event: its send
    job as before (``notify:<id>``); many: one ``notifications.send_batch`` job per batch."""
    wanted = [(e, "new" if e.topic == "order.created" else e.payload.get("to")) for e in events]
    wanted = [(e, trigger) for e, trigger in wanted if trigger]
    if not wanted:
        return
    # Only the columns used here: an order row is wide, and a batch reads fifty of them.
    orders = {
        row[0]: _OrderKey(*row)
        for row in await Order.filter(id__in=list({e.payload["order_id"] for e, _ in wanted})).values_list(
            "id", "organization_id", "account_id"
        )
    }
    org_ids = list({e.organization_id for e, _ in wanted})
    for organization_id in org_ids:
        await service.ensure_defaults(organization_id)
    rules = {
        (r.organization_id, r.trigger): r  # type: ignore[attr-defined]
        for r in await NotificationRule.filter(
            organization_id__in=org_ids, trigger__in=list({t for _, t in wanted}), enabled=True
        )
    }
    delays = {
        s.organization_id: s.send_delay_seconds  # type: ignore[attr-defined]
        for s in await NotificationSettings.filter(organization_id__in=org_ids)
    }
    now = datetime.now(UTC)
    rows = []
    for event, trigger in wanted:
        order = orders.get(UUID(str(event.payload["order_id"])))
        rule = rules.get((event.organization_id, trigger))
        if order is None or order.organization_id != event.organization_id or rule is None or not rule.channels:
            continue
        rows.append(
            Notification(
                organization_id=order.organization_id,
                order_id=order.id,
                account_id=order.account_id,
                source_event_id=event.id,
                trigger=rule.trigger,
                position=0,
                channel=rule.channels[0],
                urgent=rule.urgent,
                scheduled_for=now + timedelta(seconds=delays.get(order.organization_id, 0)),
            )
        )
    if not rows:
        return
    await Notification.bulk_create(rows, ignore_conflicts=True)
    # By the rows' unique key only, the state checked here: with "state = 'queued'" in the
    # query, a planner whose statistics predate a surge (30,000 orders flipped at once) reads
    # every queued notification through the state index, for every batch.
    found = await Notification.filter(
        source_event_id__in=[r.source_event_id for r in rows],
        order_id__in=[r.order_id for r in rows],  # type: ignore[attr-defined]
        position=0,
    ).only("id", "scheduled_for", "state")  # what scheduling needs; the send job reads the rest
    queued = [n for n in found if n.state == "queued"]
    if len(events) == 1:
        for notification in queued:
            await schedule(notification, notification.scheduled_for)
    elif queued:
        await schedule_batch(queued)


@on_event("fiscal_receipt.done", name="notifications.on_fiscal_receipt")
async def on_fiscal_receipt(event: Event) -> None:
    """The link to an issued receipt, on the first channel of the ``fiscal_receipt`` rule: one
    message per receipt (its id is the notification's source), whatever the order's status."""
    receipt = await FiscalReceipt.get_or_none(id=event.payload["receipt_id"], organization_id=event.organization_id)
    order = await fiscal.order_of(receipt) if receipt is not None and receipt.url else None
    if order is None or order.deleted_at is not None:
        return
    await service.ensure_defaults(order.organization_id)  # type: ignore[attr-defined]
    rule = await NotificationRule.get_or_none(organization_id=order.organization_id, trigger=RECEIPT, enabled=True)  # type: ignore[attr-defined]
    if rule is not None and rule.channels:
        await _create(order, receipt.id, rule, 0, datetime.now(UTC))


async def schedule_batch(notifications: list[Notification], tag: str = "") -> None:
    """One send job for these notifications, when the last of them is due. Its id comes from
    their ids (and ``tag``, for the same batch at another time): the same batch scheduled twice
    is one job."""
    ids = sorted(str(n.id) for n in notifications)
    digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:32]
    when = max(n.scheduled_for for n in notifications)
    job_id = f"notify-batch:{digest}" + (f":{tag}" if tag else "")
    await enqueue(SEND_BATCH, job_id=job_id, defer_until=when, notification_ids=ids)


@on_event("notification.retried", name="notifications.on_retry")
async def on_retry(event: Event) -> None:
    notification = await Notification.get_or_none(
        id=event.payload["notification_id"], organization_id=event.organization_id
    )
    if notification is not None and notification.state == "queued":
        await schedule(notification, datetime.now(UTC), tag=f"retry-{event.id}")


def _is_campaign(notification: Notification) -> bool:
    return notification.trigger.startswith("campaign_")


async def _next_channel(notification: Notification, now: datetime) -> None:
    if _is_campaign(notification):
        from server.campaigns.jobs import next_channel  # it imports this module

        message = await CampaignMessage.get_or_none(id=notification.source_event_id)
        if message is not None:
            await next_channel(message, notification.position + 1, now)
        return
    rule = await NotificationRule.get_or_none(
        organization_id=notification.organization_id, trigger=notification.trigger
    )
    if rule is not None and notification.survey_id is not None:
        survey = await Survey.get_or_none(id=notification.survey_id)
        if survey is not None:
            key = {"survey_id": survey.id}
            await _create_row(_survey_subject(survey), survey.id, rule, notification.position + 1, now, key)
        return
    order = await Order.get_or_none(id=notification.order_id)
    if rule is not None and order is not None:
        await _create(order, notification.source_event_id, rule, notification.position + 1, now)


async def _finish_and_fall_back(notification: Notification, state: str, reason: str, now: datetime) -> None:
    """Give up on this channel and queue the next one together: never one without the other."""
    async with in_transaction():
        await _finish(notification, state, reason)
        await _next_channel(notification, now)


async def _finish(notification: Notification, state: str, reason: str = "", **values) -> None:
    async with in_transaction():  # the state, its timeline entry and its event together
        await Notification.filter(id=notification.id).update(state=state, reason=reason[:2000], **values)
        await _timeline(notification, state, reason)
        await _state_changed(notification, state)
    notification.state, notification.reason = state, reason


async def _state_changed(notification: Notification, state: str) -> None:
    """For live subscribers (``notificationStateChanged``) and partners' webhooks."""
    await outbox.emit(
        notification.organization_id,  # type: ignore[attr-defined]
        "notification.state_changed",
        state_payload(notification, state),
    )


def state_payload(notification: Notification, state: str) -> dict:
    return {
        "notification_id": notification.id,
        "order_id": notification.order_id,  # type: ignore[attr-defined]
        "account_id": notification.account_id,  # type: ignore[attr-defined]
        "channel": notification.channel,
        "state": state,
    }


async def _timeline(notification: Notification, state: str, reason: str) -> None:
    if state in ("sent", "failed") and notification.account_id:
        kind = notification.channel if notification.channel in ("sms", "email") else "message"
        # In the organization's language, which the notification was written in.
        channel = notification.channel.upper()
        if state == "sent":
            subject = gettext_in(notification.locale, N_("%(channel)s to the customer sent"), channel=channel)
        else:
            subject = gettext_in(
                notification.locale,
                N_("%(channel)s to the customer failed: %(reason)s"),
                channel=channel,
                reason=reason,
            )
        await Activity.create(
            organization_id=notification.organization_id,
            account_id=notification.account_id,
            order_id=notification.order_id,
            kind=kind,
            subject=subject[:300],
            body=notification.text,
            data={"notification_id": str(notification.id), "state": state, "trigger": notification.trigger},
            occurred_at=datetime.now(UTC),
        )


async def _recipient(order: Order) -> str:
    if order.recipient_phone:
        return order.recipient_phone
    account = await Account.get_or_none(id=order.account_id)
    phones = account.phones if account else []
    return phones[0] if phones else ""


@job(SEND)
async def send(notification_id: str, *, settings: Settings, now: datetime | None = None) -> str:
    """Send one queued notification; returns its state (for logs and tests)."""
    now = now or datetime.now(UTC)
    notification = await Notification.get_or_none(id=notification_id)
    if notification is None or notification.state not in ("queued", "sending"):
        return notification.state if notification else "missing"
    async with speaking_for(notification.organization_id):  # type: ignore[attr-defined]
        if notification.state == "sending":
            return await _interrupted(notification, settings, now)
        return await _send(notification, settings, now)


async def _send(notification: Notification, settings: Settings, now: datetime) -> str:
    survey = await Survey.get_or_none(id=notification.survey_id) if notification.survey_id else None
    campaign = receipt = None
    if _is_campaign(notification):  # a retention campaign's message (server/campaigns)
        order = None
        campaign = await CampaignMessage.get_or_none(id=notification.source_event_id)
        problem = await campaigns.why_not_send(campaign)
        if problem:
            await _finish(notification, "skipped", problem)
            return "skipped"
    elif notification.survey_id is not None:
        order = None
        problem = await surveys.why_not_send(survey, now)
        if problem:
            await _finish(notification, "skipped", problem)
            return "skipped"
    else:
        order = await Order.get_or_none(id=notification.order_id).prefetch_related("status")
        if order is None or order.deleted_at is not None:
            await _finish(notification, "skipped", _("the order was deleted"))
            return "skipped"
        if notification.trigger == RECEIPT:
            receipt = await FiscalReceipt.get_or_none(id=notification.source_event_id, status="done")
            if receipt is None:
                await _finish(notification, "skipped", _("the receipt is gone"))
                return "skipped"
        elif order.status.code != notification.trigger:
            await _finish(
                notification,
                "skipped",
                _("the order moved on to '%(status)s' before sending", status=order.status.code),
            )
            return "skipped"
    if await service.opted_out(notification.account_id, notification.channel):
        await _finish_and_fall_back(
            notification, "skipped", _("the customer opted out of %(channel)s", channel=notification.channel), now
        )
        return "skipped"
    organization = await Organization.get(id=notification.organization_id)
    if not notification.urgent:
        morning = service.in_quiet_hours(await service.settings_of(organization.id), organization.timezone, now)
        if morning is not None:
            await Notification.filter(id=notification.id).update(scheduled_for=morning)
            await schedule(notification, morning, tag=morning.strftime("%Y%m%d%H%M"))
            return "deferred"
    chat = None
    if notification.channel == email.CHANNEL:
        recipient = await email.recipient(notification.account_id)
        if not recipient:
            await _finish_and_fall_back(notification, "skipped", _("no e-mail address for the customer"), now)
            return "skipped"
        bounced = await email.undeliverable(organization.id, recipient)
        if bounced is not None:
            reason = _(
                "the address %(address)s bounced (%(status)s): e-mail is not sent to it again",
                address=recipient,
                status=bounced.status,
            )
            await _finish_and_fall_back(notification, "skipped", reason, now)
            return "skipped"
    elif notification.channel in CHAT_CHANNELS:
        # A chat channel reaches only a customer who agreed to it and wrote to the bot.
        problem, chat = await _chat(notification)
        if problem:
            await _finish_and_fall_back(notification, "skipped", problem, now)
            return "skipped"
        recipient = chat.address
    elif campaign is not None:
        recipient = await campaigns.recipient(campaign)
    else:
        recipient = await (surveys.recipient(survey) if survey else _recipient(order))
    if not recipient:
        await _finish(notification, "skipped", _("no phone number for the customer"))
        return "skipped"
    if chat is not None:
        installation = await PluginInstallation.get_or_none(id=chat.installation_id, enabled=True)
    else:
        installation = await routing.installation_for(organization.id, notification.trigger, notification.channel)
    if installation is None:
        await _finish_and_fall_back(
            notification,
            "failed",
            _("no enabled messaging plugin sends %(channel)s", channel=notification.channel),
            now,
        )
        return "failed"
    locale = organization.locale if organization.locale in ("uk", "en") else "uk"
    token = None
    if survey is not None:
        # A fresh link per message; the stored copy of the text never holds a working one.
        token = new_token()
        context = await surveys.message_context(survey, surveys.link(settings, token))
        text = await service.render_for(organization.id, notification.trigger, notification.channel, locale, context)
    elif campaign is not None:
        # A fresh opt-out link per message, stored only as its hash (like a survey link).
        token = new_token()
        context = await campaigns.message_context(campaign, campaigns.link(settings, token), locale, now)
        text = await service.render_for(organization.id, notification.trigger, notification.channel, locale, context)
    elif receipt is not None:
        context = await service.context_for(order) | fiscal.message_context(receipt)
        text = await service.render_for(organization.id, notification.trigger, notification.channel, locale, context)
    else:
        reason = await _status_reason(order)
        text = await service.text_for(order, notification.trigger, notification.channel, locale, reason)
    if not text:
        await _finish_and_fall_back(
            notification,
            "failed",
            _("no %(channel)s template for '%(trigger)s'", channel=notification.channel, trigger=notification.trigger),
            now,
        )
        return "failed"
    # The stored copy: the addresses as the template wrote them, never a working customer link.
    stored = text.replace(token, "…") if token else text
    links: list[clicks.Link] = []
    if (await service.settings_of(organization.id)).track_links:
        text, links = clicks.rewrite(text, clicks.base_url(settings))
    channel = CHAT_CHANNELS.get(notification.channel, notification.channel)  # the Viber bot sends "viber" chats
    message = OutgoingMessage(to=recipient, text=text, channel=channel, reference=str(notification.id))
    unsubscribe_token = None
    if notification.channel == email.CHANNEL:
        # A fresh one-click unsubscribe link per e-mail (RFC 8058), stored with the claim.
        unsubscribe_token, url = email.unsubscribe_link(settings)
        number = order.number if order is not None else None
        message.subject = email.subject(notification.trigger, locale, organization.name, number)
        message.text, message.html = email.render(text, locale, organization.name, url, campaign is not None)
        message.headers = email.unsubscribe_headers(url)
    # Claim it: of two workers holding the same job, one moves it to "sending" and sends, the
    # other stops. A worker that dies while "sending" leaves it there: see _interrupted. The
    # tracked links are stored with the claim, so a sent link always leads somewhere.
    async with in_transaction():
        claimed = await Notification.filter(id=notification.id, state="queued", attempts=notification.attempts).update(
            state="sending",
            attempts=F("attempts") + 1,
            recipient=recipient,
            locale=locale,
            text=stored,
            installation_id=installation.id,
            updated_at=now,
        )
        if claimed and links:
            await clicks.store(
                organization.id, notification.id, notification.account_id, campaign.id if campaign else None, links
            )
        if claimed and unsubscribe_token:
            await email.store_link(
                organization.id, notification.account_id, notification.id, recipient, unsubscribe_token
            )
    if not claimed:
        return "taken"
    if token and survey is not None:  # only the worker that claimed it makes its link the one that opens the survey
        await surveys.link_sent(survey.id, token, notification.channel, now)
    if token and campaign is not None:
        await campaigns.link_sent(campaign.id, token, now)
    notification.attempts += 1
    notification.text, notification.recipient = stored, recipient
    try:
        sent: SentMessage = await plugins.call(settings, installation, "crm_messaging_send", message=message)
    except PluginError as exc:
        if exc.retryable and notification.attempts < settings.job_max_tries:
            # The provider certainly did not take it (plugins mark only such errors retryable).
            await Notification.filter(id=notification.id).update(state="queued", reason=exc.message[:2000])
            raise  # the job runner tries again later, with backoff
        if exc.code == OUTCOME_UNKNOWN:  # the customer may have it: another channel could double it
            await _finish(notification, "failed", exc.message)
        else:
            await _finish_and_fall_back(notification, "failed", exc.message, now)
        return "failed"
    if sent.status == "failed":
        reason = sent.error_message or sent.error_code or _("refused by the provider")
        async with in_transaction():  # the bounce mark, the failure and the next channel together
            if notification.channel == email.CHANNEL and sent.error_code.startswith("5"):
                # A 5xx to RCPT or DATA is a hard bounce (email.md): never e-mail this address again.
                await email.mark_undeliverable(organization.id, recipient, sent.error_code, sent.error_message, "smtp")
            await _finish_and_fall_back(notification, "failed", reason, now)
        return "failed"
    await _finish(notification, "sent", provider_message_id=sent.provider_message_id, sent_at=now)
    return "sent"


@job(SEND_BATCH)
async def send_batch(notification_ids: list[str], *, settings: Settings, now: datetime | None = None) -> dict:
    """Send many queued notifications with a fixed number of SQL statements (batch.py); how
    many ended in each state."""
    from server.notifications.batch import send_many  # it imports this module

    outcome = await send_many(notification_ids, settings, now)
    return dict(Counter(outcome.values()))


async def _interrupted(notification: Notification, settings: Settings, now: datetime) -> str:
    """The job runs again while the notification says "sending": either another worker is
    sending it right now, or a worker died during the provider call. In the second case the
    provider may or may not have the message, and sending again could give the customer two:
    it is marked failed with that explanation instead, for a person to check and retry.

    Which case it is shows once a sender still at work would have hit its time limit: a dead
    worker's job comes back within seconds (server/jobs/leases.py), sooner than that, so
    the question is asked again then, by a job of its own."""
    limit = notification.updated_at + timedelta(seconds=settings.job_timeout_seconds)
    if now < limit:
        check_at = limit + timedelta(seconds=1)
        await schedule(notification, check_at, tag=f"sending-since-{notification.updated_at.timestamp():.0f}")
        return "taken"
    reason = _(
        "Sending was interrupted (the worker stopped during the provider call): the customer may or may "
        "not have received it. Check the provider's log before retrying."
    )
    done = await Notification.filter(id=notification.id, state="sending", updated_at=notification.updated_at).update(
        state="failed", reason=reason
    )
    if done:
        notification.state = "failed"
        await _finish(notification, "failed", reason)
    return "failed"


async def _status_reason(order: Order) -> str | None:
    from server.orders.models import OrderStatusChange

    change = await OrderStatusChange.filter(order_id=order.id).order_by("-created_at").first()
    return getattr(change, "reason", None) if change else None


async def apply_status(installation_id, provider_message_id: str, status: str, provider_status: str = "") -> None:
    """A delivery report: a sent notification becomes delivered, or failed and the next channel."""
    if not provider_message_id or status not in ("delivered", "read", "failed", "undelivered"):
        return
    notification = await Notification.filter(
        installation_id=installation_id, provider_message_id=provider_message_id, state="sent"
    ).first()
    if notification is None:  # unknown, or a second report of the same outcome: changes nothing
        return
    async with in_transaction():
        if status in ("delivered", "read"):
            if await Notification.filter(id=notification.id, state="sent").update(
                state="delivered", delivered_at=datetime.now(UTC)
            ):
                await _state_changed(notification, "delivered")
            return
        async with speaking_for(notification.organization_id):  # type: ignore[attr-defined]
            reason = _("Not delivered (%(status)s)", status=provider_status or status)
        failed = await Notification.filter(id=notification.id, state="sent").update(state="failed", reason=reason)
        if failed:
            await _state_changed(notification, "failed")
            await _next_channel(notification, datetime.now(UTC))


@on_event("message.status", name="notifications.on_message_status")
async def on_message_status(event: Event) -> None:
    """A delivery report pushed by the provider (Twilio's status callbacks)."""
    installation = await PluginInstallation.get_or_none(
        id=event.payload.get("installation_id"), organization_id=event.organization_id
    )
    if installation is not None:
        await apply_status(
            installation.id,
            event.payload.get("provider_message_id") or "",
            event.payload.get("status") or "",
            event.payload.get("provider_status") or "",
        )


def _awaiting_report(now: datetime | None = None):
    """Sent in the last three days, no final delivery status yet."""
    since = (now or datetime.now(UTC)) - timedelta(days=POLL_DAYS)
    return Notification.filter(
        state="sent", sent_at__gte=since, provider_message_id__not_isnull=True, installation_id__not_isnull=True
    )


@periodic(seconds=POLL_EVERY_SECONDS, name="notifications.poll_statuses")
async def poll_statuses(*, now: datetime | None = None) -> int:
    """Queue one ``notifications.poll_installation`` job per installation whose provider is asked
    rather than calling back (TurboSMS) and has messages awaiting a report
    (server/jobs/per_installation.py: one tenant's slow gateway cannot hold up another's)."""
    manager = get_manager()
    installation_ids = await _awaiting_report(now).distinct().values_list("installation_id", flat=True)
    installations = await PluginInstallation.filter(id__in=list(installation_ids), enabled=True).order_by("created_at")
    asked = [i.id for i in installations if manager.implements(i.plugin, "crm_messaging_statuses")]
    queued = await enqueue_per_installation(
        "notifications.poll_installation", asked, every_seconds=POLL_EVERY_SECONDS, now=now
    )
    return len(queued)


@job("notifications.poll_installation")
async def poll_installation(installation_id: str, *, settings: Settings) -> int:
    """Ask one installation for the delivery statuses of its messages awaiting a report, 100 per
    call; the statuses applied. A failing provider is asked again at the next period."""
    installation = await PluginInstallation.get_or_none(id=installation_id, enabled=True)
    if installation is None:
        return 0
    message_ids = (
        await _awaiting_report().filter(installation_id=installation.id).values_list("provider_message_id", flat=True)
    )
    updated = 0
    for start in range(0, len(message_ids), 100):
        batch = list(message_ids[start : start + 100])
        try:
            statuses = await plugins.call(settings, installation, "crm_messaging_statuses", message_ids=batch)
        except PluginError as exc:
            log.warning("delivery statuses from %s failed: %s", installation.plugin, exc.message)
            break
        for status in statuses or []:
            await apply_status(installation.id, status.provider_message_id, status.status, status.provider_status)
            updated += 1
    return updated
