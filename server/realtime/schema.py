"""GraphQL subscriptions: live events for an agent's screen, over ``graphql-transport-ws``.

Each event is checked against the subscriber before it is sent: the event's organization must
be theirs (the bus only hands them their organization's events), and the object (read once per
event for all the process's subscribers: server/realtime/reads.py) is checked against their
``Scope``, so row scope applies (a sales rep hears only their own orders) and the object's
fields resolve under their field rules, as in a query. An object they may not see is
skipped silently, as a missing row is in a query. Events carry the object's state when it is
sent, not when it changed: a client that must not miss a change re-reads after reconnecting.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Annotated

import strawberry
from strawberry.types import Info

from server.activities.models import Activity
from server.activities.schema import ActivityType
from server.core.errors import Forbidden, UserInputError
from server.graphql import ids
from server.notifications.models import Notification
from server.notifications.schema import NotificationType
from server.orders.models import Order
from server.orders.schema import OrderType
from server.realtime.bus import LiveEvent, bus_for
from server.realtime.connection import recheck
from server.realtime.reads import visible
from server.shipments.models import Shipment
from server.shipments.schema import ShipmentType
from server.telephony.schema import LiveCall, live_call
from server.tickets.models import Ticket
from server.tickets.schema import TicketType


async def _events(info: Info, permission: str, topics: set[str], match: Callable[[dict], bool] | None = None):
    """The caller's organization's events of ``topics``, each after the caller's credential is
    known to be still good; refused at once without ``permission``."""
    context = info.context
    context.scope.require(permission)
    async with bus_for(context.settings).subscribe(str(context.scope.organization_id)) as subscription:
        async for event in subscription:
            if event.topic not in topics or (match is not None and not match(event.payload)):
                continue
            await recheck(context)
            context.forget_loaded()
            yield event


async def _objects(info: Info, model, key: str, events: AsyncIterator[LiveEvent]):
    """Each event's object, if the subscriber may see it: read once per event for all the
    process's subscribers (server/realtime/reads.py), checked against each one's scope."""
    async for event in events:
        try:
            found = await visible(info.context.scope, event, model, event.payload.get(key))
        except (UserInputError, Forbidden):
            found = None
        if found is not None:
            yield event, found


def _global_id(type_name: str, value: strawberry.ID | None) -> str | None:
    return str(ids.decode(str(value), type_name)[1]) if value is not None else None


@strawberry.type(description="An order moved to another status.")
class OrderStatusChanged:
    order: OrderType = strawberry.field(description="The order as it is now.")
    from_status: str = strawberry.field(description="The code of the status it left, e.g. `new`.")
    to_status: str = strawberry.field(description="The code of the status it reached, e.g. `shipped`.")


@strawberry.type(description="A carrier reported a new status of a shipment.")
class ShipmentStatusChanged:
    shipment: ShipmentType = strawberry.field(description="The shipment as it is now (with its order).")
    from_status: str | None = strawberry.field(description="The delivery status it had before, if any.")
    to_status: str = strawberry.field(description="The delivery status it has now, e.g. `delivered`.")


@strawberry.type(description="A notification to a customer changed state (sent, delivered, failed...).")
class NotificationStateChanged:
    notification: NotificationType = strawberry.field(description="The notification as it is now.")
    state: str = strawberry.field(description="The state it reached.")


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Orders created from now on (any source). Needs `orders:read`.")
    async def order_created(self, info: Info) -> AsyncGenerator[OrderType, None]:
        async for _event, order in _objects(info, Order, "order_id", _events(info, "orders:read", {"order.created"})):
            yield order

    @strawberry.subscription(
        description="Orders moving to another status; one order with `orderId`. Needs `orders:read`."
    )
    async def order_status_changed(
        self,
        info: Info,
        order_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this order (its global ID).")
        ] = None,
    ) -> AsyncGenerator[OrderStatusChanged, None]:
        wanted = _global_id("Order", order_id)
        events = _events(
            info, "orders:read", {"order.status_changed"}, lambda p: wanted is None or str(p.get("order_id")) == wanted
        )
        async for event, order in _objects(info, Order, "order_id", events):
            yield OrderStatusChanged(
                order=order, from_status=str(event.payload.get("from")), to_status=str(event.payload.get("to"))
            )

    @strawberry.subscription(
        description="Shipments whose carrier status changed (a courier scanned the parcel); one order's "
        "with `orderId`. Needs `orders:read`."
    )
    async def shipment_status_changed(
        self,
        info: Info,
        order_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this order's shipments.")
        ] = None,
    ) -> AsyncGenerator[ShipmentStatusChanged, None]:
        wanted = _global_id("Order", order_id)
        events = _events(
            info,
            "orders:read",
            {"shipment.status_changed"},
            lambda p: wanted is None or str(p.get("order_id")) == wanted,
        )
        async for event, shipment in _objects(info, Shipment, "shipment_id", events):
            before = event.payload.get("from_status")
            yield ShipmentStatusChanged(
                shipment=shipment,
                from_status=str(before) if before else None,
                to_status=str(event.payload.get("to_status") or shipment.status),
            )

    @strawberry.subscription(
        description="Calls ringing or answered on the organization's telephony (Binotel...), with the "
        "caller's accounts you may see: pop the caller's card while the phone rings. Needs `accounts:read`."
    )
    async def incoming_call(
        self,
        info: Info,
        employee: Annotated[
            str | None, strawberry.argument(description="Only calls for this PBX extension or employee.")
        ] = None,
    ) -> AsyncGenerator[LiveCall, None]:
        events = _events(
            info,
            "accounts:read",
            {"call.ringing", "call.answered"},
            lambda p: employee is None or p.get("employee") == employee,
        )
        async for event in events:
            yield await live_call(info.context.scope, event.payload)

    @strawberry.subscription(
        description="New items on one account's timeline (notes, calls, messages, status changes...). "
        "Needs `activities:read` and sight of the account."
    )
    async def timeline_item_added(
        self,
        info: Info,
        account_id: Annotated[strawberry.ID, strawberry.argument(description="The account (its global ID).")],
    ) -> AsyncGenerator[ActivityType, None]:
        wanted = _global_id("Account", account_id)
        events = _events(info, "activities:read", {"activity.created"}, lambda p: str(p.get("account_id")) == wanted)
        async for _event, activity in _objects(info, Activity, "activity_id", events):
            yield activity

    @strawberry.subscription(
        description="Notifications to customers changing state (sent, delivered, failed, skipped); one "
        "order's with `orderId`. Needs `orders:read`."
    )
    async def notification_state_changed(
        self,
        info: Info,
        order_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this order's notifications.")
        ] = None,
    ) -> AsyncGenerator[NotificationStateChanged, None]:
        wanted = _global_id("Order", order_id)
        events = _events(
            info,
            "orders:read",
            {"notification.state_changed"},
            lambda p: wanted is None or str(p.get("order_id")) == wanted,
        )
        async for event, notification in _objects(info, Notification, "notification_id", events):
            yield NotificationStateChanged(notification=notification, state=str(event.payload.get("state")))

    @strawberry.subscription(description="Tickets assigned to you from now on. Needs `tickets:read`.")
    async def ticket_assigned_to_me(self, info: Info) -> AsyncGenerator[TicketType, None]:
        me = str(info.context.scope.user_id) if info.context.scope.user_id else None
        events = _events(info, "tickets:read", {"ticket.assigned"}, lambda p: me is not None and str(p.get("to")) == me)
        async for _event, ticket in _objects(info, Ticket, "ticket_id", events):
            yield ticket
