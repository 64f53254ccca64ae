"""GraphQL for partner webhooks (docs/webhooks.md): owners and admins (``settings:write``)
register endpoints, look at deliveries and redeliver; ``changesSince`` lets any reader
reconcile after downtime.

Secrets go out twice only: when an endpoint is made and when its secret is rotated."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.pagination import Direction, Sort, check_first, connection_of, paginate
from server.webhooks import changes, events, service
from server.webhooks.models import WebhookAttempt

ENDPOINT = "WebhookEndpoint"


@strawberry.enum(description="Where a webhook delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.type(name="WebhookEventType", description="An event type endpoints may subscribe to.")
class WebhookEventTypeType:
    name: str = strawberry.field(description="E.g. `order.status_changed`: pass it in `eventTypes`.")
    object_type: str = strawberry.field(description="The type of object its `data` describes, e.g. `Order`.")


DELIVERY = "WebhookDelivery"


@strawberry.type(name="WebhookEndpoint", description="An HTTPS address that receives the organization's events.")
class WebhookEndpointType:
    url: str = strawberry.field(description="Where events are POSTed (public https only, like plugins' addresses).")
    description: str = strawberry.field(description="What the endpoint is for, for people.")
    event_types: list[str] = strawberry.field(description="The event types it receives; empty: every type.")
    include_pii: bool = strawberry.field(
        description="Whether payloads carry customers' phones, e-mails and addresses in full (else masked)."
    )
    enabled: bool = strawberry.field(
        description="Disabled: nothing is sent, events are kept for it (pending) and sent once enabled again."
    )
    disabled_reason: str = strawberry.field(description="Why it was disabled ('' while enabled).")
    disabled_at: datetime | None = strawberry.field(description="When it was disabled.")
    failure_streak: int = strawberry.field(
        description="Deliveries in a row that failed after all retries; it is disabled at WEBHOOK_DISABLE_AFTER_FAILED."
    )
    previous_expires_at: datetime | None = strawberry.field(
        description="Until when the previous secret still signs too (after rotateWebhookSecret); null: no overlap."
    )
    version: int = strawberry.field(description="Pass it back to change the endpoint (optimistic concurrency).")
    created_at: datetime = strawberry.field(description="When it was registered.")

    @strawberry.field(description="Opaque ID of the endpoint.")
    def id(self) -> strawberry.ID:
        return ids.encode(ENDPOINT, self.id)  # type: ignore[attr-defined]

    @strawberry.field(description='Only events whose data fields have these values, e.g. {"source": ["rozetka"]}.')
    def filters(self) -> JSON:
        return self.filters  # type: ignore[attr-defined]


@strawberry.type(name="WebhookAttempt", description="One HTTP request of a delivery.")
class WebhookAttemptType:
    attempted_at: datetime = strawberry.field(description="When the request was sent.")
    status_code: int | None = strawberry.field(description="The receiver's HTTP status; null: no answer.")
    duration_ms: int = strawberry.field(description="How long the request took, in milliseconds.")
    response_excerpt: str = strawberry.field(description="The first kilobyte of the answer.")
    error: str = strawberry.field(description="Why there was no answer (timeout, refused address...).")
    trigger: str = strawberry.field(description="scheduled (a try or retry), or test (sendTestWebhook).")


@strawberry.type(name="WebhookDelivery", description="One event for one endpoint, with every attempt to send it.")
class WebhookDeliveryType:
    event_id: strawberry.ID = strawberry.field(
        description="The event's id; the `webhook-id` header is `msg_` + it without dashes, the same on every try."
    )
    event_type: str = strawberry.field(description="E.g. `order.status_changed`, or `webhook.test`.")

    @strawberry.field(description="PENDING (a try is due, or waits for the endpoint), SUCCEEDED, or FAILED.")
    def status(self) -> WebhookDeliveryStatus:
        return WebhookDeliveryStatus(self.status)  # type: ignore[attr-defined]

    attempt_count: int = strawberry.field(description="Requests sent so far, redeliveries included.")
    next_attempt_at: datetime | None = strawberry.field(description="When the next try is due (pending only).")
    last_attempt_at: datetime | None = strawberry.field(description="When it was last sent.")
    last_status_code: int | None = strawberry.field(description="The last answer's status; null: none.")
    created_at: datetime = strawberry.field(description="When the event was recorded for the endpoint.")

    @strawberry.field(description="Opaque ID of the delivery (for redeliverWebhook).")
    def id(self) -> strawberry.ID:
        return ids.encode(DELIVERY, self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="The endpoint it is for.")
    def endpoint_id(self) -> strawberry.ID:
        return ids.encode(ENDPOINT, self.endpoint_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="The JSON body that is signed and sent; customers' phones, e-mails and addresses "
        "masked for you without `pii:read`."
    )
    def payload(self, info: Info) -> JSON:
        stored = self.payload  # type: ignore[attr-defined]
        return stored if info.context.scope.can("pii:read") else events.mask_payload(stored)

    @strawberry.field(description="Every request, oldest first.")
    async def attempts(self, info: Info) -> list[WebhookAttemptType]:
        return await info.context.loader("webhook_attempts", _attempts_of).load(self.id)  # type: ignore[attr-defined]


def _attempts_of(_ctx):
    """Attempts of a page of deliveries in one query. The deliveries were read through the
    caller's scope; attempts belong to them, so they need no scope of their own."""

    async def load(message_ids: list) -> list[list[WebhookAttempt]]:
        grouped: dict = defaultdict(list)
        for attempt in await WebhookAttempt.filter(message_id__in=list(set(message_ids))).order_by(
            "attempted_at", "id"
        ):
            grouped[attempt.message_id].append(attempt)  # type: ignore[attr-defined]
        return [grouped.get(m, []) for m in message_ids]

    return load


