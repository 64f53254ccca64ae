"""GraphQL for customer notifications: rules, templates and settings (admins), previews,
the messages of an order, retrying a failed one, and a customer's channel consent."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.types import Node, model_type
from server.notifications import routing, service
from server.notifications.models import (
    ChannelConsent,
    ChannelRoute,
    Notification,
    NotificationRule,
    NotificationSettings,
    NotificationTemplate,
)
from server.orders.models import Order
from server.plugins.models import PluginInstallation
from server.plugins.schema import PluginInstallationType

TRIGGER = (
    "What sends it: an order status code (`new`, `shipped`...), or `survey_nps`, `survey_support`, "
    "`campaign_winback`, `campaign_birthday`, `campaign_review`, `fiscal_receipt` (docs/notifications.md)."
)


@model_type(NotificationRule, description="Which channels tell a customer that an order reached a status.")
class NotificationRuleType:
    trigger: str = strawberry.field(description=TRIGGER)
    channels: list[str] = strawberry.field(
        description="Channels in order of preference: when one cannot reach the customer, the next is tried."
    )
    urgent: bool = strawberry.field(description="Sent during quiet hours too.")
    enabled: bool


@model_type(NotificationTemplate, description="The text of a trigger on one channel in one language.")
class NotificationTemplateType:
    trigger: str
    channel: str
    locale: str = strawberry.field(description="`uk` or `en`: the organization's locale picks one.")
    body: str = strawberry.field(
        description="A Jinja template run in a sandbox. Variables: customer_name, order_number, items (title, "
        "quantity), items_text, total, currency, waybill, tracking_link, expected_delivery, reason, "
        "support_phone, support_email, shop_name. A missing value renders empty."
    )


@model_type(NotificationSettings, name="NotificationSettings", description="Timing and contacts of notifications.")
class NotificationSettingsType:
    quiet_start: str = strawberry.field(description="Quiet hours start (HH:MM, organization time zone).")
    quiet_end: str = strawberry.field(
        description="Quiet hours end: non-urgent messages wait until then. Equal to the start: no quiet hours."
    )
    send_delay_seconds: int = strawberry.field(
        description="Wait this long before sending, and send only if the order is still in that status "
        "(a status changed back quickly sends nothing)."
    )
    support_phone: str = strawberry.field(description="`support_phone` in templates.")
    support_email: str = strawberry.field(description="`support_email` in templates.")
    track_links: bool = strawberry.field(
        description="Links in messages go out as short tracked links of the CRM (`<public URL>/c/<token>`) that "
        "count clicks and lead on to the address; the CRM's own survey and unsubscribe links stay as they are."
    )


@model_type(Notification, description="One message to a customer about an order, on one channel.")
class NotificationType(Node):
    trigger: str = strawberry.field(description=TRIGGER)
    channel: str
    recipient: str = strawberry.field(
        description="The phone (E.164) or, for e-mail, the address it went to, once sending started."
    )
    text: str = strawberry.field(description="What was sent, once rendered.")
    state: str = strawberry.field(
        description="`queued` (waiting: send delay, quiet hours or a retry), `sending`, `sent`, `delivered`, "
        "`failed`, or `skipped` (the order moved on, the customer opted out, no phone)."
    )
    reason: str = strawberry.field(description="Why it failed or was skipped.")
    provider_message_id: str | None = strawberry.field(description="The provider's id of the message.")
    attempts: int
    scheduled_for: datetime = strawberry.field(description="When it is (or was) due.")
    sent_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @strawberry.field(description="The order it is about; null for the survey message of a ticket.")
    def order_id(self) -> strawberry.ID | None:
        if self.order_id is None:  # type: ignore[attr-defined]
            return None
        return strawberry.ID(ids.encode("Order", self.order_id))  # type: ignore[attr-defined]


@model_type(ChannelConsent, description="Whether a customer accepts order messages on a channel.")
class ChannelConsentType:
    channel: str
    opted_in: bool


@model_type(
    ChannelRoute,
    description="The installation an organization chose to send a channel: for every rule, or for one rule.",
)
class ChannelRouteType:
    channel: str = strawberry.field(description="`sms`, `viber`, `email`... or a channel a plugin declares.")
    trigger: str = strawberry.field(
        description="The rule (order status code) this choice is for; empty: every rule without its own choice."
    )

    @strawberry.field(description="The installation that sends the channel.")
    async def installation(self, info: Info) -> PluginInstallationType:
        return await PluginInstallation.get(id=self.installation_id)  # type: ignore[attr-defined,return-value]


@strawberry.type
class ChannelRoutePayload:
    route: ChannelRouteType | None = strawberry.field(default=None, description="The choice now; null once removed.")
    errors: list[UserError]


@strawberry.type
class NotificationRulePayload:
    rule: NotificationRuleType | None = None
    errors: list[UserError]


@strawberry.type
class NotificationTemplatePayload:
    template: NotificationTemplateType | None = None
    errors: list[UserError]


@strawberry.type
class NotificationSettingsPayload:
    settings: NotificationSettingsType | None = None
    errors: list[UserError]


@strawberry.type
class NotificationPayload:
    notification: NotificationType | None = None
    errors: list[UserError]


@strawberry.type
class ChannelConsentPayload:
    consent: ChannelConsentType | None = None
    errors: list[UserError]


@strawberry.type
class PreviewPayload:
    text: str | None = None
    errors: list[UserError]


@strawberry.input
class UpdateNotificationRuleInput:
    trigger: str = strawberry.field(description=TRIGGER)
    channels: list[str] | None = None
    enabled: bool | None = None
    urgent: bool | None = None


@strawberry.input
class UpdateNotificationTemplateInput:
    trigger: str
    channel: str
    locale: str
    body: str


@strawberry.input
class UpdateNotificationSettingsInput:
    quiet_start: str | None = None
    quiet_end: str | None = None
    send_delay_seconds: int | None = None
    support_phone: str | None = None
    support_email: str | None = None
    track_links: bool | None = strawberry.field(
        default=None, description="Turn click tracking of links in messages on or off (on by default)."
    )


@strawberry.input
class SetChannelRouteInput:
    channel: str = strawberry.field(description="The channel: `sms`, `viber`, `email`... (see `Plugin.channels`).")
    installation_id: strawberry.ID | None = strawberry.field(
        description="The messaging installation to send it; null removes the choice (then the first enabled "
        "installation serving the channel sends it)."
    )
    trigger: str | None = strawberry.field(
        default=None, description="Only for this rule (an order status code); null: for the whole organization."
    )


@strawberry.input
class SetChannelConsentInput:
    account_id: strawberry.ID
    channel: str
    opted_in: bool


def _settings_data(data: UpdateNotificationSettingsInput) -> dict:
    return {
        k: getattr(data, k)
        for k in ("quiet_start", "quiet_end", "send_delay_seconds", "support_phone", "support_email", "track_links")
    }


@strawberry.type
class NotificationQueries:
    @strawberry.field(description="The organization's notification rules, one per order status.")
    async def notification_rules(self, info: Info) -> list[NotificationRuleType]:
        scope = info.context.scope
        scope.require("settings:read")
        await service.ensure_defaults(scope.organization_id)
        return await scope.queryset(NotificationRule).order_by("trigger")  # type: ignore[return-value]

    @strawberry.field(description="The organization's message templates.")
    async def notification_templates(self, info: Info, trigger: str | None = None) -> list[NotificationTemplateType]:
        scope = info.context.scope
        scope.require("settings:read")
        await service.ensure_defaults(scope.organization_id)
        query = scope.queryset(NotificationTemplate)
        if trigger is not None:
            query = query.filter(trigger=trigger)
        return await query.order_by("trigger", "channel", "locale")  # type: ignore[return-value]

    @strawberry.field(
        description="Which installation sends each channel, where the organization chose (needs settings:read). "
        "Without a choice, the first enabled installation whose plugin serves the channel sends it."
    )
    async def channel_routes(self, info: Info) -> list[ChannelRouteType]:
        return await routing.list_routes(info.context.scope)  # type: ignore[return-value]

    @strawberry.field(description="Quiet hours, send delay and support contacts.")
    async def notification_settings(self, info: Info) -> NotificationSettingsType:
        info.context.scope.require("settings:read")
        return await service.settings_of(info.context.scope.organization_id)  # type: ignore[return-value]

    @strawberry.field(description="The messages sent (or to be sent) to the customer about an order, oldest first.")
    async def order_notifications(self, info: Info, order_id: strawberry.ID) -> list[NotificationType]:
        scope = info.context.scope
        order = await scope.get(Order, ids.decode(order_id, "Order")[1], field="orderId")
        return await scope.queryset(Notification).filter(order_id=order.id).order_by("created_at", "position")  # type: ignore[return-value]

    @strawberry.field(
        description="The text a customer would get for this order: `trigger` defaults to its current status."
    )
    async def preview_notification(
        self, info: Info, order_id: strawberry.ID, channel: str = "sms", locale: str = "uk", trigger: str | None = None
    ) -> PreviewPayload:
        scope = info.context.scope

        async def act():
            return {"text": await service.preview(scope, ids.decode(order_id, "Order")[1], trigger, channel, locale)}

        return await run_mutation(PreviewPayload, act)


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="Change a status's notification: channels, on/off, urgent (admins).")
    async def update_notification_rule(self, info: Info, input: UpdateNotificationRuleInput) -> NotificationRulePayload:
        scope = info.context.scope

        async def act():
            rule = await service.update_rule(
                scope, input.trigger, channels=input.channels, enabled=input.enabled, urgent=input.urgent
            )
            return {"rule": rule}

        return await run_mutation(NotificationRulePayload, act)

    @strawberry.mutation(description="Set a template's text; it must compile (the error names the line).")
    async def update_notification_template(
        self, info: Info, input: UpdateNotificationTemplateInput
    ) -> NotificationTemplatePayload:
        scope = info.context.scope

        async def act():
            template = await service.update_template(scope, input.trigger, input.channel, input.locale, input.body)
            return {"template": template}

        return await run_mutation(NotificationTemplatePayload, act)

    @strawberry.mutation(description="Quiet hours, send delay and support contacts (admins).")
    async def update_notification_settings(
        self, info: Info, input: UpdateNotificationSettingsInput
    ) -> NotificationSettingsPayload:
        scope = info.context.scope

        async def act():
            return {"settings": await service.update_settings(scope, _settings_data(input))}

        return await run_mutation(NotificationSettingsPayload, act)

    @strawberry.mutation(description="Send a failed notification again, now, on the same channel.")
    async def retry_notification(self, info: Info, id: strawberry.ID) -> NotificationPayload:
        scope = info.context.scope

        async def act():
            return {"notification": await service.retry(scope, ids.decode(id, "Notification")[1])}

        return await run_mutation(NotificationPayload, act)

    @strawberry.mutation(
        description="Choose the installation that sends a channel, for the organization or one rule (admins)."
    )
    async def set_channel_route(self, info: Info, input: SetChannelRouteInput) -> ChannelRoutePayload:
        scope = info.context.scope

        async def act():
            installation_id = (
                ids.decode(input.installation_id, "PluginInstallation")[1] if input.installation_id else None
            )
            return {"route": await routing.set_route(scope, input.channel, input.trigger, installation_id)}

        return await run_mutation(ChannelRoutePayload, act)

    @strawberry.mutation(description="A customer opts out of (or back into) order messages on a channel.")
    async def set_channel_consent(self, info: Info, input: SetChannelConsentInput) -> ChannelConsentPayload:
        scope = info.context.scope

        async def act():
            consent = await service.set_consent(
                scope, ids.decode(input.account_id, "Account")[1], input.channel, input.opted_in
            )
            return {"consent": consent}

        return await run_mutation(ChannelConsentPayload, act)
