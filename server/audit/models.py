from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class AuditEntry(TenantModel):
    """Who changed what, when, with the before/after of each changed field."""

    actor_kind = fields.CharField(max_length=16)  # user | app | system
    actor_id = fields.CharField(max_length=64, null=True)
    # A person acting through an app (OAuth authorization code): the app, e.g. "oauth:crm_client_...".
    actor_via = fields.CharField(max_length=64, null=True)
    action = fields.CharField(max_length=64)  # e.g. "order.update"
    entity_type = fields.CharField(max_length=32)
    entity_id = fields.UUIDField(db_index=True)
    changes = fields.JSONField(default=dict)  # {field: [before, after]}

    resource = "audit"

    class Meta:
        table = "audit_entry"
