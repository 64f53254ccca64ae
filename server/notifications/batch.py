"""Sending many order notifications in one job with a fixed number of SQL statements.

What a batch costs does not grow with its size: the rows it needs (orders and statuses,
accounts, consents, organizations, settings, installations, templates, items, shipments,
status reasons) are read with one query each, the batch is claimed with one UPDATE, the
per-message values and tracked links are written with one statement each, and the outcome
(states, timeline entries, ``notification.state_changed`` events) with one statement each.

The same guarantees as the single send (jobs.py):

- The claim is the conditional ``queued`` -> ``sending`` update, all rows at once; only the
  rows this job moved are sent (``RETURNING`` tells which), so two jobs holding the same
  notification send it once.
- The provider calls run concurrently, at most ``PROVIDER_CONCURRENCY`` per plugin
  installation in a worker process, so every claimed message is normally in flight at once: a
  worker killed mid-batch leaves the batch's messages "sending", and the job's re-run marks
  them failed as interrupted (the customer may have them) instead of sending them again.
- Anything off the common path (an e-mail or a chat message, a survey's or campaign's message, an order that moved on or
  was deleted, an opted-out customer, no phone, no plugin, no template, a row
  already "sending") goes through the single send, which knows every rule; so does a provider
  refusal after the claim (its fallback to the next channel). Messages held by quiet hours wait
  for the morning together, in one send job."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from tortoise.transactions import in_transaction

from server.accounts.models import Account
from server.activities.models import Activity
from server.clicks import service as clicks
from server.clicks.models import TrackedLink
from server.config import Settings
from server.core import bulk, outbox
from server.core.public_links import digest
from server.i18n import N_, gettext, gettext_in
from server.jobs.runner import backoff_seconds
from server.notifications import jobs, routing, service, templates
from server.notifications.models import ChannelConsent, Notification, NotificationSettings, NotificationTemplate
from server.orders.models import Order, OrderItem, OrderStatusChange
from server.organizations import language
from server.organizations.language import speaking_for
from server.organizations.models import Organization
from server.plugins import service as plugins
from server.plugins.models import PluginInstallation
from server.plugins.types import OutgoingMessage, PluginError, SentMessage
from server.shipments.models import Shipment

log = logging.getLogger("crm.notifications")

# Per worker process (event loop) and installation: how many provider calls run at once
# (PROVIDER_CONCURRENCY). A semaphore belongs to one event loop, hence the loop in the key.
_gates: dict[tuple[int, UUID], asyncio.Semaphore] = {}


def gate(installation_id: UUID, settings: Settings) -> asyncio.Semaphore:
    key = (id(asyncio.get_running_loop()), installation_id)
    found = _gates.get(key)
    if found is None:
        found = _gates[key] = asyncio.Semaphore(max(1, settings.provider_concurrency))
    return found


@dataclass
class Ready:
    """One message ready to be claimed and sent."""

    notification: Notification
    installation: PluginInstallation
    recipient: str
    locale: str
    text: str  # what the customer gets (tracked links)
    stored: str  # what the CRM keeps
    links: list[clicks.Link] = field(default_factory=list)


# Channels addressed by the customer's phone with a text alone. E-mail (subject, HTML, the
# unsubscribe link, bounces) and chat channels (consent, the customer's chat) take the single send.
BATCH_CHANNELS = ("sms", "viber")


def _is_plain(notification: Notification) -> bool:
    """An order's queued message: the common case the batch path handles itself."""
    return (
        notification.state == "queued"
        and notification.channel in BATCH_CHANNELS
        and notification.order_id is not None
        and notification.survey_id is None
        and not notification.trigger.startswith("campaign_")
        and notification.trigger != jobs.RECEIPT
    )


