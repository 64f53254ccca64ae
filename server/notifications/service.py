"""Notification rules, templates and settings per organization; rendering and previews;
consent; retrying a failed message. The sending itself is in jobs.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from server.accounts.models import Account
from server.audit import service as audit
from server.auth.scope import Scope
from server.core import outbox
from server.core.errors import ErrorCode, Problems, UserInputError
from server.core.text import camel_case, limited_text, required_text
from server.i18n import _
from server.notifications import routing, templates
from server.notifications.defaults import CHANNELS, DEFAULTS, LOCALES
from server.notifications.models import (
    ChannelConsent,
    Notification,
    NotificationRule,
    NotificationSettings,
    NotificationTemplate,
)
from server.orders.models import Order, OrderItem
from server.organizations.models import Organization

TRACKING_LINK = "https://novaposhta.ua/tracking/?cargo_number={waybill}"
KNOWN_CHANNELS = ("sms", "viber", "telegram", "viber_bot", "whatsapp", "email")
# A messenger without texts of its own says what the Viber template says.
TEMPLATE_FALLBACK = {"telegram": "viber", "viber_bot": "viber"}
TRIGGER_MAX = 32  # an order status code, as the rule and template columns hold it
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


async def ensure_defaults(organization_id: UUID) -> None:
    """Rules, templates and settings for an organization that has none yet, and the rules and
    templates of triggers added since it got them (idempotent)."""
    if (
        await NotificationRule.filter(organization_id=organization_id, trigger__in=list(DEFAULTS)).count()
        == len(DEFAULTS)
        and await NotificationSettings.filter(organization_id=organization_id).exists()
    ):
        return
    rules = [
        NotificationRule(organization_id=organization_id, trigger=t, channels=list(CHANNELS), enabled=on)
        for t, (on, _) in DEFAULTS.items()
    ]
    texts = [
        NotificationTemplate(organization_id=organization_id, trigger=t, channel=c, locale=loc, body=body)
        for t, (_, bodies) in DEFAULTS.items()
        for loc, body in bodies.items()
        for c in CHANNELS
    ]
    await NotificationRule.bulk_create(rules, ignore_conflicts=True)
    await NotificationTemplate.bulk_create(texts, ignore_conflicts=True)
    await NotificationSettings.bulk_create(
        [NotificationSettings(organization_id=organization_id)], ignore_conflicts=True
    )


async def settings_of(organization_id: UUID) -> NotificationSettings:
    await ensure_defaults(organization_id)
    return await NotificationSettings.get(organization_id=organization_id)


# -- rendering ---------------------------------------------------------------------------------


async def context_for(order: Order, reason: str | None = None) -> dict:
    organization = await Organization.get(id=order.organization_id)
    account = await Account.get_or_none(id=order.account_id)
    options = await settings_of(order.organization_id)
    items = await OrderItem.filter(order_id=order.id).order_by("position", "id")
    shipment = await order.shipments.filter(cancelled_at=None).order_by("-created_at").first()
    return build_context(order, organization, account, options, items, shipment, reason)


def build_context(order: Order, organization, account, options, items, shipment, reason: str | None) -> dict:
    """The template variables of an order's message from rows already read (the send job
    reads them for a whole batch at once)."""
    waybill = order.waybill_number or (shipment.waybill_number if shipment else "")
    expected = shipment.estimated_delivery if shipment else None
    name = (order.recipient_name or (account.name if account else "") or "").split()
    return {
        "customer_name": name[0] if name else "",
        "order_number": order.number,
        "items": [{"title": i.title, "quantity": f"{i.quantity.normalize():f}"} for i in items],
        "items_text": ", ".join(f"{i.title} × {i.quantity.normalize():f}" for i in items),
        "total": f"{order.total:.2f}",
        "currency": order.currency,
        "waybill": waybill or "",
        "tracking_link": TRACKING_LINK.format(waybill=waybill) if waybill else "",
        "expected_delivery": expected.strftime("%d.%m.%Y") if expected else "",
        "reason": reason or "",
        "support_phone": options.support_phone,
        "support_email": options.support_email,
        "shop_name": organization.name,
    }


async def text_for(order: Order, trigger: str, channel: str, locale: str, reason: str | None = None) -> str | None:
    return await render_for(order.organization_id, trigger, channel, locale, await context_for(order, reason))


async def render_for(organization_id: UUID, trigger: str, channel: str, locale: str, context: dict) -> str | None:
    """The organization's template of the trigger and channel (in ``locale``, else Ukrainian),
    rendered with ``context``; None when there is no template."""
    template = None
    # An e-mail without a template of its own says what the SMS says (the organization can
    # write a longer one with updateNotificationTemplate(channel: "email")).
    for chosen in (channel, "sms") if channel == "email" else (channel,):
        template = await NotificationTemplate.get_or_none(
            organization_id=organization_id, trigger=trigger, channel=chosen, locale=locale
        ) or await NotificationTemplate.get_or_none(
            organization_id=organization_id, trigger=trigger, channel=chosen, locale="uk"
        )
        if template is not None:
            break
    if template is None:
        # A channel only a plugin declares (no default texts) says what the SMS says.
        fallback = TEMPLATE_FALLBACK.get(channel) or ("sms" if channel not in KNOWN_CHANNELS else None)
        return await render_for(organization_id, trigger, fallback, locale, context) if fallback else None
    return templates.render(template.body, context)


async def preview(scope: Scope, order_id: UUID, trigger: str | None, channel: str, locale: str) -> str:
    if locale not in LOCALES:
        raise UserInputError(
            ErrorCode.INVALID, _("Locale must be one of: %(locales)s.", locales=", ".join(LOCALES)), "locale"
        )
    [channel] = _channels([channel])
    if trigger is not None:
        trigger = required_text(trigger, "trigger", TRIGGER_MAX)
    order = await scope.get(Order, order_id, field="orderId")
    await ensure_defaults(scope.organization_id)
    if trigger is None:
        trigger = (await order.status).code
    text = await text_for(order, trigger, channel, locale)
    if text is None:
        raise UserInputError(
            ErrorCode.NOT_FOUND,
            _("No %(channel)s template for '%(trigger)s'.", channel=channel, trigger=trigger),
            "trigger",
        )
    return text


# -- administration ----------------------------------------------------------------------------


def _channels(values: list[str]) -> list[str]:
    cleaned = [v.strip().lower() for v in values]
    known = routing.known_channels()  # the CRM's own and those messaging plugins declare
    unknown = [v for v in cleaned if v not in known]
    if unknown or not cleaned or len(set(cleaned)) != len(cleaned):
        raise UserInputError(
            ErrorCode.INVALID,
            _("Channels: one or more of %(channels)s, each once.", channels=", ".join(known)),
            "channels",
        )
    return cleaned


async def update_rule(
    scope: Scope, trigger: str, *, channels: list[str] | None, enabled: bool | None, urgent: bool | None
) -> NotificationRule:
    scope.require("settings:write")
    trigger = required_text(trigger, "trigger", TRIGGER_MAX)
    await ensure_defaults(scope.organization_id)
    values = {}
    if channels is not None:
        values["channels"] = _channels(channels)
    if enabled is not None:
        values["enabled"] = enabled
    if urgent is not None:
        values["urgent"] = urgent
    async with in_transaction():
        rule = await scope.queryset(NotificationRule, "write").get_or_none(trigger=trigger)
        if rule is None:
            rule = await NotificationRule.create(
                organization_id=scope.organization_id, trigger=trigger, channels=list(CHANNELS), enabled=True
            )
        changes = {k: [getattr(rule, k), v] for k, v in values.items() if getattr(rule, k) != v}
        if changes:
            await NotificationRule.filter(id=rule.id).update(**values)
            for k, v in values.items():
                setattr(rule, k, v)
            await audit.record(scope, "notification_rule.update", rule, changes)
    return rule


async def update_template(scope: Scope, trigger: str, channel: str, locale: str, body: str) -> NotificationTemplate:
    scope.require("settings:write")
    trigger = required_text(trigger, "trigger", TRIGGER_MAX)
    if locale not in LOCALES:
        raise UserInputError(
            ErrorCode.INVALID, _("Locale must be one of: %(locales)s.", locales=", ".join(LOCALES)), "locale"
        )
    [channel] = _channels([channel])
    body = templates.check(body)
    async with in_transaction():
        template = await scope.queryset(NotificationTemplate, "write").get_or_none(
            trigger=trigger, channel=channel, locale=locale
        )
        if template is None:
            template = await NotificationTemplate.create(
                organization_id=scope.organization_id, trigger=trigger, channel=channel, locale=locale, body=body
            )
            await audit.record(scope, "notification_template.create", template, {"body": [None, body]})
        elif template.body != body:
            await audit.record(scope, "notification_template.update", template, {"body": [template.body, body]})
            template.body = body
            await template.save(update_fields=["body", "updated_at"])
    return template


async def update_settings(scope: Scope, data: dict) -> NotificationSettings:
    scope.require("settings:write")
    current = await settings_of(scope.organization_id)
    values = {}
    problems = Problems()
    for key in ("quiet_start", "quiet_end"):
        if data.get(key) is not None:
            if not _CLOCK.match(data[key]):
                problems.add(ErrorCode.INVALID, _("Use HH:MM, 24-hour clock."), camel_case(key))
            values[key] = data[key]
    if data.get("send_delay_seconds") is not None:
        if not 0 <= data["send_delay_seconds"] <= 3600:
            problems.add(ErrorCode.INVALID, _("From 0 to 3600 seconds."), "sendDelaySeconds")
        values["send_delay_seconds"] = data["send_delay_seconds"]
    for key, most in (("support_phone", 20), ("support_email", 200)):
        if data.get(key) is not None:
            with problems:
                values[key] = limited_text(data[key], camel_case(key), most)
    if data.get("track_links") is not None:
        values["track_links"] = bool(data["track_links"])
    problems.raise_if_any()
    async with in_transaction():
        changes = {k: [getattr(current, k), v] for k, v in values.items() if getattr(current, k) != v}
        if changes:
            await NotificationSettings.filter(id=current.id).update(**values)
            for k, v in values.items():
                setattr(current, k, v)
            await audit.record(scope, "notification_settings.update", current, changes)
    return current


def in_quiet_hours(options: NotificationSettings, timezone: str, now: datetime) -> datetime | None:
    """When quiet hours end, if ``now`` is inside them; None otherwise."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    start, end = (time.fromisoformat(options.quiet_start), time.fromisoformat(options.quiet_end))
    if start == end:
        return None
    clock = local.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return None
    morning = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if clock >= end:  # quiet hours started this evening: they end tomorrow morning
        morning += timedelta(days=1)
    return morning.astimezone(UTC)


