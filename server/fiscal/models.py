"""Fiscal receipts: one ``FiscalReceipt`` per paid payment (the sale) and per succeeded refund
(the return), issued through the organization's fiscal plugin (Checkbox), and one
``FiscalShiftClose`` per fiscal installation and local day the CRM closed the shift.

Written only by server/fiscal/service.py (docs/fiscal.md)."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

RECEIPT_KINDS = ("sell", "return")
# pending: not issued yet, or the tax service has not answered; done: it has its fiscal code;
# failed: refused (``error`` says why) or given up after the job's tries.
RECEIPT_STATUSES = ("pending", "done", "failed")


class FiscalReceipt(TenantModel):
    """A sale or return receipt for a payment. Its ``id`` is the receipt id the provider gets
    (decided before the call), so a retried job finds a receipt whose answer was lost."""

    payment = fields.ForeignKeyField("crm.Payment", related_name="fiscal_receipts", on_delete=fields.CASCADE)
    refund = fields.ForeignKeyField("crm.PaymentRefund", related_name=False, null=True, on_delete=fields.CASCADE)
    sale = fields.ForeignKeyField("crm.FiscalReceipt", related_name=False, null=True, on_delete=fields.SET_NULL)
    installation = fields.ForeignKeyField(
        "crm.PluginInstallation", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # "sell:<payment id>" or "return:<refund id>": one receipt each, however often the jobs run.
    key = fields.CharField(max_length=64, unique=True)
    provider = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=8)
    status = fields.CharField(max_length=16, default="pending")
    payment_type = fields.CharField(max_length=16)  # CASHLESS (card) | CASH (cash on delivery)
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3)
    provider_receipt_id = fields.CharField(max_length=64, default="")
    fiscal_code = fields.CharField(max_length=64, default="")
    fiscal_date = fields.DatetimeField(null=True)
    url = fields.CharField(max_length=500, default="")
    error = fields.CharField(max_length=500, default="")
    tries = fields.IntField(default=0)
    # Set before the provider is first asked to issue it: from then on a try looks it up first.
    sent_at = fields.DatetimeField(null=True)
    claimed_until = fields.DatetimeField(null=True)

    resource = "orders"
    owner_path = "payment__order__manager_id"

    class Meta:
        table = "fiscal_receipt"
        indexes = (("payment_id", "created_at"), ("status", "created_at"))


class FiscalShiftClose(TenantModel):
    """The daily close of a fiscal installation's shift, on the organization's local ``day``."""

    installation = fields.ForeignKeyField("crm.PluginInstallation", related_name=False, on_delete=fields.CASCADE)
    day = fields.DateField()
    status = fields.CharField(max_length=16)  # closed | not_open | closing | failed
    shift_id = fields.CharField(max_length=64, default="")
    message = fields.CharField(max_length=500, default="")

    resource = "settings"

    class Meta:
        table = "fiscal_shift_close"
        unique_together = (("installation", "day"),)
