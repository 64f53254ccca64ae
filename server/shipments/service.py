"""Shipments: creating and cancelling carrier waybills for orders, tracking them, and moving
orders along as parcels travel. The only writer of ``Shipment`` and ``DeliveryStatusRule``.

Who may do it: anyone who may change an order's delivery details (``orders:write`` on the
order's row, and ``waybillNumber`` among the fields their role may change: owners, admins,
managers on their team's orders, sales on their own, logistics). The roles table in
server/auth/roles.py decides; nothing here names a role.

Creating a waybill talks to the carrier first and writes the CRM second, because the carrier
call cannot be part of a database transaction:

1. the plugin creates the waybill (never retried: carriers have no idempotency key);
2. one transaction stores the ``Shipment``, sets the order's waybill number (through the
   orders service, so the order's audit and ``order.updated`` event follow), writes the audit
   entry and the ``shipment.created`` outbox event;
3. if that transaction fails, the waybill just made is cancelled at the carrier, so no
   parcel label exists that the CRM does not know about. If even the cancel fails, the error
   names the waybill so the admin can delete it in the carrier's cabinet (and it is logged).

Tracking (every 30 minutes ``track_open_shipments`` queues one ``shipments.track_installation``
job per delivery installation with open shipments; ``track_organization`` for one organization)
asks each installation for the status of its open shipments, 100 waybills per call, stores what the
carrier said and applies the organization's rules: carrier status code -> order status,
through ``orders.service.change_status`` (history, audit, ``order.status_changed``).
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.scope import Scope
from server.core import idempotency, outbox
from server.core.errors import ErrorCode, Problems, PublicError, UserInputError, not_found, version_conflict
from server.core.money import parse_amount
from server.core.phones import to_e164
from server.core.serialize import jsonable
from server.core.text import limited_text, required_text
from server.i18n import _
from server.jobs.per_installation import enqueue_per_installation
from server.jobs.registry import job, periodic
from server.orders import service as orders
from server.orders.models import Order, OrderStatus, OrderStatusTransition
from server.organizations.models import Organization
from server.payments import service as payments
from server.plugins import service as plugins
from server.plugins.manager import PluginManager, get_manager
from server.plugins.models import PluginInstallation
from server.plugins.types import (
    DELIVERY,
    DELIVERY_STATUSES,
    Branch,
    City,
    PluginError,
    ShipmentRequest,
    TrackingQuery,
    TrackingStatus,
)
from server.shipments.models import CLOSED_STATUSES, DeliveryStatusRule, Shipment

log = logging.getLogger("crm.shipments")

TRACK_BATCH = 100  # waybills per crm_delivery_track call (Nova Poshta's limit per request)
TRACK_EVERY_SECONDS = 30 * 60
MAX_SEARCH = 50

# Default rules: the delivery status a carrier code maps to (the plugin's
# crm_delivery_map_status) -> the order status code. For Nova Poshta that is 4/41/5/6/101/104/
# 111/112 -> in_transit, 7/8 -> arrived, 9/10/11/106 -> delivered, 102/103 -> refused.
DEFAULT_ORDER_STATUS = {
    "in_transit": "in_transit",
    "out_for_delivery": "in_transit",
    "arrived": "arrived",
    "delivered": "delivered",
    "refused": "refused",
    "returned": "returned",
}


class ProviderFailure(PublicError):
    """A carrier failed a read (cities, branches): a GraphQL error with this code."""

    code = "PROVIDER_ERROR"


class NotSupported(PublicError):
    """The installation's carrier plugin does not offer this (Ukrposhta: no city or branch
    search): a GraphQL error with this code instead of an empty list."""

    code = "NOT_SUPPORTED"


def _offers(installation: PluginInstallation, hook: str, manager: PluginManager | None) -> bool:
    return (manager or get_manager()).implements(installation.plugin, hook)


def _provider_error(exc: PluginError, field: str | None = None) -> UserInputError:
    return UserInputError(ErrorCode.PROVIDER_ERROR, exc.message, field)


# -- installations ---------------------------------------------------------------------------


def _can_edit_delivery(scope: Scope) -> None:
    scope.require("orders:update")
    scope.check_writable("orders", ["waybill_number"])


async def delivery_installation(
    scope: Scope, installation_id: UUID | None, *, manager: PluginManager | None = None
) -> PluginInstallation:
    """The organization's enabled delivery installation ``installation_id``, or its only one.

    People who handle orders use it without seeing its settings (that needs settings:read)."""
    found = await plugins.enabled_with(scope, DELIVERY, installation_id, manager)
    if not found:
        what = _("Delivery plugin installation") if installation_id else _("An enabled delivery plugin")
        raise not_found(what, "installationId")
    if len(found) > 1:
        raise UserInputError(
            ErrorCode.REQUIRED,
            _("Several delivery plugins are installed: choose one (installationId)."),
            "installationId",
        )
    return found[0]


async def search_cities(
    scope: Scope, settings, installation_id: UUID | None, query: str, limit: int = 20, *, manager=None
) -> list[City]:
    scope.require("orders:read")
    query = limited_text(query, "query", 100) or ""
    if not query:
        return []
    installation = await delivery_installation(scope, installation_id, manager=manager)
    if not _offers(installation, "crm_delivery_search_cities", manager):
        raise NotSupported(
            _(
                "The %(carrier)s plugin cannot search cities: type the city in the order's delivery details.",
                carrier=_carrier_title(installation, manager),
            )
        )
    try:
        return list(
            await plugins.call(
                settings,
                installation,
                "crm_delivery_search_cities",
                manager=manager,
                query=query,
                limit=max(1, min(limit, MAX_SEARCH)),
            )
            or []
        )[:MAX_SEARCH]
    except PluginError as exc:
        raise ProviderFailure(exc.message) from None


async def search_branches(
    scope: Scope,
    settings,
    installation_id: UUID | None,
    city_ref: str,
    query: str = "",
    limit: int = 50,
    *,
    manager=None,
) -> list[Branch]:
    scope.require("orders:read")
    city_ref = required_text(city_ref, "cityRef", 64)
    query = limited_text(query, "query", 100) or ""
    installation = await delivery_installation(scope, installation_id, manager=manager)
    if not _offers(installation, "crm_delivery_branches", manager):
        raise NotSupported(
            _(
                "The %(carrier)s plugin cannot search branches: type the branch in the order's delivery details.",
                carrier=_carrier_title(installation, manager),
            )
        )
    try:
        return list(
            await plugins.call(
                settings,
                installation,
                "crm_delivery_branches",
                manager=manager,
                city_ref=city_ref,
                query=query,
                limit=max(1, min(limit, MAX_SEARCH)),
            )
            or []
        )[:MAX_SEARCH]
    except PluginError as exc:
        raise ProviderFailure(exc.message) from None


# -- creating and cancelling ------------------------------------------------------------------


def _shipment_event(shipment: Shipment, **extra) -> dict:
    return {
        "shipment_id": shipment.id,
        "order_id": shipment.order_id,  # type: ignore[attr-defined]
        "carrier": shipment.carrier,
        "waybill_number": shipment.waybill_number,
        **extra,
    }


def _request(order: Order, data: dict) -> ShipmentRequest:
    """What the carrier needs, from the input with the order's delivery details as defaults."""
    name = required_text(data.get("recipient_name") or order.recipient_name, "recipientName", 300)
    raw_phone = data.get("recipient_phone") or order.recipient_phone
    if not raw_phone:
        raise UserInputError(ErrorCode.REQUIRED, _("recipientPhone is required."), "recipientPhone")
    phone = to_e164(raw_phone, "recipientPhone")
    declared = (
        parse_amount(data["declared_value"], "declaredValue") if data.get("declared_value") is not None else order.total  # type: ignore[attr-defined]
    )
    weight = data.get("weight_kg")
    if weight is not None and (Decimal(str(weight)) <= 0 or Decimal(str(weight)) > 1000):
        raise UserInputError(ErrorCode.INVALID, _("weightKg must be more than 0 and at most 1000."), "weightKg")
    seats = data.get("seats") or 1
    if not 1 <= seats <= 100:
        raise UserInputError(ErrorCode.INVALID, _("seats must be 1 to 100."), "seats")
    cod = data.get("cash_on_delivery")
    cod = parse_amount(cod, "cashOnDelivery") if cod is not None else None
    payer = (data.get("payer") or "").lower() or "recipient"
    if payer not in ("recipient", "sender"):
        raise UserInputError(ErrorCode.INVALID, _("payer must be recipient or sender."), "payer")
    return ShipmentRequest(
        order_id=str(order.id),
        order_number=order.number,
        recipient_name=name,
        recipient_phone=phone,
        declared_value=declared,
        currency=order.currency,
        city=limited_text(data.get("city") or order.delivery_city, "city", 200) or None,  # type: ignore[attr-defined]
        city_ref=limited_text(data.get("city_ref"), "cityRef", 64) or None,
        branch=limited_text(data.get("branch") or order.delivery_branch, "branch", 200) or None,
        branch_ref=limited_text(data.get("branch_ref"), "branchRef", 64) or None,
        address=limited_text(data.get("address") or order.delivery_address, "address", 500) or None,
        weight_kg=Decimal(str(weight)) if weight is not None else None,
        seats=seats,
        description=limited_text(data.get("description"), "description", 200) or "",
        cash_on_delivery=cod,
        payer=payer,
    )


