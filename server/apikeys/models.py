from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class ApiKey(TenantModel):
    """A long-lived key a simple integration sends as ``Authorization: Bearer crm_live_...``: it acts
    in this organization with one built-in role. Only the SHA-256 of the key is kept: the key is
    shown once, when it is made; ``prefix`` (its first characters) lets people tell keys apart."""

    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=24)
    key_hash = fields.CharField(max_length=64, unique=True)
    role = fields.CharField(max_length=32)
    created_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    resource = "settings"

    class Meta:
        table = "api_key"