# -- consent and retry -------------------------------------------------------------------------


async def set_consent(scope: Scope, account_id: UUID, channel: str, opted_in: bool) -> ChannelConsent:
    [channel] = _channels([channel])
    async with in_transaction():
        account = await scope.get(Account, account_id, "update", field="accountId")
        consent = await ChannelConsent.get_or_none(account_id=account.id, channel=channel)
        if consent is None:
            consent = await ChannelConsent.create(
                organization_id=scope.organization_id, account_id=account.id, channel=channel, opted_in=opted_in
            )
        elif consent.opted_in != opted_in:
            consent.opted_in = opted_in
            await consent.save(update_fields=["opted_in", "updated_at"])
        await audit.record(scope, "account.consent", account, {f"consent.{channel}": [None, opted_in]})
    return consent


async def opted_in(account_id: UUID | None, channel: str) -> bool:
    """An explicit yes (chat channels need one; order messages by SMS and Viber do not)."""
    if account_id is None:
        return False
    return await ChannelConsent.filter(account_id=account_id, channel=channel, opted_in=True).exists()


async def opted_out(account_id: UUID | None, channel: str) -> bool:
    if account_id is None:
        return False
    return await ChannelConsent.filter(account_id=account_id, channel=channel, opted_in=False).exists()


async def retry(scope: Scope, notification_id: UUID) -> Notification:
    """Send a failed message again (a new attempt on the same channel, now). The send is asked
    for through the outbox, in this transaction: it happens even if the job queue is down now."""
    async with in_transaction():
        notification = await scope.get(Notification, notification_id, "update", field="id")
        if notification.state != "failed":
            raise UserInputError(ErrorCode.INVALID, _("Only a failed notification can be retried."), "id")
        now = datetime.now(UTC)
        await Notification.filter(id=notification.id).update(state="queued", reason="", attempts=0, scheduled_for=now)
        await audit.record(scope, "notification.retry", notification, {"state": ["failed", "queued"]})
        await outbox.emit(scope.organization_id, "notification.retried", {"notification_id": notification.id})
    notification.state, notification.scheduled_for = "queued", now
    return notification