async def create_shipment(
    scope: Scope,
    settings,
    order_id: UUID,
    data: dict,
    idempotency_key: str | None = None,
    *,
    manager: PluginManager | None = None,
) -> Shipment:
    """Create a waybill at the carrier for the order and record it (see the module docstring)."""
    _can_edit_delivery(scope)
    key = idempotency.check_key(idempotency_key)
    given = {"order_id": order_id, **data}  # the same key with other input is IDEMPOTENCY_MISMATCH
    first = await idempotency.find(scope.organization_id, "createShipment", key, given)
    if first is not None:
        return await scope.get(Shipment, first)
    order = await scope.get(Order, order_id, "update", field="orderId")
    installation = await delivery_installation(scope, data.get("installation_id"), manager=manager)
    open_one = await Shipment.filter(order_id=order.id, closed=False).first()
    if open_one is not None:
        raise UserInputError(
            ErrorCode.CONFLICT,
            _(
                "The order already has waybill %(waybill_number)s; cancel it before creating another.",
                waybill_number=open_one.waybill_number,
            ),
            "orderId",
        )
    request = _request(order, data)
    try:
        made = await plugins.call(
            settings, installation, "crm_delivery_create_shipment", manager=manager, shipment=request
        )
    except PluginError as exc:
        raise _provider_error(exc) from None

    async def create() -> Shipment:
        current = await scope.get(Order, order.id, "update", field="orderId", for_update=True)
        # Checked again under the order's row lock: of two concurrent requests without an
        # idempotency key, the second finds the first's shipment and its waybill is cancelled.
        if await Shipment.filter(order_id=current.id, closed=False).exists():
            raise UserInputError(ErrorCode.CONFLICT, _("The order got another waybill meanwhile."), "orderId")
        shipment = await Shipment.create(
            id=uuid.uuid4(),
            organization_id=scope.organization_id,
            order_id=current.id,
            installation_id=installation.id,
            carrier=installation.plugin,
            waybill_number=made.waybill_number,
            provider_ref=made.provider_ref,
            carrier_status=None,
            status="created",
            status_changed_at=datetime.now(UTC),
            estimated_delivery=made.estimated_delivery,
            cost=made.cost,
            currency=made.currency if made.cost is not None else None,
            cash_on_delivery=request.cash_on_delivery,
        )
        await orders.update_order(scope, current.id, current.version, {"waybill_number": made.waybill_number})
        await audit.record(
            scope,
            "shipment.create",
            shipment,
            {
                "order_id": [None, str(current.id)],
                "carrier": [None, shipment.carrier],
                "waybill_number": [None, shipment.waybill_number],
                "cost": [None, jsonable(shipment.cost)],
            },
        )
        await outbox.emit(
            scope.organization_id,
            "shipment.created",
            _shipment_event(shipment, order_number=current.number, estimated_delivery=shipment.estimated_delivery),
        )
        return shipment

    try:
        shipment = await idempotency.create_once(
            scope.organization_id, "createShipment", key, create, lambda pk: scope.get(Shipment, pk), given
        )
    except Exception as exc:
        await _undo(settings, installation, made.waybill_number, exc, manager)
        raise
    if shipment.waybill_number != made.waybill_number:
        # A concurrent retry with the same idempotency key won: ours is a second label. Undo it.
        await _undo(settings, installation, made.waybill_number, None, manager)
    return shipment