async def send_many(notification_ids: list[str], settings: Settings, now: datetime | None = None) -> dict[str, str]:
    """Send the queued notifications among ``notification_ids``; each one's outcome."""
    now = now or datetime.now(UTC)
    rows = await Notification.filter(id__in=list(dict.fromkeys(notification_ids)))
    outcome: dict[str, str] = {str(n.id): n.state for n in rows if n.state not in ("queued", "sending")}
    plain = [n for n in rows if _is_plain(n)]
    ready, others, mornings = await _prepare(plain, settings, now)
    for morning, waiting in mornings.items():  # quiet hours: the batch waits for the morning, together
        await Notification.filter(id__in=[n.id for n in waiting], state="queued").update(scheduled_for=morning)
        for n in waiting:
            n.scheduled_for = morning
        await jobs.schedule_batch(waiting, tag=morning.strftime("%Y%m%d%H%M"))
        outcome |= {str(n.id): "deferred" for n in waiting}
    others += [n for n in rows if n.state in ("queued", "sending") and not _is_plain(n)]
    for notification in others:  # the single send knows every other case
        try:
            outcome[str(notification.id)] = await jobs.send(str(notification.id), settings=settings, now=now)
        except PluginError as exc:  # retryable (the send put it back in the queue): its own job retries
            log.warning("notification %s: %s; trying again later", notification.id, exc.message)
            when = now + timedelta(seconds=backoff_seconds(notification.attempts + 1, settings, exc))
            await jobs.schedule(notification, when, tag=f"retry-{now.timestamp():.0f}")
            outcome[str(notification.id)] = "queued"
    claimed = await _claim(ready, now)
    outcome |= {str(r.notification.id): "taken" for r in ready if r.notification.id not in claimed}
    ready = [r for r in ready if r.notification.id in claimed]
    results = await asyncio.gather(*(_call(r, settings) for r in ready))
    sent = [(r, result) for r, result in zip(ready, results, strict=True) if isinstance(result, SentMessage)]
    sent = [(r, s) for r, s in sent if s.status != "failed"]
    await _finish_sent(sent, now)
    outcome |= {str(r.notification.id): "sent" for r, _ in sent}
    for r, result in zip(ready, results, strict=True):
        if str(r.notification.id) not in outcome:
            outcome[str(r.notification.id)] = await _after_failure(r.notification, result, settings, now)
    return outcome


