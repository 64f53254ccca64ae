"""Saved segments: a named filter over an organization's accounts."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class Segment(TenantModel):
    """Its members are computed when asked (a live list), never stored."""

    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    # The conditions, as server/segments/rules.py validates them (snake_case keys).
    rules = fields.JSONField(default=dict)
    created_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    version = fields.IntField(default=1)

    resource = "accounts"  # whoever may read accounts may read segments of them

    class Meta:
        table = "segment"
        unique_together = (("organization", "name"),)