def _clean_number(raw: str | None) -> str:
    """A number as people paste it ("20 4000 4879 9000", "rb123456789ua"): no spaces, upper case."""
    number = "".join(str(raw or "").split()).upper()
    if not number:
        raise UserInputError(ErrorCode.REQUIRED, _("waybillNumber is required."), "waybillNumber")
    if len(number) > 64:
        raise UserInputError(ErrorCode.INVALID, _("waybillNumber is too long."), "waybillNumber")
    return number


async def _carrier_status(
    settings, installation: PluginInstallation, number: str, phone: str | None, manager
) -> TrackingStatus:
    """What the carrier says about ``number`` now (through its track hook); a field error when
    it knows no such number or cannot be asked."""
    try:
        statuses = await plugins.call(
            settings, installation, "crm_delivery_track", manager=manager, queries=[TrackingQuery(number, phone)]
        )
    except PluginError as exc:
        raise _provider_error(exc, "waybillNumber") from None
    found = next((s for s in statuses or [] if str(s.waybill_number).strip().upper() == number), None)
    if found is None or found.status == "not_found":
        raise UserInputError(
            ErrorCode.NOT_FOUND,
            _(
                "%(carrier)s knows no shipment %(waybill_number)s: check the number.",
                carrier=_carrier_title(installation, manager),
                waybill_number=number,
            ),
            "waybillNumber",
        )
    return found


