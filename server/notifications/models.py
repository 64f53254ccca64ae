"""Customer notifications about their orders: what to send on which status (rules), the
text per channel and language (templates), and every message the CRM decided to send."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

STATES = ("queued", "sending", "sent", "delivered", "failed", "skipped")


class NotificationRule(TenantModel):
    """Which channels, in which order, tell a customer that an order reached a status."""

    resource = "settings"

    trigger = fields.CharField(max_length=32)  # an order status code
    channels = fields.JSONField(default=list)  # e.g. ["viber", "sms"]: the next one when one cannot reach
    urgent = fields.BooleanField(default=False)  # sent during quiet hours too
    enabled = fields.BooleanField(default=True)

    class Meta:
        table = "notification_rule"
        unique_together = (("organization", "trigger"),)


class NotificationTemplate(TenantModel):
    """The text of one trigger on one channel in one language (a sandboxed Jinja template)."""

    resource = "settings"

    trigger = fields.CharField(max_length=32)
    channel = fields.CharField(max_length=16)
    locale = fields.CharField(max_length=8)
    body = fields.TextField()

    class Meta:
        table = "notification_template"
        unique_together = (("organization", "trigger", "channel", "locale"),)


class NotificationSettings(TenantModel):
    """Quiet hours in the organization timezone, the debounce delay and the support contacts."""

    resource = "settings"

    quiet_start = fields.CharField(max_length=5, default="21:00")
    quiet_end = fields.CharField(max_length=5, default="09:00")
    send_delay_seconds = fields.IntField(default=60)
    support_phone = fields.CharField(max_length=20, default="")
    support_email = fields.CharField(max_length=200, default="")
    # Links in messages go out as short tracked links of the CRM (server/clicks).
    track_links = fields.BooleanField(default=True)

    class Meta:
        table = "notification_settings"
        unique_together = (("organization",),)


class Notification(TenantModel):
    """One message to one customer on one channel, from queued to delivered or failed."""

    resource = "orders"
    owner_path = "order__manager_id"

    # An order's message, or a survey's (an order's or a ticket's: then no order).
    order = fields.ForeignKeyField("crm.Order", related_name="notifications", null=True, on_delete=fields.CASCADE)
    survey = fields.ForeignKeyField("crm.Survey", related_name=False, null=True, on_delete=fields.CASCADE)
    account = fields.ForeignKeyField("crm.Account", related_name=False, null=True, on_delete=fields.SET_NULL)
    source_event_id = fields.UUIDField()  # the outbox event that caused it
    trigger = fields.CharField(max_length=32)
    position = fields.IntField(default=0)  # index of the channel in the rule
    channel = fields.CharField(max_length=16)
    urgent = fields.BooleanField(default=False)
    recipient = fields.CharField(max_length=254, default="")  # a phone (E.164) or an e-mail address
    locale = fields.CharField(max_length=8, default="uk")
    text = fields.TextField(default="")
    state = fields.CharField(max_length=12, default="queued", db_index=True)
    reason = fields.TextField(default="")  # why skipped or failed
    installation = fields.ForeignKeyField(
        "crm.PluginInstallation", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    provider_message_id = fields.CharField(max_length=128, null=True, db_index=True)
    attempts = fields.IntField(default=0)
    scheduled_for = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        unique_together = (("order", "source_event_id", "position"), ("survey", "position"))


class ChannelConsent(TenantModel):
    """A customer opting out of (or back into) a channel. No row: opted in to order messages."""

    resource = "accounts"
    owner_path = "account__owner_id"

    account = fields.ForeignKeyField("crm.Account", related_name=False, on_delete=fields.CASCADE)
    channel = fields.CharField(max_length=16)
    opted_in = fields.BooleanField(default=True)

    class Meta:
        table = "channel_consent"
        unique_together = (("account", "channel"),)


class ChannelRoute(TenantModel):
    """Which messaging installation sends a channel: the organization's choice (trigger "") or one
    rule's (its trigger). Without a route, the first enabled installation serving the channel."""

    resource = "settings"

    channel = fields.CharField(max_length=16)
    trigger = fields.CharField(max_length=32, default="")
    installation = fields.ForeignKeyField("crm.PluginInstallation", related_name=False, on_delete=fields.CASCADE)

    class Meta:
        table = "channel_route"
        unique_together = (("organization", "trigger", "channel"),)