async def _prepare(
    notifications: list[Notification], settings: Settings, now: datetime
) -> tuple[list[Ready], list[Notification], dict[datetime, list[Notification]]]:
    """The messages of the common case, rendered; the rest for the single send; those that wait
    for the end of quiet hours, by when."""
    mornings: dict[datetime, list[Notification]] = defaultdict(list)
    if not notifications:
        return [], [], mornings
    orders = {
        o.id: o
        for o in await Order.filter(id__in=[n.order_id for n in notifications]).prefetch_related("status")  # type: ignore[attr-defined]
    }
    org_ids = list({n.organization_id for n in notifications})  # type: ignore[attr-defined]
    organizations = {o.id: o for o in await Organization.filter(id__in=org_ids)}
    for organization in organizations.values():
        language.remember(organization)
    options = {s.organization_id: s for s in await NotificationSettings.filter(organization_id__in=org_ids)}  # type: ignore[attr-defined]
    account_ids = list({o.account_id for o in orders.values() if o.account_id})  # type: ignore[attr-defined]
    accounts = {a.id: a for a in await Account.filter(id__in=account_ids)} if account_ids else {}
    opted_out = set(
        await ChannelConsent.filter(account_id__in=account_ids, opted_in=False).values_list("account_id", "channel")
    )
    installations = await PluginInstallation.filter(organization_id__in=org_ids, enabled=True).order_by("created_at")
    routes = await routing.routes_of(org_ids)
    templates_by_key = {
        (t.organization_id, t.trigger, t.channel, t.locale): t  # type: ignore[attr-defined]
        for t in await NotificationTemplate.filter(
            organization_id__in=org_ids,
            trigger__in=list({n.trigger for n in notifications}),
            channel__in=list({n.channel for n in notifications}),
        )
    }
    order_ids = list(orders)
    items: dict[UUID, list[OrderItem]] = defaultdict(list)
    for item in await OrderItem.filter(order_id__in=order_ids).order_by("position", "id"):
        items[item.order_id].append(item)  # type: ignore[attr-defined]
    shipments: dict[UUID, Shipment] = {}
    for shipment in await Shipment.filter(order_id__in=order_ids, cancelled_at=None).order_by("-created_at"):
        shipments.setdefault(shipment.order_id, shipment)  # type: ignore[attr-defined]
    reasons: dict[UUID, str | None] = {}
    for order_id, reason in await (
        OrderStatusChange.filter(order_id__in=order_ids).order_by("-created_at").values_list("order_id", "reason")
    ):
        reasons.setdefault(order_id, reason)

    ready: list[Ready] = []
    others: list[Notification] = []
    base = clicks.base_url(settings)
    for n in notifications:
        order = orders.get(n.order_id)  # type: ignore[attr-defined]
        organization = organizations.get(n.organization_id)  # type: ignore[attr-defined]
        option = options.get(n.organization_id)  # type: ignore[attr-defined]
        if order is None or organization is None or option is None:
            others.append(n)
            continue
        account = accounts.get(order.account_id)  # type: ignore[attr-defined]
        recipient = order.recipient_phone or (account.phones[0] if account and account.phones else "")
        installation = routing.choose(installations, routes, organization.id, n.trigger, n.channel)
        if (
            order.deleted_at is not None
            or order.status.code != n.trigger
            or (n.account_id, n.channel) in opted_out  # type: ignore[attr-defined]
            or not recipient
            or installation is None
        ):
            others.append(n)
            continue
        morning = None if n.urgent else service.in_quiet_hours(option, organization.timezone, now)
        if morning is not None:
            mornings[morning].append(n)
            continue
        locale = organization.locale if organization.locale in ("uk", "en") else "uk"
        key = (organization.id, n.trigger, n.channel)
        template = templates_by_key.get((*key, locale)) or templates_by_key.get((*key, "uk"))
        if template is None:
            others.append(n)
            continue
        context = service.build_context(
            order, organization, account, option, items[order.id], shipments.get(order.id), reasons.get(order.id)
        )
        stored = text = templates.render(template.body, context)
        links: list[clicks.Link] = []
        if option.track_links:
            text, links = clicks.rewrite(text, base)
        ready.append(Ready(n, installation, recipient, locale, text, stored, links))
    return ready, others, mornings


async def _claim(ready: list[Ready], now: datetime) -> set[UUID]:
    """Move the batch from queued to sending in one UPDATE; the ids this job got. The values of
    each message and its tracked links are written in the same transaction."""
    if not ready:
        return set()
    async with in_transaction() as connection:
        postgres = connection.capabilities.dialect == "postgres"
        ids = [r.notification.id for r in ready]
        marks = ", ".join(f"${i + 1}" if postgres else "?" for i in range(len(ids)))
        rows = await connection.execute_query_dict(
            "UPDATE notification SET state = 'sending', attempts = attempts + 1 "  # noqa: S608 - placeholders only
            f"WHERE state = 'queued' AND id IN ({marks}) RETURNING id",
            [i if postgres else str(i) for i in ids],
        )
        claimed = {UUID(str(row["id"])) for row in rows}
        mine = [r for r in ready if r.notification.id in claimed]
        for r in mine:
            n = r.notification
            n.state, n.attempts, n.updated_at = "sending", n.attempts + 1, now
            n.recipient, n.locale, n.text, n.installation_id = r.recipient, r.locale, r.stored, r.installation.id  # type: ignore[attr-defined]
        await bulk.update_rows(
            [r.notification for r in mine], ["recipient", "locale", "text", "installation_id", "updated_at"], connection
        )
        links = [
            TrackedLink(
                organization_id=r.notification.organization_id,  # type: ignore[attr-defined]
                notification_id=r.notification.id,
                account_id=r.notification.account_id,  # type: ignore[attr-defined]
                campaign_message_id=None,
                token_hash=digest(link.token),
                url=link.url,
            )
            for r in mine
            for link in r.links
        ]
        if links:
            await TrackedLink.bulk_create(links, using_db=connection)
    return claimed