def _carrier_title(installation: PluginInstallation, manager: PluginManager | None) -> str:
    plugin = (manager or get_manager()).get(installation.plugin)
    return plugin.info.title if plugin is not None else installation.plugin


async def register_shipment(
    scope: Scope,
    settings,
    order_id: UUID,
    data: dict,
    *,
    manager: PluginManager | None = None,
) -> Shipment:
    """Attach a waybill made elsewhere (the carrier's own cabinet or branch) to an order.

    Whoever may create a shipment may register one. Input problems are reported together;
    then the carrier is asked whether the number exists (its track hook), and one transaction
    stores the shipment with the status the carrier gave, sets the order's waybill number and
    writes the audit entry and the ``shipment.created`` event (``registered: true``). The
    tracking job applies the order status rules from its next run on."""
    _can_edit_delivery(scope)
    manager = manager or get_manager()
    problems = Problems()
    order = installation = number = None
    with problems:
        order = await scope.get(Order, order_id, "update", field="orderId")
    with problems:
        installation = await delivery_installation(scope, data.get("installation_id"), manager=manager)
    with problems:
        number = _clean_number(data.get("waybill_number"))
    cod = None
    if data.get("cash_on_delivery") is not None:
        with problems:
            cod = parse_amount(data["cash_on_delivery"], "cashOnDelivery")
    open_one = await Shipment.filter(order_id=order.id, closed=False).first() if order is not None else None
    if open_one is not None:
        problems.add(
            ErrorCode.CONFLICT,
            _(
                "The order already has waybill %(waybill_number)s; cancel it before creating another.",
                waybill_number=open_one.waybill_number,
            ),
            "orderId",
        )
    if (
        number is not None
        and installation is not None
        and manager.implements(installation.plugin, "crm_delivery_check_number")
    ):
        problem = await manager.call(
            installation.plugin,
            "crm_delivery_check_number",
            config=plugins.effective_config(manager.get(installation.plugin), installation.config),
            waybill_number=number,
        )
        if problem:
            problems.add(ErrorCode.INVALID, str(problem), "waybillNumber")
            number = None
    earlier = (
        await Shipment.filter(organization_id=scope.organization_id, waybill_number=number).first()
        if number is not None
        else None
    )
    # A registration detached by cancelShipment may be attached again (to the right order).
    reused = earlier if earlier is not None and _detached(earlier, installation) else None
    if earlier is not None and reused is None:
        problems.add(
            ErrorCode.DUPLICATE,
            _("Waybill %(waybill_number)s is already registered.", waybill_number=number),
            "waybillNumber",
        )
    problems.raise_if_any()
    assert order is not None and installation is not None and number is not None
    status = await _carrier_status(settings, installation, number, order.recipient_phone, manager)
    delivery_status = status.status if status.status in DELIVERY_STATUSES else "unknown"
    now = datetime.now(UTC)
    try:
        async with in_transaction():
            current = await scope.get(Order, order.id, "update", field="orderId", for_update=True)
            if await Shipment.filter(order_id=current.id, closed=False).exists():
                raise UserInputError(ErrorCode.CONFLICT, _("The order got another waybill meanwhile."), "orderId")
            values = {
                "order_id": current.id,
                "installation_id": installation.id,
                "carrier_status": (status.provider_status or "")[:16] or None,
                "carrier_status_text": (status.description or "")[:500],
                "status": delivery_status,
                "status_changed_at": (status.changed_at or now).astimezone(UTC),
                "last_tracked_at": now,
                "registered": True,
                "tracking_error": None,
                "cash_on_delivery": cod,
                "cash_on_delivery_paid_at": None,
            }
            if reused is None:
                shipment = await Shipment.create(
                    id=uuid.uuid4(),
                    organization_id=scope.organization_id,
                    carrier=installation.plugin,
                    waybill_number=number,
                    **values,
                )
            else:
                attached = await Shipment.filter(id=reused.id, version=reused.version, status="cancelled").update(
                    **values, closed=False, cancelled_at=None, rule_applied_for=None, version=reused.version + 1
                )
                if not attached:
                    raise version_conflict()
                shipment = await Shipment.get(id=reused.id)
            await orders.update_order(scope, current.id, current.version, {"waybill_number": number})
            await audit.record(
                scope,
                "shipment.register",
                shipment,
                {
                    "order_id": [None, str(current.id)],
                    "carrier": [None, shipment.carrier],
                    "waybill_number": [None, shipment.waybill_number],
                    "status": [None, shipment.status],
                },
            )
            await outbox.emit(
                scope.organization_id,
                "shipment.created",
                _shipment_event(shipment, order_number=current.number, estimated_delivery=None, registered=True),
            )
    except IntegrityError:  # the same number registered by someone else at the same moment
        raise UserInputError(
            ErrorCode.DUPLICATE,
            _("Waybill %(waybill_number)s is already registered.", waybill_number=number),
            "waybillNumber",
        ) from None
    return shipment