WebhookDeliveryConnection = connection_of(WebhookDeliveryType, "WebhookDeliveryConnection")


@strawberry.type(name="ObjectChange", description="The current state of an object changed after the cursor.")
class ObjectChangeType:
    type: str = strawberry.field(description="The object's type: Order, Account, Ticket, Deal or Shipment.")
    id: strawberry.ID = strawberry.field(description="The object's global ID (as in webhook payloads).")
    data: JSON = strawberry.field(description="The same `data` a webhook about it carries now.")


@strawberry.type(name="ChangesPage", description="Objects changed after a cursor, oldest change first.")
class ChangesPageType:
    changes: list[ObjectChangeType] = strawberry.field(description="At most `first` changed objects.")
    cursor: str = strawberry.field(description="Pass it as `cursor` next time (store it once processed).")
    has_more: bool = strawberry.field(description="More changes wait: ask again at once with `cursor`.")


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Owners and admins (settings:write): the organization's webhook endpoints.")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpointType]:
        return await service.list_endpoints(info.context.scope)  # type: ignore[return-value]

    @strawberry.field(description="The event types endpoints may subscribe to (docs/webhooks.md).")
    def webhook_event_types(self, info: Info) -> list[WebhookEventTypeType]:
        info.context.scope.require("settings:read")
        return [WebhookEventTypeType(name=n, object_type=s.type_name) for n, s in events.EVENT_TYPES.items()]

    @strawberry.field(description="Owners and admins (settings:write): deliveries, newest first.")
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this endpoint's.")] = None,
        status: Annotated[WebhookDeliveryStatus | None, strawberry.argument(description="Only these.")] = None,
        since: Annotated[datetime | None, strawberry.argument(description="Only those recorded since.")] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[str | None, strawberry.argument(description="`pageInfo.endCursor` of the last page.")] = None,
    ) -> WebhookDeliveryConnection:  # type: ignore[valid-type]
        ctx = info.context
        pk = ids.decode_pk(endpoint_id, ENDPOINT, "endpointId")
        qs = service.messages_query(ctx.scope, pk, status.value if status else None, since)
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        return await paginate(
            WebhookDeliveryConnection, qs, first=first, after=after, sort=Sort("created_at", datetime, Direction.DESC)
        )

    @strawberry.field(
        description="Reconcile after downtime: objects of `types` changed after `cursor` (none: from the start), "
        "oldest change first, each with the data a webhook carries. Rows you may not read are left out."
    )
    async def changes_since(
        self,
        info: Info,
        types: Annotated[
            list[str], strawberry.argument(description="Object types: Order, Account, Ticket, Deal, Shipment.")
        ],
        cursor: Annotated[str | None, strawberry.argument(description="The `cursor` of the last page.")] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
    ) -> ChangesPageType:
        ctx = info.context
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        page = await changes.changes_since(ctx.scope, types, cursor, first)
        return ChangesPageType(
            changes=[ObjectChangeType(type=c.type, id=c.data["id"], data=c.data) for c in page.changes],
            cursor=page.cursor,
            has_more=page.has_more,
        )


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="A public https:// address.")
    description: str | None = strawberry.field(default=None, description="What it is for, for people.")
    event_types: list[str] | None = strawberry.field(
        default=None, description="Event types to receive (docs/webhooks.md); none or empty: every type."
    )
    filters: JSON | None = strawberry.field(
        default=None, description='Only events whose data has these values, e.g. {"source": ["rozetka"]}.'
    )
    enabled: bool = strawberry.field(default=True, description="False: record events but send nothing yet.")
    include_pii: bool = strawberry.field(
        default=False,
        description="Send customers' phones, e-mails and addresses in full; false: masked as for roles without "
        "`pii:read` (docs/roles.md). Setting it needs `pii:read`.",
    )


