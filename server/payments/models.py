"""Payments: one ``Payment`` per attempt to take money for an order (a checkout link, an
invoice), the ``PaymentRefund`` records made against it, and the organization's rule for
what a fully paid order does next (``PaymentSettings``).

Written only by server/payments/service.py. Amounts are Decimal with 2 places in the order's
currency; an order's paid amount and balance are derived from these rows, never stored."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

# created: recorded, the provider not asked yet; pending: the link exists, the customer has
# not paid; paid; failed; partially_refunded / refunded: after refunds.
PAYMENT_STATUSES = ("created", "pending", "paid", "failed", "partially_refunded", "refunded")
REFUND_STATUSES = ("pending", "succeeded", "failed")


class Payment(TenantModel):
    """One attempt to take ``amount`` for an order through a payment plugin installation."""

    order = fields.ForeignKeyField("crm.Order", related_name="payments", on_delete=fields.CASCADE)
    installation = fields.ForeignKeyField(
        "crm.PluginInstallation", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    provider = fields.CharField(max_length=64)  # the plugin name, e.g. liqpay
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3)
    status = fields.CharField(max_length=24, default="created")
    provider_payment_id = fields.CharField(max_length=128, null=True)
    provider_status = fields.CharField(max_length=32, default="")
    fee = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    refunded_amount = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    checkout_url = fields.CharField(max_length=2000, null=True)
    error = fields.CharField(max_length=500, default="")
    paid_at = fields.DatetimeField(null=True)
    provider_changed_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    version = fields.IntField(default=1)

    resource = "orders"
    owner_path = "order__manager_id"

    class Meta:
        table = "payment"
        indexes = (("order_id", "created_at"), ("installation_id", "provider_payment_id"))


class PaymentRefund(TenantModel):
    """Money given back from a paid payment: all of it or a part."""

    payment = fields.ForeignKeyField("crm.Payment", related_name="refunds", on_delete=fields.CASCADE)
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    status = fields.CharField(max_length=16, default="pending")
    provider_refund_id = fields.CharField(max_length=128, default="")
    error = fields.CharField(max_length=500, default="")
    actor = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)

    resource = "orders"
    owner_path = "payment__order__manager_id"

    class Meta:
        table = "payment_refund"
        indexes = (("payment_id", "created_at"),)


class PaymentSettings(TenantModel):
    """The organization's rule: the order status a fully paid order moves to (None: stay)."""

    paid_order_status = fields.CharField(max_length=48, null=True)

    resource = "order_statuses"

    class Meta:
        table = "payment_settings"
        unique_together = (("organization",),)