def _detached(shipment: Shipment, installation: PluginInstallation | None) -> bool:
    return (
        shipment.registered
        and shipment.status == "cancelled"
        and installation is not None
        and shipment.carrier == installation.plugin
    )


async def _undo(settings, installation, waybill_number: str, cause: Exception | None, manager) -> None:
    """Cancel a waybill the CRM could not record (or recorded twice)."""
    try:
        await plugins.call(
            settings, installation, "crm_delivery_cancel_shipment", manager=manager, waybill_number=waybill_number
        )
        log.warning("waybill %s cancelled at %s: the CRM could not record it", waybill_number, installation.plugin)
    except Exception as cancel_error:
        log.error(
            "waybill %s was created at %s but not recorded, and cancelling it failed (%s)",
            waybill_number,
            installation.plugin,
            getattr(cancel_error, "message", type(cancel_error).__name__),
        )
        if cause is not None:
            raise UserInputError(
                ErrorCode.PROVIDER_ERROR,
                _(
                    "Waybill %(waybill_number)s was created at the carrier but could not be saved, and cancelling it "
                    "failed: delete it in the carrier's business account.",
                    waybill_number=waybill_number,
                ),
                "orderId",
            ) from cause


async def cancel_shipment(
    scope: Scope, settings, shipment_id: UUID, version: int, *, manager: PluginManager | None = None
) -> Shipment:
    """Cancel the waybill at the carrier (only before it is handed over), then close the
    shipment and clear the order's waybill number if it is this one. A registered waybill
    (made outside the CRM) is only detached: the carrier is not asked to delete it, and the
    number may be registered again, on this order or another."""
    _can_edit_delivery(scope)
    shipment = await scope.get(Shipment, shipment_id, "update", field="id")
    if shipment.version != version:
        raise version_conflict()
    if shipment.closed:
        raise UserInputError(
            ErrorCode.CONFLICT,
            _(
                "Shipment %(waybill_number)s is already %(status)s.",
                waybill_number=shipment.waybill_number,
                status=shipment.status,
            ),
            "id",
        )
    installation = await PluginInstallation.get_or_none(
        id=shipment.installation_id, organization_id=scope.organization_id
    )  # type: ignore[attr-defined]
    if not shipment.registered:  # a registered waybill is only detached (see above)
        if installation is None:
            raise UserInputError(ErrorCode.NOT_FOUND, _("The delivery plugin of this shipment was uninstalled."), "id")
        try:
            await plugins.call(
                settings,
                installation,
                "crm_delivery_cancel_shipment",
                manager=manager,
                waybill_number=shipment.waybill_number,
            )
        except PluginError as exc:
            raise _provider_error(exc, "id") from None
    async with in_transaction():
        now = datetime.now(UTC)
        updated = await Shipment.filter(id=shipment.id, version=version).update(
            status="cancelled", closed=True, cancelled_at=now, status_changed_at=now, version=version + 1
        )
        if not updated:
            raise version_conflict()
        order = await Order.get(id=shipment.order_id)  # type: ignore[attr-defined]
        if order.waybill_number == shipment.waybill_number:
            await orders.update_order(scope, order.id, order.version, {"waybill_number": None})
        await audit.record(scope, "shipment.cancel", shipment, {"status": [shipment.status, "cancelled"]})
        await outbox.emit(scope.organization_id, "shipment.cancelled", _shipment_event(shipment))
    return await Shipment.get(id=shipment.id)


# -- status rules ------------------------------------------------------------------------------


async def status_rules(scope: Scope, carrier: str) -> dict[str, str | None]:
    """The organization's overrides for ``carrier``: carrier code -> order status (None: ignore)."""
    carrier = required_text(carrier, "carrier", 64)
    rows = await scope.queryset(DeliveryStatusRule).filter(carrier=carrier).order_by("carrier_status")
    return {r.carrier_status: r.order_status for r in rows}