@strawberry.input(description="Changes to a webhook endpoint; omitted fields stay.")
class UpdateWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's ID.")
    version: int = strawberry.field(description="The version you read.")
    url: str | None = strawberry.field(default=None, description="A public https:// address.")
    description: str | None = strawberry.field(default=None, description="What it is for, for people.")
    event_types: list[str] | None = strawberry.field(default=None, description="Event types; empty: every type.")
    filters: JSON | None = strawberry.field(default=None, description="Replaces the filters; {} for none.")
    enabled: bool | None = strawberry.field(
        default=None,
        description="true on a disabled endpoint resumes it: its backlog (pending, and failed since "
        "its last delivery) goes, oldest first.",
    )
    include_pii: bool | None = strawberry.field(
        default=None, description="Customers' data in full (needs `pii:read`) or masked, from the next event on."
    )


@strawberry.input(description="The endpoint to delete.")
class DeleteWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's ID.")
    version: int = strawberry.field(description="The version you read.")


@strawberry.input(description="A new signing secret for an endpoint.")
class RotateWebhookSecretInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's ID.")
    version: int = strawberry.field(description="The version you read.")
    overlap_hours: int = strawberry.field(
        default=24, description="Hours the old secret still signs too (0-168); 0: it stops at once."
    )


@strawberry.type(description="The result of createWebhookEndpoint and rotateWebhookSecret.")
class WebhookSecretPayload:
    endpoint: WebhookEndpointType | None = strawberry.field(default=None, description="The endpoint.")
    secret: str | None = strawberry.field(
        default=None, description="The signing secret (whsec_...), shown this once: give it to the receiver."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(description="The result of updateWebhookEndpoint and deleteWebhookEndpoint.")
class WebhookEndpointPayload:
    endpoint: WebhookEndpointType | None = strawberry.field(default=None, description="The endpoint.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(description="The result of redeliverWebhook and sendTestWebhook.")
class WebhookDeliveryPayload:
    delivery: WebhookDeliveryType | None = strawberry.field(default=None, description="The delivery.")
    errors: list[UserError] = strawberry.field(description="Why nothing was sent.")


@strawberry.type(description="The result of redeliverFailedWebhooks.")
class RedeliverFailedWebhooksPayload:
    count: int = strawberry.field(default=0, description="How many failed deliveries were queued again.")
    errors: list[UserError] = strawberry.field(description="Why nothing was queued.")


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Owners and admins: register an endpoint; returns its secret once (audited).")
    async def create_webhook_endpoint(self, info: Info, input: CreateWebhookEndpointInput) -> WebhookSecretPayload:
        ctx = info.context

        async def act():
            data = {
                "url": input.url,
                "description": input.description,
                "event_types": input.event_types,
                "filters": input.filters,
                "enabled": input.enabled,
                "include_pii": input.include_pii,
            }
            endpoint, secret = await service.create_endpoint(ctx.scope, ctx.settings, data)
            return {"endpoint": endpoint, "secret": secret}

        return await run_mutation(WebhookSecretPayload, act)

    @strawberry.mutation(description="Owners and admins: change, disable or re-enable an endpoint (audited).")
    async def update_webhook_endpoint(self, info: Info, input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
        ctx = info.context

        async def act():
            pk = ids.decode(input.id, ENDPOINT)[1]
            data = {
                "url": input.url,
                "description": input.description,
                "event_types": input.event_types,
                "filters": input.filters,
                "enabled": input.enabled,
                "include_pii": input.include_pii,
            }
            data = {k: v for k, v in data.items() if v is not None}
            return {"endpoint": await service.update_endpoint(ctx.scope, ctx.settings, pk, input.version, data)}

        return await run_mutation(WebhookEndpointPayload, act)

    @strawberry.mutation(description="Owners and admins: delete an endpoint and its deliveries (audited).")
    async def delete_webhook_endpoint(self, info: Info, input: DeleteWebhookEndpointInput) -> WebhookEndpointPayload:
        async def act():
            pk = ids.decode(input.id, ENDPOINT)[1]
            return {"endpoint": await service.delete_endpoint(info.context.scope, pk, input.version)}

        return await run_mutation(WebhookEndpointPayload, act)

    @strawberry.mutation(
        description="Owners and admins: a new signing secret, returned once; the old one signs too for overlapHours."
    )
    async def rotate_webhook_secret(self, info: Info, input: RotateWebhookSecretInput) -> WebhookSecretPayload:
        ctx = info.context

        async def act():
            pk = ids.decode(input.id, ENDPOINT)[1]
            endpoint, secret = await service.rotate_secret(
                ctx.scope, ctx.settings, pk, input.version, input.overlap_hours
            )
            return {"endpoint": endpoint, "secret": secret}

        return await run_mutation(WebhookSecretPayload, act)

    @strawberry.mutation(description="Owners and admins: send one delivery again now (a new round of retries).")
    async def redeliver_webhook(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The delivery's ID.")]
    ) -> WebhookDeliveryPayload:
        async def act():
            pk = ids.decode(id, DELIVERY)[1]
            return {"delivery": await service.redeliver(info.context.scope, pk)}

        return await run_mutation(WebhookDeliveryPayload, act)

    @strawberry.mutation(description="Owners and admins: send again every delivery of an endpoint that failed since.")
    async def redeliver_failed_webhooks(
        self,
        info: Info,
        endpoint_id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's ID.")],
        since: Annotated[datetime, strawberry.argument(description="Deliveries recorded since this moment.")],
    ) -> RedeliverFailedWebhooksPayload:
        async def act():
            pk = ids.decode(endpoint_id, ENDPOINT, "endpointId")[1]
            return {"count": await service.redeliver_failed(info.context.scope, pk, since)}

        return await run_mutation(RedeliverFailedWebhooksPayload, act)

    @strawberry.mutation(
        description="Owners and admins: send a `webhook.test` event to an endpoint now, once; returns its delivery."
    )
    async def send_test_webhook(
        self, info: Info, endpoint_id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's ID.")]
    ) -> WebhookDeliveryPayload:
        ctx = info.context

        async def act():
            pk = ids.decode(endpoint_id, ENDPOINT, "endpointId")[1]
            return {"delivery": await service.send_test(ctx.scope, ctx.settings, pk)}

        return await run_mutation(WebhookDeliveryPayload, act)
