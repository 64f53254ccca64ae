from __future__ import annotations

from tortoise import fields

from server.core.models import BaseModel


class Organization(BaseModel):
    """The tenant. Every other business row points at one."""

    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=64, unique=True)
    currency = fields.CharField(max_length=3, default="UAH")
    locale = fields.CharField(max_length=8, default="uk")
    timezone = fields.CharField(max_length=64, default="Europe/Kyiv")
    # Query cost this organization may spend per minute, all callers together (docs/partners.md);
    # null: the ``rate_limit_per_organization`` setting. Set by operators for a bigger plan.
    rate_limit_per_minute = fields.IntField(null=True)
    # What creating a customer whose phone or e-mail is already known does (docs/duplicates.md):
    # "warn" (saved, the payload names the existing records) or "refuse" (a DUPLICATE error).
    duplicate_policy = fields.CharField(max_length=8, default="warn", db_default="warn")

    class Meta:
        table = "organization"