async def _call(r: Ready, settings: Settings) -> SentMessage | BaseException:
    n = r.notification
    message = OutgoingMessage(to=r.recipient, text=r.text, channel=n.channel, reference=str(n.id))
    async with gate(r.installation.id, settings):
        try:
            return await plugins.call(settings, r.installation, "crm_messaging_send", message=message)
        except Exception as exc:  # each message's outcome on its own; the others go on
            return exc


async def _finish_sent(sent: list[tuple[Ready, SentMessage]], now: datetime) -> None:
    """States, timeline entries and events of the sent messages: three statements in one transaction."""
    if not sent:
        return
    for r, result in sent:
        n = r.notification
        n.state, n.reason, n.provider_message_id, n.sent_at = "sent", "", result.provider_message_id, now
    notifications = [r.notification for r, _ in sent]
    async with in_transaction() as connection:
        await bulk.update_rows(notifications, ["state", "reason", "provider_message_id", "sent_at"], connection)
        entries = [
            Activity(
                organization_id=n.organization_id,  # type: ignore[attr-defined]
                account_id=n.account_id,  # type: ignore[attr-defined]
                order_id=n.order_id,  # type: ignore[attr-defined]
                kind="sms" if n.channel == "sms" else "message",
                subject=gettext_in(n.locale, N_("%(channel)s to the customer sent"), channel=n.channel.upper())[:300],
                body=n.text,
                data={"notification_id": str(n.id), "state": "sent", "trigger": n.trigger},
                occurred_at=now,
            )
            for n in notifications
            if n.account_id  # type: ignore[attr-defined]
        ]
        if entries:
            await Activity.bulk_create(entries, using_db=connection)
        await outbox.emit_many(
            [(n.organization_id, "notification.state_changed", jobs.state_payload(n, "sent")) for n in notifications],  # type: ignore[attr-defined]
            using_db=connection,
        )


async def _after_failure(
    n: Notification, result: SentMessage | BaseException, settings: Settings, now: datetime
) -> str:
    """A message the provider did not take: as the single send decides, one at a time (rare)."""
    if isinstance(result, SentMessage):  # refused: the next channel
        async with speaking_for(n.organization_id):  # type: ignore[attr-defined]
            reason = result.error_message or result.error_code or gettext("refused by the provider")
        await jobs._finish_and_fall_back(n, "failed", reason, now)
        return "failed"
    if not isinstance(result, PluginError):
        # Unexpected: left "sending" like a single send that crashed; its check marks it.
        log.error("sending notification %s failed unexpectedly: %r", n.id, result)
        limit = now + timedelta(seconds=settings.job_timeout_seconds + 1)
        await jobs.schedule(n, limit, tag=f"sending-since-{now.timestamp():.0f}")
        return "sending"
    if result.retryable and n.attempts < settings.job_max_tries:
        # The provider certainly did not take it: queued again, its own job retries it later.
        await Notification.filter(id=n.id, state="sending").update(state="queued", reason=result.message[:2000])
        when = now + timedelta(seconds=backoff_seconds(n.attempts, settings, result))
        await jobs.schedule(n, when, tag=f"retry-{n.attempts}")
        return "queued"
    if result.code == jobs.OUTCOME_UNKNOWN:
        await jobs._finish(n, "failed", result.message)
    else:
        await jobs._finish_and_fall_back(n, "failed", result.message, now)
    return "failed"