async def set_status_rules(scope: Scope, carrier: str, rules: dict[str, str | None]) -> dict[str, str | None]:
    """Replace the organization's overrides for ``carrier`` (owners, admins: order_statuses:write)."""
    scope.require("order_statuses:update")
    carrier = required_text(carrier, "carrier", 64)
    if len(rules) > 200:
        raise UserInputError(ErrorCode.INVALID, _("At most 200 rules."), "rules")
    codes = {s.code for s in await OrderStatus.filter(organization_id=scope.organization_id)}
    clean: dict[str, str | None] = {}
    for i, (code, target) in enumerate(rules.items()):
        code = required_text(code, f"rules.{i}.carrierStatus", 16)
        if target is not None and target not in codes:
            raise not_found(_("Order status '%(code)s'", code=target), f"rules.{i}.orderStatus")
        clean[code] = target
    async with in_transaction():
        before = {
            r.carrier_status: r.order_status
            for r in await DeliveryStatusRule.filter(organization_id=scope.organization_id, carrier=carrier)
        }
        await DeliveryStatusRule.filter(organization_id=scope.organization_id, carrier=carrier).delete()
        await DeliveryStatusRule.bulk_create(
            [
                DeliveryStatusRule(
                    organization_id=scope.organization_id, carrier=carrier, carrier_status=c, order_status=t
                )
                for c, t in clean.items()
            ]
        )
        await audit.record(
            scope, "delivery_status_rules.set", scope.organization, {f"rules.{carrier}": [before, clean]}
        )
        await outbox.emit(scope.organization_id, "delivery_status_rules.changed", {"carrier": carrier})
    return clean


def target_status(overrides: dict[str, str | None], carrier_code: str | None, delivery_status: str) -> str | None:
    """The order status a carrier code asks for: the organization's override, else the default."""
    if carrier_code is not None and carrier_code in overrides:
        return overrides[carrier_code]
    return DEFAULT_ORDER_STATUS.get(delivery_status)


# -- tracking -------------------------------------------------------------------------------------


@dataclass
class TrackingReport:
    """What one tracking run did (for logs and tests)."""

    tracked: int = 0
    changed: int = 0
    closed: int = 0
    orders_moved: list[tuple[str, str]] = field(default_factory=list)  # (order id, new status)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (order id, why)
    errors: dict[str, str] = field(default_factory=dict)  # installation id -> error

    def merge(self, other: TrackingReport) -> None:
        self.tracked += other.tracked
        self.changed += other.changed
        self.closed += other.closed
        self.orders_moved += other.orders_moved
        self.skipped += other.skipped
        self.errors.update(other.errors)


def tracking_scope(organization: Organization, plugin: str) -> Scope:
    """An ``app`` principal: the audit trail says ``app delivery:<plugin>`` moved the order."""
    return Scope.for_app(organization, f"delivery:{plugin}", "delivery-tracking")


async def _path(organization_id: UUID, from_id: UUID, target_code: str) -> list[str] | None:
    """Status codes to walk from ``from_id`` to ``target_code`` along allowed transitions:
    directly if allowed, else through shipping statuses only (packed -> shipped -> arrived),
    shortest first. None if there is no such path (e.g. the order is already further along)."""
    statuses = {s.id: s for s in await OrderStatus.filter(organization_id=organization_id)}
    target = next((s for s in statuses.values() if s.code == target_code), None)
    if target is None or from_id not in statuses or from_id == target.id:
        return None
    edges: dict[UUID, list[UUID]] = {}
    for t in await OrderStatusTransition.filter(organization_id=organization_id):
        edges.setdefault(t.from_status_id, []).append(t.to_status_id)  # type: ignore[attr-defined]
    queue: deque[tuple[UUID, list[UUID]]] = deque([(from_id, [])])
    seen = {from_id}
    while queue:
        node, path = queue.popleft()
        for nxt in edges.get(node, []):
            if nxt == target.id:
                return [statuses[s].code for s in [*path, nxt]]
            if nxt not in seen and statuses[nxt].group == "shipping" and len(path) < 3:
                seen.add(nxt)
                queue.append((nxt, [*path, nxt]))
    return None


