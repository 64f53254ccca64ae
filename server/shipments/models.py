"""Shipments: carrier waybills made for orders, and the per-organization rules that turn
carrier statuses into order status changes.

Written only by server/shipments/service.py."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

# Delivery statuses (server.plugins.types.DELIVERY_STATUSES) after which a shipment is final
# and no longer tracked.
CLOSED_STATUSES = frozenset({"delivered", "refused", "returned", "cancelled"})


class Shipment(TenantModel):
    """A carrier waybill for an order, with the last status the carrier reported"""

    order = fields.ForeignKeyField("crm.Order", related_name="shipments", on_delete=fields.CASCADE)
    installation = fields.ForeignKeyField(
        "crm.PluginInstallation", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    carrier = fields.CharField(max_length=64)  # the plugin name, e.g. novaposhta
    waybill_number = fields.CharField(max_length=64)
    provider_ref = fields.CharField(max_length=64, null=True)
    carrier_status = fields.CharField(max_length=16, null=True)  # the carrier code, e.g. 7
    carrier_status_text = fields.CharField(max_length=500, default="")
    status = fields.CharField(max_length=24, default="created")  # one of DELIVERY_STATUSES
    status_changed_at = fields.DatetimeField(null=True)
    estimated_delivery = fields.DateField(null=True)
    cost = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    currency = fields.CharField(max_length=3, null=True)
    # The money the carrier collects from the recipient for the shop (in the order's currency),
    # and when the carrier reported paying it out: then the order got its payment record.
    cash_on_delivery = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    cash_on_delivery_paid_at = fields.DatetimeField(null=True)
    last_tracked_at = fields.DatetimeField(null=True)
    tracking_error = fields.TextField(null=True)
    # The carrier code whose order status rule was last applied: tracking twice applies nothing twice.
    rule_applied_for = fields.CharField(max_length=16, null=True)
    closed = fields.BooleanField(default=False)
    # Attached by registerShipment (the waybill was made outside the CRM): cancelling it only
    # detaches it from the order, and the carrier is never asked to delete it.
    registered = fields.BooleanField(default=False)
    cancelled_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)

    resource = "orders"
    owner_path = "order__manager_id"

    class Meta:
        table = "shipment"
        unique_together = (("organization", "carrier", "waybill_number"),)
        indexes = (("order_id", "created_at"), ("installation_id", "closed"))


class DeliveryStatusRule(TenantModel):
    """An organization override of which order status a carrier status code leads to

    An empty order_status means leave the order alone for that code. Codes without an
    override use the defaults of server/shipments/service.py"""

    carrier = fields.CharField(max_length=64)
    carrier_status = fields.CharField(max_length=16)
    order_status = fields.CharField(max_length=48, null=True)

    resource = "order_statuses"  # configured like the order statuses it points at

    class Meta:
        table = "delivery_status_rule"
        unique_together = (("organization", "carrier", "carrier_status"),)
