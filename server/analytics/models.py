"""Per-customer figures, kept current by the analytics service as orders change, and the
organization's analytics settings (the RFM window)."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

DEFAULT_RFM_WINDOW_DAYS = 365


class CustomerFigures(TenantModel):
    """One row per account: its order history summed up, so lists, filters and segments read
    one indexed row instead of scanning orders. Written only by server/analytics/service.py."""

    account = fields.OneToOneField("crm.Account", related_name="figures", on_delete=fields.CASCADE)
    first_order_at = fields.DatetimeField(null=True)
    last_order_at = fields.DatetimeField(null=True)
    order_count = fields.IntField(default=0)
    # Revenue in the organization's currency, in cents: what sorting and filters use. An integer
    # because SQLite keeps decimals as text and would sort "100.00" before "9.00".
    # Every currency's figures are in ``by_currency``.
    revenue_cents = fields.BigIntField(default=0)
    # [{"currency": "UAH", "orders": 3, "revenue": "1234.50"}, ...], sorted by currency.
    by_currency = fields.JSONField(default=list)
    rfm_recency = fields.SmallIntField(null=True)
    rfm_frequency = fields.SmallIntField(null=True)
    rfm_monetary = fields.SmallIntField(null=True)
    rfm_group = fields.CharField(max_length=24, null=True)
    rfm_computed_at = fields.DatetimeField(null=True)

    resource = "accounts"
    owner_path = "account__owner_id"

    class Meta:
        table = "customer_figures"
        indexes = (
            ("organization_id", "order_count"),
            ("organization_id", "last_order_at"),
            ("organization_id", "revenue_cents"),
            ("organization_id", "rfm_group"),
        )


class RfmSettings(TenantModel):
    """An organization's RFM settings (the window), and the day its nightly RFM run last happened."""

    rfm_window_days = fields.IntField(default=DEFAULT_RFM_WINDOW_DAYS)
    # The UTC day of the last nightly recompute: the claim that makes the nightly job run once
    # per organization per day, whichever worker gets there first.
    rfm_nightly_on = fields.DateField(null=True)
    rfm_computed_at = fields.DatetimeField(null=True)  # the last recompute, nightly or on demand

    resource = "settings"

    class Meta:
        table = "rfm_settings"
        unique_together = (("organization",),)