async def _apply_rule(scope: Scope, shipment: Shipment, target: str, reason: str, report: TrackingReport) -> bool:
    """Move the shipment's order to ``target``. True when done or nothing to do, False when it
    should be tried again next run."""
    order = await Order.get_or_none(id=shipment.order_id, deleted_at=None)  # type: ignore[attr-defined]
    if order is None:
        return True
    current = await OrderStatus.get(id=order.status_id)  # type: ignore[attr-defined]
    if current.code == target:
        return True
    path = await _path(scope.organization_id, current.id, target)
    if path is None:
        report.skipped.append((str(order.id), f"no allowed move from '{current.code}' to '{target}'"))
        return True
    try:
        for code in path:
            order = await orders.change_status(scope, order.id, order.version, code, reason)
            report.orders_moved.append((str(order.id), code))
    except UserInputError as exc:
        # A version conflict (someone edited the order meanwhile) or a rule no longer valid.
        report.skipped.append((str(order.id), exc.message))
        return exc.code not in (ErrorCode.CONFLICT,)
    return True


# How long a delivered parcel with cash on delivery is tracked for its payout.
PAYOUT_WAIT = timedelta(days=30)


def awaits_payout(shipment: Shipment) -> bool:
    """Cash on delivery the carrier has not paid out yet: the parcel stays tracked after
    delivery until it does (docs/payments.md)."""
    return bool(shipment.cash_on_delivery) and shipment.cash_on_delivery_paid_at is None


def _closes(shipment: Shipment, now: datetime | None = None) -> bool:
    """Final statuses close a shipment; a delivered one with cash on delivery only once paid
    out, or after ``PAYOUT_WAIT`` (a carrier that never says: it stays in the report)."""
    if shipment.status not in CLOSED_STATUSES:
        return False
    if shipment.status != "delivered" or not awaits_payout(shipment):
        return True
    delivered_at = shipment.status_changed_at
    return delivered_at is not None and (now or datetime.now(UTC)) - delivered_at > PAYOUT_WAIT


async def _record_status(organization: Organization, shipment: Shipment, status: TrackingStatus, now: datetime) -> str:
    """Store what the carrier said: ``changed``, ``same``, or ``lost`` when another worker
    changed the shipment meanwhile (it then also applies the rule). A cash-on-delivery payout
    becomes the order's payment in the same transaction."""
    delivery_status = status.status if status.status in DELIVERY_STATUSES else "unknown"
    paid_out = status.cash_on_delivery == "paid_out" and delivery_status == "delivered" and awaits_payout(shipment)
    same = status.provider_status == shipment.carrier_status and delivery_status == shipment.status
    if same and not paid_out:
        await Shipment.filter(id=shipment.id).update(last_tracked_at=now, tracking_error=None)
        return "same"
    # Stored in UTC: SQLite compares the stored text, so a Kyiv-offset time would sort wrong.
    paid_at = (status.changed_at or now).astimezone(UTC)
    async with in_transaction():
        # Conditional on the version read: of two workers tracking at once, one records it.
        updated = await Shipment.filter(id=shipment.id, version=shipment.version).update(
            carrier_status=status.provider_status[:16],
            carrier_status_text=(status.description or "")[:500],
            status=delivery_status,
            status_changed_at=shipment.status_changed_at if same else paid_at,
            last_tracked_at=now,
            tracking_error=None,
            version=shipment.version + 1,
            **({"cash_on_delivery_paid_at": paid_at} if paid_out else {}),
        )
        if not updated:
            return "lost"
        if paid_out:
            shipment.cash_on_delivery_paid_at = paid_at
            await payments.record_cash_on_delivery(organization, shipment, paid_at)
        if same:
            shipment.version += 1
            return "same"
        await outbox.emit(
            shipment.organization_id,  # type: ignore[attr-defined]
            "shipment.status_changed",
            _shipment_event(
                shipment,
                from_status=shipment.status,
                to_status=delivery_status,
                carrier_status=status.provider_status,
                description=status.description,
                final=delivery_status in CLOSED_STATUSES,
            ),
        )
    shipment.carrier_status, shipment.status = status.provider_status, delivery_status
    shipment.status_changed_at = paid_at
    shipment.version += 1
    return "changed"


