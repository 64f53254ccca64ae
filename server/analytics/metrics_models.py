"""What an organization tells the metrics: its LTV formula and parameters, when a customer
counts as lost, and what it spent to acquire customers per source and month (CAC)."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

LTV_FORMULAS = ("arpu_lifetime", "aov_frequency_lifespan", "margin_churn", "npv", "segments")


class AnalyticsSettings(TenantModel):
    """One row per organization (no row: the defaults below)."""

    lost_after_days = fields.IntField(default=365)
    ltv_formula = fields.CharField(max_length=32, default="arpu_lifetime")
    gross_margin_percent = fields.DecimalField(max_digits=5, decimal_places=2, default=100)
    lifetime_years = fields.DecimalField(max_digits=6, decimal_places=2, default=3)
    discount_rate_percent = fields.DecimalField(max_digits=5, decimal_places=2, default=10)
    npv_years = fields.IntField(default=3)

    resource = "settings"

    class Meta:
        table = "analytics_settings"
        unique_together = (("organization",),)


class AcquisitionCost(TenantModel):
    """Money spent to win customers from one acquisition source (Account.source) in one month."""

    source = fields.CharField(max_length=64)
    month = fields.DateField()  # the first day of the month
    currency = fields.CharField(max_length=3)
    amount = fields.DecimalField(max_digits=14, decimal_places=2)

    resource = "settings"

    class Meta:
        table = "acquisition_cost"
        unique_together = (("organization", "source", "month", "currency"),)