async def _track_installation(
    settings, organization: Organization, installation: PluginInstallation, manager: PluginManager
) -> TrackingReport:
    report = TrackingReport()
    scope = tracking_scope(organization, installation.plugin)
    overrides = {
        r.carrier_status: r.order_status
        for r in await DeliveryStatusRule.filter(organization_id=organization.id, carrier=installation.plugin)
    }
    last_id = None
    while True:
        # Keyset pages of open shipments, so a large organization is tracked in bounded memory.
        qs = Shipment.filter(installation_id=installation.id, closed=False).order_by("id").limit(TRACK_BATCH)
        if last_id is not None:
            qs = qs.filter(id__gt=last_id)
        batch = await qs
        if not batch:
            return report
        last_id = batch[-1].id
        phones = dict(
            await Order.filter(id__in=[s.order_id for s in batch]).values_list("id", "recipient_phone")  # type: ignore[attr-defined]
        )
        queries = [TrackingQuery(s.waybill_number, phones.get(s.order_id)) for s in batch]  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        try:
            statuses = await plugins.call(
                settings, installation, "crm_delivery_track", manager=manager, queries=queries
            )
        except PluginError as exc:
            report.errors[str(installation.id)] = exc.message
            await Shipment.filter(id__in=[s.id for s in batch]).update(tracking_error=exc.message[:2000])
            if not exc.retryable:
                return report  # bad key and the like: every batch would fail the same way
            continue
        by_number = {s.waybill_number: s for s in statuses or []}
        for shipment in batch:
            status = by_number.get(shipment.waybill_number)
            if status is None:
                continue
            report.tracked += 1
            try:
                outcome = await _record_status(organization, shipment, status, now)
                if outcome == "lost":
                    continue
                report.changed += int(outcome == "changed")
                if shipment.carrier_status is None or shipment.rule_applied_for == shipment.carrier_status:
                    if _closes(shipment):  # the cash came after the status's rule was applied
                        await Shipment.filter(id=shipment.id).update(closed=True)
                        report.closed += 1
                    continue
                target = target_status(overrides, shipment.carrier_status, shipment.status)
                if target:
                    reason = f"{installation.plugin} {shipment.waybill_number}: {status.description or shipment.status}"
                    if not await _apply_rule(scope, shipment, target, reason[:2000], report):
                        continue  # try again next run
                # Done with this status. A final one closes the shipment only now, so an order
                # move that failed is retried by the next run instead of being forgotten.
                closed = _closes(shipment)
                await Shipment.filter(id=shipment.id).update(rule_applied_for=shipment.carrier_status, closed=closed)
                report.closed += int(closed)
            except Exception:  # one bad order never stops the batch
                log.exception("tracking shipment %s of organization %s failed", shipment.id, organization.id)
                report.skipped.append((str(shipment.order_id), "internal error"))  # type: ignore[attr-defined]


async def track_organization(
    settings, organization_id: UUID, *, manager: PluginManager | None = None
) -> TrackingReport:
    """Track every open shipment of one organization, installation by installation."""
    manager = manager or get_manager()
    report = TrackingReport()
    organization = await Organization.get_or_none(id=organization_id)
    if organization is None:
        return report
    installation_ids = (
        await Shipment.filter(organization_id=organization_id, closed=False)
        .distinct()
        .values_list("installation_id", flat=True)
    )
    for installation in await _delivery_installations(installation_ids, manager, organization_id=organization_id):
        report.merge(await _track_installation(settings, organization, installation, manager))
    return report


async def _delivery_installations(
    installation_ids, manager: PluginManager, *, organization_id: UUID | None = None
) -> list[PluginInstallation]:
    qs = PluginInstallation.filter(id__in=[i for i in installation_ids if i], enabled=True)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return [
        i
        for i in await qs.order_by("created_at")
        if (p := manager.get(i.plugin)) is not None and DELIVERY in p.info.capabilities
    ]


@periodic(seconds=TRACK_EVERY_SECONDS, name="shipments.track_open_shipments")
async def track_open_shipments(*, now: datetime | None = None, manager: PluginManager | None = None) -> int:
    """Queue one ``shipments.track_installation`` job per delivery installation with open
    shipments (server/jobs/per_installation.py: one tenant's slow carrier account cannot hold
    up another's). Safe on several workers at once: each status change is recorded once and
    order moves are idempotent."""
    manager = manager or get_manager()
    installation_ids = await Shipment.filter(closed=False).distinct().values_list("installation_id", flat=True)
    installations = await _delivery_installations(installation_ids, manager)
    queued = await enqueue_per_installation(
        "shipments.track_installation", [i.id for i in installations], every_seconds=TRACK_EVERY_SECONDS, now=now
    )
    return len(queued)


@job("shipments.track_installation")
async def track_installation(installation_id: str, *, settings, manager: PluginManager | None = None) -> TrackingReport:
    """Track the open shipments of one installation (if it is still enabled)."""
    manager = manager or get_manager()
    installation = await PluginInstallation.get_or_none(id=installation_id, enabled=True)
    if installation is None:
        return TrackingReport()
    organization = await Organization.get(id=installation.organization_id)  # type: ignore[attr-defined]
    return await _track_installation(settings, organization, installation, manager)
